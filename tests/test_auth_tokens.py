"""auth.tokens: every refusal has its own test, and each asserts the logged reason."""

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from auth.jwks import JwksKeySource
from auth.principal import Principal, Role
from auth.scopes import (
    ACCOUNTS_READ,
    ALL_SCOPES,
    INVOICES_READ,
    USAGE_WRITE,
)
from auth.tokens import REQUIRED_CLAIMS, AuthSettings, TokenError, TokenVerifier, mint

SECRET = "unit-test-secret-that-is-at-least-32-bytes-long"
RSA_KID = "rsa-1"
EC_KID = "ec-1"


# --- helpers -------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: dict[str, Any]) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def raw_token(
    header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]
) -> str:
    """A token built by hand, so tests can produce what pyjwt's encoder refuses to."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def hmac_signer(key: bytes, digest: str = "sha256") -> Callable[[bytes], bytes]:
    return lambda message: hmac.new(key, message, getattr(hashlib, digest)).digest()


def good_claims(**overrides: Any) -> dict[str, Any]:
    """Valid customer claims; an override of None removes the claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "iss": "billing-gateway",
        "aud": "billing-api",
        "iat": now,
        "exp": now + 600,
        "role": "customer",
        "scope": "accounts:read invoices:read",
        "accounts": ["acct_1", "acct_2"],
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def hs256(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def assert_refused(verifier: TokenVerifier, token: str, *fragments: str) -> TokenError:
    with pytest.raises(TokenError) as info:
        verifier.verify(token)
    for fragment in fragments:
        assert fragment in info.value.reason, info.value.reason
    return info.value


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid}


@pytest.fixture
def jwks_url(tmp_path: Path, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> str:
    path = tmp_path / "jwks.json"
    keys = [public_jwk(rsa_key, RSA_KID), public_jwk(ec_key, EC_KID)]
    path.write_text(json.dumps({"keys": keys}))
    return path.as_uri()


@pytest.fixture
def hs_verifier() -> TokenVerifier:
    return TokenVerifier(AuthSettings(secret=SECRET, jwks_url=None))


@pytest.fixture
def jwks_verifier(jwks_url: str) -> TokenVerifier:
    return TokenVerifier(AuthSettings(secret=None, jwks_url=jwks_url))


@pytest.fixture
def both_verifier(jwks_url: str) -> TokenVerifier:
    return TokenVerifier(AuthSettings(secret=SECRET, jwks_url=jwks_url))


# --- acceptance ----------------------------------------------------------------------


def test_hs256_token_verifies_to_principal(hs_verifier: TokenVerifier) -> None:
    claims = good_claims()
    principal = hs_verifier.verify(hs256(claims))
    assert principal == Principal(
        subject="user-1",
        role=Role.CUSTOMER,
        scopes=frozenset({ACCOUNTS_READ, INVOICES_READ}),
        accounts=("acct_1", "acct_2"),
        partner=None,
        expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
    )
    assert principal.has_scope(ACCOUNTS_READ)
    assert not principal.has_scope(USAGE_WRITE)


def test_rs256_and_es256_from_jwks_verify(
    both_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    rs = jwt.encode(good_claims(sub="rs"), rsa_key, algorithm="RS256", headers={"kid": RSA_KID})
    es = jwt.encode(good_claims(sub="es"), ec_key, algorithm="ES256", headers={"kid": EC_KID})
    assert both_verifier.verify(rs).subject == "rs"
    assert both_verifier.verify(es).subject == "es"


def test_scopes_are_intersected_with_known_set(hs_verifier: TokenVerifier) -> None:
    token = hs256(good_claims(scope="accounts:read  admin:everything usage:write\tbogus"))
    assert hs_verifier.verify(token).scopes == frozenset({ACCOUNTS_READ, USAGE_WRITE})


def test_partner_and_admin_carry_only_their_own_reach(hs_verifier: TokenVerifier) -> None:
    partner = hs_verifier.verify(hs256(good_claims(role="partner", partner="ptr_9", accounts=None)))
    assert (partner.role, partner.partner, partner.accounts) == (Role.PARTNER, "ptr_9", ())
    # An admin token that also carries reach claims gets neither: reach comes from role.
    admin = hs_verifier.verify(hs256(good_claims(role="admin", partner="ptr_9")))
    assert (admin.role, admin.partner, admin.accounts) == (Role.ADMIN, None, ())


def test_customer_may_have_empty_accounts(hs_verifier: TokenVerifier) -> None:
    assert hs_verifier.verify(hs256(good_claims(accounts=[]))).accounts == ()


def test_times_within_leeway_are_accepted(hs_verifier: TokenVerifier) -> None:
    now = int(time.time())
    token = hs256(good_claims(exp=now - 10, nbf=now + 10, iat=now + 10))
    assert hs_verifier.verify(token).subject == "user-1"


def test_size_limit_boundary() -> None:
    limit = 2000
    verifier = TokenVerifier(AuthSettings(secret=SECRET, jwks_url=None, max_token_bytes=limit))
    pad = 0
    while len(hs256(good_claims(pad="x" * (pad + 1)))) <= limit:
        pad += 1
    at_limit = hs256(good_claims(pad="x" * pad))
    over = hs256(good_claims(pad="x" * (pad + 1)))
    assert limit - 4 < len(at_limit) <= limit < len(over)
    assert verifier.verify(at_limit).subject == "user-1"
    assert_refused(verifier, over, "too large")


# --- refusals: shape -----------------------------------------------------------------


def test_missing_token_is_refused(hs_verifier: TokenVerifier) -> None:
    assert_refused(hs_verifier, "", "missing token")


@pytest.mark.parametrize("token", [" ", "Bearer", "\t"])
def test_blank_token_is_refused(hs_verifier: TokenVerifier, token: str) -> None:
    assert_refused(hs_verifier, token, "malformed token")


@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9", "Bearer x.y.z", "e30.e30.e30"]
)
def test_garbage_is_refused(hs_verifier: TokenVerifier, token: str) -> None:
    error = assert_refused(hs_verifier, token)
    assert error.reason.startswith(("malformed token", "algorithm")), error.reason


def test_non_ascii_token_is_refused(hs_verifier: TokenVerifier) -> None:
    assert_refused(hs_verifier, hs256(good_claims()) + "é", "non-ASCII")


def test_oversized_token_refused_before_parsing(
    hs_verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = hs256(good_claims(pad="x" * 9000))
    assert len(big) > 8192

    def must_not_parse(token: str) -> dict[str, Any]:
        raise AssertionError("header parsed for an oversized token")

    monkeypatch.setattr(jwt, "get_unverified_header", must_not_parse)
    assert_refused(hs_verifier, big, "too large")
    assert_refused(hs_verifier, "a" * 8193, "too large")


def test_unknown_typ_is_refused(hs_verifier: TokenVerifier) -> None:
    token = jwt.encode(good_claims(), SECRET, algorithm="HS256", headers={"typ": "logout+jwt"})
    assert_refused(hs_verifier, token, "token type", "logout+jwt")


# --- refusals: algorithm and key -----------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(both_verifier: TokenVerifier, alg: str) -> None:
    token = raw_token({"alg": alg, "typ": "JWT"}, good_claims(), lambda _: b"")
    assert_refused(both_verifier, token, "algorithm", alg, "not allowed")


def test_payload_changed_after_signing_is_refused(hs_verifier: TokenVerifier) -> None:
    header, _, signature = hs256(good_claims()).split(".")
    forged = f"{header}.{segment(good_claims(role='admin'))}.{signature}"
    assert_refused(hs_verifier, forged, "bad signature")


def test_payload_changed_after_rs256_signing_is_refused(
    jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(good_claims(), rsa_key, algorithm="RS256", headers={"kid": RSA_KID})
    header, _, signature = token.split(".")
    forged = f"{header}.{segment(good_claims(accounts=['acct_other']))}.{signature}"
    assert_refused(jwks_verifier, forged, "bad signature")


def test_wrong_secret_is_refused(hs_verifier: TokenVerifier) -> None:
    token = hs256(good_claims(), secret="another-secret-that-is-also-32-bytes-long")
    assert_refused(hs_verifier, token, "bad signature")


def test_hs256_signed_with_rsa_public_pem_is_refused(
    jwks_verifier: TokenVerifier, both_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    # The classic confusion attack: the public key is public, so anyone can HMAC with it.
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": RSA_KID}
    token = raw_token(header, good_claims(role="admin"), hmac_signer(pem))
    assert_refused(jwks_verifier, token, "algorithm HS256 not allowed", "no secret")
    # With a secret configured too, HS256 is checked against that secret only.
    assert_refused(both_verifier, token, "bad signature")


def test_hs256_signed_with_jwks_oct_key_is_refused(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    # A symmetric key published in the JWKS must never become an HMAC secret.
    oct_secret = b"k" * 32
    jwk_oct = {"kty": "oct", "k": b64(oct_secret), "kid": "sym"}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk(rsa_key, RSA_KID), jwk_oct]}))
    verifier = TokenVerifier(AuthSettings(secret=None, jwks_url=path.as_uri()))
    hs_token = raw_token({"alg": "HS256", "kid": "sym"}, good_claims(), hmac_signer(oct_secret))
    assert_refused(verifier, hs_token, "algorithm HS256 not allowed")
    rs_header = {"alg": "RS256", "kid": "sym"}
    rs_token = raw_token(rs_header, good_claims(), hmac_signer(oct_secret))
    assert_refused(verifier, rs_token, "'sym'", "HS256, not RS256")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_hmac_algorithms_are_refused(both_verifier: TokenVerifier, alg: str) -> None:
    signer = hmac_signer(SECRET.encode(), "sha" + alg[2:])
    token = raw_token({"alg": alg, "typ": "JWT"}, good_claims(), signer)
    assert_refused(both_verifier, token, f"algorithm '{alg}' not allowed")


@pytest.mark.parametrize("alg", ["PS256", "RS384", "RS512", "PS512"])
def test_other_rsa_algorithms_are_refused(
    both_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey, alg: str
) -> None:
    # Validly signed by the very key in the JWKS: only the algorithm is wrong.
    token = jwt.encode(good_claims(), rsa_key, algorithm=alg, headers={"kid": RSA_KID})
    assert_refused(both_verifier, token, f"algorithm '{alg}' not allowed")


@pytest.mark.parametrize("alg", ["EdDSA", "ES384", "ES512", "hs256", "", 256, ["RS256"], {}])
def test_unlisted_algorithm_names_are_refused(both_verifier: TokenVerifier, alg: object) -> None:
    token = raw_token({"alg": alg, "kid": EC_KID}, good_claims(), lambda _: b"sig")
    assert_refused(both_verifier, token, "algorithm", "not allowed")


def test_missing_alg_header_is_refused(both_verifier: TokenVerifier) -> None:
    token = raw_token({"typ": "JWT"}, good_claims(), hmac_signer(SECRET.encode()))
    assert_refused(both_verifier, token, "algorithm None not allowed")


def test_rs256_refused_without_jwks(hs_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    token = jwt.encode(good_claims(), rsa_key, algorithm="RS256", headers={"kid": RSA_KID})
    assert_refused(hs_verifier, token, "algorithm RS256 not allowed", "no JWKS")


def test_unknown_kid_is_refused(jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    token = jwt.encode(good_claims(), rsa_key, algorithm="RS256", headers={"kid": "abc"})
    assert_refused(jwks_verifier, token, "unknown kid 'abc'")


def test_missing_kid_is_refused(jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    token = jwt.encode(good_claims(), rsa_key, algorithm="RS256")
    assert_refused(jwks_verifier, token, "missing kid")


def test_es256_token_naming_an_rsa_kid_is_refused(
    jwks_verifier: TokenVerifier, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    token = jwt.encode(good_claims(), ec_key, algorithm="ES256", headers={"kid": RSA_KID})
    assert_refused(jwks_verifier, token, f"'{RSA_KID}' is for RS256, not ES256")


def test_rs256_token_naming_an_ec_kid_is_refused(
    jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(good_claims(), rsa_key, algorithm="RS256", headers={"kid": EC_KID})
    assert_refused(jwks_verifier, token, f"'{EC_KID}' is for ES256, not RS256")


def test_es256_with_p384_key_is_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk(key, "p384")]}))
    verifier = TokenVerifier(AuthSettings(secret=None, jwks_url=path.as_uri()))
    der = key.sign(b"x", ec.ECDSA(hashes.SHA256()))  # any bytes: refused before checking
    token = raw_token({"alg": "ES256", "kid": "p384"}, good_claims(), lambda _: der)
    assert_refused(verifier, token, "is for ES384, not ES256")


def test_es256_with_p384_key_declared_es256_is_refused(tmp_path: Path) -> None:
    # Even when the JWK claims alg ES256, the curve must really be P-256.
    key = ec.generate_private_key(ec.SECP384R1())
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public_jwk(key, "p384"), "alg": "ES256"}]}))
    verifier = TokenVerifier(AuthSettings(secret=None, jwks_url=path.as_uri()))
    token = raw_token({"alg": "ES256", "kid": "p384"}, good_claims(), lambda _: b"sig")
    assert_refused(verifier, token, "not an EC P-256 public key")


def test_short_rsa_key_is_refused(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk(key, "weak")]}))
    verifier = TokenVerifier(AuthSettings(secret=None, jwks_url=path.as_uri()))

    def sign(message: bytes) -> bytes:  # by hand: pyjwt warns on a short key
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    token = raw_token({"alg": "RS256", "kid": "weak"}, good_claims(), sign)
    assert_refused(verifier, token, "1024 bits", "shorter than 2048")


# --- refusals: claims ----------------------------------------------------------------


def test_expired_is_refused(hs_verifier: TokenVerifier) -> None:
    assert_refused(hs_verifier, hs256(good_claims(exp=int(time.time()) - 120)), "expired")


def test_not_yet_valid_nbf_is_refused(hs_verifier: TokenVerifier) -> None:
    token = hs256(good_claims(nbf=int(time.time()) + 120))
    assert_refused(hs_verifier, token, "not yet valid", "nbf")


def test_iat_in_the_future_is_refused(hs_verifier: TokenVerifier) -> None:
    token = hs256(good_claims(iat=int(time.time()) + 120))
    assert_refused(hs_verifier, token, "not yet valid", "iat")


def test_wrong_issuer_is_refused(hs_verifier: TokenVerifier) -> None:
    assert_refused(hs_verifier, hs256(good_claims(iss="someone-else")), "wrong issuer")


