"""The response cache of reads (BILLING_RESPONSE_CACHE: off, memory or redis).

An entry is a query's `data`, encoded, under a key naming everything that can change
the answer for the caller: the document, operation, variables, role, subject, reach,
scopes and mode. It is served only while its *stamp* still holds: the catalog's
version, the account directory's and the versions of the accounts in reach, read in
one statement on the request's connection. Every write bumps its account's version in
its own transaction (append_event), catalog and directory changes bump theirs by
trigger, so once a write has returned, the next read of what it changed misses.

The stamp is read *before* a miss executes and stored with its answer: an answer that
saw a write whose version the stamp does not include can only be stored under an older
stamp, which that write has already made stale.

Answers that read the billing clock (`RequestContext.now`, noted by `WatchedContext`)
change with time alone: they are not kept, unless BILLING_RESPONSE_CACHE_CLOCK_TTL
allows them that many seconds of the gateway's clock.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

import orjson
from redis.exceptions import RedisError

from auth.principal import Principal
from gateway import metrics
from gateway.settings import ResponseCacheSettings
from loaders.db import Db
from loaders.reach import Reach, in_reach

log = logging.getLogger("billing.response_cache")

HIT: Final = "hit"
MISS: Final = "miss"
BYPASS: Final = "bypass"  # not looked up: a clock reader not kept, or a refused entry
KEY_VERSION: Final = "1"  # bump when the key's parts or the entry's format change

# catalog:directory:accounts — versions only grow, so the sum over the reach moves on
# any write to any account in it (an account leaving the directory bumps the directory).
STAMP: Final = f"""
SELECT (SELECT version FROM catalog_version)::text || ':'
    || (SELECT version FROM directory_version)::text || ':'
    || (SELECT coalesce(sum(version), 0) FROM account_versions
         WHERE {in_reach("account_id", 1)})::text"""


@dataclass(frozen=True)
class Entry:
    stamp: str
    data: bytes  # the `data` member of the response, encoded
    cost: int  # the actual cost the miss counted: a hit refunds the same
    expires_at: datetime | None = None  # clock readers only, by the gateway's clock

    def fresh(self, stamp: str, now: datetime) -> bool:
        return self.stamp == stamp and (self.expires_at is None or now < self.expires_at)

    def encode(self) -> bytes:
        expires = None if self.expires_at is None else self.expires_at.isoformat()
        head = orjson.dumps({"s": self.stamp, "c": self.cost, "e": expires})
        return head + b"\n" + self.data

    @classmethod
    def decode(cls, raw: bytes) -> Entry:
        """Raises ValueError (or KeyError/TypeError) on anything not written by encode."""
        head, _, data = raw.partition(b"\n")
        fields = orjson.loads(head)
        expires = fields["e"]
        at = None if expires is None else datetime.fromisoformat(expires)
        if not isinstance(fields["s"], str) or not isinstance(fields["c"], int) or not data:
            raise ValueError("not a cache entry")
        return cls(fields["s"], data, fields["c"], at)


def cache_key(
    query: str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    principal: Principal,
    reach: Reach,
    dev: bool,
) -> str:
    """sha256 of the canonical JSON of every part that can change the answer. The
    subject is in it though reach and scopes should decide the answer: safety first
    (a resolver may read the subject), at the price of one entry per token subject."""
    parts = {
        "v": KEY_VERSION,
        "query": query,
        "operation": operation_name,
        "variables": variables or {},
        "role": str(principal.role),
        "subject": principal.subject,
        "reach": "all" if reach.everything else sorted(reach.accounts),
        "scopes": sorted(principal.scopes),
        "dev": dev,
    }
    try:
        text = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # a lone surrogate in a variable: the standard encoder escapes it
        text = json.dumps(parts, sort_keys=True, separators=(",", ":")).encode("ascii")
    return hashlib.sha256(text).hexdigest()


def catalog_version(stamp: str) -> int:
    return int(stamp.split(":", 1)[0])


async def read_stamp(db: Db, reach: Reach) -> str:
    row = await db.fetchrow(reach.sql(STAMP), reach.param)
    assert row is not None
    return str(row[0])


class Backend(Protocol):
    async def get(self, key: str) -> Entry | None: ...

    async def put(self, key: str, entry: Entry, ttl: float) -> None: ...


class MemoryBackend:
    """This process's entries, least recently used dropped beyond `entries` or beyond
    `budget` bytes of answers (entries alone would let 10,000 big answers take GBs)."""

    def __init__(self, entries: int, budget: int) -> None:
        self.entries = entries
        self.budget = budget
        self.size = 0  # bytes of the answers kept
        self._items: OrderedDict[str, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    async def get(self, key: str) -> Entry | None:
        entry = self._items.get(key)
        if entry is not None:
            self._items.move_to_end(key)
        return entry

    async def put(self, key: str, entry: Entry, ttl: float) -> None:
        # `ttl` is Redis's: here an entry lives until its stamp changes or it is evicted.
        replaced = self._items.pop(key, None)
        self.size += len(entry.data) - (0 if replaced is None else len(replaced.data))
        self._items[key] = entry
        while len(self._items) > self.entries or self.size > self.budget:
            _, dropped = self._items.popitem(last=False)
            self.size -= len(dropped.data)


class RedisBackend:
    """Shared by replicas. Any Redis error, or a value it cannot read, is a miss:
    the request is answered from the database, never failed by the cache."""

    def __init__(self, redis: Any, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "rc:"

    async def get(self, key: str) -> Entry | None:
        try:
            raw = await self._redis.get(self._prefix + key)
        except (RedisError, OSError, TimeoutError) as exc:
            _failed("get", exc)
            return None
        if raw is None:
            return None
        try:
            return Entry.decode(raw if isinstance(raw, bytes) else str(raw).encode())
        except (ValueError, KeyError, TypeError) as exc:
            _failed("decode", exc)
            return None

    async def put(self, key: str, entry: Entry, ttl: float) -> None:
        try:
            await self._redis.set(self._prefix + key, entry.encode(), ex=max(1, int(ttl)))
        except (RedisError, OSError, TimeoutError) as exc:
            _failed("set", exc)


def _failed(step: str, exc: BaseException) -> None:
    log.warning("response cache: Redis %s failed, treated as a miss: %s", step, exc)
    metrics.RESPONSE_CACHE_ERRORS.labels(step=step).inc()


CLOCK_READERS: Final = 512  # documents remembered as clock readers (as many as parsed)


class ResponseCache:
    def __init__(self, settings: ResponseCacheSettings, backend: Backend) -> None:
        self.settings = settings
        self.backend = backend
        # Documents whose last answer read the clock. With no clock TTL they would be
        # looked up, stamped and never kept: skipping them saves the stamp's statement.
        # A document that reads the clock only for some data is then not cached at all,
        # which costs hits, never freshness.
        self._clock_readers: OrderedDict[str, None] = OrderedDict()

    def skips(self, query: str) -> bool:
        """True for a document known to read the clock when such answers are not kept."""
        return self.settings.clock_ttl <= 0 and query in self._clock_readers

    def _read_clock(self, query: str) -> None:
        self._clock_readers[query] = None
        self._clock_readers.move_to_end(query)
        if len(self._clock_readers) > CLOCK_READERS:
            self._clock_readers.popitem(last=False)

    async def lookup(self, key: str, stamp: str, now: datetime) -> Entry | None:
        entry = await self.backend.get(key)
        return entry if entry is not None and entry.fresh(stamp, now) else None

    async def store(
        self, query: str, key: str, entry: Entry, read_clock: bool, now: datetime
    ) -> bool:
        """Keep `entry` (an answer to `query`) unless it is too big, or read the clock
        with no TTL for that."""
        if len(entry.data) > self.settings.max_bytes:
            return False
        ttl = float(self.settings.ttl)
        if read_clock:
            if self.settings.clock_ttl <= 0:
                self._read_clock(query)
                return False
            ttl = min(ttl, self.settings.clock_ttl)
            entry = Entry(entry.stamp, entry.data, entry.cost, now + timedelta(seconds=ttl))
        await self.backend.put(key, entry, ttl)
        return True


def make(settings: ResponseCacheSettings, redis: Any, prefix: str) -> ResponseCache | None:
    """None when off; Redis needs the client the rate limiter already holds."""
    if settings.backend == "off":
        return None
    if settings.backend == "redis":
        return ResponseCache(settings, RedisBackend(redis, prefix))
    return ResponseCache(settings, MemoryBackend(settings.entries, settings.memory_bytes))
