"""The pure parts of least privilege at the edges: a feed's sources in its token."""

from __future__ import annotations

import jwt
import pytest

from shaobing_runtime.access import Principal, Role
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import InvalidToken, issue_token, principal_from

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"
SETTINGS = CommonSettings(jwt_secret=SECRET, jwt_issuer="shaobing-test", environment="development")


def _token(**claims: object) -> str:
    base = {"iss": "shaobing-test", "aud": "shaobing", "sub": "feed-1", "exp": 4102444800}
    return jwt.encode(base | {"role": "feed", "areas": ["31"]} | claims, SECRET, algorithm="HS256")


def test_an_issued_feed_token_gives_back_its_sources() -> None:
    token = issue_token(
        SETTINGS, subject="civil-registry", role=Role.FEED, areas=["31"], sources=["death"]
    )

    assert principal_from(token, SETTINGS).sources == ("death",)


def test_a_token_without_a_sources_claim_names_no_source() -> None:
    assert principal_from(_token(), SETTINGS).sources == ()


@pytest.mark.parametrize("sources", ["death", [1], {"death": True}, [None]])
def test_a_sources_claim_that_is_not_a_list_of_names_is_an_invalid_token(sources) -> None:
    with pytest.raises(InvalidToken, match="sources"):
        principal_from(_token(sources=sources), SETTINGS)


def test_the_sources_are_read_where_the_provider_puts_them() -> None:
    settings = SETTINGS.model_copy(update={"jwt_sources_claim": "shaobing.sources"})
    token = _token(shaobing={"sources": ["hukou", "marriage"]}, sources=["death"])

    assert principal_from(token, settings).sources == ("hukou", "marriage")


@pytest.mark.parametrize(
    ("role", "sources", "admitted"),
    [
        (Role.FEED, ("death",), True),
        (Role.FEED, ("hukou", "marriage"), False),
        (Role.FEED, (), False),
        (Role.ADMIN, (), True),
        (Role.OPS, (), True),
    ],
    ids=["named", "not named", "none named", "admin", "ops (refused or admitted by role)"],
)
def test_a_feed_uses_only_the_sources_its_token_names(
    role: Role, sources: tuple[str, ...], admitted: bool
) -> None:
    assert Principal("s", role, ("31",), sources).may_use_source("death") is admitted
