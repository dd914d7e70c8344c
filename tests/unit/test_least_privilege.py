"""The pure parts of least privilege at the edges: a feed's sources in its token, the caps on
request bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from fastapi import FastAPI, Request

from shaobing_api.config import ApiSettings
from shaobing_api.main import create_app as api_app
from shaobing_ingest.config import IngestSettings
from shaobing_ingest.main import create_app as ingest_app
from shaobing_runtime.access import Principal, Role
from shaobing_runtime.body_caps import CapBodies
from shaobing_runtime.problems import install_problem_handlers
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


# --- request bodies capped before they are read ------------------------------------------------


def _echo_app(default: int, routes: dict) -> httpx.AsyncClient:
    app = FastAPI()
    app.add_middleware(CapBodies, default=default, routes=routes)
    install_problem_handlers(app)

    @app.post("/v1/sources/{source}/changes")
    @app.post("/v1/steps")
    async def read(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


def test_a_route_has_its_own_cap_and_every_other_body_the_default() -> None:
    caps = CapBodies(FastAPI(), default=10, routes={("POST", "/v1/sources/{source}/changes"): 99})

    assert caps.cap_of("POST", "/v1/sources/death/changes") == 99
    assert caps.cap_of("GET", "/v1/sources/death/changes") == 10
    assert caps.cap_of("POST", "/v1/sources/death/changes/more") == 10
    assert caps.cap_of("POST", "/v1/steps") == 10


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 4):
        yield data[start : start + 4]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_past_its_cap_is_a_413_problem_naming_the_cap(chunked: bool) -> None:
    body = _chunks if chunked else bytes
    async with _echo_app(10, {("POST", "/v1/sources/{source}/changes"): 20}) as client:
        refused = await client.post("/v1/steps", content=body(b"x" * 11))
        larger_route = await client.post("/v1/sources/death/changes", content=body(b"x" * 20))

    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "body: larger than 10 bytes"
    assert larger_route.json() == {"read": 20}


@pytest.mark.parametrize(
    "app",
    [
        lambda: ingest_app(IngestSettings(max_body_bytes=1, max_csv_bytes=2)),
        lambda: api_app(ApiSettings(max_enrolment_body_bytes=3)),
    ],
    ids=["ingest", "api"],
)
def test_every_route_cap_names_a_route_the_service_serves(app) -> None:
    built = app()
    [caps] = [m.kwargs["routes"] for m in built.user_middleware if m.cls is CapBodies]
    paths = built.openapi()["paths"]
    served = {(method.upper(), path) for path, operations in paths.items() for method in operations}

    assert caps and set(caps) <= served
