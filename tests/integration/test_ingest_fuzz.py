"""Fuzzing the running ingest: whatever is posted, never a 5xx, and the service stays healthy.

Each fuzz test runs its Hypothesis examples against the real stack, then checks that /healthz
still answers 200 and that a known-good death change is still accepted. A 5xx fails with the
input and the tail of the ingest log (under the stack's var_dir/logs/ingest.log).

The cases at the end of each section are the inputs that once gave a 500 (a NUL character,
source.ts_ms outside years 1-9999, a 100,000-character key, a bare CR or a huge CSV field).
"""

from __future__ import annotations

import copy
import json
import uuid

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shaobing_runtime.access import Role

from .conftest import ALL_SOURCES, AREA, death_of, new_person, token

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    database=None,  # no example database written into the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CHANGES = "/v1/sources/death/changes"
BATCHES = "/v1/sources/death/batches"
HEADER = "certificate_no,id_number,date_of_death,source,recorded_at"
ROW_TAIL = "2026-10-02,CREMATION,2026-11-21 08:15:00"
CSV_STATUSES = {200, 400, 409, 413, 415, 422}


_SAMPLE = death_of(new_person())["payload"]
AFTER_FIELDS = sorted(_SAMPLE["after"])
SOURCE_FIELDS = sorted(_SAMPLE["source"])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # unbounded: well past 2^63 and -2^63
    | st.integers(min_value=2**63 - 2, max_value=2**64 + 2)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
huge_strings = st.characters().map(lambda c: c * 100_000)
wrong_values = json_values | huge_strings
ops = st.sampled_from(["c", "u", "d", "r", "t", "m", "x", ""]) | json_values


def _dumps(value: object) -> bytes:
    """JSON as any client may send it: integers of any size, non-ASCII escaped."""
    return json.dumps(value).encode()


def _feed() -> dict[str, str]:
    return token(Role.FEED, [AREA], sources=ALL_SOURCES)


def _fresh_client(stack) -> httpx.Client:
    """A new connection: after a 500 uvicorn drops the keep-alive connection it came on."""
    return httpx.Client(base_url=stack.url("ingest"), timeout=60, headers=_feed())


def _no_server_error(response: httpx.Response, stack, sent: object) -> None:
    if response.status_code < 500:
        return
    log = stack.config.var_dir / "logs" / "ingest.log"
    tail = log.read_text(errors="replace")[-6000:] if log.exists() else "(no log)"
    shown = repr(sent)
    pytest.fail(
        f"{response.request.method} {response.request.url} → {response.status_code}\n"
        f"input: {shown[:2000]}{'…' if len(shown) > 2000 else ''}\n"
        f"var_dir: {stack.config.var_dir}\ningest.log tail:\n{tail}"
    )


def _counts_cover_every_item(result: dict, items: int) -> None:
    counted = sum(result[k] for k in ("accepted", "duplicates", "dead_lettered", "ignored"))
    assert counted == items, result


def _still_healthy(ingest: httpx.Client) -> None:
    assert ingest.get("/healthz").status_code == 200
    response = ingest.post(CHANGES, content=orjson.dumps(death_of(new_person())))
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1, response.json()


def _items_in(value: object) -> int:
    return len(value) if isinstance(value, list) else 1


def test_arbitrary_bytes_as_a_change_body_never_get_a_server_error(stack, ingest):
    @SETTINGS
    @given(body=st.binary(max_size=2000) | st.text().map(lambda t: t.encode("utf-8")))
    def post(body: bytes) -> None:
        response = ingest.post(
            CHANGES, content=body, headers={"content-type": "application/x-ndjson"}
        )
        _no_server_error(response, stack, body)
        assert response.status_code in {200, 400}, response.text

    post()
    _still_healthy(ingest)


