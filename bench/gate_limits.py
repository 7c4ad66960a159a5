"""CPU the gate spends refusing or admitting a document, in process, no database:
the 1,200 repeated fields that cost 1.3 s of validation before, a depth refusal,
and a small valid query (parse, limits, validation and cost; the caches warm).

    .ci/dev python bench/gate_limits.py
"""

from __future__ import annotations

import statistics
import time

from graphql import get_operation_ast

from gateway import cost, limits
from gateway.documents import Documents
from schema import schema

RUNS = 200


def cpu_ms(work: object) -> float:
    spent = []
    for i in range(RUNS):
        started = time.process_time()
        work(i)  # type: ignore[operator]
        spent.append(time.process_time() - started)
    return statistics.median(spent) * 1000


def main() -> None:
    repeated = "{ viewer { " + "role " * 1200 + "} }"

    def refuse_fields(i: int) -> None:
        docs = Documents(schema._schema, limits.Limits())  # no cache: every run parses
        document = docs.parse(repeated + " " * i)
        assert limits.refusal(document, limits.Limits()) is not None

    warm = Documents(schema._schema, limits.Limits())
    small = "query Dash($id: ID!) { account(id: $id) { name invoices { nodes { number } } } }"

    def admit_small(i: int) -> None:
        document = warm.parse(small)
        assert limits.refusal(document, limits.Limits()) is None
        assert not warm.validate(small, introspection=False)
        operation = get_operation_ast(document)
        assert operation is not None
        cost.requested(schema._schema, document, operation, {"id": "acct_x"})

    print(f"1,200 repeated fields refused: {cpu_ms(refuse_fields):.2f} ms CPU (median of {RUNS})")
    print(f"small query admitted (cached): {cpu_ms(admit_small):.3f} ms CPU (median of {RUNS})")


if __name__ == "__main__":
    main()
