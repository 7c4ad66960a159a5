"""Every connection pages both ways over the same rows (docs/pagination.md): forward with
first/after, backward with last/before, pageInfo exact each way; cursors are opaque and
open only on the list, parent and filters that issued them."""

from __future__ import annotations

import base64
from typing import Any

import asyncpg
import pytest
from conftest import Gql, make_token

PAGE = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }"
ARGS = "first: $first, after: $after, last: $last, before: $before"
VARS = "$first: Int, $after: String, $last: Int, $before: String"

# Each connection, reached from the root; `$id` names its parent.
CONNECTIONS = {
    "Query.accounts": f"query({VARS}) {{ c: accounts({ARGS}) {{ {PAGE} }} }}",
    "Partner.accounts": f"""query($id: ID!, {VARS}) {{ node(id: $id) {{ ... on Partner {{
        c: accounts({ARGS}) {{ {PAGE} }} }} }} }}""",
    "Account.subscriptions": f"""query($id: ID!, {VARS}) {{ account(id: $id) {{
        c: subscriptions({ARGS}) {{ {PAGE} }} }} }}""",
    "Account.invoices": f"""query($id: ID!, {VARS}) {{ account(id: $id) {{
        c: invoices({ARGS}) {{ {PAGE} }} }} }}""",
    "Account.invoices(status: PAID)": f"""query($id: ID!, {VARS}) {{ account(id: $id) {{
        c: invoices({ARGS}, status: [PAID]) {{ {PAGE} }} }} }}""",
    "Subscription.invoices": f"""query($id: ID!, {VARS}) {{ node(id: $id) {{
        ... on Subscription {{ c: invoices({ARGS}) {{ {PAGE} }} }} }} }}""",
    "Invoice.lines": f"""query($id: ID!, {VARS}) {{ node(id: $id) {{
        ... on Invoice {{ c: lines({ARGS}) {{ {PAGE} }} }} }} }}""",
}
# The parent with the longest list of each kind, so pages are many.
PARENTS = {
    "Query.accounts": "SELECT NULL",
    "Partner.accounts": "SELECT partner_id FROM accounts WHERE partner_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    "Account.subscriptions": "SELECT account_id FROM subscriptions GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    "Account.invoices": "SELECT account_id FROM invoices GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    "Account.invoices(status: PAID)": "SELECT account_id FROM invoices GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    "Subscription.invoices": "SELECT subscription_id FROM invoices WHERE subscription_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    "Invoice.lines": "SELECT invoice_id FROM invoice_lines GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
}


@pytest.fixture(scope="module")
async def parents(seeded_pool: asyncpg.Pool) -> dict[str, str | None]:
    return {name: await seeded_pool.fetchval(sql) for name, sql in PARENTS.items()}


async def page(gql: Gql, name: str, parent: str | None, **args: Any) -> dict[str, Any]:
    body = (await gql(CONNECTIONS[name], make_token(), {"id": parent, **args})).json()
    assert "errors" not in body, body["errors"]
    data = body["data"]
    return dict(data["c"] if "c" in data else next(iter(data.values()))["c"])


async def walk(gql: Gql, name: str, parent: str | None, size: int, forward: bool) -> list[Any]:
    """Every page of the list, in the order walked: (ids, cursors, pageInfo) each."""
    pages, cursor = [], None
    while True:
        if forward:
            got = await page(gql, name, parent, first=size, after=cursor)
        else:
            got = await page(gql, name, parent, last=size, before=cursor)
        pages.append(got)
        info = got["pageInfo"]
        if not (info["hasNextPage"] if forward else info["hasPreviousPage"]):
            return pages
        cursor = info["endCursor"] if forward else info["startCursor"]


def ids(pages: list[dict[str, Any]]) -> list[str]:
    return [edge["node"]["id"] for p in pages for edge in p["edges"]]


