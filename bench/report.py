"""Rounds → one row per (workload, connections, system), as a table, a results file
pair (Markdown and JSON), the "latest results" section of bench/README.md and, at 8
connections only, the one of the project's README."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from bench.measure import Round
from bench.verify import Checked

RESULTS: Final = Path(__file__).with_name("results")
README: Final = Path(__file__).with_name("README.md")
PROJECT_README: Final = Path(__file__).parent.parent / "README.md"
SUMMARY_CONNECTIONS: Final = 8  # the project README's table: the reference load
BEGIN: Final = "<!-- latest results: written by `.ci/dev bench` -->"
END: Final = "<!-- end of latest results -->"
FLOOR: Final = "floor"
ONE_WORKER: Final = "gateway ×1"


@dataclass(frozen=True)
class Row:
    workload: str
    connections: int
    system: str
    rounds: int
    rate: float  # req/s, median over rounds
    rate_low: float
    rate_high: float
    floor_ratio: float | None  # ÷ the floor's rate in the same round (median over rounds)
    one_worker_ratio: float | None  # a multi-worker gateway ÷ the 1-worker one, likewise
    p50_ms: float  # median over rounds
    p99_ms: float
    cpu_ms: float  # server CPU per request, over all rounds
    db_ms: float | None  # database CPU per request
    statements: float  # SQL statements per request
    kib: float  # response size
    rss_mib: float  # largest worker, at the end of the last round
    hwm_mib: float  # largest worker's peak
    errors: int
    split: list[list[int]]  # connections per worker, per round (several workers only)


def rows(rounds: Sequence[Round], checked: dict[str, dict[str, Checked]]) -> list[Row]:
    groups: dict[tuple[str, int, str], list[Round]] = defaultdict(list)
    for r in rounds:
        groups[(r.workload, r.connections, r.system)].append(r)
    rates = {(r.workload, r.connections, r.system, r.round): r.result.rate for r in rounds}
    made = []
    for key, group in groups.items():
        row = _row(key, group, checked[key[0]][key[2]])
        floor = _ratio(group, rates, FLOOR) if row.system != FLOOR else None
        scaled = None
        if row.system.startswith("gateway") and row.system != ONE_WORKER:
            scaled = _ratio(group, rates, ONE_WORKER)
        made.append(replace(row, floor_ratio=floor, one_worker_ratio=scaled))
    return made


def _ratio(
    group: list[Round], rates: dict[tuple[str, int, str, int], float], reference: str
) -> float | None:
    """Median over rounds of this system's rate ÷ the reference's in the same round:
    interleaved rounds make each pair share the machine's load of the moment."""
    pairs = [
        (r.result.rate, rates.get((r.workload, r.connections, reference, r.round))) for r in group
    ]
    ratios = [mine / theirs for mine, theirs in pairs if theirs]
    return statistics.median(ratios) if ratios else None


def _row(key: tuple[str, int, str], group: list[Round], checked: Checked) -> Row:
    served = sum(r.served for r in group)
    rates = [r.result.rate for r in group]
    db = [r.db_cpu_seconds for r in group]
    return Row(
        workload=key[0],
        connections=key[1],
        system=key[2],
        rounds=len(group),
        rate=statistics.median(rates),
        rate_low=min(rates),
        rate_high=max(rates),
        floor_ratio=None,
        one_worker_ratio=None,
        p50_ms=statistics.median(r.result.p50_ms for r in group),
        p99_ms=statistics.median(r.result.p99_ms for r in group),
        cpu_ms=1000 * sum(r.cpu_seconds for r in group) / served,
        db_ms=None if None in db else 1000 * sum(d or 0 for d in db) / served,
        statements=checked.statements,
        kib=checked.bytes / 1024,
        rss_mib=max(group[-1].rss_mib, default=0.0),
        hwm_mib=max(max(r.hwm_mib, default=0.0) for r in group),
        errors=sum(r.result.failures for r in group),
        split=[r.worker_connections for r in group] if len(group[0].worker_connections) > 1 else [],
    )


