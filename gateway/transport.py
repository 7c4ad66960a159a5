"""GraphQL over HTTP: reading a request's parameters and choosing the response's
media type and status, as the GraphQL-over-HTTP specification asks.

- POST with `Content-Type: application/json` (UTF-8); GET with URL parameters
  (`query`, `variables` and `extensions` as JSON strings, `operationName`).
- Responses in `application/graphql-response+json` when the client accepts it,
  else `application/json`. A request error (the document could not run: parse,
  validation, variables, limits) is HTTP 200 in `application/json` and 400 in
  `application/graphql-response+json`, and has no `data` entry.
- Everything malformed is a JSON error with a contract code: 400, 405, 406, 413,
  415, never text/plain."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
from starlette.types import Receive

GRAPHQL_RESPONSE: Final = "application/graphql-response+json"
JSON: Final = "application/json"
HTML: Final = "text/html"
ACCEPTABLE: Final = {GRAPHQL_RESPONSE: GRAPHQL_RESPONSE, JSON: JSON, "application/*": JSON}
# A body left unread cannot be skipped: the connection is closed after the answer.
CLOSE: Final = {"Connection": "close"}


class TransportError(Exception):
    """A request that is not well-formed GraphQL over HTTP."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = "BAD_USER_INPUT",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Params:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def response_type(accept: str | None) -> str:
    """The media type to answer in, or 406 when the client accepts neither."""
    if not accept:
        return JSON
    ranked = sorted(_media_ranges(accept), key=lambda item: -item[1])
    for media, quality in ranked:
        if quality <= 0:
            continue
        if media in ACCEPTABLE:
            return ACCEPTABLE[media]
        if media == "*/*":
            return JSON
    raise TransportError(406, f"Responses are {GRAPHQL_RESPONSE} or {JSON}.")


def accepts_html(accept: str | None) -> bool:
    return any(media == HTML for media, quality in _media_ranges(accept or "") if quality > 0)


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *options = (p.strip() for p in part.split(";"))
        quality = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media.lower(), quality))
    return ranges


async def read_body(receive: Receive, limit: int, deadline: float) -> bytes:
    """The whole body, chunked included, or 413 past `limit` bytes and 408 when it
    has not all arrived within `deadline` seconds (its connection is then dropped)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise TransportError(400, "The client went away.")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise TransportError(
                        413, f"The request body is over {limit} bytes.", headers=CLOSE
                    )
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        late = "The request body did not arrive in time."
        raise TransportError(408, late, "TIMEOUT", CLOSE) from None


def check_length(content_length: str | None, limit: int) -> None:
    if content_length is None:
        return
    if not content_length.isdigit():
        raise TransportError(400, "Content-Length is not a number.")
    if int(content_length) > limit:
        raise TransportError(413, f"The request body is over {limit} bytes.", headers=CLOSE)


def params_from_body(content_type: str | None, body: bytes) -> Params:
    media, _, options = (content_type or "").partition(";")
    if media.strip().lower() != JSON:
        raise TransportError(415, f"POST bodies are {JSON}.")
    charset = options.partition("charset=")[2].strip().strip('"').lower()
    if charset not in ("", "utf-8", "utf8"):
        raise TransportError(415, "POST bodies are UTF-8.")
    if not body:
        raise TransportError(400, "The request body is empty.")
    try:
        payload = _loads(body)
    except (ValueError, RecursionError):
        raise TransportError(400, "The request body is not valid JSON.") from None
    if isinstance(payload, list):
        raise TransportError(400, "Batched requests are not supported: send one operation.")
    if not isinstance(payload, dict):
        raise TransportError(400, "The request body must be a JSON object.")
    return _params(payload)


def params_from_query_string(query: Mapping[str, str]) -> Params:
    payload: dict[str, Any] = {"query": query.get("query"), "operationName": None}
    payload["operationName"] = query.get("operationName")
    for name in ("variables", "extensions"):
        text = query.get(name)
        try:
            payload[name] = json.loads(text) if text else None
        except (ValueError, RecursionError):
            raise TransportError(400, f"The {name} parameter is not valid JSON.") from None
    return _params(payload)


def _params(payload: Mapping[str, Any]) -> Params:
    query = payload.get("query")
    if query is not None and not isinstance(query, str):
        raise TransportError(400, "query must be a string.")
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        raise TransportError(400, "operationName must be a string or null.")
    return Params(
        query=query,
        variables=_map(payload, "variables"),
        operation_name=name,
        extensions=_map(payload, "extensions"),
    )


def _map(payload: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, dict):
        raise TransportError(400, f"{name} must be a JSON object or null.")
    return value


def request_error_status(media: str) -> int:
    """HTTP status of a request error (the operation never ran)."""
    return 400 if media == GRAPHQL_RESPONSE else 200


def encode(body: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(body)
    except TypeError:  # a lone surrogate echoed back (say, in a variable): escape it
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except ValueError:
        # orjson refuses escaped lone surrogates ("\ud800"), which JSON's grammar allows;
        # the standard parser takes them, so a hostile id is answered NOT_FOUND as usual.
        return json.loads(body.decode("utf-8"))
