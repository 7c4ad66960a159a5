"""What every HTTP response gets, whatever route answers it: a request id (the
client's when it is safe, else a fresh one), `Cache-Control: no-store`,
`X-Content-Type-Options: nosniff`, and CORS for the configured origins only."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any, Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import error_body
from gateway.transport import encode

SAFE_REQUEST_ID: Final = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SECURITY_HEADERS: Final = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
)
CORS_METHODS: Final = "GET, POST, OPTIONS"
CORS_HEADERS: Final = "authorization, content-type, x-request-id"
CORS_EXPOSE: Final = "x-request-id, retry-after"
CORS_MAX_AGE: Final = "600"


def request_id(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id", "-"))


def _choose_request_id(headers: Headers) -> str:
    offered = headers.get("x-request-id", "")
    return offered if SAFE_REQUEST_ID.match(offered) else uuid.uuid4().hex


class HttpBasics:
    def __init__(self, app: ASGIApp, cors_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.cors_origins = frozenset(cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        rid = _choose_request_id(headers)
        scope.setdefault("state", {})["request_id"] = rid
        origin = headers.get("origin")
        allowed = origin if origin in self.cors_origins else None
        if scope["method"] == "OPTIONS" and origin and headers.get("access-control-request-method"):
            await self._preflight(send, rid, allowed)
            return
        await self.app(scope, receive, self._decorate(send, rid, allowed))

    def _decorate(self, send: Send, rid: str, origin: str | None) -> Send:
        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers += [*SECURITY_HEADERS, (b"x-request-id", rid.encode())]
                if origin:
                    headers += _cors(origin, {"access-control-expose-headers": CORS_EXPOSE})
                message["headers"] = headers
            await send(message)

        return wrapped

    async def _preflight(self, send: Send, rid: str, origin: str | None) -> None:
        if origin is None:
            body = encode(error_body("FORBIDDEN", "This origin may not call the API.", rid))
            await _send(send, 403, body, [(b"content-type", b"application/json")], rid)
            return
        extra = {
            "access-control-allow-methods": CORS_METHODS,
            "access-control-allow-headers": CORS_HEADERS,
            "access-control-max-age": CORS_MAX_AGE,
        }
        await _send(send, 204, b"", _cors(origin, extra), rid)


def _cors(origin: str, extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    values = {"access-control-allow-origin": origin, "vary": "Origin", **extra}
    return [(k.encode(), v.encode()) for k, v in values.items()]


async def _send(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], rid: str
) -> None:
    all_headers = [*headers, *SECURITY_HEADERS, (b"x-request-id", rid.encode())]
    all_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})
