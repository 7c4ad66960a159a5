"""Prometheus metrics of the gateway (served at /metrics)."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Histogram

REQUESTS: Final = Counter(
    "billing_graphql_requests_total",
    "GraphQL results served: ok, or with errors (401s are billing_auth_failures_total)",
    ["outcome"],
)
LATENCY: Final = Histogram("billing_graphql_request_seconds", "GraphQL request latency")
STATEMENTS: Final = Histogram(
    "billing_graphql_sql_statements",
    "SQL statements run by one GraphQL request",
    buckets=(1, 2, 4, 8, 15, 25, 50, 100),
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
