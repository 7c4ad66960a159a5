"""auth.jwks: keys by kid from a file:// JWKS, rotation, rate-limited refresh, failures."""

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from auth.jwks import JwksError, JwksKeySource, parse_jwks
from auth.principal import Role
from auth.tokens import AuthSettings, TokenError, TokenVerifier

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def public_jwk(key: Key, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid}


def write_jwks(path: Path, keys: dict[str, Key]) -> None:
    path.write_text(json.dumps({"keys": [public_jwk(key, kid) for kid, key in keys.items()]}))


def sign(key: Key, kid: str, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "sub": "svc",
        "iss": "billing-gateway",
        "aud": "billing-api",
        "exp": now + 600,
        "role": "admin",
        "scope": "accounts:read",
        **claims,
    }
    alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture(scope="module")
def rsa_old() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rsa_new() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def jwks_path(tmp_path: Path, rsa_old: rsa.RSAPrivateKey) -> Path:
    path = tmp_path / "jwks.json"
    write_jwks(path, {"old": rsa_old})
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def source(jwks_path: Path, clock: FakeClock) -> JwksKeySource:
    return JwksKeySource(jwks_path.as_uri(), clock=clock)


@pytest.fixture
def verifier(source: JwksKeySource) -> TokenVerifier:
    return TokenVerifier(AuthSettings(secret=None, jwks_url=source.url), jwks=source)


def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenError) as info:
        verifier.verify(token)
    return info.value.reason


# --- keys by kid ---------------------------------------------------------------------


