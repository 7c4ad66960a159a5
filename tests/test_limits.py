"""Static limits and query cost (issue acceptance 2): each limit is refused with its
code before any SQL runs — the app's pool never opens a connection — and the
1,200-field document that made validation a CPU lever is refused cheaply."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from conftest import make_token, serving

from gateway.clock import FixedClock

ACCOUNT = "acct_doesnotmatter"
# The customer query that cycled invoices → account → invoices (1.1 MB, 1.5 s before).
CYCLIC = (
    "{ accounts { nodes { invoices { nodes { account { invoices { nodes { account {"
    " invoices { nodes { number } } } } } } } } } } }"
)
REPEATED_FIELDS = "{ viewer { " + "role " * 1200 + "} }"


def deep(levels: int) -> str:
    """viewer { partner { accounts { nodes { partner … } } } } with `levels` below viewer."""
    opening, closing, names = "{ viewer {", " } }", ["partner", "accounts(first: 1)", "nodes"]
    for i in range(levels - 1):
        opening += f" {names[i % 3]} {{"
        closing = " }" + closing
    return opening + " id" + closing


def aliases(n: int) -> str:
    return "{ " + " ".join(f"a{i}: viewer {{ role }}" for i in range(n)) + " }"


@pytest.fixture
async def app(database_url: str, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    """An app with the default limits and a fresh pool (no connection opened yet)."""
    async with serving(database_url, clock, {"BILLING_ENV": "dev"}) as client:
        yield client


def pool_connections(client: httpx.AsyncClient) -> int:
    return int(client.app.state.services.pool.get_size())  # type: ignore[attr-defined]


async def post(client: httpx.AsyncClient, body: Any, token: str | None = None) -> httpx.Response:
    token = token or make_token("customer", accounts=[ACCOUNT])
    headers = {"Authorization": f"Bearer {token}"}
    return await client.post("/graphql", json=body, headers=headers)


def code_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


@pytest.mark.parametrize(
    ("name", "query", "code"),
    [
        ("depth 11 > 10", deep(11), "QUERY_TOO_COMPLEX"),
        ("16 aliases > 15", aliases(16), "QUERY_TOO_COMPLEX"),
        ("2,100 tokens > 2,000", "{ " + "__typename " * 2_100 + "}", "QUERY_TOO_COMPLEX"),
        ("1,200 fields > 500", REPEATED_FIELDS, "QUERY_TOO_COMPLEX"),
        ("15,001 characters", "{ __typename }" + " " * 15_000, "QUERY_TOO_COMPLEX"),
        ("cost over 5,000", CYCLIC, "QUERY_TOO_COMPLEX"),
        ("a syntax error", "{ viewer { role ", "GRAPHQL_PARSE_FAILED"),
        ("an unknown field", "{ viewer { rol } }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_each_document_limit_is_refused_with_its_code_and_no_sql(
    app: httpx.AsyncClient, name: str, query: str, code: str
) -> None:
    response = await post(app, {"query": query})

    assert response.status_code == 200  # a request error in application/json
    body = response.json()
    assert code_of(response) == code, name
    assert "data" not in body
    assert body["extensions"]["sqlStatements"] == 0
    assert pool_connections(app) == 0


async def test_within_the_limits_the_same_shapes_run(app: httpx.AsyncClient) -> None:
    for query in (deep(10), aliases(15), "{ viewer { " + "role " * 499 + "} }"):
        response = await post(app, {"query": query}, make_token("admin"))
        assert "errors" not in response.json(), response.text


@pytest.mark.parametrize(
    ("name", "body", "headers", "status", "code"),
    [
        (
            "body over 256 KB",
            {"query": "{ __typename }", "variables": {"x": "y" * 270_000}},
            {},
            413,
            "BAD_USER_INPUT",
        ),
        (
            "an array batch",
            [{"query": "{ __typename }"}, {"query": "{ __typename }"}],
            {},
            400,
            "BAD_USER_INPUT",
        ),
        (
            "Authorization over 8 KB",
            {"query": "{ __typename }"},
            {"Authorization": "Bearer " + "x" * 9_000},
            401,
            "UNAUTHENTICATED",
        ),
    ],
)
async def test_each_request_limit_is_refused_with_its_code_and_no_sql(
    app: httpx.AsyncClient,
    name: str,
    body: Any,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    token = make_token("customer", accounts=[ACCOUNT])
    sent = {"Authorization": f"Bearer {token}", **headers}

    response = await app.post("/graphql", json=body, headers=sent)

    assert response.status_code == status, name
    assert code_of(response) == code
    assert pool_connections(app) == 0


async def test_at_most_ten_errors_are_reported(app: httpx.AsyncClient) -> None:
    query = "{ viewer { " + " ".join(f"nope{i}" for i in range(40)) + " } }"
    body = (await post(app, {"query": query})).json()
    assert 1 <= len(body["errors"]) <= 10
    assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}


async def test_the_cyclic_customer_query_is_refused_with_its_cost(app: httpx.AsyncClient) -> None:
    body = (await post(app, {"query": CYCLIC})).json()

    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    requested = body["extensions"]["cost"]["requestedQueryCost"]
    assert requested > 5_000
    assert str(requested) in error["message"]
    assert pool_connections(app) == 0


async def test_1200_repeated_fields_are_refused_before_validation(
    app: httpx.AsyncClient,
) -> None:
    # graphql-core's OverlappingFieldsCanBeMergedRule takes seconds of CPU on such a
    # document: the field cap must refuse it before any validation rule runs.
    documents = app.app.state.services.documents  # type: ignore[attr-defined]
    validated = documents.validations()
    for i in range(3):
        query = REPEATED_FIELDS + " " * i  # a new text each time: no cache answers it
        response = await post(app, {"query": query})
        assert code_of(response) == "QUERY_TOO_COMPLEX"
    assert documents.validations() == validated
    assert pool_connections(app) == 0


async def test_the_validation_cache_hits_for_a_repeated_document(app: httpx.AsyncClient) -> None:
    documents = app.app.state.services.documents  # type: ignore[attr-defined]
    query = "query Repeated { viewer { role scopes } }"
    await post(app, {"query": query})
    before = documents.validation_hits()
    await post(app, {"query": query})
    await post(app, {"query": query})
    assert documents.validation_hits() == before + 2


async def test_the_dashboard_query_of_the_readme_is_within_the_cost_limit(
    app: httpx.AsyncClient,
) -> None:
    from test_statement_counts import DASHBOARD

    variables = {"id": ACCOUNT, "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    body = (await post(app, {"query": DASHBOARD, "variables": variables})).json()
    cost = body["extensions"]["cost"]
    assert 1_000 < cost["requestedQueryCost"] <= 5_000
    assert body["data"] == {"account": None}  # not in reach: it ran, NOT_FOUND


async def test_the_full_introspection_query_of_graphiql_is_within_the_limits(
    app: httpx.AsyncClient,
) -> None:
    from graphql import get_introspection_query

    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    body = (await post(app, {"query": query}, make_token("admin"))).json()
    assert "errors" not in body, body.get("errors")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
