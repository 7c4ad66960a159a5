"""Input that is not the server's fault is never an internal error (docs/errors.md):
ids and keys holding NUL bytes or lone surrogates are NOT_FOUND or BAD_USER_INPUT,
DateTime is RFC 3339 within years 1970–9999, and each nodes(ids:) entry fails alone."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from conftest import Gql, make_token
from graphql import GraphQLError
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import classify

ACCOUNT = "query($id: ID!) { account(id: $id) { id } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
UPCOMING = "query($id: ID!, $sub: ID) { account(id: $id) { upcomingInvoice(subscriptionId: $sub) { total { amount } } } }"
PREVIEW = "query($sub: ID!, $plan: ID!) { node(id: $sub) { ... on Subscription { previewPlanChange(planId: $plan) { total { amount } } } } }"
USAGE = """query($id: ID!, $meter: String!, $from: DateTime!, $to: DateTime!) { account(id: $id) {
  usage(meter: $meter, from: $from, to: $to) { total } } }"""
ENTITLEMENT = (
    "query($id: ID!, $key: String!) { account(id: $id) { entitlement(feature: $key) { enabled } } }"
)
INVOICES_ISSUED = "query($id: ID!, $after: DateTime) { account(id: $id) { invoices(issuedAfter: $after) { totalCount } } }"

HOSTILE = [
    "acct_\x00",
    "acct_ab\x00cd",
    "\x00",
    "acct_\ud800",
    "\udfff",
    "inv_\ud83d",
    "sub_x\x00y",
]


@pytest.fixture(scope="module")
async def known(seeded_pool: asyncpg.Pool) -> dict[str, str]:
    row = await seeded_pool.fetchrow(
        "SELECT a.id AS account, s.id AS sub, i.id AS invoice FROM accounts a"
        " JOIN subscriptions s ON s.account_id = a.id AND s.status = 'ACTIVE'"
        " JOIN invoices i ON i.account_id = a.id ORDER BY a.id LIMIT 1"
    )
    assert row is not None
    return dict(row)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.mark.parametrize("bad", HOSTILE, ids=repr)
async def test_a_hostile_id_is_not_found(gql: Gql, known: dict[str, str], bad: str) -> None:
    for query, variables in [
        (ACCOUNT, {"id": bad}),
        (NODE, {"id": bad}),
        (UPCOMING, {"id": known["account"], "sub": bad}),
        (PREVIEW, {"sub": known["sub"], "plan": bad}),
    ]:
        body = (await gql(query, make_token(), variables)).json()
        assert codes(body) == ["NOT_FOUND"], (query, body)


@pytest.mark.parametrize("bad", HOSTILE, ids=repr)
async def test_a_hostile_key_is_bad_user_input(gql: Gql, known: dict[str, str], bad: str) -> None:
    usage = {"id": known["account"], "meter": bad, "from": "2026-11-01T00:00:00Z",
             "to": "2026-11-02T00:00:00Z"}  # fmt: skip
    for query, variables in [(USAGE, usage), (ENTITLEMENT, {"id": known["account"], "key": bad})]:
        body = (await gql(query, make_token(), variables)).json()
        assert codes(body) == ["BAD_USER_INPUT"], (query, body)


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=30))
async def test_any_text_as_an_id_is_found_or_not_found_never_an_error(gql: Gql, text: str) -> None:
    body = (await gql(NODE, make_token(), {"id": text})).json()
    assert codes(body) in ([], ["NOT_FOUND"])


async def test_each_nodes_entry_fails_alone(gql: Gql, known: dict[str, str]) -> None:
    # given good ids around a hostile one, a malformed one and one of a foreign prefix
    ids = [known["account"], "acct_\x00", "nonsense", known["invoice"], "usr_abc", known["sub"]]

    # when they are read together as a customer without invoices:read
    token = make_token("customer", [known["account"]], scopes=["subscriptions:read"])
    body = (await gql(NODES, token, {"ids": ids})).json()

    # then each entry answers for itself: found, not found, or forbidden
    assert [n and n["id"] for n in body["data"]["nodes"]] == [
        known["account"], None, None, None, None, known["sub"],
    ]  # fmt: skip
    by_entry = {e["path"][1]: e["extensions"]["code"] for e in body["errors"]}
    assert by_entry == {1: "NOT_FOUND", 2: "NOT_FOUND", 3: "FORBIDDEN", 4: "NOT_FOUND"}


async def test_more_than_100_ids_is_bad_user_input(gql: Gql) -> None:
    body = (await gql(NODES, make_token(), {"ids": ["acct_x"] * 101})).json()
    assert codes(body) == ["BAD_USER_INPUT"]


REFUSED_DATETIMES = [
    "2026-W44-1T00:00:00Z",  # ISO 8601 week date
    "20261101T000000Z",  # ISO 8601 basic format
    "2026-11-01T00:00:00",  # no offset
    "2026-11-01",  # a date alone
    "2026-11-01 00:00:00Z",  # a space for the T
    "2026-11-01T00:00:00.1234567Z",  # finer than a microsecond
    "2026-13-01T00:00:00Z",
    "2026-11-01T24:00:00Z",
    "2026-11-01T00:00:00+24:00",
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    "1969-12-31T23:59:59Z",
    "２０２６-11-01T00:00:00Z",  # non-ASCII digits
    "2026-11-01T00:00:00Z\x00",
]


@pytest.mark.parametrize("text", REFUSED_DATETIMES)
async def test_a_datetime_outside_rfc_3339_or_its_range_is_bad_user_input(
    gql: Gql, known: dict[str, str], text: str
) -> None:
    as_variable = (
        await gql(INVOICES_ISSUED, make_token(), {"id": known["account"], "after": text})
    ).json()
    literal = text.replace("\x00", "\\u0000")
    inline = f'{{ account(id: "{known["account"]}") {{ invoices(issuedAfter: "{literal}") {{ totalCount }} }} }}'
    as_literal = (await gql(inline, make_token())).json()

    assert codes(as_variable) == ["BAD_USER_INPUT"], as_variable
    assert codes(as_literal) == ["BAD_USER_INPUT"], as_literal


@pytest.mark.parametrize(
    "text", ["2026-11-01T00:00:00Z", "2026-11-01t01:00:00.5+01:00", "1970-01-01T00:00:00z"]
)
async def test_rfc_3339_datetimes_are_accepted(gql: Gql, known: dict[str, str], text: str) -> None:
    body = (
        await gql(INVOICES_ISSUED, make_token(), {"id": known["account"], "after": text})
    ).json()
    assert "errors" not in body


@pytest.mark.parametrize(
    "raised",
    [
        asyncpg.CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00"),
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    ],
)
def test_text_postgres_cannot_store_is_the_clients_input(raised: Exception) -> None:
    # The net under the checks: should such text reach a statement, it is still input.
    error = GraphQLError("failed", original_error=raised)
    assert classify(error).code == "BAD_USER_INPUT"
