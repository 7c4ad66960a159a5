"""BILLING_ENV=prod: no weak keys, no GraphiQL, introspection for admins only."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from auth.tokens import mint
from gateway.app import create_app
from gateway.settings import DEV_SECRET, ConfigError, load

PROD_SECRET = "prod-secret-0123456789abcdef0123456789"
INTROSPECT = "{ __schema { queryType { name } } }"


@pytest.fixture(scope="module")
async def prod(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    env = {"DATABASE_URL": database_url, "BILLING_ENV": "prod", "BILLING_JWT_SECRET": PROD_SECRET}
    app = create_app(load(env))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client


def token(role: str) -> str:
    return mint(PROD_SECRET, role=role, accounts=["acct_x"] if role == "customer" else [])


async def ask(client: httpx.AsyncClient, query: str, role: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token(role)}"}
    body: dict[str, object] = (
        await client.post("/graphql", json={"query": query}, headers=headers)
    ).json()
    return body


@pytest.mark.parametrize(
    "env",
    [
        {"BILLING_ENV": "prod"},
        {"BILLING_ENV": "prod", "BILLING_JWT_SECRET": "short"},
        {"BILLING_ENV": "prod", "BILLING_JWT_SECRET": DEV_SECRET},
        {"BILLING_ENV": "staging"},
    ],
)
def test_prod_refuses_to_start_without_a_strong_key(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load(env)


async def test_prod_serves_no_graphiql(prod: httpx.AsyncClient) -> None:
    response = await prod.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


async def test_prod_introspection_is_for_admins_only(prod: httpx.AsyncClient) -> None:
    customer = await ask(prod, INTROSPECT, "customer")
    admin = await ask(prod, INTROSPECT, "admin")

    assert customer["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # type: ignore[index]
    assert admin["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    again = await ask(prod, INTROSPECT, "customer")  # the validation cache keeps them apart
    assert "errors" in again


async def test_prod_does_not_expose_statement_counts(prod: httpx.AsyncClient) -> None:
    body = await ask(prod, "{ viewer { role } }", "admin")
    assert body["data"] == {"viewer": {"role": "ADMIN"}}
    assert set(body["extensions"]) == {"requestId", "cost"}  # type: ignore[arg-type]


# (what, document, variables, the name a suggestion would leak)
SUGGESTION_BAIT = [
    ("a field", "{ viewer { rol } }", None, "role"),
    ("an argument", "{ accounts(frist: 1) { totalCount } }", None, "first"),
    (
        "an enum value",
        '{ account(id: "acct_x") { invoices(status: [PAI]) { totalCount } } }',
        None,
        "PAID",
    ),
    ("a type", '{ node(id: "acct_x") { ... on Acount { id } } }', None, "Account"),
    (
        "a variable's enum value",
        'query($s: [InvoiceStatus!]) { account(id: "acct_x") { invoices(status: $s) { totalCount } } }',
        {"s": ["PAI"]},
        "PAID",
    ),
    ("a variable's type", "query($s: InvoiceStatu) { viewer { role } }", None, "InvoiceStatus"),
]


def partner_or_customer(role: str) -> str:
    if role == "partner":
        return mint(PROD_SECRET, role="partner", partner="ptr_x")
    return token(role)


@pytest.mark.parametrize("role", ["customer", "partner"])
@pytest.mark.parametrize(("what", "query", "variables", "leak"), SUGGESTION_BAIT)
async def test_prod_suggests_nothing_to_customers_and_partners(
    prod: httpx.AsyncClient, role: str, what: str, query: str, variables: object, leak: str
) -> None:
    headers = {"Authorization": f"Bearer {partner_or_customer(role)}"}
    body = {"query": query, "variables": variables}
    response = await prod.post("/graphql", json=body, headers=headers)

    errors = response.json()["errors"]
    assert errors, what
    for error in errors:
        assert "did you mean" not in error["message"].lower(), (what, error["message"])
        assert f'"{leak}"' not in error["message"], (what, error["message"])


@pytest.mark.parametrize("role", ["customer", "partner"])
@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { types { name } } }",
        '{ __type(name: "Account") { fields { name } } }',
        "{ viewer { role } __schema { queryType { name } } }",
    ],
)
async def test_prod_refuses_introspection_to_customers_and_partners(
    prod: httpx.AsyncClient, role: str, query: str
) -> None:
    headers = {"Authorization": f"Bearer {partner_or_customer(role)}"}
    body = (await prod.post("/graphql", json={"query": query}, headers=headers)).json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Account" not in str(body) or "__type" in query


def test_prod_without_database_url_refuses_to_start(tmp_path: Path) -> None:
    env = {
        "BILLING_ENV": "prod",
        "BILLING_JWT_SECRET": PROD_SECRET,
        "BILLING_DATA_DIR": str(tmp_path),
        "PATH": os.environ["PATH"],
    }
    cli = str(Path(sys.executable).parent / "billing-gateway")
    result = subprocess.run([cli, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert not (tmp_path / "pg").exists()  # no embedded PostgreSQL was started
