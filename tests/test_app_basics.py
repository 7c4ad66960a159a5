"""The HTTP surface (README.md, CLI): probes, metrics, GraphiQL, the GraphQL gate."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from conftest import SEED_AS_OF, Gql, make_token
from pgproxy import PgProxy

from gateway.app import create_app
from gateway.graphiql import DEMO_ACCOUNT, DEMO_QUERY
from gateway.settings import load
from resolvers.periods import iso

VIEWER = "{ viewer { subject role scopes accountCount } }"


async def test_healthz_answers_while_process_is_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_200_while_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient, gql: Gql) -> None:
    await gql(VIEWER, make_token())
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'billing_graphql_requests_total{operation="anonymous",outcome="ok"}' in response.text
    assert "billing_graphql_sql_statements_bucket" in response.text


async def test_viewer_of_an_admin_reaches_every_seeded_account(gql: Gql) -> None:
    response = await gql(VIEWER, make_token("admin"))
    viewer = response.json()["data"]["viewer"]
    assert viewer["role"] == "ADMIN"
    assert viewer["subject"] == "dev:admin"
    assert viewer["accountCount"] == 50


async def test_viewer_of_a_customer_counts_only_its_accounts(gql: Gql, seeded_pool) -> None:  # type: ignore[no-untyped-def]
    ids = [r["id"] for r in await seeded_pool.fetch("SELECT id FROM accounts ORDER BY id LIMIT 2")]
    token = make_token("customer", accounts=[*ids, "acct_doesnotexist"], scopes=["invoices:read"])

    viewer = (await gql(VIEWER, token)).json()["data"]["viewer"]

    assert viewer == {
        "subject": "dev:customer",
        "role": "CUSTOMER",
        "scopes": ["invoices:read"],
        "accountCount": 2,
    }


async def test_every_response_carries_a_request_id(gql: Gql) -> None:
    response = await gql(VIEWER, make_token())
    request_id = response.json()["extensions"]["requestId"]
    assert len(request_id) == 32
    assert response.headers["x-request-id"] == request_id


async def test_no_token_is_401_without_data(gql: Gql) -> None:
    response = await gql(VIEWER, None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_syntax_error_has_parse_code(gql: Gql) -> None:
    body = (await gql("{ viewer { role ", make_token())).json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_unknown_field_has_validation_code_without_suggestions(gql: Gql) -> None:
    body = (await gql("{ viewer { rol } }", make_token())).json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in error["message"]


async def test_oversized_body_is_refused_before_parsing(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    body = {"query": "{ viewer { role } }", "variables": {"pad": "x" * 1_100_000}}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_graphiql_opens_on_the_demo_query_over_the_last_30_days(
    client: httpx.AsyncClient, gql: Gql, seeded_pool: asyncpg.Pool, instant: datetime
) -> None:
    page = (await client.get("/graphql", headers={"Accept": "text/html"})).text
    to = instant + timedelta(days=1)
    variables = {"from": iso(to - timedelta(days=30)), "to": iso(to)}

    assert json.dumps(DEMO_QUERY) in page
    assert json.dumps(json.dumps(variables, indent=2)) in page
    # and the demo query answers, whatever the date, with no error
    account = await seeded_pool.fetchval(DEMO_ACCOUNT)
    body = (await gql(DEMO_QUERY, make_token("customer", [account]), variables)).json()
    assert "errors" not in body, body["errors"]
    demo = body["data"]["accounts"]["nodes"][0]
    assert demo["upcomingInvoice"]["issuedAt"] > iso(instant)
    if instant == SEED_AS_OF:
        assert Decimal(demo["usage"]["total"]) > 0  # the seeded events fall in its range


def test_the_readme_example_is_the_demo_query(repo_root: Path) -> None:
    assert DEMO_QUERY in (repo_root / "README.md").read_text()


async def test_queries_over_get_run_nothing_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ viewer { role } }"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def _poll_ready(client: httpx.AsyncClient, want: int, within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        if (await client.get("/readyz")).status_code == want:
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    raise AssertionError(f"/readyz did not answer {want} within {within} s")


async def test_readyz_follows_the_database_down_and_back(database_url: str) -> None:
    proxy = PgProxy(database_url)
    await proxy.start()
    app = create_app(load({"DATABASE_URL": proxy.dsn, "BILLING_ENV": "dev"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            await _poll_ready(client, 200, within=5)
            await proxy.cut()
            await _poll_ready(client, 503, within=10)
            await proxy.start()
            recovered_in = await _poll_ready(client, 200, within=10)
            await proxy.cut()
    assert recovered_in < 10