@pytest.mark.parametrize("aud", ["other-api", ["other-api", "more"]])
def test_wrong_audience_is_refused(hs_verifier: TokenVerifier, aud: object) -> None:
    assert_refused(hs_verifier, hs256(good_claims(aud=aud)), "wrong audience")


def test_custom_issuer_and_audience() -> None:
    settings = AuthSettings(secret=SECRET, jwks_url=None, issuer="idp", audience="api2")
    verifier = TokenVerifier(settings)
    assert verifier.verify(hs256(good_claims(iss="idp", aud="api2"))).subject == "user-1"
    assert_refused(verifier, hs256(good_claims()), "wrong")


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_each_required_claim_missing_is_refused(hs_verifier: TokenVerifier, claim: str) -> None:
    assert_refused(hs_verifier, hs256(good_claims(**{claim: None})), f"missing claim {claim}")


@pytest.mark.parametrize("role", ["superuser", "Admin", "", 1, ["admin"]])
def test_unknown_role_is_refused(hs_verifier: TokenVerifier, role: object) -> None:
    assert_refused(hs_verifier, hs256(good_claims(role=role)), "unknown role")


@pytest.mark.parametrize("scope", [["accounts:read"], 1, {"a": "accounts:read"}])
def test_non_string_scope_is_refused(hs_verifier: TokenVerifier, scope: object) -> None:
    assert_refused(hs_verifier, hs256(good_claims(scope=scope)), "scope must be")


def test_customer_without_accounts_is_refused(hs_verifier: TokenVerifier) -> None:
    assert_refused(hs_verifier, hs256(good_claims(accounts=None)), "missing claim accounts")


@pytest.mark.parametrize("accounts", ["acct_1", [1, 2], ["acct_1", None], {"acct_1": 1}])
def test_customer_accounts_must_be_list_of_strings(
    hs_verifier: TokenVerifier, accounts: object
) -> None:
    token = hs256(good_claims(accounts=accounts))
    assert_refused(hs_verifier, token, "accounts must be a list of strings")


def test_partner_without_partner_claim_is_refused(hs_verifier: TokenVerifier) -> None:
    token = hs256(good_claims(role="partner", accounts=None))
    assert_refused(hs_verifier, token, "missing claim partner")


@pytest.mark.parametrize("partner", ["", 7, ["ptr_1"]])
def test_partner_claim_must_be_non_empty_string(
    hs_verifier: TokenVerifier, partner: object
) -> None:
    token = hs256(good_claims(role="partner", partner=partner))
    assert_refused(hs_verifier, token, "partner must be a non-empty string")


def test_empty_subject_is_refused(hs_verifier: TokenVerifier) -> None:
    assert_refused(hs_verifier, hs256(good_claims(sub="  ")), "sub is empty")


