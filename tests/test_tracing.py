"""OpenTelemetry: with a tracer provider installed, each GraphQL request is one
`graphql.request` span (operation, cost, outcome) with its execution as a child;
`tracing.setup` installs an OTLP exporter only when an endpoint is configured."""

from __future__ import annotations

import httpx
import pytest
from conftest import make_token
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway import tracing


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    """One provider for the process (OpenTelemetry allows setting it once)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    trace.set_tracer_provider(provider)
    return memory


async def test_a_request_is_one_span_with_its_execution_inside(
    client: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    headers = {"Authorization": f"Bearer {make_token()}"}
    body = {"query": "query Traced { accounts(first: 2) { nodes { id } } }"}
    response = await client.post("/graphql", json=body, headers=headers)

    spans = {span.name: span for span in exporter.get_finished_spans()}
    request, execute = spans["graphql.request"], spans["graphql.execute"]
    assert execute.parent is not None
    assert execute.parent.span_id == request.context.span_id
    attributes = dict(request.attributes or {})
    assert attributes["graphql.operation.name"] == "Traced"
    assert attributes["billing.request_id"] == response.headers["x-request-id"]
    assert attributes["billing.cost.requested"] == 3
    assert attributes["billing.outcome"] == "ok"
    assert attributes["http.response.status_code"] == 200
    assert all("Bearer" not in str(value) for value in attributes.values())


def test_setup_exports_only_when_an_endpoint_is_configured() -> None:
    assert tracing.setup({}) is False
    assert tracing.setup({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}) is True