def test_json_shaped_garbage_as_changes_is_answered_per_item_or_refused_whole(stack, ingest):
    @SETTINGS
    @given(value=json_values)
    def post(value: object) -> None:
        body = _dumps(value)
        response = ingest.post(CHANGES, content=body, headers={"content-type": "application/json"})
        _no_server_error(response, stack, value)
        assert response.status_code in {200, 400}, response.text
        if response.status_code == 200:
            _counts_cover_every_item(response.json(), _items_in(value))

    post()
    _still_healthy(ingest)


@st.composite
def broken_envelopes(draw: st.DrawFn) -> dict:
    """A real Debezium death change with one after/source field or the op made wrong."""
    envelope = copy.deepcopy(death_of(new_person()))
    payload = envelope["payload"]
    where = draw(st.sampled_from(["after", "source", "op"]))
    if where == "op":
        payload["op"] = draw(ops)
    else:
        fields = AFTER_FIELDS if where == "after" else SOURCE_FIELDS
        payload[where][draw(st.sampled_from(fields))] = draw(wrong_values)
        if draw(st.booleans()):
            payload["op"] = draw(ops)
    return envelope


def test_debezium_changes_with_a_wrong_field_or_op_are_each_accepted_or_dead_lettered(
    stack, ingest
):
    @SETTINGS
    @given(envelopes=st.lists(broken_envelopes(), min_size=1, max_size=3))
    def post(envelopes: list[dict]) -> None:
        body = _dumps(envelopes)
        response = ingest.post(CHANGES, content=body)
        _no_server_error(response, stack, envelopes)
        assert response.status_code == 200, response.text
        _counts_cover_every_item(response.json(), len(envelopes))

    post()
    _still_healthy(ingest)


@pytest.mark.parametrize("source", ["hukou", "marriage", "social_security"])
def test_json_garbage_to_every_other_source_never_gets_a_server_error(stack, ingest, source):
    @SETTINGS
    @given(value=json_values)
    def post(value: object) -> None:
        body = _dumps(value)
        response = ingest.post(f"/v1/sources/{source}/changes", content=body)
        _no_server_error(response, stack, value)
        assert response.status_code in {200, 400}, response.text
        if response.status_code == 200:
            _counts_cover_every_item(response.json(), _items_in(value))

    post()
    _still_healthy(ingest)


def test_json_garbage_to_an_unknown_source_is_a_422(stack, ingest):
    known = {"death", "hukou", "marriage", "social_security"}

    @SETTINGS
    @given(
        source=st.from_regex(r"[a-z_]{1,20}", fullmatch=True).filter(lambda s: s not in known),
        value=json_values,
    )
    def post(source: str, value: object) -> None:
        response = ingest.post(f"/v1/sources/{source}/changes", content=_dumps(value))
        _no_server_error(response, stack, (source, value))
        assert response.status_code == 422, response.text

    post()
    _still_healthy(ingest)


def _death_change(after: dict | None = None, source: dict | None = None) -> dict:
    envelope = death_of(new_person())
    envelope["payload"]["after"].update(after or {})
    envelope["payload"]["source"].update(source or {})
    return envelope


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            _dumps(_death_change(source={"ts_ms": 10**15})),
            id="source.ts_ms after year 9999",
        ),
        pytest.param(
            _dumps(_death_change(source={"ts_ms": -(10**14)})),
            id="source.ts_ms before year 1",
        ),
        pytest.param(
            _dumps(_death_change(after={"certificate_no": "S" * 100_000})),
            id="a 100000-character certificate_no",
        ),
        pytest.param(
            _dumps(_death_change(after={"certificate_no": "SW-\x00-1"})),
            id="NUL in certificate_no",
        ),
        pytest.param(
            _dumps(_death_change(source={"name": "civil\x00"})),
            id="NUL in source.name",
        ),
        pytest.param(
            _dumps(_death_change(after={"nick\x00name": "x"})),
            id="NUL in an unknown column's name",
        ),
        pytest.param(
            orjson.dumps(death_of(new_person())) + b"\n\x00\n",
            id="a NUL byte as an NDJSON line",
        ),
    ],
)
def test_a_change_with_an_out_of_range_or_nul_value_is_dead_lettered_not_a_server_error(
    stack, body
):
    with _fresh_client(stack) as client:
        response = client.post(CHANGES, content=body)

    _no_server_error(response, stack, body)
    assert response.json()["dead_lettered"] == 1, response.text