@pytest.mark.parametrize("size", [1, 4])
@pytest.mark.parametrize("name", list(CONNECTIONS))
async def test_forward_and_backward_paging_return_the_same_rows_in_order(
    gql: Gql, parents: dict[str, str | None], name: str, size: int
) -> None:
    parent = parents[name]
    everything = await page(gql, name, parent, first=100)
    expected = [edge["node"]["id"] for edge in everything["edges"]]
    assert len(expected) == everything["totalCount"] > 1  # size 1 turns pages

    forward = await walk(gql, name, parent, size, forward=True)
    backward = await walk(gql, name, parent, size, forward=False)

    assert ids(forward) == expected
    assert ids(list(reversed(backward))) == expected
    cursors = {e["node"]["id"]: e["cursor"] for p in forward + backward for e in p["edges"]}
    assert len(set(cursors.values())) == len(expected)  # one stable cursor per row


@pytest.mark.parametrize("name", list(CONNECTIONS))
async def test_page_info_is_exact_both_ways(
    gql: Gql, parents: dict[str, str | None], name: str
) -> None:
    parent = parents[name]
    forward = await walk(gql, name, parent, 2, forward=True)
    backward = await walk(gql, name, parent, 2, forward=False)

    for n, got in enumerate(forward):
        info = got["pageInfo"]
        assert (info["hasPreviousPage"], info["hasNextPage"]) == (n > 0, n < len(forward) - 1)
        assert info["startCursor"] == got["edges"][0]["cursor"]
        assert info["endCursor"] == got["edges"][-1]["cursor"]
    for n, got in enumerate(backward):
        info = got["pageInfo"]
        assert (info["hasNextPage"], info["hasPreviousPage"]) == (n > 0, n < len(backward) - 1)


async def test_after_and_before_together_bound_a_window(
    gql: Gql, parents: dict[str, str | None]
) -> None:
    name, parent = "Account.invoices", parents["Account.invoices"]
    everything = (await page(gql, name, parent, first=100))["edges"]
    after, before = everything[2]["cursor"], everything[9]["cursor"]
    inside = [e["node"]["id"] for e in everything[3:9]]

    forward = await page(gql, name, parent, first=100, after=after, before=before)
    last_two = await page(gql, name, parent, last=2, after=after, before=before)

    assert [e["node"]["id"] for e in forward["edges"]] == inside
    assert [e["node"]["id"] for e in last_two["edges"]] == inside[-2:]
    assert last_two["pageInfo"]["hasPreviousPage"] is True
    assert last_two["pageInfo"]["hasNextPage"] is True  # `before` itself follows


async def test_an_empty_page_still_says_what_lies_around_it(
    gql: Gql, parents: dict[str, str | None]
) -> None:
    name, parent = "Account.invoices", parents["Account.invoices"]
    end = (await page(gql, name, parent, first=100))["pageInfo"]["endCursor"]

    past_the_end = await page(gql, name, parent, first=5, after=end)
    none_asked = await page(gql, name, parent, last=0)

    assert past_the_end["edges"] == []
    assert past_the_end["pageInfo"] == {
        "hasNextPage": False, "hasPreviousPage": True, "startCursor": None, "endCursor": None,
    }  # fmt: skip
    assert none_asked["edges"] == []
    assert none_asked["pageInfo"]["hasPreviousPage"] is True


BAD_ARGS = [
    {"first": 2, "last": 2},
    {"first": -1},
    {"first": 101},
    {"last": -1},
    {"last": 101},
]


@pytest.mark.parametrize("args", BAD_ARGS, ids=lambda a: ",".join(f"{k}={v}" for k, v in a.items()))
async def test_bad_page_sizes_are_bad_user_input(gql: Gql, args: dict[str, int]) -> None:
    body = (await gql(CONNECTIONS["Query.accounts"], make_token(), args)).json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_last_alone_is_the_end_of_the_list(gql: Gql, parents: dict[str, str | None]) -> None:
    name, parent = "Account.invoices", parents["Account.invoices"]
    everything = [e["node"]["id"] for e in (await page(gql, name, parent, first=100))["edges"]]

    tail = await page(gql, name, parent, last=3)

    assert [e["node"]["id"] for e in tail["edges"]] == everything[-3:]


