"""What operators rely on, on the real server: one JSON log format, /metrics on its
own port summed across uvicorn workers (and 404 on the API port), graceful
shutdown that drains in-flight requests, security headers, request ids, CORS."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path

import httpx
import pytest
from conftest import make_token, serving
from servers import free_port, gateway

from gateway.clock import FixedClock

PROD_SECRET = "prod-secret-0123456789abcdef0123456789"


def test_metrics_are_summed_across_workers_on_their_own_port(
    database_url: str, tmp_path: Path
) -> None:
    metrics_port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "BILLING_ENV": "dev",
        "BILLING_METRICS_PORT": str(metrics_port),
    }
    headers = {"Authorization": f"Bearer {make_token('admin')}"}
    with gateway(env, tmp_path / "gateway.log", "--workers", "2") as server:
        with httpx.Client(base_url=server.url) as client:
            for _ in range(20):  # new connections: the kernel spreads them over workers
                response = httpx.post(
                    server.url + "/graphql",
                    json={"query": "query Ping { accounts(first: 2) { nodes { id } } }"},
                    headers=headers,
                )
                assert response.status_code == 200
            on_api_port = client.get("/metrics")
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        lines = server.log_lines()

    assert on_api_port.status_code == 404
    assert on_api_port.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    count = re.search(
        r'billing_graphql_requests_total\{operation="Ping",outcome="ok"\} (\S+)', text
    )
    assert count is not None, text[:2000]
    assert float(count.group(1)) == 20
    for name in (
        "billing_graphql_request_seconds",
        "billing_graphql_sql_statements",
        "billing_dataloader_batch_size",
        "billing_db_pool_connections_in_use",
        "billing_db_pool_connections_idle",
        "billing_rate_limited_total",
    ):
        assert name in text, name
    workers = {json.loads(line).get("message", "") for line in lines if "Started server" in line}
    assert len(workers) == 2  # both workers started and logged it
    for line in lines:  # one format: every line is a JSON object
        assert isinstance(json.loads(line), dict), line


async def test_prod_serves_no_metrics_on_the_api_port(database_url: str, clock: FixedClock) -> None:
    env = {"BILLING_ENV": "prod", "BILLING_JWT_SECRET": PROD_SECRET}
    async with serving(database_url, clock, env) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")


async def test_graceful_shutdown_drains_a_request_in_flight(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "BILLING_ENV": "dev"}
    body = json.dumps({"query": "{ viewer { role } }"}).encode()
    with gateway(env, tmp_path / "gateway.log") as server:
        # given a request whose body is still arriving
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            (
                "POST /graphql HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {make_token('admin')}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body[:5]
        )
        await writer.drain()
        await asyncio.sleep(0.3)

        # when the server is told to stop, and the body then completes
        server.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        writer.write(body[5:])
        await writer.drain()

        # then the request is answered in full before the process exits
        raw = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        assert raw.startswith(b"HTTP/1.1 200"), raw[:300]
        assert b'"role":"ADMIN"' in raw
        exit_status = await asyncio.to_thread(server.process.wait, 15)
        assert exit_status in (0, 128 + signal.SIGTERM)  # stopped by the signal, not killed


async def test_every_response_has_security_headers_and_a_request_id(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/healthz", "/graphql", "/nowhere"):
        response = await client.get(path)
        assert response.headers["cache-control"] == "no-store", path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), path
    missing = await client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("dashboard-7f3a.c_1", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("evil\\nINFO forged line", False),
        ("spaces are not safe", False),
        ("", False),
    ],
)
async def test_a_safe_client_request_id_is_kept_and_any_other_replaced(
    client: httpx.AsyncClient, offered: str, kept: bool
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}", "X-Request-Id": offered}
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    request_id = response.json()["extensions"]["requestId"]
    assert response.headers["x-request-id"] == request_id
    assert (request_id == offered) is kept


async def test_two_authorization_headers_are_refused(client: httpx.AsyncClient) -> None:
    token = make_token()
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { role } }"},
        headers=[("Authorization", f"Bearer {token}"), ("Authorization", "Bearer other")],
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("name", "content", "content_type", "status"),
    [
        ("nested JSON", b"[" * 50_000, "application/json", 400),
        ("invalid UTF-8", b'{"query": "\xff\xfe"}', "application/json", 400),
        ("plain text", b"{ viewer { role } }", "text/plain", 415),
        ("no body", b"", "application/json", 400),
        ("a JSON string", b'"{ viewer { role } }"', "application/json", 400),
    ],
)
async def test_malformed_bodies_are_json_errors_with_a_code(
    client: httpx.AsyncClient, name: str, content: bytes, content_type: str, status: int
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}", "Content-Type": content_type}
    response = await client.post("/graphql", content=content, headers=headers)
    assert response.status_code == status, name
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_mutations_are_refused_over_get(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    response = await client.get(
        "/graphql", params={"query": "mutation { __typename }"}, headers=headers
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_get_queries_run_with_a_token(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {make_token()}", "Accept": "application/json"}
    response = await client.get(
        "/graphql", params={"query": "{ viewer { role } }"}, headers=headers
    )
    assert response.json()["data"] == {"viewer": {"role": "ADMIN"}}


async def test_two_operations_without_an_operation_name_are_refused(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    body = {"query": "query A { __typename } query B { __typename }"}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    unknown = await client.post("/graphql", json={**body, "operationName": "C"}, headers=headers)
    assert unknown.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    chosen = await client.post("/graphql", json={**body, "operationName": "B"}, headers=headers)
    assert chosen.json()["data"] == {"__typename": "Query"}


async def test_graphql_response_json_is_answered_in_kind(client: httpx.AsyncClient) -> None:
    headers = {
        "Authorization": f"Bearer {make_token()}",
        "Accept": "application/graphql-response+json",
    }
    ok = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    bad = await client.post("/graphql", json={"query": "{ nope }"}, headers=headers)
    assert ok.headers["content-type"].startswith("application/graphql-response+json")
    assert (ok.status_code, bad.status_code) == (200, 400)
    assert "data" not in bad.json()
    refused = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={**headers, "Accept": "text/csv"}
    )
    assert refused.status_code == 406
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_cors_is_off_by_default(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/graphql",
        headers={"Origin": "https://dash.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers


async def test_cors_answers_the_configured_origins_only(
    database_url: str, clock: FixedClock
) -> None:
    env = {"BILLING_ENV": "dev", "BILLING_CORS_ORIGINS": "https://dash.example, https://b.example"}
    async with serving(database_url, clock, env) as client:
        preflight = await client.options(
            "/graphql",
            headers={
                "Origin": "https://dash.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        stranger = await client.options(
            "/graphql",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        actual = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Origin": "https://b.example", "Authorization": f"Bearer {make_token()}"},
        )

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://dash.example"
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert stranger.status_code == 403
    assert "access-control-allow-origin" not in stranger.headers
    assert actual.headers["access-control-allow-origin"] == "https://b.example"
    assert "x-request-id" in actual.headers["access-control-expose-headers"]
