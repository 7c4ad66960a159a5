"""Persisted queries (issue acceptance 4): Apollo's APQ round trip, and the
allow-list mode that runs only registered documents."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import make_token, serving
from servers import redis_url

from gateway.clock import FixedClock

QUERY = "query Role { viewer { role } }"
REGISTERED = "query Registered {\n  viewer { role scopes }\n}\n"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {make_token('admin')}"}
    result: dict[str, Any] = (await client.post("/graphql", json=body, headers=headers)).json()
    return result


@pytest.fixture
async def app(database_url: str, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(database_url, clock, {"BILLING_ENV": "dev"}) as client:
        yield client


async def test_apq_round_trip(app: httpx.AsyncClient) -> None:
    digest = sha(QUERY)

    # the hash alone is unknown at first: the client is told to send the query
    missing = await post(app, {"extensions": persisted(digest)})
    assert missing["errors"][0]["message"] == "PersistedQueryNotFound"
    assert "data" not in missing

    # then query and hash together run and register the query
    first = await post(app, {"query": QUERY, "extensions": persisted(digest)})
    assert first["data"] == {"viewer": {"role": "ADMIN"}}

    # and from now on the hash alone is enough
    again = await post(app, {"extensions": persisted(digest)})
    assert again["data"] == {"viewer": {"role": "ADMIN"}}


async def test_a_hash_that_does_not_match_its_query_is_refused(app: httpx.AsyncClient) -> None:
    body = await post(app, {"query": QUERY, "extensions": persisted(sha("{ other }"))})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    again = await post(app, {"extensions": persisted(sha("{ other }"))})
    assert again["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_an_invalid_document_is_not_registered(app: httpx.AsyncClient) -> None:
    invalid = "{ viewer { nope } }"
    await post(app, {"query": invalid, "extensions": persisted(sha(invalid))})
    body = await post(app, {"extensions": persisted(sha(invalid))})
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"


@pytest.fixture
async def allow_list(
    database_url: str, clock: FixedClock, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    (tmp_path / "dashboard").mkdir()
    (tmp_path / "dashboard" / "registered.graphql").write_text(REGISTERED)
    env = {
        "BILLING_ENV": "prod",
        "BILLING_JWT_SECRET": "dev-only-secret-change-me-0123456789abcdef-but-prod",
        "BILLING_PERSISTED_QUERIES_DIR": str(tmp_path),
    }
    async with serving(database_url, clock, env) as client:
        yield client


async def ask_prod(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    from auth.tokens import mint

    token = mint("dev-only-secret-change-me-0123456789abcdef-but-prod", role="admin")
    response = await client.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    result: dict[str, Any] = response.json()
    return result


async def test_allow_list_mode_runs_registered_documents_by_hash_or_text(
    allow_list: httpx.AsyncClient,
) -> None:
    by_hash = await ask_prod(allow_list, {"extensions": persisted(sha(REGISTERED))})
    by_text = await ask_prod(allow_list, {"query": REGISTERED})
    assert by_hash["data"]["viewer"]["role"] == "ADMIN"
    assert by_text["data"] == by_hash["data"]


async def test_allow_list_mode_refuses_an_unregistered_document(
    allow_list: httpx.AsyncClient,
) -> None:
    by_text = await ask_prod(allow_list, {"query": QUERY})
    with_hash = await ask_prod(allow_list, {"query": QUERY, "extensions": persisted(sha(QUERY))})
    by_hash = await ask_prod(allow_list, {"extensions": persisted(sha(QUERY))})

    assert by_text["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "allow-list" in by_text["errors"][0]["message"]
    assert "data" not in by_text
    assert with_hash["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert by_hash["errors"][0]["message"] == "PersistedQueryNotFound"


@pytest.mark.skipif(redis_url() is None, reason="no Redis: set REDIS_URL or run one locally")
async def test_apq_in_redis_is_shared_by_replicas(database_url: str, clock: FixedClock) -> None:
    url = redis_url()
    assert url is not None
    env = {
        "BILLING_ENV": "dev",
        "REDIS_URL": url,
        "BILLING_REDIS_PREFIX": f"t:{secrets.token_hex(6)}:",
    }
    query = f"query Shared{secrets.token_hex(3)} {{ viewer {{ role }} }}"
    async with serving(database_url, clock, env) as one, serving(database_url, clock, env) as two:
        registered = await post(one, {"query": query, "extensions": persisted(sha(query))})
        by_hash = await post(two, {"extensions": persisted(sha(query))})
    assert registered["data"] == by_hash["data"] == {"viewer": {"role": "ADMIN"}}
