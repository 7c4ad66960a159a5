"""Before anything is measured: every system answers every request of a workload
without errors, and all of them give the same `data` (the floor included)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bench.cache import CACHE_EXTENSION
from bench.servers import Server
from bench.workloads import Workload


class Disagreement(Exception):
    """A system failed a request, or two systems answered it differently."""


@dataclass(frozen=True)
class Checked:
    statements: float  # SQL statements per request (median over the workload's requests)
    bytes: int  # response size (median)
    cache: str | None  # what the gateway says of its response cache, if anything


def check(systems: Sequence[Server], workload: Workload) -> dict[str, Checked]:
    seen: dict[str, list[tuple[int, int, str | None]]] = {s.name: [] for s in systems}
    with httpx.Client(timeout=120) as client:
        for token, body in workload.requests:
            answers = {}
            for system in systems:
                payload, size = _ask(client, system, token, body)
                extensions = payload.get("extensions") or {}
                statements = int(extensions.get("sqlStatements", -1))
                seen[system.name].append((statements, size, extensions.get(CACHE_EXTENSION)))
                answers[system.name] = payload["data"]
            _same(answers, f"{workload.name} {body.get('variables')}")
    return {name: _summary(rows) for name, rows in seen.items()}


def _ask(
    client: httpx.Client, system: Server, token: str, body: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(f"{system.url}/graphql", json=body, headers=headers)
    payload: dict[str, Any] = response.json()
    if response.status_code != 200 or payload.get("errors") or not payload.get("data"):
        raise Disagreement(f"{system.name}: HTTP {response.status_code} {str(payload)[:400]}")
    return payload, len(response.content)


def _same(answers: dict[str, Any], what: str) -> None:
    (first, reference), *others = answers.items()
    for name, data in others:
        where = first_difference(reference, data, "data")
        if where is not None:
            raise Disagreement(f"{what}: {name} differs from {first} at {where}")


def first_difference(a: Any, b: Any, path: str) -> str | None:
    """The path of the first place two JSON values differ, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() | b.keys():
            where = first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if where or key not in a or key not in b:
                return where or f"{path}.{key} (missing on one side)"
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} (length {len(a)} vs {len(b)})"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            where = first_difference(x, y, f"{path}[{i}]")
            if where:
                return where
        return None
    return None if a == b else f"{path} ({a!r} vs {b!r})"


def _summary(rows: list[tuple[int, int, str | None]]) -> Checked:
    return Checked(
        statements=statistics.median(r[0] for r in rows),
        bytes=int(statistics.median(r[1] for r in rows)),
        cache=rows[-1][2],
    )
