"""A JWKS key source for `file://` and `https://` URLs (`BILLING_JWT_JWKS_URL`,
docs/authentication.md).

Keys are chosen by `kid` and cached. An unknown `kid` rereads the source so a rotated
key is picked up without a restart, but at most once per `min_refresh_interval`
seconds: a flood of tokens with random kids costs one read per interval, not one per
request. The cache also expires after `max_age` seconds so a key *removed* from the
set (revoked) stops being accepted; that reread shares the same rate limit.

pyjwt's `PyJWKClient` is not used: it accepts only http(s) (tests and local setups
use file://) and its cooldown clock cannot be injected. Parsing is pyjwt's own
`PyJWKSet`, so key construction matches what `jwt.decode` expects.

Reading is blocking (file I/O, or an HTTPS request with a timeout). `needs_fetch`
tells an async caller in advance whether `get` would read, so it can move only those
calls to a thread (see `TokenVerifier.averify`).
"""

import http.client
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlparse
from urllib.request import url2pathname

from jwt import PyJWK, PyJWKSet, PyJWTError

MIN_REFRESH_INTERVAL_SECONDS: Final = 60.0
MAX_AGE_SECONDS: Final = 300.0
FETCH_TIMEOUT_SECONDS: Final = 10.0
# A real JWKS is a few KB; the cap keeps a misconfigured URL from filling memory.
MAX_JWKS_BYTES: Final = 1_048_576

Clock = Callable[[], float]
Reader = Callable[[], bytes]


class JwksError(Exception):
    """The key set could not be read or parsed. The message is for the server log."""


class JwksKeySource:
    """Public keys from a JWKS document, by `kid`, cached and refreshed with a rate limit.

    Thread-safe: reads of the cache take no lock (the whole dict is swapped on refresh),
    and the lock is held only to claim a refresh slot, never during I/O.
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Clock = time.monotonic,
        min_refresh_interval: float = MIN_REFRESH_INTERVAL_SECONDS,
        max_age: float = MAX_AGE_SECONDS,
        fetch_timeout: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        # Resolving the reader now makes a bad URL fail at startup, not on first request.
        self._reader = _reader_for(url, fetch_timeout)
        self.url: Final = url
        self._clock = clock
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._keys: dict[str, PyJWK] = {}
        self._loaded_at: float | None = None
        self._last_attempt: float | None = None
        self._lock = threading.Lock()
        self.fetch_count = 0
        """How many times the source was read (for metrics and tests)."""
        self.last_error: str | None = None
        """Why the latest read failed, or None after a successful one."""

    def load(self) -> None:
        """Read the source now, ignoring the rate limit (startup warm-up).

        Raises JwksError when the source cannot be read or holds no usable key.
        """
        with self._lock:
            self._last_attempt = self._clock()
            self.fetch_count += 1
        self._refresh()

    def get(self, kid: str) -> PyJWK | None:
        """The key named `kid`, or None when the source (re)read does not have it.

        Raises JwksError when the key is not cached and the source could not be read,
        so the log says "source down" rather than "unknown kid".
        """
        key = self._keys.get(kid)
        if key is not None and not self._is_stale():
            return key
        if self._claim_refresh():
            try:
                self._refresh()
            except JwksError:
                # A cached key stays usable while the source is down; availability
                # beats a strict max_age. `last_error` records the failure.
                if kid not in self._keys:
                    raise
        if self._loaded_at is None:
            raise JwksError(f"JWKS not loaded yet: {self.last_error or 'refresh rate-limited'}")
        return self._keys.get(kid)

    def needs_fetch(self, kid: str) -> bool:
        """Whether `get(kid)` would read the source now (a hint, taken without the lock)."""
        if kid in self._keys and not self._is_stale():
            return False
        return self._refresh_allowed(self._clock())

    def _is_stale(self) -> bool:
        return self._loaded_at is None or self._clock() - self._loaded_at >= self._max_age

    def _refresh_allowed(self, now: float) -> bool:
        return self._last_attempt is None or now - self._last_attempt >= self._min_refresh_interval

    def _claim_refresh(self) -> bool:
        # Failed reads count too, so an unreachable source is not hammered either.
        with self._lock:
            now = self._clock()
            if not self._refresh_allowed(now):
                return False
            self._last_attempt = now
            self.fetch_count += 1
            return True

    def _refresh(self) -> None:
        try:
            keys = parse_jwks(self._reader())
        except JwksError as exc:
            self.last_error = str(exc)
            raise
        self._keys = keys
        self._loaded_at = self._clock()
        self.last_error = None


def parse_jwks(raw: bytes) -> dict[str, PyJWK]:
    """The usable keys of a JWKS document, by `kid` (keys without a `kid` are unusable).

    On a duplicate `kid` the first key wins, so the choice is deterministic.
    """
    if len(raw) > MAX_JWKS_BYTES:
        raise JwksError(f"JWKS larger than {MAX_JWKS_BYTES} bytes")
    try:
        document: Any = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise JwksError(f"JWKS is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise JwksError("JWKS is not a JSON object")
    try:
        key_set = PyJWKSet.from_dict(document)
    except (PyJWTError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise JwksError(f"JWKS has no usable key: {exc}") from exc
    keys: dict[str, PyJWK] = {}
    for jwk in key_set:
        kid = jwk.key_id
        if isinstance(kid, str) and kid and kid not in keys:
            keys[kid] = jwk
    if not keys:
        raise JwksError("JWKS has no usable key with a kid")
    return keys


def _reader_for(url: str, timeout: float) -> Reader:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"JWKS file URL must be local: {url!r}")
        path = Path(url2pathname(parsed.path))
        return lambda: _read_file(path)
    if parsed.scheme == "https":
        if not parsed.netloc:
            raise ValueError(f"JWKS URL has no host: {url!r}")
        return lambda: _read_https(url, timeout)
    # Plain http would let anyone on the path substitute signing keys.
    raise ValueError(f"JWKS URL must be https:// or file://, not {url!r}")


def _read_file(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_JWKS_BYTES + 1)
    except OSError as exc:
        raise JwksError(f"cannot read JWKS file {str(path)!r}: {exc}") from exc


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could leave https or point at another host's keys: treat it as an error."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _read_https(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked to be https
        url, headers={"Accept": "application/json", "User-Agent": "billing-gateway"}
    )
    opener = urllib.request.build_opener(_RefuseRedirects())
    try:
        with opener.open(request, timeout=timeout) as response:
            body: bytes = response.read(MAX_JWKS_BYTES + 1)
            return body
    except (OSError, http.client.HTTPException) as exc:  # URLError/HTTPError are OSErrors
        raise JwksError(f"cannot fetch JWKS {url!r}: {exc}") from exc
