"""Operator-grade logs (issue acceptance 8): one JSON line per request; a user error
(NOT_FOUND) is one INFO line with no traceback; an internal error is one ERROR line
whose traceback sits under the request id the client saw; no token is ever logged."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from conftest import make_token

from gateway.logs import JsonFormatter
from loaders import Loaders


async def logged_request(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, query: str, token: str
) -> tuple[httpx.Response, list[logging.LogRecord]]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        response = await client.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
        )
    return response, [r for r in caplog.records if r.name.startswith("billing")]


def as_json(record: logging.LogRecord) -> dict[str, object]:
    line = JsonFormatter().format(record)
    assert "\n" not in line  # one line, tracebacks included
    parsed: dict[str, object] = json.loads(line)
    return parsed


async def test_a_not_found_request_leaves_one_info_line_without_traceback(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = make_token("customer", accounts=["acct_mine"])
    response, records = await logged_request(
        client, caplog, 'query Mine { account(id: "acct_elsewhere") { name } }', token
    )

    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    line = as_json(record)
    assert line["requestId"] == response.headers["x-request-id"]
    assert line["operation"] == "Mine"
    assert line["outcome"] == "NOT_FOUND"
    assert line["subject"] == "dev:customer"
    assert isinstance(line["requestedCost"], int)
    assert isinstance(line["sqlStatements"], int)
    assert isinstance(line["durationMs"], float)
    assert "traceback" not in line
    assert token not in JsonFormatter().format(record)


async def test_a_forced_internal_error_leaves_one_error_line_with_its_traceback(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Loaders) -> int:
        raise RuntimeError("the count is on fire")

    monkeypatch.setattr(Loaders, "account_count", broken)
    token = make_token("admin")
    response, records = await logged_request(client, caplog, "{ viewer { accountCount } }", token)

    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "fire" not in response.text
    request_id = error["extensions"]["requestId"]
    assert request_id == response.headers["x-request-id"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.ERROR
    line = as_json(record)
    assert line["requestId"] == request_id
    assert line["outcome"] == "INTERNAL_SERVER_ERROR"
    traceback = str(line["traceback"])
    assert traceback.count("Traceback (most recent call last)") == 1
    assert "RuntimeError: the count is on fire" in traceback
    assert token not in JsonFormatter().format(record)


async def test_a_refused_token_is_one_info_line_without_the_token(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response, records = await logged_request(client, caplog, "{ viewer { role } }", "not-a-jwt")
    assert response.status_code == 401
    assert [r.levelno for r in records] == [logging.INFO]
    assert "not-a-jwt" not in JsonFormatter().format(records[0])