# --- /batches (CSV) -----------------------------------------------------------------------

csv_cells = st.text(max_size=20) | st.sampled_from(
    ["", " ", '"', '""', "MEDICAL", "2026-02-30", "2026/10/02", "9999-12-31 23:59:59", "NaN"]
)


@st.composite
def csv_lines(draw: st.DrawFn) -> str:
    """A random line, random cells joined by commas, or a valid row with one cell replaced."""
    kind = draw(st.sampled_from(["text", "cells", "one_bad_cell"]))
    if kind == "text":
        return draw(st.text(max_size=80))
    if kind == "cells":
        return ",".join(draw(st.lists(csv_cells, max_size=7)))
    cells = [f"沪死证-F{uuid.uuid4().hex[:10]}", new_person(), *ROW_TAIL.split(",")]
    cells[draw(st.integers(0, 4))] = draw(csv_cells)
    return ",".join(cells)


@st.composite
def csv_posts(draw: st.DrawFn) -> tuple[bytes, dict, dict]:
    """(body, query params, headers): random lines under a mostly valid header, or raw bytes."""
    header = draw(st.sampled_from([HEADER, HEADER.upper(), "certificate_no,id_number"]) | csv_cells)
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join([header, *draw(st.lists(csv_lines(), max_size=8))])
    if draw(st.integers(0, 4)) == 0:
        body = HEADER.encode() + b"\n" + draw(st.binary(max_size=500))
    else:
        body = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])))
    params: dict = {}
    declared = draw(st.sampled_from([None, "utf-8", "UTF8", "gb18030", "GB18030", "latin-1"]))
    if declared is not None:
        params["encoding"] = declared
    if draw(st.booleans()):
        params["batch_id"] = f"fuzz-{uuid.uuid4().hex}"
    headers = {}
    charset = draw(st.sampled_from([None, "utf-8", "gb18030", "latin-1", ""]))
    if charset is not None:
        headers["content-type"] = f"text/csv; charset={charset}"
    return body, params, headers


def test_random_csv_bodies_get_a_client_answer_never_a_server_error(stack, ingest):
    @SETTINGS
    @given(post=csv_posts())
    def send(post: tuple[bytes, dict, dict]) -> None:
        body, params, headers = post
        response = ingest.post(BATCHES, content=body, params=params, headers=headers)
        _no_server_error(response, stack, post)
        assert response.status_code in CSV_STATUSES, response.text
        if response.status_code == 200:
            result = response.json()
            _counts_cover_every_item(result, result["rows_read"])

    send()
    _still_healthy(ingest)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            f"{HEADER}\nC-1\r2,{new_person()},{ROW_TAIL}\n",
            id="bare CR in a row",
        ),
        pytest.param(
            "certificate_no\r,id_number\nC-1,x\n",
            id="bare CR in the header",
        ),
        pytest.param(
            f"{HEADER}\n{'C' * 200_000},{new_person()},{ROW_TAIL}\n",
            id="a 200000-character cell",
        ),
        pytest.param(
            f"{HEADER}\n{'C' * 100_000},{new_person()},{ROW_TAIL}\n",
            id="a 100000-character certificate_no",
        ),
        pytest.param(
            f"{HEADER}\nC\x00-1,{new_person()},{ROW_TAIL}\n",
            id="NUL in certificate_no",
        ),
    ],
)
def test_a_csv_line_that_python_csv_or_postgresql_refuses_is_a_4xx_or_a_dead_letter(stack, body):
    with _fresh_client(stack) as client:
        response = client.post(BATCHES, content=body.encode())

    _no_server_error(response, stack, body)
    # 422: a line beyond INGEST_MAX_CSV_LINE_LENGTH
    refused = response.status_code in (400, 422)
    assert refused or response.json()["dead_lettered"] == 1, response.text
