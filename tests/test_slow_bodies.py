"""No starvation by idle sockets (issue acceptance 1): twelve partner requests whose
bodies never finish hold no database connection, another tenant is still served
within 3 s and /readyz stays 200, and each incomplete body is dropped at its
deadline. Runs the real server (uvicorn, httptools) over real sockets."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import asyncpg
import httpx
from conftest import make_token
from servers import gateway

HELD = 12  # more than the pool's 10 connections
BODY_TIMEOUT = 4.0
PROMPTLY = 3.0


async def hold_open(port: int, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A POST whose Content-Length promises more body than is ever sent."""
    body = json.dumps({"query": "{ viewer { accountCount } }"}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "POST /graphql HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body) + 100}\r\n\r\n"
    )
    writer.write(head.encode() + body[:10])
    await writer.drain()
    return reader, writer


async def test_incomplete_partner_bodies_starve_no_one_and_are_dropped(
    database_url: str, seeded_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    partner = await seeded_pool.fetchval("SELECT id FROM partners ORDER BY id LIMIT 1")
    account = await seeded_pool.fetchval(
        "SELECT id FROM accounts WHERE partner_id IS DISTINCT FROM $1 ORDER BY id LIMIT 1", partner
    )
    env = {
        "DATABASE_URL": database_url,
        "BILLING_ENV": "dev",
        "BILLING_BODY_TIMEOUT": str(BODY_TIMEOUT),
    }
    with gateway(env, tmp_path / "gateway.log") as server:
        # given twelve partner requests whose bodies stop after 10 bytes
        held_at = time.monotonic()
        token = make_token("partner", partner=partner)
        held = [await hold_open(server.port, token) for _ in range(HELD)]

        # when another tenant asks, and the probe asks
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            started = time.monotonic()
            other = await client.post(
                "/graphql",
                json={"query": f'{{ account(id: "{account}") {{ name }} }}'},
                headers={"Authorization": f"Bearer {make_token('customer', accounts=[account])}"},
            )
            answered_in = time.monotonic() - started
            readyz = await client.get("/readyz")

        # then both answer at once, while the twelve are still open
        assert other.status_code == 200, other.text
        assert other.json()["data"]["account"]["name"]
        assert answered_in < PROMPTLY
        assert readyz.status_code == 200
        assert time.monotonic() - held_at < BODY_TIMEOUT

        # and each incomplete body is answered 408 TIMEOUT and its connection closed
        for reader, writer in held:
            raw = await asyncio.wait_for(reader.read(), timeout=BODY_TIMEOUT + PROMPTLY)
            assert raw.startswith(b"HTTP/1.1 408"), raw[:200]
            assert b'"code":"TIMEOUT"' in raw
            writer.close()
        assert time.monotonic() - held_at >= BODY_TIMEOUT
