"""Acceptance 1 and 2 through HTTP: every bad token is the same 401 without data, and
RS256/ES256 tokens from a JWKS file (rotated without a restart) are accepted.

Unit-level refusal reasons live in test_auth_tokens.py and test_auth_jwks.py; here
each refusal travels the whole way: ASGI app, the gate, the verifier, the response."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from conftest import make_token
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette

from auth.jwks import JwksKeySource
from auth.tokens import REQUIRED_CLAIMS, TokenVerifier
from gateway.app import create_app
from gateway.settings import DEV_SECRET, load

VIEWER = "{ viewer { role subject } }"
RSA_KID = "rsa-2026"
EC_KID = "ec-2026"
WRONG_SECRET = "another-secret-that-is-also-at-least-32-bytes"
REFUSAL_MESSAGE = "Missing or invalid access token."
WWW_AUTHENTICATE = 'Bearer error="invalid_token"'

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


# --- token building ------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: dict[str, Any]) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def raw_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
    return f"{segment(header)}.{segment(claims)}.{b64(signature)}"


def hmac_token(header: dict[str, Any], claims: dict[str, Any], key: bytes, digest: str) -> str:
    """Signed by hand, so tests can make what pyjwt refuses to (PEM as HMAC key)."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    mac = hmac.new(key, signing_input.encode(), getattr(hashlib, digest)).digest()
    return f"{signing_input}.{b64(mac)}"


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid admin claims; an override of None removes the claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "svc:http-test",
        "iss": "billing-gateway",
        "aud": "billing-api",
        "iat": now,
        "exp": now + 600,
        "role": "admin",
        "scope": "accounts:read",
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def hs(payload: dict[str, Any], secret: str = DEV_SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def public_jwk(key: PrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid}


def write_jwks(path: Path, keys: dict[str, PrivateKey]) -> None:
    path.write_text(json.dumps({"keys": [public_jwk(key, kid) for kid, key in keys.items()]}))


def tampered() -> str:
    """A customer's genuine token whose payload was then swapped for an admin's."""
    header, _, signature = make_token("customer", accounts=["acct_x"]).split(".")
    return f"{header}.{segment(claims(role='admin'))}.{signature}"


@dataclass(frozen=True)
class Keys:
    rsa: RSAPrivateKey  # published in the JWKS as RSA_KID
    ec: EllipticCurvePrivateKey  # published as EC_KID
    stranger: RSAPrivateKey  # published nowhere

    def rsa_public_pem(self) -> bytes:
        return self.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec=ec.generate_private_key(ec.SECP256R1()),
        stranger=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


# --- apps ----------------------------------------------------------------------------


def jwks_app(database_url: str, path: Path) -> Starlette:
    env = {
        "DATABASE_URL": database_url,
        "BILLING_ENV": "dev",
        "BILLING_JWT_JWKS_URL": path.as_uri(),
    }
    return create_app(load(env))


@pytest.fixture(scope="module")
async def jwks_client(
    database_url: str, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """An app configured with a JWKS (and, being dev, the dev HS256 secret as well)."""
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    write_jwks(path, {RSA_KID: keys.rsa, EC_KID: keys.ec})
    app = jwks_app(database_url, path)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client


@pytest.fixture
def clients(
    client: httpx.AsyncClient, jwks_client: httpx.AsyncClient
) -> dict[str, httpx.AsyncClient]:
    return {"secret-only": client, "with-jwks": jwks_client}


async def post(
    client: httpx.AsyncClient, authorization: str | None, query: str = VIEWER
) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return await client.post("/graphql", json={"query": query}, headers=headers)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def assert_unauthenticated(response: httpx.Response) -> None:
    """The one refusal: 401, the Bearer challenge, one error, no data, nothing else."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == WWW_AUTHENTICATE
    body = response.json()
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    request_id = error["extensions"].pop("requestId")
    assert request_id == response.headers["x-request-id"]
    assert error == {"message": REFUSAL_MESSAGE, "extensions": {"code": "UNAUTHENTICATED"}}


# --- acceptance 1: every refusal, through HTTP ---------------------------------------

Case = Callable[[Keys], str | None]  # keys -> Authorization header value (None: absent)

REFUSALS: dict[str, Case] = {
    "no token": lambda k: None,
    "empty bearer": lambda k: "Bearer ",
    "other scheme": lambda k: "Basic " + b64(b"admin:admin"),
    "garbage": lambda k: bearer("garbage"),
    "garbage segments": lambda k: bearer("e30.e30.e30"),
    "alg none": lambda k: bearer(raw_token({"alg": "none", "typ": "JWT"}, claims(), b"")),
    "alg None": lambda k: bearer(raw_token({"alg": "None"}, claims(), b"")),
    "payload changed after signing": lambda k: bearer(tampered()),
    "wrong secret": lambda k: bearer(hs(claims(), secret=WRONG_SECRET)),
    "hs256 keyed with the rsa public pem": lambda k: bearer(
        hmac_token(
            {"alg": "HS256", "typ": "JWT", "kid": RSA_KID}, claims(), k.rsa_public_pem(), "sha256"
        )
    ),
    "expired": lambda k: bearer(
        hs(claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600))
    ),
    "not yet valid (nbf)": lambda k: bearer(hs(claims(nbf=int(time.time()) + 3600))),
    "issued in the future (iat)": lambda k: bearer(hs(claims(iat=int(time.time()) + 3600))),
    "wrong iss": lambda k: bearer(hs(claims(iss="someone-else"))),
    "wrong aud": lambda k: bearer(hs(claims(aud="another-api"))),
    "unknown role": lambda k: bearer(hs(claims(role="root"))),
    "role in the wrong case": lambda k: bearer(hs(claims(role="ADMIN"))),
    "HS384 with the dev secret": lambda k: bearer(
        hmac_token({"alg": "HS384", "typ": "JWT"}, claims(), DEV_SECRET.encode(), "sha384")
    ),
    "HS512 with the dev secret": lambda k: bearer(
        hmac_token({"alg": "HS512", "typ": "JWT"}, claims(), DEV_SECRET.encode(), "sha512")
    ),
    "RS384 by the published key": lambda k: bearer(
        jwt.encode(claims(), k.rsa, algorithm="RS384", headers={"kid": RSA_KID})
    ),
    "RS512 by the published key": lambda k: bearer(
        jwt.encode(claims(), k.rsa, algorithm="RS512", headers={"kid": RSA_KID})
    ),
    "PS256 by the published key": lambda k: bearer(
        jwt.encode(claims(), k.rsa, algorithm="PS256", headers={"kid": RSA_KID})
    ),
    "ES256 naming the rsa kid": lambda k: bearer(
        jwt.encode(claims(), k.ec, algorithm="ES256", headers={"kid": RSA_KID})
    ),
    "unknown kid (published key)": lambda k: bearer(
        jwt.encode(claims(), k.rsa, algorithm="RS256", headers={"kid": "no-such-kid"})
    ),
    "unknown kid (stranger key)": lambda k: bearer(
        jwt.encode(claims(), k.stranger, algorithm="RS256", headers={"kid": "stranger"})
    ),
    "known kid, stranger key": lambda k: bearer(
        jwt.encode(claims(), k.stranger, algorithm="RS256", headers={"kid": RSA_KID})
    ),
    "oversized, validly signed": lambda k: bearer(hs(claims(pad="x" * 9000))),
    "oversized, just over 8 KB": lambda k: bearer("a" * 8193),
}


@pytest.mark.parametrize("app_name", ["secret-only", "with-jwks"])
@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
async def test_bad_token_is_refused_with_401_and_no_data(
    clients: dict[str, httpx.AsyncClient], keys: Keys, app_name: str, case: str
) -> None:
    # given a request carrying this Authorization header (or none)
    authorization = REFUSALS[case](keys)

    # when it is posted to /graphql
    response = await post(clients[app_name], authorization)

    # then it is the one 401 refusal, never a 500 nor any data
    assert_unauthenticated(response)


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
@pytest.mark.parametrize("app_name", ["secret-only", "with-jwks"])
async def test_each_required_claim_missing_is_refused(
    clients: dict[str, httpx.AsyncClient], claim: str, app_name: str
) -> None:
    # given an HS256 token, correctly signed, without one required claim
    token = hs(claims(**{claim: None}))

    response = await post(clients[app_name], bearer(token))

    assert_unauthenticated(response)


async def test_oversized_tokens_cross_the_limit_exactly_like_the_verifier_says(
    client: httpx.AsyncClient,
) -> None:
    # given the largest validly signed token the verifier takes, and one byte more
    pad = 0
    while len(hs(claims(pad="x" * (pad + 1)))) <= 8192:
        pad += 1
    at_limit, over = hs(claims(pad="x" * pad)), hs(claims(pad="x" * (pad + 1)))
    assert len(at_limit) <= 8192 < len(over)

    # then the first answers and the second is refused
    accepted = await post(client, bearer(at_limit))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["data"]["viewer"]["role"] == "ADMIN"
    assert_unauthenticated(await post(client, bearer(over)))


async def test_the_same_valid_token_is_accepted_so_refusals_are_not_blanket(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    # The control for the refusals above: the dev secret's token works on both apps.
    for name, client in clients.items():
        response = await post(client, bearer(hs(claims())))
        assert response.status_code == 200, (name, response.text)
        assert response.json()["data"]["viewer"] == {"role": "ADMIN", "subject": "svc:http-test"}


# --- acceptance 2: RS256 and ES256 from the JWKS, rotation without a restart ----------


@pytest.mark.parametrize(("alg", "kid"), [("RS256", RSA_KID), ("ES256", EC_KID)])
async def test_jwks_signed_tokens_answer_viewer(
    jwks_client: httpx.AsyncClient, keys: Keys, alg: str, kid: str
) -> None:
    # given a token signed by a key the JWKS file publishes under `kid`
    key = keys.rsa if alg == "RS256" else keys.ec
    token = jwt.encode(
        claims(sub=f"svc:{alg}", role="customer", accounts=[]),
        key,
        algorithm=alg,
        headers={"kid": kid},
    )

    # when it asks who it is
    response = await post(jwks_client, bearer(token))

    # then the gateway answers as that subject and role
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"] == {"role": "CUSTOMER", "subject": f"svc:{alg}"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def test_rotated_jwks_file_is_picked_up_without_a_restart(
    database_url: str, keys: Keys, tmp_path: Path
) -> None:
    # given a running app whose JWKS file publishes only the old key, and whose
    # verifier reads that same file through a clock the test moves
    path = tmp_path / "jwks.json"
    write_jwks(path, {"old": keys.rsa})
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    app = jwks_app(database_url, path)
    clock = FakeClock()
    old_token = jwt.encode(claims(sub="old"), keys.rsa, algorithm="RS256", headers={"kid": "old"})
    new_token = jwt.encode(claims(sub="new"), new_key, algorithm="RS256", headers={"kid": "new"})

    async with app.router.lifespan_context(app):
        source = JwksKeySource(path.as_uri(), clock=clock)
        auth = load({"BILLING_JWT_JWKS_URL": path.as_uri(), "BILLING_ENV": "dev"}).auth()
        app.state.services.verifier = TokenVerifier(auth, jwks=source)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            before = await post(client, bearer(old_token))
            assert before.status_code == 200, before.text
            assert before.json()["data"]["viewer"]["subject"] == "old"

            # when the file is rotated: the old key removed, a new kid published
            write_jwks(path, {"new": new_key})

            # then within the refresh interval the new kid is not reread yet...
            clock.advance(30)
            assert_unauthenticated(await post(client, bearer(new_token)))
            assert source.fetch_count == 1

            # ...and once it has passed, the new kid answers and the old one is refused
            clock.advance(31)
            after = await post(client, bearer(new_token))
            assert after.status_code == 200, after.text
            assert after.json()["data"]["viewer"]["subject"] == "new"
            assert_unauthenticated(await post(client, bearer(old_token)))
            assert source.fetch_count == 2


async def test_the_app_reads_its_jwks_at_startup(
    database_url: str, keys: Keys, tmp_path: Path
) -> None:
    # given a JWKS file, when the app starts, then its verifier has read it already
    path = tmp_path / "jwks.json"
    write_jwks(path, {RSA_KID: keys.rsa})
    app = jwks_app(database_url, path)
    async with app.router.lifespan_context(app):
        source = app.state.services.verifier.key_source
        assert source is not None
        assert source.url == path.as_uri()
        assert source.fetch_count == 1
