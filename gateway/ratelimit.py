"""Rate limiting by query cost: a leaky bucket per subject (Shopify's model).

A bucket holds up to `capacity` points and refills at `restore_rate` points a
second. A request takes its requested cost before it runs and is refused when the
bucket holds less; once it has run, the difference between requested and actual
cost is given back. Buckets live in memory (one process) or, with REDIS_URL, in
Redis, where one Lua script reads, refills and takes atomically so replicas share
each bucket. When Redis cannot be reached the limiter fails open: the request
runs, and the outage is logged and counted."""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from auth.principal import Principal, Role
from gateway import metrics

log = logging.getLogger("billing.ratelimit")

MEMORY_KEYS: Final = 100_000
REDIS_TIMEOUT: Final = 0.5
# KEYS[1]: the bucket; ARGV: capacity, restore rate per second, cost (negative: refund).
# Time is Redis's own clock, so replicas with skewed clocks still agree.
TAKE_SCRIPT: Final = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'available', 'at')
local available = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
available = math.min(capacity, available + math.max(0, now - at) * rate)
local allowed = 0
if cost <= available then
  available = math.min(capacity, available - cost)
  allowed = 1
end
redis.call('HSET', KEYS[1], 'available', tostring(available), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return {allowed, tostring(available)}
"""


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: int
    currently_available: float
    restore_rate: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": math.floor(self.currently_available),
            "restoreRate": self.restore_rate,
        }


@dataclass(frozen=True)
class Decision:
    allowed: bool
    status: ThrottleStatus
    retry_after: float = 0.0


def bucket_key(principal: Principal) -> str:
    """Partners share one bucket per partner, whatever the token's subject."""
    if principal.role is Role.PARTNER and principal.partner:
        return f"partner:{principal.partner}"
    return f"subject:{principal.subject}"


class Buckets(Protocol):
    capacity: int
    restore_rate: float

    async def take(self, key: str, cost: int) -> Decision: ...

    async def refund(self, key: str, points: int) -> ThrottleStatus: ...

    async def close(self) -> None: ...


class _Base:
    def __init__(self, capacity: int, restore_rate: float) -> None:
        self.capacity = capacity
        self.restore_rate = restore_rate

    def decide(self, allowed: bool, available: float, cost: int) -> Decision:
        status = ThrottleStatus(self.capacity, available, self.restore_rate)
        if allowed:
            return Decision(True, status)
        metrics.RATE_LIMITED.inc()
        return Decision(False, status, (cost - available) / self.restore_rate)


class MemoryBuckets(_Base):
    """One process's buckets; idle ones beyond MEMORY_KEYS are forgotten (full again)."""

    def __init__(self, capacity: int, restore_rate: float) -> None:
        super().__init__(capacity, restore_rate)
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, key: str, cost: int) -> Decision:
        available = self._level(key)
        allowed = cost <= available
        if allowed:
            available -= cost
        self._store(key, available)
        return self.decide(allowed, available, cost)

    async def refund(self, key: str, points: int) -> ThrottleStatus:
        available = min(self.capacity, self._level(key) + points)
        self._store(key, available)
        return ThrottleStatus(self.capacity, available, self.restore_rate)

    async def close(self) -> None:
        self._state.clear()

    def _level(self, key: str) -> float:
        available, at = self._state.get(key, (float(self.capacity), time.monotonic()))
        return min(self.capacity, available + (time.monotonic() - at) * self.restore_rate)

    def _store(self, key: str, available: float) -> None:
        self._state[key] = (available, time.monotonic())
        self._state.move_to_end(key)
        while len(self._state) > MEMORY_KEYS:
            self._state.popitem(last=False)


class RedisBuckets(_Base):
    """Buckets shared by every replica through one Redis; fails open on an outage."""

    def __init__(self, url: str, capacity: int, restore_rate: float, prefix: str) -> None:
        super().__init__(capacity, restore_rate)
        self.prefix = prefix
        self.redis: Any = aioredis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        self._script = self.redis.register_script(TAKE_SCRIPT)

    async def take(self, key: str, cost: int) -> Decision:
        result = await self._run(key, cost)
        if result is None:
            return Decision(True, ThrottleStatus(self.capacity, self.capacity, self.restore_rate))
        allowed, available = result
        return self.decide(allowed, available, cost)

    async def refund(self, key: str, points: int) -> ThrottleStatus:
        result = await self._run(key, -points)
        available = float(self.capacity) if result is None else result[1]
        return ThrottleStatus(self.capacity, available, self.restore_rate)

    async def close(self) -> None:
        await self.redis.aclose()

    async def _run(self, key: str, cost: int) -> tuple[bool, float] | None:
        args = [self.capacity, self.restore_rate, cost]
        try:
            allowed, available = await self._script(keys=[self.prefix + key], args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("rate limiter: Redis unreachable, request let through: %s", exc)
            metrics.RATE_LIMIT_BYPASSED.inc()
            return None
        return bool(allowed), float(available)


def buckets(redis_url: str | None, capacity: int, restore_rate: float, prefix: str) -> Buckets:
    if redis_url:
        return RedisBuckets(redis_url, capacity, restore_rate, prefix)
    return MemoryBuckets(capacity, restore_rate)