def test_non_numeric_exp_is_refused(hs_verifier: TokenVerifier) -> None:
    token = hs256(good_claims(exp=str(int(time.time()) + 600)))
    assert_refused(hs_verifier, token, "exp must be a number")


# --- settings ------------------------------------------------------------------------


def test_strict_mode_refuses_short_secret() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenVerifier(AuthSettings(secret="x" * 31, jwks_url=None, strict_key_length=True))
    TokenVerifier(AuthSettings(secret="x" * 32, jwks_url=None, strict_key_length=True))
    TokenVerifier(AuthSettings(secret="short", jwks_url=None))  # dev: allowed


def test_empty_secret_and_no_key_source_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        TokenVerifier(AuthSettings(secret="", jwks_url=None))
    with pytest.raises(ValueError, match="no token key configured"):
        TokenVerifier(AuthSettings(secret=None, jwks_url=None))


def test_pem_text_as_secret_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="unusable"):
        TokenVerifier(AuthSettings(secret=pem.decode(), jwks_url=None))


def test_error_reason_is_log_safe(jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    kid = "evil\n" + "k" * 500
    token = jwt.encode(good_claims(), rsa_key, algorithm="RS256", headers={"kid": kid})
    error = assert_refused(jwks_verifier, token, "unknown kid")
    assert "\n" not in error.reason
    assert len(error.reason) < 100
    assert str(error) == error.reason


# --- mint ----------------------------------------------------------------------------


def test_mint_round_trip_customer(hs_verifier: TokenVerifier) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    token = mint(SECRET, role="customer", accounts=["acct_1"], ttl_seconds=120, now=now)
    principal = hs_verifier.verify(token)
    assert principal == Principal(
        subject="dev:customer",
        role=Role.CUSTOMER,
        scopes=ALL_SCOPES,
        accounts=("acct_1",),
        partner=None,
        expires_at=now + timedelta(seconds=120),
    )
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_mint_round_trip_partner_and_admin(hs_verifier: TokenVerifier) -> None:
    partner = hs_verifier.verify(mint(SECRET, role="partner", partner="ptr_1", subject="p@x"))
    assert (partner.subject, partner.role, partner.partner) == ("p@x", Role.PARTNER, "ptr_1")
    admin = hs_verifier.verify(mint(SECRET, role="admin", scopes="accounts:read usage:read"))
    assert admin.role is Role.ADMIN
    assert admin.scopes == frozenset({"accounts:read", "usage:read"})


def test_mint_keeps_unknown_scopes_and_verify_drops_them(hs_verifier: TokenVerifier) -> None:
    token = mint(SECRET, role="admin", scopes=["accounts:read", "bogus:write", "admin"])
    assert jwt.decode(token, options={"verify_signature": False})["scope"] == (
        "accounts:read bogus:write admin"
    )
    assert hs_verifier.verify(token).scopes == frozenset({"accounts:read"})


def test_mint_with_custom_issuer_audience() -> None:
    settings = AuthSettings(secret=SECRET, jwks_url=None, issuer="i", audience="a")
    token = mint(SECRET, role="admin", issuer="i", audience="a")
    assert TokenVerifier(settings).verify(token).role is Role.ADMIN


def test_minted_token_in_the_past_is_expired(hs_verifier: TokenVerifier) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    assert_refused(hs_verifier, mint(SECRET, role="admin", now=past), "expired")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "root"}, "role must be one of"),
        ({"role": "partner"}, "needs a partner id"),
        ({"role": "admin", "accounts": ["acct_1"]}, "customer role only"),
        ({"role": "customer", "partner": "ptr_1"}, "partner role only"),
        ({"role": "admin", "ttl_seconds": 0}, "ttl_seconds"),
        ({"role": "admin", "now": datetime(2030, 1, 1)}, "timezone-aware"),  # noqa: DTZ001
    ],
)
def test_mint_refuses_what_verify_would(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mint(SECRET, **kwargs)


# --- averify -------------------------------------------------------------------------


@pytest.fixture
def thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = asyncio.to_thread

    async def counting(func: Callable[..., Any], /, *args: Any) -> Any:
        calls.append(getattr(func, "__name__", "?"))
        return await real(func, *args)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    return calls


def test_averify_uses_a_thread_only_when_a_jwks_read_is_due(
    jwks_url: str, rsa_key: rsa.RSAPrivateKey, thread_calls: list[str]
) -> None:
    clock = [1000.0]
    source = JwksKeySource(jwks_url, clock=lambda: clock[0])
    verifier = TokenVerifier(AuthSettings(secret=SECRET, jwks_url=jwks_url), jwks=source)
    rs = jwt.encode(good_claims(), rsa_key, algorithm="RS256", headers={"kid": RSA_KID})

    async def run() -> tuple[Principal, Principal, Principal]:
        first = await verifier.averify(rs)  # cache empty: read in a thread
        second = await verifier.averify(rs)  # cached: inline
        third = await verifier.averify(hs256(good_claims()))  # HS256: never a thread
        return first, second, third

    results = asyncio.run(run())
    assert [p.subject for p in results] == ["user-1"] * 3
    assert thread_calls == ["verify"]
    assert source.fetch_count == 1


def test_averify_refuses_like_verify(both_verifier: TokenVerifier) -> None:
    with pytest.raises(TokenError) as info:
        asyncio.run(both_verifier.averify("garbage"))
    assert "malformed" in info.value.reason
    odd_alg = raw_token({"alg": ["RS256"], "kid": RSA_KID}, good_claims(), lambda _: b"s")
    with pytest.raises(TokenError) as info:
        asyncio.run(both_verifier.averify(odd_alg))
    assert "not allowed" in info.value.reason


# --- property: nothing but TokenError ever escapes -----------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    overrides=st.dictionaries(
        st.sampled_from([*REQUIRED_CLAIMS, "accounts", "partner", "nbf", "iat"]), JSON_VALUES
    )
)
def test_any_signed_claims_verify_or_raise_token_error(overrides: dict[str, Any]) -> None:
    verifier = TokenVerifier(AuthSettings(secret=SECRET, jwks_url=None))
    claims = {**good_claims(), **overrides}
    try:
        token = raw_token({"alg": "HS256"}, claims, hmac_signer(SECRET.encode()))
    except ValueError:  # NaN/inf floats are not JSON
        return
    outcome: Principal | TokenError
    try:
        outcome = verifier.verify(token)
    except TokenError as error:
        outcome = error
    if isinstance(outcome, TokenError):
        assert outcome.reason
    else:
        assert outcome.role in Role
        assert outcome.scopes <= ALL_SCOPES


# --- verified tokens kept a minute ------------------------------------------------------


class Wall:
    """The verifier's wall clock, moved by hand (pyjwt still checks the real one)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens whose signature and claims pyjwt checked, in order."""
    seen: list[str] = []
    decode = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr("auth.tokens.jwt.decode", counted)
    return seen


def test_a_dashboards_repeated_token_is_verified_once_a_minute(decodes: list[str]) -> None:
    wall = Wall()
    verifier = TokenVerifier(AuthSettings(secret=SECRET, jwks_url=None), wall=wall)
    token, other = hs256(good_claims()), hs256(good_claims(sub="user-2"))

    assert [verifier.verify(token).subject for _ in range(3)] == ["user-1"] * 3
    assert decodes == [token]
    assert verifier.verify(other).subject == "user-2"  # each token on its own
    wall.now += 61
    assert verifier.verify(token).subject == "user-1"
    assert decodes == [token, other, token]


def test_a_kept_token_is_verified_again_once_it_expires(decodes: list[str]) -> None:
    wall = Wall()
    verifier = TokenVerifier(AuthSettings(secret=SECRET, jwks_url=None), wall=wall)
    claims = good_claims(exp=int(wall.now) + 20)
    token = hs256(claims)
    verifier.verify(token)

    wall.now = claims["exp"] + 1  # within the minute, past `exp`
    verifier.verify(token)  # pyjwt's real clock still finds it valid

    assert decodes == [token, token]


def test_a_kept_token_is_refused_once_its_key_leaves_the_set(
    tmp_path: Path,
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
    decodes: list[str],
) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk(rsa_key, RSA_KID)]}))
    source = JwksKeySource(path.as_uri(), min_refresh_interval=0, max_age=0)
    verifier = TokenVerifier(AuthSettings(secret=None, jwks_url=None), jwks=source)
    token = jwt.encode(good_claims(), rsa_key, algorithm="RS256", headers={"kid": RSA_KID})
    assert verifier.verify(token).subject == "user-1"

    path.write_text(json.dumps({"keys": [public_jwk(ec_key, EC_KID)]}))  # rotated out

    assert_refused(verifier, token, "unknown kid")
