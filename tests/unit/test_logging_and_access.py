"""Runtime plumbing that must not leak: masked JSON logs, area scopes, bearer tokens, cursors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import jwt
import orjson
import pytest
import structlog

from shaobing_contracts.id_number import mask_id_number
from shaobing_runtime.access import Principal, Role
from shaobing_runtime.logging import configure_logging, correlation_id
from shaobing_runtime.paging import decode_cursor, encode_cursor
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import InvalidToken, issue_token, principal_from

RAW_ID = "11010519491231002X"
MASKED = mask_id_number(RAW_ID)  # 110105********002X
SECRET = "unit-test-secret-that-is-long-enough-for-hs256"


# --- logging ---------------------------------------------------------------------------------


_TOUCHED_LOGGERS = ("", "aiokafka", "kafka", "faust", "mode", "uvicorn.access")


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Captured stdout; afterwards structlog and the root logger are put back as they were.

    Each test calls configure_logging itself: pytest swaps sys.stdout between setup and call,
    and the logger factory keeps the stream it was configured with.
    """
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in _TOUCHED_LOGGERS}
    yield capsys
    for handler in root.handlers[:]:
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter):
            root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    out = capsys.readouterr().out
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


def test_a_raw_id_number_never_reaches_the_log(json_logs: pytest.CaptureFixture[str]) -> None:
    configure_logging("test")

    structlog.get_logger().info(
        f"death registered for {RAW_ID}",
        person={"id_number": RAW_ID, "household": [RAW_ID, {"spouse": RAW_ID.lower()}]},
        note=f"certificate of {RAW_ID}",
    )

    out = json_logs.readouterr().out
    assert RAW_ID not in out
    assert RAW_ID.lower() not in out
    assert RAW_ID[6:14] not in out  # the birth date is the secret part
    [line] = [orjson.loads(text) for text in out.splitlines()]
    assert line["event"] == f"death registered for {MASKED}"
    assert line["person"]["id_number"] == MASKED
    assert line["person"]["household"][0] == MASKED
    assert line["person"]["household"][1]["spouse"] == MASKED.lower()
    assert line["note"] == f"certificate of {MASKED}"


def test_a_log_line_is_json_with_service_level_and_timestamp(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    configure_logging("test")

    structlog.get_logger().warning("payout run held", held=3)

    [line] = _lines(json_logs)
    assert line["service"] == "test"
    assert line["level"] == "warning"
    assert line["event"] == "payout run held"
    assert line["held"] == 3
    assert "timestamp" in line


def test_the_correlation_id_is_added_when_set(json_logs: pytest.CaptureFixture[str]) -> None:
    configure_logging("test")

    token = correlation_id.set("req-42")
    try:
        structlog.get_logger().info("posted")
    finally:
        correlation_id.reset(token)

    [line] = _lines(json_logs)
    assert line["correlation_id"] == "req-42"


def test_stdlib_logging_goes_out_masked_as_json_too(json_logs: pytest.CaptureFixture[str]) -> None:
    configure_logging("test")

    logging.getLogger("shaobing.test").warning("lookup of %s failed", RAW_ID)

    out = json_logs.readouterr().out
    assert RAW_ID not in out
    [line] = [orjson.loads(text) for text in out.splitlines()]
    assert line["event"] == f"lookup of {MASKED} failed"
    assert line["service"] == "test"
    assert line["level"] == "warning"


def test_an_exception_traceback_is_masked(json_logs: pytest.CaptureFixture[str]) -> None:
    configure_logging("test")

    try:
        raise ValueError(f"no enrolment for {RAW_ID}")
    except ValueError:
        structlog.get_logger().exception("matching failed")

    out = json_logs.readouterr().out
    assert RAW_ID not in out
    assert MASKED in out


def test_debug_is_filtered_at_info_level(json_logs: pytest.CaptureFixture[str]) -> None:
    configure_logging("test")

    structlog.get_logger().debug("noise")

    assert _lines(json_logs) == []


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("areas", "area_code", "covered"),
    [
        (("310110",), "310110012003", True),
        (("31",), "310110012003", True),
        (("310110012",), "310110012003", True),
        (("310110012003",), "310110012003", True),
        (("110105", "310110"), "310110012003", True),
        (("310110",), "310111012003", False),
        (("310110012",), "310110013001", False),
        (("110105",), "310110012003", False),
        ((), "310110012003", False),
    ],
    ids=[
        "county",
        "province",
        "street",
        "community",
        "second area",
        "neighbouring county",
        "neighbouring street",
        "other province",
        "no areas",
    ],
)
def test_a_principal_covers_areas_under_its_prefixes(
    areas: tuple[str, ...], area_code: str, covered: bool
) -> None:
    principal = Principal(subject="caseworker-1", role=Role.CASEWORKER, areas=areas)

    assert principal.covers(area_code) is covered


