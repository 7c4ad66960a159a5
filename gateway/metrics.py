"""Prometheus metrics of the gateway.

With several uvicorn workers, `serve` sets PROMETHEUS_MULTIPROC_DIR before any
worker starts, every worker writes its samples there, and `/metrics` (on
BILLING_METRICS_PORT, or the API port in dev) sums them (prometheus_client's
multiprocess mode). Operation names are client text, so only the first
MAX_OPERATIONS distinct ones become label values; the rest count as "other"."""

from __future__ import annotations

import os
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
MAX_OPERATIONS: Final = 200

REQUESTS: Final = Counter(
    "billing_graphql_requests_total",
    "GraphQL requests by operation name and outcome (ok, or the first error's code)",
    ["operation", "outcome"],
)
LATENCY: Final = Histogram(
    "billing_graphql_request_seconds", "GraphQL request latency", ["operation"]
)
STATEMENTS: Final = Histogram(
    "billing_graphql_sql_statements",
    "SQL statements run by one GraphQL request",
    buckets=(0, 1, 2, 4, 8, 15, 25, 50, 100),
)
BATCH_SIZES: Final = Histogram(
    "billing_dataloader_batch_size",
    "Keys per dataloader batch",
    ["loader"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
QUERY_COST: Final = Histogram(
    "billing_graphql_query_cost",
    "Requested cost of the GraphQL operations that were run",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000),
)
POOL_IN_USE: Final = Gauge(
    "billing_db_pool_connections_in_use",
    "Pooled database connections lent to requests",
    multiprocess_mode="livesum",
)
POOL_IDLE: Final = Gauge(
    "billing_db_pool_connections_idle",
    "Open pooled database connections waiting for a request",
    multiprocess_mode="livesum",
)
EXECUTIONS: Final = Counter(
    "billing_graphql_executions_total",
    "Operations executed, by executor: planned (cached plans) or reference (graphql-core)",
    ["executor"],
)
RESPONSE_CACHE: Final = Counter(
    "billing_response_cache_total",
    "GraphQL requests by what the response cache did: hit, miss, bypass (not kept: read"
    " the clock, too big or had errors; or not a query), off (no cache configured)",
    ["result"],
)
RESPONSE_CACHE_ERRORS: Final = Counter(
    "billing_response_cache_redis_failures_total",
    "Response-cache Redis calls that failed or read an unreadable value (counted as misses)",
    ["step"],
)
RATE_LIMITED: Final = Counter(
    "billing_rate_limited_total", "Requests refused with RATE_LIMITED (bucket empty)"
)
RATE_LIMIT_BYPASSED: Final = Counter(
    "billing_rate_limit_redis_failures_total",
    "Requests let through unmetered because Redis could not be reached (fail open)",
)
AUTH_FAILURES: Final = Counter(
    "billing_auth_failures_total", "Requests refused with 401", ["reason"]
)
ENGINE_ACTIONS: Final = Counter(
    "billing_engine_actions_total",
    "What the billing engine did: renewed, trial_ended, canceled, grant_expired, "
    "partitions_created, keys_forgotten (idempotency keys past their 7 days)",
    ["action"],
)
ENGINE_FAILURES: Final = Counter(
    "billing_engine_failed_runs_total", "Engine runs that failed (retried at the next interval)"
)
# Written by `serve`'s supervisor (gateway/supervisor.py), one series per worker slot:
# a replaced worker's replacement continues its slot's series.
WORKER_CONNECTIONS: Final = Counter(
    "billing_worker_connections_total",
    "Connections handed to each worker (serve --workers N, N >= 2)",
    ["worker"],
)
WORKER_OPEN: Final = Gauge(
    "billing_worker_open_connections",
    "Connections each worker holds open now (serve --workers N, N >= 2)",
    ["worker"],
    multiprocess_mode="livesum",
)
WORKER_RESTARTS: Final = Counter(
    "billing_worker_restarts_total", "Workers that exited unasked and were replaced"
)

_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if name in _operations:
        return name
    if len(_operations) < MAX_OPERATIONS and name.isidentifier() and len(name) <= 64:
        _operations.add(name)
        return name
    return "other"


def observe_pool(size: int, idle: int) -> None:
    POOL_IN_USE.set(size - idle)
    POOL_IDLE.set(idle)


def registry() -> CollectorRegistry:
    """Every worker's samples in multiprocess mode, else this process's."""
    if not os.environ.get(MULTIPROC_ENV):
        return REGISTRY
    collected = CollectorRegistry()
    MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
    return collected


def exposition() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST
