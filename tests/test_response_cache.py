"""The response cache of reads, through real HTTP requests on the ASGI app over a real
PostgreSQL (and a real Redis where Redis is the backend): a repeat is a hit that runs
at most two statements, a write that returned is seen by the next read, tenants and
scopes never share an entry, and answers that read the clock are kept only with a TTL."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import builders
import httpx
import pytest
from conftest import UNTHROTTLED, Gql, make_token, serving
from servers import free_port, redis_url

from gateway.clock import FixedClock
from gateway.worker import run_once
from resolvers.periods import iso

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
CACHED = {"BILLING_ENV": "dev", **UNTHROTTLED, "BILLING_RESPONSE_CACHE": "memory"}

# Invoices, their lines and the catalog's names: nothing here reads the clock.
INVOICES = """
query Invoices($id: ID!) { account(id: $id) { id name
  invoices(first: 10) { totalCount nodes { number status total { amount currency }
    lines(first: 10) { nodes { kind description amount { amount } meter { key } } } } } } }"""
USAGE = """
query Usage($id: ID!) { account(id: $id) {
  usage(meter: "requests", from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z") { total } } }"""
PLANS = "query Plans { plans { code name } }"
ACCOUNTS = "query Accounts { accounts(first: 100) { nodes { id name } } }"
UPCOMING = """
query Upcoming($id: ID!) { account(id: $id) { upcomingInvoice { periodEnd total { amount } } } }"""
RECORD = """
mutation($input: RecordUsageInput!) { recordUsage(input: $input) { recorded userErrors { message } } }"""


@pytest.fixture(autouse=True)
def _now(at: FixedClock) -> None:
    at.set(NOW)


@pytest.fixture
async def twin(
    seeded_template: str, create_database: Callable[..., Awaitable[str]]
) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """A seeded database of this test's own (it runs the engine and edits the catalog)."""
    dsn = await create_database(seeded_template)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    yield dsn, pool
    await pool.close()


@pytest.fixture
async def cached(twin: tuple[str, asyncpg.Pool], clock: FixedClock) -> AsyncIterator[Gql]:
    async with serving(twin[0], clock, CACHED) as client:
        yield Gql(client)


async def account(pool: asyncpg.Pool) -> str:
    """An account of this test's own on Pro, its period 2026-11-01 → 2026-12-01."""
    account_id, _ = await builders.subscribed(pool, start=NOV_1, addons=())
    return account_id


def said(response: httpx.Response) -> str | None:
    value = response.json()["extensions"].get("responseCache")
    return None if value is None else str(value)


def statements(response: httpx.Response) -> int:
    return int(response.json()["extensions"]["sqlStatements"])


def without_extensions(response: httpx.Response) -> bytes:
    return response.content.split(b',"extensions":')[0]


async def test_a_repeat_is_a_hit_with_the_same_bytes_and_two_statements(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    mine = await account(twin[1])
    token = make_token("customer", [mine])
    first = await cached(INVOICES, token, {"id": mine})
    second = await cached(INVOICES, token, {"id": mine})

    assert (said(first), said(second)) == ("miss", "hit")
    assert first.json()["data"]["account"]["id"] == mine
    assert without_extensions(second) == without_extensions(first)
    assert statements(second) <= 2 < statements(first)
    assert (
        second.json()["extensions"]["cost"]["actualQueryCost"]
        == (first.json()["extensions"]["cost"]["actualQueryCost"])
    )


async def test_a_partner_hit_is_reach_and_stamp(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    partner = await _partner(twin[1])
    await _partner_account(twin[1], partner)
    token = make_token("partner", partner=partner)
    first = await cached(ACCOUNTS, token)
    second = await cached(ACCOUNTS, token)

    assert (said(first), said(second)) == ("miss", "hit")
    assert statements(second) == 2


async def test_after_a_mutation_returns_the_next_read_sees_it(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    mine = await account(twin[1])
    token = make_token("customer", [mine])
    await cached(USAGE, token, {"id": mine})
    before = await cached(USAGE, token, {"id": mine})
    event = {"meter": "requests", "quantity": "7", "occurredAt": iso(NOW), "idempotencyKey": "k1"}
    wrote = await cached(RECORD, token, {"input": {"accountId": mine, "events": [event]}})
    after = await cached(USAGE, token, {"id": mine})

    assert said(before) == "hit"
    assert wrote.json()["data"]["recordUsage"]["recorded"] == 1
    assert said(wrote) == "bypass"
    assert said(after) == "miss"
    assert before.json()["data"]["account"]["usage"]["total"] == "0"
    assert after.json()["data"]["account"]["usage"]["total"] == "7"


async def test_after_an_engine_boundary_the_next_read_sees_the_invoice(
    cached: Gql, twin: tuple[str, asyncpg.Pool], at: FixedClock
) -> None:
    mine = await account(twin[1])
    token = make_token("customer", [mine])
    await cached(INVOICES, token, {"id": mine})
    at.set(datetime(2026, 12, 1, 1, tzinfo=UTC))
    before = await cached(INVOICES, token, {"id": mine})  # time alone changes no invoice
    done = await run_once(twin[1], at)
    after = await cached(INVOICES, token, {"id": mine})

    assert done["renewed"] >= 1
    assert said(before) == "hit"
    assert before.json()["data"]["account"]["invoices"]["totalCount"] == 0
    assert said(after) == "miss"
    assert after.json()["data"]["account"]["invoices"]["totalCount"] == 1


async def test_after_a_catalog_change_the_next_read_sees_it(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    token = make_token("admin")
    await cached(PLANS, token)
    before = await cached(PLANS, token)
    await twin[1].execute("UPDATE plans SET name = 'Renamed' WHERE code = 'pro_monthly_usd'")
    after = await cached(PLANS, token)

    assert said(before) == "hit"
    assert said(after) == "miss"
    names = {p["code"]: p["name"] for p in after.json()["data"]["plans"]}
    assert names["pro_monthly_usd"] == "Renamed"


async def test_a_catalog_change_not_yet_notified_is_not_kept_under_the_new_stamp(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    """The process's catalog copy is dropped on a notification; until it arrives, the
    stamp (which already has the new version) must not be paired with the old copy."""
    catalog = cached.client.app.state.services.catalog  # type: ignore[attr-defined]
    token = make_token("admin")
    await cached(PLANS, token)
    assert catalog.current() is not None
    await catalog._conn.remove_listener(catalog.CHANNEL, catalog._changed)  # notification lost
    await twin[1].execute("UPDATE plans SET name = 'Late' WHERE code = 'pro_monthly_usd'")
    after = await cached(PLANS, token)

    names = {p["code"]: p["name"] for p in after.json()["data"]["plans"]}
    assert (said(after), names["pro_monthly_usd"]) == ("miss", "Late")


async def test_another_tenant_never_gets_an_entry(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    mine, theirs = await account(twin[1]), await account(twin[1])
    await cached(INVOICES, make_token("customer", [mine]), {"id": mine})
    same_subject = make_token("customer", [theirs], subject="same")
    await cached(INVOICES, make_token("customer", [mine], subject="same"), {"id": mine})
    other = await cached(INVOICES, same_subject, {"id": mine})

    assert said(other) != "hit"
    assert other.json()["data"] == {"account": None}
    assert other.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_other_scopes_get_an_entry_of_their_own(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    mine = await account(twin[1])
    everything = make_token("customer", [mine], subject="s")
    fewer = make_token("customer", [mine], subject="s", scopes=["accounts:read"])
    await cached(INVOICES, everything, {"id": mine})
    await cached(INVOICES, everything, {"id": mine})
    narrow = await cached(INVOICES, fewer, {"id": mine})

    assert said(narrow) != "hit"
    assert narrow.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_partner_losing_an_account_is_not_served_the_old_list(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    partner = await _partner(twin[1])
    kept, lost = await _partner_account(twin[1], partner), await _partner_account(twin[1], partner)
    token = make_token("partner", partner=partner)
    await cached(ACCOUNTS, token)
    before = await cached(ACCOUNTS, token)
    await twin[1].execute("UPDATE accounts SET partner_id = NULL WHERE id = $1", lost)
    after = await cached(ACCOUNTS, token)

    assert said(before) == "hit"
    assert [n["id"] for n in before.json()["data"]["accounts"]["nodes"]] == sorted([kept, lost])
    assert said(after) == "miss"
    assert [n["id"] for n in after.json()["data"]["accounts"]["nodes"]] == [kept]


async def test_a_renamed_account_is_not_served_under_its_old_name(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    partner = await _partner(twin[1])
    mine = await _partner_account(twin[1], partner)
    token = make_token("partner", partner=partner)
    await cached(ACCOUNTS, token)
    before = await cached(ACCOUNTS, token)
    await twin[1].execute("UPDATE accounts SET name = 'Renamed' WHERE id = $1", mine)
    after = await cached(ACCOUNTS, token)

    assert said(before) == "hit"
    assert (said(after), after.json()["data"]["accounts"]["nodes"]) == (
        "miss",
        [{"id": mine, "name": "Renamed"}],
    )


async def test_an_admin_listing_sees_a_new_account(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    token = make_token("admin")
    query = "query Count { accounts(first: 1) { totalCount } }"
    await cached(query, token)
    before = await cached(query, token)
    await account(twin[1])
    after = await cached(query, token)

    assert said(before) == "hit"
    count = before.json()["data"]["accounts"]["totalCount"]
    assert (said(after), after.json()["data"]["accounts"]["totalCount"]) == ("miss", count + 1)


async def test_an_answer_that_read_the_clock_is_not_kept(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    mine = await account(twin[1])
    token = make_token("customer", [mine])
    await cached(PLANS, token)  # the catalog read, out of the counts below
    first = await cached(UPCOMING, token, {"id": mine})
    second = await cached(UPCOMING, token, {"id": mine})

    assert first.json()["data"]["account"]["upcomingInvoice"] is not None
    assert (said(first), said(second)) == ("bypass", "bypass")
    # Known as a clock reader after the first, the second reads no stamp.
    assert statements(second) == statements(first) - 1


async def test_with_a_clock_ttl_it_is_kept_until_the_clock_passes_it(
    twin: tuple[str, asyncpg.Pool], clock: FixedClock, at: FixedClock
) -> None:
    mine = await account(twin[1])
    token = make_token("customer", [mine])
    env = {**CACHED, "BILLING_RESPONSE_CACHE_CLOCK_TTL": "30"}
    async with serving(twin[0], clock, env) as client:
        gql = Gql(client)
        seen = [said(await gql(UPCOMING, token, {"id": mine}))]
        at.advance(timedelta(seconds=29))
        seen.append(said(await gql(UPCOMING, token, {"id": mine})))
        at.advance(timedelta(seconds=2))
        seen.append(said(await gql(UPCOMING, token, {"id": mine})))
    assert seen == ["miss", "hit", "miss"]


async def test_a_hit_pays_the_rate_limit_like_the_miss(
    twin: tuple[str, asyncpg.Pool], clock: FixedClock
) -> None:
    mine = await account(twin[1])
    token = make_token("customer", [mine])
    env = {
        **CACHED,
        "BILLING_RATE_LIMIT_CAPACITY": "1000",
        "BILLING_RATE_LIMIT_RESTORE": "0.001",
    }
    async with serving(twin[0], clock, env) as client:
        gql = Gql(client)
        answers = [await gql(INVOICES, token, {"id": mine}) for _ in range(3)]
    left = [a.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] for a in answers]
    spent = answers[0].json()["extensions"]["cost"]["actualQueryCost"]
    assert [said(a) for a in answers] == ["miss", "hit", "hit"]
    assert spent > 0
    assert [round(left[0] - x) for x in left] == [0, spent, 2 * spent]


async def test_errors_and_mutations_are_never_kept(
    cached: Gql, twin: tuple[str, asyncpg.Pool]
) -> None:
    token = make_token("admin")
    missing = {"id": "acct_nosuchaccount"}
    answers = [await cached(INVOICES, token, missing) for _ in range(2)]
    assert [said(a) for a in answers] == ["bypass", "bypass"]
    assert answers[1].json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_the_memory_cache_keeps_at_most_its_size(
    twin: tuple[str, asyncpg.Pool], clock: FixedClock
) -> None:
    accounts = [await account(twin[1]) for _ in range(3)]
    token = make_token("customer", accounts)
    env = {**CACHED, "BILLING_RESPONSE_CACHE_SIZE": "2"}
    async with serving(twin[0], clock, env) as client:
        gql = Gql(client)
        seen = [said(await gql(INVOICES, token, {"id": a})) for a in [*accounts, accounts[2]]]
        seen.append(said(await gql(INVOICES, token, {"id": accounts[0]})))
        kept = len(client.app.state.services.cache.backend)  # type: ignore[attr-defined]
    assert seen == ["miss", "miss", "miss", "hit", "miss"]
    assert kept == 2


async def test_the_memory_cache_keeps_at_most_its_bytes(
    twin: tuple[str, asyncpg.Pool], clock: FixedClock
) -> None:
    accounts = [await account(twin[1]) for _ in range(3)]
    token = make_token("customer", accounts)
    async with serving(twin[0], clock, CACHED) as client:
        sizes = [
            len(without_extensions(await Gql(client)(INVOICES, token, {"id": a}))) for a in accounts
        ]
    budget = str(sizes[0] + sizes[1] + sizes[2] // 2)  # room for two answers, not three
    env = {**CACHED, "BILLING_RESPONSE_CACHE_MEMORY_BYTES": budget}
    async with serving(twin[0], clock, env) as client:
        gql = Gql(client)
        seen = [said(await gql(INVOICES, token, {"id": a})) for a in [*accounts, accounts[2]]]
        seen.append(said(await gql(INVOICES, token, {"id": accounts[0]})))
        backend = client.app.state.services.cache.backend  # type: ignore[attr-defined]
    assert seen == ["miss", "miss", "miss", "hit", "miss"]
    assert len(backend) == 2
    assert backend.size <= int(budget)


async def test_off_looks_nothing_up(twin: tuple[str, asyncpg.Pool], clock: FixedClock) -> None:
    mine = await account(twin[1])
    token = make_token("customer", [mine])
    async with serving(twin[0], clock, {**CACHED, "BILLING_RESPONSE_CACHE": "off"}) as client:
        gql = Gql(client)
        off = [await gql(INVOICES, token, {"id": mine}) for _ in range(2)]
        assert client.app.state.services.cache is None  # type: ignore[attr-defined]
    async with serving(twin[0], clock, CACHED) as client:
        on = await Gql(client)(INVOICES, token, {"id": mine})
    assert [said(a) for a in off] == [None, None]
    assert statements(off[0]) == statements(off[1]) == statements(on) - 1


@pytest.mark.skipif(redis_url() is None, reason="no Redis: set REDIS_URL or run one locally")
async def test_redis_entries_are_shared_by_replicas(
    twin: tuple[str, asyncpg.Pool], clock: FixedClock
) -> None:
    url = redis_url()
    assert url is not None
    mine = await account(twin[1])
    token = make_token("customer", [mine])
    env = {**CACHED, "BILLING_RESPONSE_CACHE": "redis", "REDIS_URL": url}
    env["BILLING_REDIS_PREFIX"] = f"t:{secrets.token_hex(6)}:"
    async with serving(twin[0], clock, env) as one, serving(twin[0], clock, env) as two:
        first = await Gql(one)(INVOICES, token, {"id": mine})
        second = await Gql(two)(INVOICES, token, {"id": mine})
    assert (said(first), said(second)) == ("miss", "hit")
    assert without_extensions(second) == without_extensions(first)


async def test_redis_down_answers_from_the_database(
    twin: tuple[str, asyncpg.Pool], clock: FixedClock
) -> None:
    mine = await account(twin[1])
    token = make_token("customer", [mine])
    closed = f"redis://127.0.0.1:{free_port()}/0"
    env = {**CACHED, "BILLING_RESPONSE_CACHE": "redis", "REDIS_URL": closed}
    failures = _sample("billing_response_cache_redis_failures_total", {"step": "get"})
    async with serving(twin[0], clock, env) as client:
        answers = [await Gql(client)(INVOICES, token, {"id": mine}) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert [said(a) for a in answers] == ["miss", "miss"]
    assert answers[1].json()["data"]["account"]["id"] == mine
    assert _sample("billing_response_cache_redis_failures_total", {"step": "get"}) >= failures + 2


async def _partner(pool: asyncpg.Pool) -> str:
    partner = f"ptr_t{secrets.token_hex(6)}"
    await pool.execute("INSERT INTO partners (id, name) VALUES ($1, 'Test partner')", partner)
    return partner


async def _partner_account(pool: asyncpg.Pool, partner: str) -> str:
    async with pool.acquire() as conn:
        return await builders.account(conn, partner=partner)


def _sample(name: str, labels: dict[str, str]) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_an_answer_over_the_size_cap_is_not_kept(
    twin: tuple[str, asyncpg.Pool], clock: FixedClock
) -> None:
    mine = await account(twin[1])
    token = make_token("customer", [mine])
    env = {**CACHED, "BILLING_RESPONSE_CACHE_MAX_BYTES": "64"}
    async with serving(twin[0], clock, env) as client:
        gql = Gql(client)
        big = [said(await gql(INVOICES, token, {"id": mine})) for _ in range(2)]
        small = [said(await gql("query V { viewer { role } }", token)) for _ in range(2)]
    assert (big, small) == (["bypass", "bypass"], ["miss", "hit"])