@pytest.mark.parametrize(
    ("role", "full"),
    [
        (Role.CASEWORKER, False),
        (Role.OPS, False),
        (Role.FEED, False),
        (Role.SUPERVISOR, True),
        (Role.PAYMENT_OFFICER, True),
        (Role.AUDITOR, True),
        (Role.ADMIN, True),
    ],
)
def test_only_some_roles_see_full_id_numbers(role: Role, full: bool) -> None:
    assert Principal(subject="s", role=role, areas=("31",)).sees_full_ids is full


# --- tokens ----------------------------------------------------------------------------------


def _settings(**changes: str) -> CommonSettings:
    fields = {
        "jwt_secret": SECRET,
        "jwt_issuer": "shaobing-test",
        "jwt_audience": "shaobing",
        "environment": "development",
    }
    return CommonSettings(**(fields | changes))


def _token(claims: dict, secret: str = SECRET) -> str:
    base = {"iss": "shaobing-test", "aud": "shaobing", "sub": "u1", "role": "caseworker"}
    return jwt.encode(base | claims | {"exp": 4102444800}, secret, algorithm="HS256")


def test_an_issued_token_gives_back_the_principal() -> None:
    settings = _settings()
    token = issue_token(
        settings, subject="zhang.san", role=Role.SUPERVISOR, areas=["310110", "310104"]
    )

    principal = principal_from(token, settings)

    assert principal == Principal(
        subject="zhang.san", role=Role.SUPERVISOR, areas=("310110", "310104")
    )


def _issued(ttl_seconds: int = 3600, **settings_changes: str) -> str:
    """A token from issue_token, issued under settings that may differ from the verifier's."""
    return issue_token(
        _settings(**settings_changes),
        subject="u1",
        role=Role.CASEWORKER,
        areas=["31"],
        ttl_seconds=ttl_seconds,
    )


@pytest.mark.parametrize(
    "make_token",
    [
        lambda: _issued(jwt_secret="another-secret-" + SECRET),
        lambda: _issued(jwt_audience="someone-else"),
        lambda: _issued(jwt_issuer="someone-else"),
        lambda: _issued(ttl_seconds=-60),
        lambda: _token({}),
        lambda: _token({"areas": "310110"}),
        lambda: _token({"areas": [310110]}),
        lambda: _token({"areas": [""]}),
        lambda: _token({"areas": ["3101*"]}),
        lambda: _token({"areas": ["31"], "role": "mayor"}),
        lambda: _token({"areas": ["31"], "role": None}),
        lambda: jwt.encode({"sub": "u1", "areas": ["31"]}, SECRET, algorithm="HS256"),
        lambda: "not.a.token",
        lambda: "",
    ],
    ids=[
        "wrong secret",
        "wrong audience",
        "wrong issuer",
        "expired",
        "missing areas claim",
        "areas not a list",
        "areas not text",
        "empty area prefix",
        "area with a wildcard",
        "unknown role",
        "no role",
        "no exp, iss or aud",
        "garbage",
        "empty",
    ],
)
def test_a_bad_token_is_an_invalid_token(make_token: Callable[[], str]) -> None:
    with pytest.raises(InvalidToken):
        principal_from(make_token(), _settings())


def test_a_token_signed_with_none_algorithm_is_refused() -> None:
    claims = {
        "iss": "shaobing-test",
        "aud": "shaobing",
        "sub": "u",
        "role": "admin",
        "areas": ["31"],
        "exp": 4102444800,
    }
    unsigned = jwt.encode(claims, None, algorithm="none")

    with pytest.raises(InvalidToken):
        principal_from(unsigned, _settings())


# --- cursors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seq", [0, 1, 42, 10**6, 2**63 - 1])
def test_a_cursor_gives_back_its_sequence_number(seq: int) -> None:
    cursor = encode_cursor(seq)

    assert decode_cursor(cursor) == seq
    assert "=" not in cursor
    assert cursor.isascii()


@pytest.mark.parametrize("cursor", ["", "!!!!", "not-a-cursor", "a", "%%%", "AAAA", "_w", "YWJj"])
def test_a_garbage_cursor_is_a_value_error(cursor: str) -> None:
    """'_w' is not UTF-8 inside, 'YWJj' is base64 of 'abc', 'AAAA' of three NUL bytes."""
    with pytest.raises(ValueError):
        decode_cursor(cursor)
