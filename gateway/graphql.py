"""Strawberry's ASGI view, adapted: the context comes from the gate, results carry
contract error codes and the request id, and GraphiQL opens with a demo token."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway import metrics
from gateway.errors import format_error
from schema.context import RequestContext

HEADERS_STATE = "const [headers, setHeaders] = React.useState(parameters.headers);"


class GatewayGraphQL(GraphQL[RequestContext, None]):
    def __init__(self, *args: Any, expose_statements: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expose_statements = expose_statements

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        # Built by the gate after the token was verified; absent only for GraphiQL's page.
        return request.scope.get("state", {}).get("context")  # type: ignore[no-any-return]

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        ctx: RequestContext | None = request.scope.get("state", {}).get("context")
        request_id = ctx.request_id if ctx else "-"
        out: GraphQLHTTPResponse = {"data": result.data}
        metrics.REQUESTS.labels(outcome="errors" if result.errors else "ok").inc()
        if result.errors:
            out["errors"] = [format_error(e, request_id) for e in result.errors]
        extensions: dict[str, object] = {"requestId": request_id}
        if ctx and self.expose_statements:
            extensions["sqlStatements"] = ctx.db.statements
        out["extensions"] = extensions
        return out

    async def render_graphql_ide(self, request: Request) -> Response:
        token = getattr(request.app.state, "demo_token", None)
        html = self.graphql_ide_html
        if token:
            headers = json.dumps(json.dumps({"Authorization": f"Bearer {token}"}, indent=2))
            prefilled = HEADERS_STATE.replace(
                "parameters.headers", f"parameters.headers || {headers}"
            )
            html = html.replace(HEADERS_STATE, prefilled.replace("</", "<\\/"))
        return HTMLResponse(html)
