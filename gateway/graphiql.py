"""GraphiQL, served by the gateway itself (dev only): pinned React and GraphiQL
builds vendored from the npm registry (gateway/static/graphiql, listed with their
SRI hashes in manifest.json), so the page works with no internet. Each page view
carries a fresh demo token for the demo account (a customer, 24 h)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from string import Template
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from auth.tokens import mint
from resolvers.periods import iso

STATIC: Final = Path(__file__).parent / "static"
ASSETS: Final = STATIC / "graphiql"
ASSET_PATH: Final = "/graphiql/static/"
DEMO_TOKEN_TTL: Final = 86_400
DEMO_ACCOUNT: Final = "SELECT id FROM accounts ORDER BY created_at, id LIMIT 1"
MEDIA_TYPES: Final = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# What the page opens with: the demo account's dashboard over the 30 days before now.
DEMO_QUERY: Final = """query Dashboard($from: DateTime!, $to: DateTime!) {
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


@cache
def manifest() -> dict[str, dict[str, Any]]:
    """file name → {package, version, path, file, integrity}."""
    entries = json.loads((ASSETS / "manifest.json").read_text())["assets"]
    return {entry["file"]: entry for entry in entries}


def _asset(name: str) -> dict[str, str]:
    entry = manifest()[name]
    return {"url": ASSET_PATH + name, "integrity": entry["integrity"]}


def demo_variables(now: datetime) -> dict[str, str]:
    """The demo query's range: the 30 days up to the end of today (billing time)."""
    to = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return {"from": iso(to - timedelta(days=30)), "to": iso(to)}


def page(demo_token: str | None, now: datetime) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    headers = {"Authorization": f"Bearer {demo_token}"} if demo_token else {}
    settings = {
        "url": "/graphql",
        "query": DEMO_QUERY,
        "variables": json.dumps(demo_variables(now), indent=2),
        "headers": json.dumps(headers, indent=2),
    }
    values = {
        "nonce": nonce,
        # JSON inside <script>: "</" must not close the element.
        "settings": json.dumps(settings).replace("</", "<\\/"),
    }
    for key, name in (
        ("css", "graphiql.min.css"),
        ("react", "react.production.min.js"),
        ("react_dom", "react-dom.production.min.js"),
        ("graphiql", "graphiql.min.js"),
    ):
        values[f"{key}_url"] = _asset(name)["url"]
        values[f"{key}_integrity"] = _asset(name)["integrity"]
    html = Template((STATIC / "graphiql.html").read_text()).substitute(values)
    return HTMLResponse(html, headers={"Content-Security-Policy": _policy(nonce)})


def _policy(nonce: str) -> str:
    """The page may load nothing but its own assets and talk only to its origin."""
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in manifest():
        return Response(status_code=404)
    path = ASSETS / name
    return Response(path.read_bytes(), media_type=MEDIA_TYPES[path.suffix])


def demo_token(secret: str | None, account: str | None) -> str | None:
    if secret is None or account is None:
        return None
    return mint(secret, role="customer", accounts=[account], ttl_seconds=DEMO_TOKEN_TTL)
