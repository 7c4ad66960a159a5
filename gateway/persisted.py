"""Persisted queries: Apollo's automatic persisted queries (APQ) and, optionally,
an allow-list of registered documents.

APQ: a client sends `extensions.persistedQuery = {version: 1, sha256Hash}` without
the query; an unknown hash answers `PersistedQueryNotFound`, and the client sends
the query with its hash once, which is kept (in memory, or in Redis with
REDIS_URL) after it validates.

Allow-list mode (BILLING_PERSISTED_QUERIES_DIR): only the documents of that
folder's `.graphql` files run, by hash or by their exact text; nothing is
registered at run time."""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from redis.exceptions import RedisError

log = logging.getLogger("billing.persisted")

NOT_FOUND: Final = "PersistedQueryNotFound"
NOT_ALLOWED: Final = "This document is not in the allow-list of registered documents."
MEMORY_ENTRIES: Final = 1_000
REDIS_TTL_SECONDS: Final = 86_400
SHA256: Final = re.compile(r"^[0-9a-f]{64}$")


class PersistedQueryError(Exception):
    """A persisted-query refusal; `code` is the contract code it answers with."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Resolved:
    query: str
    register: str | None = None  # a hash to store once the document validates


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class QueryStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, query: str) -> None: ...


class MemoryStore:
    def __init__(self, entries: int = MEMORY_ENTRIES) -> None:
        self.entries = entries
        self._queries: OrderedDict[str, str] = OrderedDict()

    async def get(self, key: str) -> str | None:
        query = self._queries.get(key)
        if query is not None:
            self._queries.move_to_end(key)
        return query

    async def put(self, key: str, query: str) -> None:
        self._queries[key] = query
        self._queries.move_to_end(key)
        while len(self._queries) > self.entries:
            self._queries.popitem(last=False)


class RedisStore:
    """Shared by replicas; an outage reads as a miss (the client resends the text)."""

    def __init__(self, redis: Any, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "apq:"

    async def get(self, key: str) -> str | None:
        try:
            value = await self._redis.get(self._prefix + key)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("persisted queries: Redis unreachable: %s", exc)
            return None
        return value.decode() if isinstance(value, bytes) else value

    async def put(self, key: str, query: str) -> None:
        try:
            await self._redis.set(self._prefix + key, query, ex=REDIS_TTL_SECONDS)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("persisted queries: Redis unreachable: %s", exc)


class PersistedQueries:
    def __init__(self, store: QueryStore, allow_list: Mapping[str, str] | None = None) -> None:
        self.store = store
        self.allow_list = allow_list

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> Resolved:
        wanted = _requested_hash(extensions)
        if wanted is None:
            if query is None:
                raise PersistedQueryError("The request has no query.")
            return Resolved(self._allowed(query, digest(query)))
        if query is not None:
            if digest(query) != wanted:
                raise PersistedQueryError("The query does not match its sha256Hash.")
            registered = self._allowed(query, wanted)
            return Resolved(registered, None if self.allow_list is not None else wanted)
        found = await self._lookup(wanted)
        if found is None:
            raise PersistedQueryError(NOT_FOUND)
        return Resolved(found)

    async def register(self, resolved: Resolved) -> None:
        if resolved.register is not None:
            await self.store.put(resolved.register, resolved.query)

    def _allowed(self, query: str, key: str) -> str:
        if self.allow_list is None or key in self.allow_list:
            return query
        if digest(query.strip()) in self.allow_list:
            return query
        raise PersistedQueryError(NOT_ALLOWED, "GRAPHQL_VALIDATION_FAILED")

    async def _lookup(self, key: str) -> str | None:
        if self.allow_list is not None:
            return self.allow_list.get(key)
        return await self.store.get(key)


def _requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
        raise PersistedQueryError("Only persistedQuery version 1 is supported.")
    value = persisted.get("sha256Hash")
    if not isinstance(value, str) or not SHA256.match(value):
        raise PersistedQueryError("persistedQuery.sha256Hash must be 64 lowercase hex digits.")
    return value


def load_allow_list(folder: Path) -> dict[str, str]:
    """Every `.graphql` file under folder, by the sha256 of its text (as is and stripped)."""
    documents: dict[str, str] = {}
    for path in sorted(folder.rglob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        documents[digest(text)] = text
        documents[digest(text.strip())] = text
    return documents
