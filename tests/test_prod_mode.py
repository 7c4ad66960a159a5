"""BILLING_ENV=prod: no weak keys, no GraphiQL, introspection for admins only."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
