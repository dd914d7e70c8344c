"""Tokens from an OIDC provider: keys from its JWKS over HTTP (picked by kid, rotated) or one
configured public key, and Shaobing's claims wherever the provider puts them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shaobing_runtime.access import Principal, Role
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import InvalidToken, principal_from

ISSUER = "https://idp.example.gov.cn/realms/minzheng"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


class _Provider(BaseHTTPRequestHandler):
    keys: ClassVar[list[dict]] = []

    def do_GET(self) -> None:
        body = json.dumps({"keys": self.keys}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _jwk(key, kid: str) -> dict:
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else None
    algorithm = algorithm or jwt.algorithms.ECAlgorithm
    return json.loads(algorithm.to_jwk(key.public_key())) | {"kid": kid, "use": "sig"}


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    _Provider.keys = [_jwk(RSA_KEY, "rsa-1")]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/protocol/openid-connect/certs"
    server.shutdown()


def _settings(**changes: object) -> CommonSettings:
    fields = {"jwt_issuer": ISSUER, "jwt_audience": "shaobing", "environment": "production"}
    return CommonSettings(**(fields | changes))


def _claims(**extra: object) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": "shaobing", "sub": "li.si", "iat": now, "exp": now + 600}
    return base | {"role": "caseworker", "areas": ["310110001"]} | extra


def _signed(key, kid: str, algorithm: str = "RS256", **claims: object) -> str:
    return jwt.encode(_claims(**claims), key, algorithm=algorithm, headers={"kid": kid})


def test_a_token_signed_by_the_providers_key_gives_the_principal(jwks_url: str) -> None:
    principal = principal_from(_signed(RSA_KEY, "rsa-1"), _settings(jwt_jwks_url=jwks_url))
    assert principal == Principal("li.si", Role.CASEWORKER, ("310110001",))


def test_a_rotated_key_is_fetched_when_a_token_names_it(jwks_url: str) -> None:
    settings = _settings(jwt_jwks_url=jwks_url, jwt_jwks_cooldown_seconds=0)
    principal_from(_signed(RSA_KEY, "rsa-1"), settings)
    _Provider.keys = [_jwk(RSA_KEY, "rsa-1"), _jwk(EC_KEY, "ec-2")]

    rotated = principal_from(_signed(EC_KEY, "ec-2", "ES256", role="supervisor"), settings)

    assert rotated.role is Role.SUPERVISOR


@pytest.mark.parametrize(
    "make_token",
    [
        lambda: _signed(rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa-1"),
        lambda: _signed(RSA_KEY, "nobody-knows-this-kid"),
        lambda: _signed(RSA_KEY, "rsa-1", iss="https://elsewhere.example"),
        lambda: jwt.encode(_claims(), "shaobing-development-secret-change-me", algorithm="HS256"),
    ],
    ids=["another provider's key", "unknown kid", "wrong issuer", "the dev secret"],
)
def test_what_the_provider_did_not_sign_is_refused(jwks_url: str, make_token) -> None:
    with pytest.raises(InvalidToken):
        principal_from(make_token(), _settings(jwt_jwks_url=jwks_url))


def _public_pem() -> str:
    return (
        RSA_KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_a_configured_public_key_verifies_and_cannot_be_used_as_an_hmac_secret() -> None:
    settings = _settings(jwt_public_key=_public_pem())
    assert principal_from(_signed(RSA_KEY, "any"), settings).subject == "li.si"

    header, claims = (_b64(json.dumps(p).encode()) for p in ({"alg": "HS256"}, _claims()))
    mac = hmac.new(_public_pem().encode(), f"{header}.{claims}".encode(), hashlib.sha256)
    forged = f"{header}.{claims}.{_b64(mac.digest())}"
    with pytest.raises(InvalidToken):
        principal_from(forged, settings)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_claims_are_read_where_the_provider_puts_them() -> None:
    settings = _settings(
        jwt_public_key=_public_pem(),
        jwt_role_claim="realm_access.roles",
        jwt_areas_claim="shaobing.areas",
    )
    token = _signed(
        RSA_KEY,
        "any",
        role=None,
        areas=None,
        realm_access={"roles": ["offline_access", "supervisor"]},
        shaobing={"areas": ["310110"]},
    )
    assert principal_from(token, settings) == Principal("li.si", Role.SUPERVISOR, ("310110",))

    two_roles = _signed(RSA_KEY, "any", realm_access={"roles": ["admin", "caseworker"]})
    with pytest.raises(InvalidToken, match="exactly one"):
        principal_from(two_roles, settings)


def test_outside_development_some_way_to_verify_must_be_configured() -> None:
    with pytest.raises(ValueError, match="JWT_JWKS_URL"):
        CommonSettings(environment="production")
    assert CommonSettings(environment="production", jwt_public_key=_public_pem())