# --- cursors are bound to their list, parent and filters --------------------------------


async def cursor_of(gql: Gql, name: str, parent: str | None, **args: Any) -> str:
    return str((await page(gql, name, parent, first=2, **args))["pageInfo"]["endCursor"])


async def refused(gql: Gql, name: str, parent: str | None, **args: Any) -> None:
    body = (await gql(CONNECTIONS[name], make_token(), {"id": parent, "first": 2, **args})).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "The cursor is not valid for this list."


async def test_a_cursor_of_another_parent_is_refused(
    gql: Gql, seeded_pool: asyncpg.Pool, parents: dict[str, str | None]
) -> None:
    mine = parents["Account.invoices"]
    other = await seeded_pool.fetchval(
        "SELECT account_id FROM invoices WHERE account_id <> $1 LIMIT 1", mine
    )
    cursor = await cursor_of(gql, "Account.invoices", mine)

    await refused(gql, "Account.invoices", other, after=cursor)
    await refused(gql, "Account.invoices", other, before=cursor)


async def test_a_cursor_of_another_list_is_refused_even_on_the_same_rows(
    gql: Gql, seeded_pool: asyncpg.Pool
) -> None:
    # the newest invoices of an account and of its subscription start with the same rows
    account, sub = await seeded_pool.fetchrow(
        "SELECT account_id, subscription_id FROM invoices i WHERE subscription_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM invoices o WHERE o.account_id = i.account_id"
        "   AND o.subscription_id IS DISTINCT FROM i.subscription_id)"
        " GROUP BY 1, 2 HAVING count(*) > 3 ORDER BY 1 LIMIT 1"
    )
    cursor = await cursor_of(gql, "Account.invoices", account)

    await refused(gql, "Subscription.invoices", sub, after=cursor)
    await refused(gql, "Query.accounts", None, after=cursor)


async def test_a_cursor_of_other_filters_is_refused(
    gql: Gql, parents: dict[str, str | None]
) -> None:
    account = parents["Account.invoices"]
    paid = await cursor_of(gql, "Account.invoices(status: PAID)", account)
    unfiltered = await cursor_of(gql, "Account.invoices", account)

    await refused(gql, "Account.invoices", account, after=paid)
    await refused(gql, "Account.invoices(status: PAID)", account, before=unfiltered)


@pytest.mark.parametrize("bad", ["not-a-cursor", "", "-1", "A" * 500, "abc\x00def", "\ud800"])
async def test_a_cursor_that_is_not_ours_is_refused(
    gql: Gql, parents: dict[str, str | None], bad: str
) -> None:
    await refused(gql, "Account.invoices", parents["Account.invoices"], after=bad)


async def test_a_tampered_cursor_is_refused(gql: Gql, parents: dict[str, str | None]) -> None:
    account = parents["Account.invoices"]
    cursor = await cursor_of(gql, "Account.invoices", account)
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-1] ^= 1

    await refused(gql, "Account.invoices", account, after=base64.urlsafe_b64encode(raw).decode())


async def test_a_cursor_reveals_neither_the_row_nor_its_time(
    gql: Gql, seeded_pool: asyncpg.Pool, parents: dict[str, str | None]
) -> None:
    account = parents["Account.invoices"]
    got = await page(gql, "Account.invoices", account, first=1)
    edge = got["edges"][0]
    created = await seeded_pool.fetchval(
        "SELECT created_at FROM invoices WHERE id = $1", edge["node"]["id"]
    )
    raw = base64.urlsafe_b64decode(edge["cursor"] + "=" * (-len(edge["cursor"]) % 4))

    assert edge["node"]["id"].encode() not in raw
    assert edge["node"]["id"].removeprefix("inv_").encode() not in raw
    assert str(created.year).encode() not in raw