HEADER: Final = (
    "| workload | conns | system | req/s (range) | ÷ floor | ÷ ×1 | p50 ms | p99 ms "
    "| CPU ms/req | DB ms/req | SQL/req | KiB | RSS / peak MiB | conns per worker |"
)
RULE: Final = "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"


def table(made: Sequence[Row]) -> str:
    lines = [HEADER, RULE]
    for r in made:
        ratio = "" if r.floor_ratio is None else f"{r.floor_ratio:.2f}"
        scaled = "" if r.one_worker_ratio is None else f"{r.one_worker_ratio:.2f}"
        db = "n/a" if r.db_ms is None else f"{r.db_ms:.1f}"
        split = " ".join("/".join(map(str, s)) for s in r.split)
        errors = f" ⚠ {r.errors} errors" if r.errors else ""
        lines.append(
            f"| {r.workload} | {r.connections} | {r.system} "
            f"| {r.rate:,.0f} ({r.rate_low:,.0f}–{r.rate_high:,.0f}){errors} | {ratio} | {scaled} "
            f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.cpu_ms:.1f} | {db} | {r.statements:g} "
            f"| {r.kib:.1f} | {r.rss_mib:.0f} / {r.hwm_mib:.0f} | {split} |"
        )
    return "\n".join(lines)


def facts_text(facts: dict[str, Any]) -> str:
    f = facts
    dirty = " (uncommitted changes)" if f["dirty"] else ""
    return (
        f"{f['date']}, commit `{f['commit']}`{dirty}; {f['cpu']}, {f['cores']} cores, "
        f"{f['ram_gib']} GiB RAM, Linux {f['kernel']}; Python {f['python']}; "
        f"PostgreSQL {f['postgres']}; {f['wrk']}. Load average before the run "
        f"{' / '.join(map(str, f['load_before']))} (1/5/15 min), after "
        f"{' / '.join(map(str, f['load_after']))}; {f['minutes']:.1f} min."
    )


def document(facts: dict[str, Any], setup: str, made: Sequence[Row], notes: Sequence[str]) -> str:
    parts = [
        f"# Bench results {facts['date']} ({facts['commit']})",
        facts_text(facts),
        setup,
        table(made),
        *notes,
    ]
    return "\n\n".join(parts) + "\n"


def save(
    facts: dict[str, Any],
    setup: str,
    made: Sequence[Row],
    rounds: Sequence[Round],
    notes: list[str],
) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"{facts['date'][:10]}-{facts['commit']}"
    stem.with_suffix(".md").write_text(document(facts, setup, made, notes))
    raw = {
        "facts": facts,
        "setup": setup,
        "rows": [asdict(r) for r in made],
        "rounds": [asdict(r) for r in rounds],
        "notes": notes,
    }
    stem.with_suffix(".json").write_text(json.dumps(raw, indent=1) + "\n")
    return stem.with_suffix(".md")


def update_readme(facts: dict[str, Any], setup: str, made: Sequence[Row], results: Path) -> None:
    link = f"bench/results/{results.name}"
    _replace_section(README, [facts_text(facts), setup, table(made), f"Full results: `{link}`."])
    summary = [r for r in made if r.connections == SUMMARY_CONNECTIONS]
    where = (
        f"{facts['date']}, commit `{facts['commit']}`, {facts['cores']} cores; "
        f"{SUMMARY_CONNECTIONS} connections. How it is measured: `bench/README.md`; "
        f"every connection count: `{link}`."
    )
    _replace_section(PROJECT_README, [where, table(summary)])


def _replace_section(readme: Path, parts: list[str]) -> None:
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        return
    head, rest = text.split(BEGIN, 1)
    section = "\n\n".join([BEGIN, *parts, END])
    readme.write_text(head + section + rest.split(END, 1)[1])