def test_rs256_and_es256_tokens_from_jwks_file_verify(
    tmp_path: Path, rsa_old: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    path = tmp_path / "keys.json"
    write_jwks(path, {"r": rsa_old, "e": ec_key})
    verifier = TokenVerifier(AuthSettings(secret=None, jwks_url=path.as_uri()))
    assert verifier.verify(sign(rsa_old, "r", sub="rs")).subject == "rs"
    principal = verifier.verify(sign(ec_key, "e", sub="es"))
    assert (principal.subject, principal.role) == ("es", Role.ADMIN)


def test_key_is_chosen_by_kid(
    tmp_path: Path, rsa_old: rsa.RSAPrivateKey, rsa_new: rsa.RSAPrivateKey
) -> None:
    path = tmp_path / "keys.json"
    write_jwks(path, {"a": rsa_old, "b": rsa_new})
    verifier = TokenVerifier(AuthSettings(secret=None, jwks_url=path.as_uri()))
    assert verifier.verify(sign(rsa_new, "b")).subject == "svc"
    # Signed by a key in the set, but naming the other key's kid: the signature fails.
    assert refusal(verifier, sign(rsa_new, "a")) == "bad signature"


def test_source_is_read_lazily_and_cached(
    source: JwksKeySource, verifier: TokenVerifier, rsa_old: rsa.RSAPrivateKey
) -> None:
    assert source.fetch_count == 0
    for _ in range(5):
        verifier.verify(sign(rsa_old, "old"))
    assert source.fetch_count == 1


# --- rotation and the rate limit -----------------------------------------------------


def test_rotated_file_is_picked_up_without_a_new_verifier(
    jwks_path: Path,
    source: JwksKeySource,
    verifier: TokenVerifier,
    clock: FakeClock,
    rsa_old: rsa.RSAPrivateKey,
    rsa_new: rsa.RSAPrivateKey,
) -> None:
    assert verifier.verify(sign(rsa_old, "old")).subject == "svc"
    write_jwks(jwks_path, {"new": rsa_new})
    clock.advance(61)
    assert verifier.verify(sign(rsa_new, "new")).subject == "svc"
    assert source.fetch_count == 2
    # The old key left the set with that reread, so its tokens stop verifying.
    assert refusal(verifier, sign(rsa_old, "old")) == "unknown kid 'old'"


def test_unknown_kid_refresh_is_rate_limited(
    jwks_path: Path,
    source: JwksKeySource,
    verifier: TokenVerifier,
    clock: FakeClock,
    rsa_old: rsa.RSAPrivateKey,
    rsa_new: rsa.RSAPrivateKey,
) -> None:
    verifier.verify(sign(rsa_old, "old"))
    clock.advance(61)
    assert refusal(verifier, sign(rsa_old, "random-1")) == "unknown kid 'random-1'"
    assert source.fetch_count == 2  # the first unknown kid rereads
    # The file now has the new kid, but a second unknown kid within 60 s must not
    # reread it: the refusal proves the file was not read, the counter double-checks.
    write_jwks(jwks_path, {"old": rsa_old, "new": rsa_new})
    clock.advance(59)
    assert refusal(verifier, sign(rsa_new, "new")) == "unknown kid 'new'"
    assert source.fetch_count == 2
    clock.advance(1)
    assert verifier.verify(sign(rsa_new, "new")).subject == "svc"
    assert source.fetch_count == 3


def test_flood_of_random_kids_reads_once_per_interval(
    source: JwksKeySource, verifier: TokenVerifier, clock: FakeClock, rsa_old: rsa.RSAPrivateKey
) -> None:
    verifier.verify(sign(rsa_old, "old"))
    clock.advance(60)
    for n in range(200):
        assert refusal(verifier, sign(rsa_old, f"kid-{n}")).startswith("unknown kid")
        clock.advance(0.1)  # 20 s of flood
    assert source.fetch_count == 2
    assert verifier.verify(sign(rsa_old, "old")).subject == "svc"  # known kid unaffected


def test_cache_expires_after_max_age(
    jwks_path: Path, clock: FakeClock, rsa_old: rsa.RSAPrivateKey, rsa_new: rsa.RSAPrivateKey
) -> None:
    source = JwksKeySource(jwks_path.as_uri(), clock=clock, max_age=300)
    assert source.get("old") is not None
    write_jwks(jwks_path, {"new": rsa_new})  # "old" revoked
    clock.advance(299)
    assert source.get("old") is not None
    clock.advance(1)
    assert source.get("old") is None
    assert source.fetch_count == 2


# --- failures ------------------------------------------------------------------------


def test_unreadable_source_is_reported_and_cached_keys_survive(
    jwks_path: Path,
    source: JwksKeySource,
    verifier: TokenVerifier,
    clock: FakeClock,
    rsa_old: rsa.RSAPrivateKey,
) -> None:
    token = sign(rsa_old, "old")
    verifier.verify(token)
    jwks_path.unlink()
    clock.advance(301)  # cache stale, reread fails: the known key keeps working
    assert verifier.verify(token).subject == "svc"
    assert source.last_error is not None
    assert "cannot read JWKS file" in source.last_error
    clock.advance(61)
    reason = refusal(verifier, sign(rsa_old, "other"))
    assert reason.startswith("JWKS unavailable: cannot read JWKS file"), reason


def test_missing_file_at_first_use_is_reported(tmp_path: Path, rsa_old: rsa.RSAPrivateKey) -> None:
    clock = FakeClock()
    source = JwksKeySource((tmp_path / "absent.json").as_uri(), clock=clock)
    verifier = TokenVerifier(AuthSettings(secret=None, jwks_url=source.url), jwks=source)
    assert "cannot read JWKS file" in refusal(verifier, sign(rsa_old, "old"))
    # Within the interval there is no reread, and the log still says why.
    reason = refusal(verifier, sign(rsa_old, "old"))
    assert reason.startswith("JWKS unavailable: JWKS not loaded yet: cannot read"), reason
    assert source.fetch_count == 1


def test_load_reads_now_and_raises(jwks_path: Path, clock: FakeClock) -> None:
    source = JwksKeySource(jwks_path.as_uri(), clock=clock)
    source.load()
    assert source.fetch_count == 1
    assert not source.needs_fetch("old")
    assert not source.needs_fetch("unknown")  # rate-limited right after a read
    clock.advance(60)
    assert source.needs_fetch("unknown")
    jwks_path.write_text("{}")
    with pytest.raises(JwksError, match="no usable key"):
        source.load()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"{}", "no usable key"),
        (b'{"keys": {}}', "no usable key"),
        (b'{"keys": [{"kty": "RSA", "n": "AQAB"}]}', "no usable key"),
        (b'{"keys": [{"kty": "nope", "kid": "x"}]}', "no usable key"),
        (b'{"keys": "abc"}', "no usable key"),
        (b" " * 1_048_577, "larger than"),
    ],
)
def test_bad_documents_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(JwksError, match=message):
        parse_jwks(body)


def test_keys_without_kid_are_skipped(
    rsa_old: rsa.RSAPrivateKey, rsa_new: rsa.RSAPrivateKey
) -> None:
    no_kid = RSAAlgorithm.to_jwk(rsa_old.public_key(), as_dict=True)
    with_kid = public_jwk(rsa_new, "b")
    duplicate = public_jwk(rsa_old, "b")
    keys = parse_jwks(json.dumps({"keys": [no_kid, with_kid, duplicate, "junk"]}).encode())
    assert list(keys) == ["b"]
    assert keys["b"].key.public_numbers() == rsa_new.public_key().public_numbers()


@pytest.mark.parametrize(
    "url",
    [
        "http://idp.example/jwks.json",
        "ftp://idp.example/jwks.json",
        "file://remote-host/etc/jwks.json",
        "https:///jwks.json",
        "/etc/jwks.json",
    ],
)
def test_unsupported_urls_are_refused_at_construction(url: str) -> None:
    with pytest.raises(ValueError, match="JWKS"):
        JwksKeySource(url)
    with pytest.raises(ValueError, match="JWKS"):
        TokenVerifier(AuthSettings(secret=None, jwks_url=url))


def test_https_source_does_not_fetch_at_construction() -> None:
    source = JwksKeySource("https://idp.example/.well-known/jwks.json")
    assert source.fetch_count == 0
    assert source.needs_fetch("any")
