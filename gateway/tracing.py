"""OpenTelemetry traces, when an OTLP endpoint is configured.

`setup` installs an OTLP/HTTP exporter (standard OTEL_* variables:
OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME…) in each server process. Without
it, or without the `otel` extra installed, every span below is a no-op."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, Final

log = logging.getLogger("billing.tracing")

ENDPOINT: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE: Final = "billing-gateway"

try:
    from opentelemetry import trace
except ImportError:  # the otel extra is optional
    trace = None  # type: ignore[assignment]


def setup(environ: dict[str, str] | None = None) -> bool:
    """Export spans over OTLP when an endpoint is set; True when it was installed."""
    env = os.environ if environ is None else environ
    if not env.get(ENDPOINT) or trace is None:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = env.get("OTEL_SERVICE_NAME", SERVICE)
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("traces exported to %s", env[ENDPOINT])
    return True


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Any]:
    """A span of the current trace (its attributes settable later), or nothing."""
    if trace is None:
        with nullcontext(None) as nothing:
            yield nothing
        return
    tracer = trace.get_tracer(SERVICE)
    with tracer.start_as_current_span(name) as current:
        for key, value in attributes.items():
            if value is not None:
                current.set_attribute(key, value)
        yield current
