"""The GraphiQL page and its vendored assets: pinned builds whose SRI hashes are
checked by the browser, a page that loads nothing from elsewhere, and a fresh
demo token on each view."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import httpx
import jwt

from gateway.graphiql import ASSETS, manifest
from gateway.settings import DEV_SECRET


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_every_vendored_asset_matches_its_pinned_integrity() -> None:
    entries = manifest()
    assert {e["package"] for e in entries.values()} == {"react", "react-dom", "graphiql"}
    for name, entry in entries.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"])
        assert sri((ASSETS / name).read_bytes()) == entry["integrity"], name


async def test_the_page_loads_only_its_own_assets_with_their_integrity(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    html = response.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(s.startswith("/graphiql/static/") for s in sources)
    for name, entry in manifest().items():
        assert f'"/graphiql/static/{name}" integrity="{entry["integrity"]}"' in html
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200
        assert sri(asset.content) == manifest()[source.rsplit("/", 1)[1]]["integrity"]


async def test_each_page_view_carries_a_fresh_demo_token(client: httpx.AsyncClient) -> None:
    html = (await client.get("/graphql", headers={"Accept": "text/html"})).text
    token = re.search(r"Bearer (ey[\w.-]+)", html).group(1)  # type: ignore[union-attr]

    claims = jwt.decode(token, DEV_SECRET, algorithms=["HS256"], audience="billing-api")
    assert claims["role"] == "customer"
    assert len(claims["accounts"]) == 1
    assert claims["exp"] - claims["iat"] == 86_400
    assert abs(claims["iat"] - time.time()) < 5  # minted for this view, not at start-up


async def test_an_unknown_asset_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphiql/static/../../settings.py")
    assert response.status_code == 404
