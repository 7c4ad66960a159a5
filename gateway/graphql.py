"""Strawberry's ASGI view, adapted: the context comes from the gate, results carry
contract error codes and the request id, and GraphiQL opens with a demo token."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway import metrics
from gateway.errors import format_error
from resolvers.periods import iso
from schema.context import RequestContext

HEADERS_STATE = "const [headers, setHeaders] = React.useState(parameters.headers);"
QUERY_STATE = "parameters.q || EXAMPLE_QUERY,"
VARIABLES_STATE = "          parameters.variables,\n"
# What GraphiQL opens with: the demo account's dashboard over the last 30 days.
DEMO_QUERY = """query Dashboard($from: DateTime!, $to: DateTime!) {
  viewer { role accountCount }
  accounts(first: 1) { nodes {
    name
    subscriptions { nodes { status currentPeriodEnd plan { name price { amount currency } } } }
    invoices(first: 3) { nodes { number status total { amount currency }
                                 lines { nodes { kind description amount { amount } } } } }
    upcomingInvoice { issuedAt lines { description amount { amount } } total { amount } }
    usage(meter: "requests", from: $from, to: $to) { total }
    entitlements { feature { key } enabled limit used remaining resetsAt }
  } }
}
"""


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
        minter = getattr(request.app.state, "demo_token", None)
        token = minter() if minter else None
        html = _with_demo_query(self.graphql_ide_html, request.app.state.clock.now())
        if token:
            headers = json.dumps(json.dumps({"Authorization": f"Bearer {token}"}, indent=2))
            prefilled = HEADERS_STATE.replace(
                "parameters.headers", f"parameters.headers || {headers}"
            )
            html = html.replace(HEADERS_STATE, prefilled.replace("</", "<\\/"))
        return HTMLResponse(html)


def _with_demo_query(html: str, now: datetime) -> str:
    """The page opens on the demo query, its range the 30 days before now (billing time)."""
    to = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    variables = json.dumps({"from": iso(to - timedelta(days=30)), "to": iso(to)}, indent=2)
    html = html.replace(QUERY_STATE, f"parameters.q || {_js(DEMO_QUERY)},")
    return html.replace(VARIABLES_STATE, f"          parameters.variables || {_js(variables)},\n")


def _js(text: str) -> str:
    """A JavaScript string literal safe inside a <script> element."""
    return json.dumps(text).replace("</", "<\\/")
