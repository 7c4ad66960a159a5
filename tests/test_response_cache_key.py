"""The response cache's key: the order of variables does not matter, every part that
can change an answer does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auth.principal import Principal, Role
from gateway.response_cache import cache_key
from gateway.settings import ConfigError, load
from loaders.reach import Reach

SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
VARIABLES = st.dictionaries(st.text(min_size=1, max_size=6), SCALARS, max_size=6)
ACCOUNTS = st.frozensets(st.sampled_from(["acct_a", "acct_b", "acct_c"]))
SCOPES = st.frozensets(st.sampled_from(["accounts:read", "invoices:read", "usage:read"]))


def principal(subject: str = "s", role: Role = Role.CUSTOMER, scopes: Any = None) -> Principal:
    chosen = frozenset({"accounts:read"}) if scopes is None else scopes
    return Principal(subject, role, chosen, (), None, datetime(2030, 1, 1, tzinfo=UTC))


def key(**changed: Any) -> str:
    parts: dict[str, Any] = {
        "query": "{ viewer { role } }",
        "operation_name": None,
        "variables": {},
        "principal": principal(),
        "reach": Reach.only(["acct_a"]),
        "dev": True,
    } | changed
    return cache_key(**parts)


@given(VARIABLES, st.randoms())
def test_variable_order_is_irrelevant(variables: dict[str, Any], rng: Any) -> None:
    items = list(variables.items())
    rng.shuffle(items)
    assert key(variables=variables) == key(variables=dict(items))


@given(ACCOUNTS, ACCOUNTS)
def test_reach_is_a_set_and_all_is_not_a_list(one: frozenset[str], two: frozenset[str]) -> None:
    assert (key(reach=Reach.only(list(one))) == key(reach=Reach.only(sorted(two)))) == (one == two)
    assert key(reach=Reach.all()) != key(reach=Reach.only(list(one)))


@given(SCOPES, SCOPES)
def test_scopes_change_the_key(one: frozenset[str], two: frozenset[str]) -> None:
    assert (key(principal=principal(scopes=one)) == key(principal=principal(scopes=two))) == (
        one == two
    )


@given(VARIABLES, VARIABLES)
def test_variables_change_the_key(one: dict[str, Any], two: dict[str, Any]) -> None:
    # As JSON: True == 1 in Python, not in a GraphQL variable.
    same = json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    assert (key(variables=one) == key(variables=two)) == same


def test_every_other_part_changes_the_key() -> None:
    variants = [
        key(),
        key(query="{ viewer { subject } }"),
        key(operation_name="Viewer"),
        key(principal=principal(subject="other")),
        key(principal=principal(role=Role.PARTNER)),
        key(dev=False),
        key(variables={"id": "\ud800"}),  # a lone surrogate is keyed too (escaped)
    ]
    assert len(set(variants)) == len(variants)


def test_settings_default_to_memory_and_to_redis_with_redis() -> None:
    assert load({}).response_cache.backend == "memory"
    assert load({"REDIS_URL": "redis://r:6379/0"}).response_cache.backend == "redis"
    assert load({"BILLING_RESPONSE_CACHE": "off"}).response_cache.backend == "off"
    assert load({"BILLING_RESPONSE_CACHE_CLOCK_TTL": "0.0"}).response_cache.clock_ttl == 0
    assert load({"BILLING_RESPONSE_CACHE_CLOCK_TTL": "2.5"}).response_cache.clock_ttl == 2.5


@pytest.mark.parametrize(
    "env",
    [
        {"BILLING_RESPONSE_CACHE": "redis"},  # without REDIS_URL
        {"BILLING_RESPONSE_CACHE": "disk"},
        {"BILLING_RESPONSE_CACHE_CLOCK_TTL": "-1"},
        {"BILLING_RESPONSE_CACHE_CLOCK_TTL": "nan"},
        {"BILLING_RESPONSE_CACHE_SIZE": "0"},
    ],
)
def test_settings_refuse_what_cannot_work(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load(env)
