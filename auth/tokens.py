"""Bearer token verification and minting (docs/authentication.md).

The algorithm is pinned per key source *by construction*: the token's `alg` header
only selects which source to consult, and each source accepts exactly one family:

* HS256 -> the configured secret, and nothing else (never a JWKS key, so an HS256
  token "signed" with a public key's PEM text cannot verify);
* RS256 -> a JWKS key with the token's `kid` that is an RSA public key (>= 2048 bits);
* ES256 -> a JWKS key with the token's `kid` that is an EC P-256 public key.

Everything else (`none`, HS512, PS256, ...) is refused before any key is touched, and
`jwt.decode` is then called with that single algorithm. `jku`, `x5u` and `jwk` headers
are ignored: keys come from configuration only.

Every refusal is a `TokenError` whose `reason` is precise, for the server log. The
HTTP layer answers every refusal with the same generic 401, so reasons never reach
clients and cannot be used as an oracle.
"""

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import HMACAlgorithm

from auth.jwks import JwksError, JwksKeySource
from auth.principal import Principal, Role
from auth.scopes import ALL_SCOPES

DEFAULT_ISSUER: Final = "billing-gateway"
DEFAULT_AUDIENCE: Final = "billing-api"
REQUIRED_CLAIMS: Final = ("sub", "iss", "aud", "exp", "role", "scope")
HMAC_ALGORITHM: Final = "HS256"
MIN_SECRET_BYTES: Final = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash
MIN_RSA_BITS: Final = 2048
# `typ` is optional; when present it must say "this is a JWT access token", so another
# kind of JWT from the same issuer (an ID token, a logout token) is not accepted.
ACCEPTED_TYPES: Final = frozenset({"jwt", "at+jwt"})
DEFAULT_MINT_SCOPES: Final = tuple(sorted(ALL_SCOPES))
# Verified tokens kept per process: a dashboard sends the same token with every
# request, and checking its signature again is the largest part of a cached answer.
# An entry lasts at most this long, never past the token's `exp`, and only while the
# key set still holds the key that verified it.
VERIFIED_KEPT_SECONDS: Final = 60.0
VERIFIED_KEPT: Final = 4096


class TokenError(Exception):
    """A refused token. `reason` is for the server log only, never for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AuthSettings:
    """Key sources and claim expectations (the `BILLING_JWT_*` settings).

    `strict_key_length` (prod) refuses an HS256 secret shorter than 32 bytes. In
    non-strict mode a short secret works but pyjwt emits `InsecureKeyLengthWarning`
    on every encode/decode (an error under pytest's warnings-as-errors), so tests
    should use 32+ byte secrets too.
    """

    secret: str | None
    jwks_url: str | None
    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE
    leeway_seconds: int = 30
    max_token_bytes: int = 8192
    strict_key_length: bool = False


class TokenVerifier:
    """Turns a bearer token into a `Principal` or raises `TokenError`.

    `verify` is synchronous. With an https JWKS it may block on a fetch (only for an
    unknown kid or an expired cache, at most once a minute); async callers use
    `averify`, which moves the call to a thread only when such a fetch is due.
    """

    def __init__(
        self,
        settings: AuthSettings,
        *,
        jwks: JwksKeySource | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """`jwks` overrides the source built from `settings.jwks_url` (tests inject a clock);
        `wall` is the wall clock token lifetimes are checked by (tests pin it).

        Raises ValueError on a configuration that could never verify safely.
        """
        self._settings = settings
        self._wall = wall
        # token -> (its principal, until when it may be answered without verifying,
        # the JWKS kid and key it was verified with: None for the secret)
        self._verified: dict[str, tuple[Principal, float, str | None, Any]] = {}
        self._secret = _checked_secret(settings.secret, strict=settings.strict_key_length)
        if jwks is None and settings.jwks_url:
            jwks = JwksKeySource(settings.jwks_url)
        self._jwks = jwks
        if self._secret is None and self._jwks is None:
            raise ValueError("no token key configured: set a secret or a JWKS URL")

    @property
    def key_source(self) -> JwksKeySource | None:
        """The JWKS source, e.g. to `load()` it at startup; None without JWKS."""
        return self._jwks

    def verify(self, token: str) -> Principal:
        known = self._known(token)
        if known is not None:
            return known
        self._check_size(token)
        header = _unverified_header(token)
        algorithm, key = self._key_for(header)
        claims = self._decode(token, key, algorithm)
        principal = _principal(claims)
        self._keep(
            token, principal, header.get("kid") if algorithm != HMAC_ALGORITHM else None, key
        )
        return principal

    async def averify(self, token: str) -> Principal:
        """`verify` for the event loop: runs in a thread only when a JWKS read is due."""
        if self._fetch_due(token):
            return await asyncio.to_thread(self.verify, token)
        return self.verify(token)

    def _known(self, token: str) -> Principal | None:
        """The principal of a token verified here lately, while it is still valid and
        the key set still holds the very key that verified it (a rotation that drops
        the key refuses its tokens at once, as without this memory)."""
        kept = self._verified.get(token)
        if kept is None:
            return None
        principal, until, kid, key = kept
        if self._wall() < until and (kid is None or self._current_key(kid) is key):
            return principal
        self._verified.pop(token, None)
        return None

    def _current_key(self, kid: str) -> Any:
        try:
            jwk = None if self._jwks is None else self._jwks.get(kid)
        except JwksError:
            return None  # verified afresh, which reports the outage
        return None if jwk is None else jwk.key

    def _keep(self, token: str, principal: Principal, kid: str | None, key: Any) -> None:
        now = self._wall()
        until = min(principal.expires_at.timestamp(), now + VERIFIED_KEPT_SECONDS)
        if until <= now:
            return  # valid only through the leeway: verified each time
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.pop(next(iter(self._verified)), None)  # the oldest entry
        self._verified[token] = (principal, until, kid, key)

    def _fetch_due(self, token: str) -> bool:
        if self._jwks is None:
            return False
        try:
            self._check_size(token)
            header = _unverified_header(token)
        except TokenError:
            return False  # verify refuses it without touching the source
        alg, kid = header.get("alg"), header.get("kid")
        return (
            isinstance(alg, str)  # `in` on an unhashable value would raise TypeError
            and alg in _JWKS_KEY_CHECKS
            and isinstance(kid, str)
            and self._jwks.needs_fetch(kid)
        )

    def _check_size(self, token: str) -> None:
        # Before any parsing: pyjwt happily base64-decodes and JSON-parses huge tokens.
        if not token:
            raise TokenError("missing token")
        if len(token) > self._settings.max_token_bytes:
            raise TokenError(f"token too large ({len(token)} > {self._settings.max_token_bytes})")
        if not token.isascii():  # so that len() above counted bytes
            raise TokenError("token has non-ASCII characters")

    def _key_for(self, header: Mapping[str, Any]) -> tuple[str, Any]:
        algorithm = header.get("alg")
        if algorithm == HMAC_ALGORITHM:
            if self._secret is None:
                raise TokenError("algorithm HS256 not allowed (no secret configured)")
            return HMAC_ALGORITHM, self._secret
        if isinstance(algorithm, str) and algorithm in _JWKS_KEY_CHECKS:
            return algorithm, self._jwks_key(algorithm, header.get("kid"))
        raise TokenError(f"algorithm {_show(algorithm)} not allowed")

    def _jwks_key(self, algorithm: str, kid: object) -> Any:
        if self._jwks is None:
            raise TokenError(f"algorithm {algorithm} not allowed (no JWKS configured)")
        if not isinstance(kid, str) or not kid:
            raise TokenError(f"missing kid for {algorithm}")
        try:
            jwk = self._jwks.get(kid)
        except JwksError as exc:
            raise TokenError(f"JWKS unavailable: {exc}") from exc
        if jwk is None:
            raise TokenError(f"unknown kid {_show(kid)}")
        # The JWK's own `alg` (or the one pyjwt infers from kty/crv) must agree too.
        if jwk.algorithm_name != algorithm:
            raise TokenError(f"key {_show(kid)} is for {jwk.algorithm_name}, not {algorithm}")
        problem = _JWKS_KEY_CHECKS[algorithm](jwk.key)
        if problem:
            raise TokenError(f"key {_show(kid)} unusable for {algorithm}: {problem}")
        return jwk.key

    def _decode(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        settings = self._settings
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway_seconds,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "enforce_minimum_key_length": settings.strict_key_length,
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenError(_decode_reason(exc)) from exc
        return claims


def mint(
    secret: str,
    *,
    role: str,
    accounts: Iterable[str] = (),
    partner: str | None = None,
    scopes: Iterable[str] = DEFAULT_MINT_SCOPES,
    ttl_seconds: int = 3600,
    subject: str | None = None,
    issuer: str = DEFAULT_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
    now: datetime | None = None,
) -> str:
    """An HS256 token that `TokenVerifier.verify` accepts (dev, tests, the `token` CLI).

    Refuses (ValueError) what verify would refuse, so a mistake shows at mint time.
    `scopes` may also be one space-separated string. Unknown scopes are kept in the
    token (verify drops them), so tests can exercise that path.
    """
    parsed_role = _mint_role(role)
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued_at = datetime.now(UTC) if now is None else now
    if issued_at.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    scope_list = scopes.split() if isinstance(scopes, str) else list(scopes)
    claims: dict[str, Any] = {
        "sub": subject or f"dev:{parsed_role.value}",
        "iss": issuer,
        "aud": audience,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + timedelta(seconds=ttl_seconds)).timestamp()),
        "role": parsed_role.value,
        "scope": " ".join(dict.fromkeys(scope_list)),
    }
    claims.update(_reach_claims(parsed_role, list(accounts), partner))
    return jwt.encode(claims, secret, algorithm=HMAC_ALGORITHM)


def _mint_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValueError(f"role must be one of {[r.value for r in Role]}, not {role!r}") from None


def _reach_claims(role: Role, accounts: list[str], partner: str | None) -> dict[str, Any]:
    # Each role carries only its own reach claim, so a token cannot be ambiguous.
    if role is Role.CUSTOMER:
        if partner is not None:
            raise ValueError("partner applies to the partner role only")
        return {"accounts": accounts}
    if accounts:
        raise ValueError("accounts apply to the customer role only")
    if role is Role.PARTNER:
        if not partner:
            raise ValueError("the partner role needs a partner id")
        return {"partner": partner}
    if partner is not None:
        raise ValueError("partner applies to the partner role only")
    return {}


def _checked_secret(secret: str | None, *, strict: bool) -> str | None:
    if secret is None:
        return None
    if not secret:
        # An empty HMAC key would let anyone mint tokens; "unset" must be None.
        raise ValueError("the HS256 secret is empty")
    if strict and len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"the HS256 secret must be at least {MIN_SECRET_BYTES} bytes")
    try:
        # pyjwt refuses PEM/SSH key text as an HMAC key on every decode; fail at startup.
        HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(secret)
    except jwt.InvalidKeyError as exc:
        raise ValueError(f"the HS256 secret is unusable: {exc}") from exc
    return secret


def _unverified_header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError(f"malformed token: {exc}") from exc
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in ACCEPTED_TYPES):
        raise TokenError(f"token type {_show(typ)} not accepted")
    return header


def _rsa_problem(key: object) -> str | None:
    if not isinstance(key, RSAPublicKey):
        return "not an RSA public key"
    if key.key_size < MIN_RSA_BITS:
        return f"RSA key of {key.key_size} bits is shorter than {MIN_RSA_BITS}"
    return None


def _p256_problem(key: object) -> str | None:
    if not isinstance(key, EllipticCurvePublicKey) or not isinstance(key.curve, SECP256R1):
        return "not an EC P-256 public key"
    return None


# The allow-list for JWKS keys: algorithm -> check that the key's type fits it.
_JWKS_KEY_CHECKS: Final[dict[str, Callable[[object], str | None]]] = {
    "RS256": _rsa_problem,
    "ES256": _p256_problem,
}


def _decode_reason(exc: jwt.PyJWTError) -> str:
    # Most specific first: InvalidSignatureError is a DecodeError.
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return f"not yet valid: {exc}"  # pyjwt names nbf or iat
    if isinstance(exc, jwt.InvalidSignatureError):
        return "bad signature"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"missing claim {exc.claim}"
    if isinstance(exc, jwt.InvalidAudienceError):
        return f"wrong audience: {exc}"
    if isinstance(exc, jwt.InvalidIssuerError):
        return f"wrong issuer: {exc}"
    if isinstance(exc, jwt.DecodeError):
        return f"malformed token: {exc}"
    return f"invalid token: {type(exc).__name__}: {exc}"


def _principal(claims: Mapping[str, Any]) -> Principal:
    subject = claims["sub"]  # pyjwt checked presence and that it is a string
    if not isinstance(subject, str) or not subject.strip():
        raise TokenError("claim sub is empty")
    role = _role(claims["role"])
    return Principal(
        subject=subject,
        role=role,
        scopes=_scopes(claims["scope"]),
        accounts=_accounts(claims.get("accounts")) if role is Role.CUSTOMER else (),
        partner=_partner(claims.get("partner")) if role is Role.PARTNER else None,
        expires_at=_expiry(claims["exp"]),
    )


def _role(value: object) -> Role:
    if isinstance(value, str):
        for role in Role:
            if role.value == value:
                return role
    raise TokenError(f"unknown role {_show(value)}")


def _scopes(value: object) -> frozenset[str]:
    if not isinstance(value, str):
        raise TokenError("claim scope must be a space-separated string")
    # Unknown scopes are dropped, so only names the schema checks can ever match.
    return frozenset(value.split()) & ALL_SCOPES


def _accounts(value: object) -> tuple[str, ...]:
    if value is None:
        raise TokenError("missing claim accounts")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TokenError("claim accounts must be a list of strings")
    return tuple(dict.fromkeys(value))


def _partner(value: object) -> str:
    if value is None:
        raise TokenError("missing claim partner")
    if not isinstance(value, str) or not value:
        raise TokenError("claim partner must be a non-empty string")
    return value


def _expiry(value: object) -> datetime:
    # pyjwt int()s exp, which also accepts numeric strings; the claim must be a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError("claim exp must be a number")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise TokenError("claim exp out of range") from exc


def _show(value: object) -> str:
    """A log-safe rendering of an attacker-chosen value: repr (escapes), truncated."""
    text = repr(value)
    return text if len(text) <= 64 else text[:61] + "..."
