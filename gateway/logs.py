"""One log format for everything the process prints: JSON, one object per line.

Each GraphQL request leaves exactly one line (logger `billing.request`): its
request id, subject, role, operation name, cost, SQL statements, duration,
status and outcome. User errors (NOT_FOUND, FORBIDDEN, validation…) are INFO
with no traceback; an unavailable database or a deadline is WARNING; an internal
error is ERROR with its one traceback. Tokens, secrets and documents are never
logged."""

from __future__ import annotations

import json
import logging
import logging.config
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

REQUEST_LOGGER: Final = "billing.request"
QUIET: Final = ("pgserver", "asyncio", "uvicorn.access")
WARNING_OUTCOMES: Final = frozenset({"SERVICE_UNAVAILABLE", "TIMEOUT"})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            # Log time is wall-clock time for operators, not billing time.
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def config(level: str | None = None) -> dict[str, Any]:
    """A logging dictConfig for the CLI and for every uvicorn worker."""
    chosen = (level or os.environ.get("BILLING_LOG_LEVEL") or "INFO").upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": chosen, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own handlers would print a second, plain format.
            "uvicorn": {"level": chosen, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": chosen, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            **{name: {"level": "WARNING"} for name in QUIET if name != "uvicorn.access"},
        },
    }


def setup(level: str | None = None) -> None:
    logging.config.dictConfig(config(level))


@dataclass
class RequestLine:
    """What one request did, filled in as it goes and logged once at the end."""

    request_id: str
    method: str
    subject: str | None = None
    role: str | None = None
    operation: str | None = None
    requested_cost: int | None = None
    actual_cost: int | None = None
    sql_statements: int = 0
    status: int = 200
    outcome: str = "ok"
    reason: str | None = None
    cache: str | None = None  # what the response cache did (None: no cache)
    error: BaseException | None = field(default=None, repr=False)

    def level(self) -> int:
        if self.outcome == "INTERNAL_SERVER_ERROR":
            return logging.ERROR
        return logging.WARNING if self.outcome in WARNING_OUTCOMES else logging.INFO

    def emit(self, duration_ms: float) -> None:
        fields = {
            "requestId": self.request_id,
            "method": self.method,
            "subject": self.subject,
            "role": self.role,
            "operation": self.operation,
            "requestedCost": self.requested_cost,
            "actualCost": self.actual_cost,
            "sqlStatements": self.sql_statements,
            "durationMs": round(duration_ms, 2),
            "status": self.status,
            "outcome": self.outcome,
        }
        if self.reason:
            fields["reason"] = self.reason
        if self.cache:
            fields["responseCache"] = self.cache
        level = self.level()
        error = self.error if level == logging.ERROR else None
        exc_info = (type(error), error, error.__traceback__) if error else None
        message = f"{self.request_id} {self.method} /graphql {self.status} {self.outcome}"
        if self.reason:
            message += f": {self.reason}"
        logging.getLogger(REQUEST_LOGGER).log(
            level, message, exc_info=exc_info, extra={"fields": fields}
        )
