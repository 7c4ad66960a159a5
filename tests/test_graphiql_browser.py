"""GraphiQL works offline (issue acceptance 7): in headless Chromium with no network
(every non-loopback request goes to a dead proxy), the page the gateway serves
renders from its own vendored assets, the demo query runs with the demo token,
and the docs explorer opens."""

from __future__ import annotations

from pathlib import Path

import pytest
from chromium import browser, ensure
from servers import gateway

RENDERED = "!!document.querySelector('.graphiql-execute-button')"
RESULT = "document.querySelector('.graphiql-response')?.innerText || ''"
DOCS_BUTTON = "document.querySelector('[aria-label=\"Show Documentation Explorer\"]')"
DOCS = "document.querySelector('.graphiql-doc-explorer')?.innerText || ''"


def test_graphiql_renders_runs_the_demo_query_and_opens_the_docs_offline(
    database_url: str, tmp_path: Path
) -> None:
    binary = ensure()
    if binary is None:
        pytest.skip("chromium is not installed and could not be installed with apt-get")
    env = {"DATABASE_URL": database_url, "BILLING_ENV": "dev"}
    with gateway(env, tmp_path / "gateway.log") as server, browser(binary, tmp_path / "p") as page:
        page.send("Network.enable")
        page.send("Page.navigate", url=server.url + "/graphql")

        assert page.wait_for(RENDERED)

        page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        result = page.wait_for(f"({RESULT}).includes('accountCount') && ({RESULT})")
        assert '"role": "CUSTOMER"' in result
        assert '"errors"' not in result

        page.evaluate(f"{DOCS_BUTTON}.click()")
        docs = page.wait_for(f"({DOCS}).includes('Query') && ({DOCS})")
        assert "query" in docs.lower()

        urls = page.requested_urls()
    assert any(url.endswith("/graphiql/static/graphiql.min.js") for url in urls)
    foreign = [u for u in urls if not u.startswith((server.url, "data:", "about:"))]
    assert foreign == []
