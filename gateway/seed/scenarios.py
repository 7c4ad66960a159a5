"""Each scenario's subscriptions, oldest first: live, upgraded, yearly, free, past due,
paused, canceled then back on Free, trialing after a year on Free."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Final

from gateway.seed.accounts import Account
from gateway.seed.catalog import Plan
from gateway.seed.ids import make_id
from gateway.seed.subscriptions import Subscription
from resolvers.periods import add_months


def subscriptions(a: Account) -> list[Subscription]:
    return SCENARIOS[a.scenario](a)


# -- shape


def _start(a: Account, months_back: tuple[int, int]) -> datetime:
    """A subscription start: a whole UTC hour, days 29-31 often enough to see clamping."""
    rng = a.rng
    month = add_months(a.day0.replace(day=1), -rng.randint(*months_back))
    day = rng.choice((29, 30, 31)) if rng.randrange(5) == 0 else rng.randint(1, 28)
    hour = 0 if rng.randrange(3) else rng.randint(1, 23)
    return month.replace(day=min(day, calendar.monthrange(month.year, month.month)[1]), hour=hour)


def _paid_plan(a: Account) -> Plan:
    family = "business_monthly" if a.size == "large" else "pro_monthly"
    return a.catalog.plan(family, a.currency)


def _sub(a: Account, family: str | None, start: datetime, *, seats: bool = True) -> Subscription:
    plan = _paid_plan(a) if family is None else a.catalog.plan(family, a.currency)
    quantity = 1
    if seats and a.index and a.rng.randrange(100) < 20:
        quantity = a.rng.randint(2, 5)
    return Subscription(make_id(a.rng, "sub"), plan, quantity, start)


def _addons(a: Account, sub: Subscription, chance: int) -> None:
    rng, last = a.rng, sub.index_at(a.as_of)
    for family in ("addon_extra_rules", "addon_priority_support"):
        if rng.randrange(100) < chance:
            since = sub.boundary(rng.randint(0, max(0, last - 1)))
            addon = a.catalog.plan(family, a.currency)
            sub.addons.append((make_id(rng, "si"), addon, since))
        chance //= 3


# -- scenarios


def _rich(a: Account) -> list[Subscription]:
    sub = _sub(a, "pro_monthly", add_months(a.day0 - timedelta(days=3), -14))
    addon = a.catalog.plan("addon_extra_rules", a.currency)
    sub.addons.append((make_id(a.rng, "si"), addon, sub.boundary(2)))
    return [sub]


def _active(a: Account) -> list[Subscription]:
    sub = _sub(a, None, _start(a, (13, 30)))
    _addons(a, sub, 35)
    if a.rng.randrange(100) < 12:
        period_start = sub.boundary(sub.index_at(a.as_of))
        requested = a.as_of - timedelta(hours=a.rng.randint(1, 24 * 20))
        sub.cancel_at_period_end, sub.canceled_at = True, max(period_start, requested)
    return [sub]


def _upgraded(a: Account) -> list[Subscription]:
    rng = a.rng
    sub = _sub(a, "pro_monthly", _start(a, (13, 30)))
    j = rng.randint(2, sub.index_at(a.as_of) - 2)
    at = sub.boundary(j) + timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 23))
    sub.changes.append((at, a.catalog.plan("business_monthly", a.currency)))
    _addons(a, sub, 25)
    return [sub]


def _yearly(a: Account) -> list[Subscription]:
    return [_sub(a, "pro_yearly", _start(a, (13, 30)), seats=False)]


def _free(a: Account) -> list[Subscription]:
    return [_sub(a, "free_monthly", _start(a, (13, 30)), seats=False)]


def _past_due(a: Account) -> list[Subscription]:
    sub = _sub(a, None, _start(a, (13, 30)))
    sub.status = "PAST_DUE"
    _addons(a, sub, 20)
    return [sub]


def _paused(a: Account) -> list[Subscription]:
    sub = _sub(a, None, _start(a, (13, 30)))
    paused = sub.index_at(a.as_of) - a.rng.randint(1, 2)
    sub.status, sub.last_invoice_at, sub.service_through = "PAUSED", paused, paused - 1
    return [sub]


def _canceled(a: Account) -> list[Subscription]:
    """Canceled at a period end some months ago, then back on the Free plan."""
    old = _sub(a, None, _start(a, (16, 30)))
    _addons(a, old, 20)
    end = old.index_at(a.as_of) - a.rng.randint(2, 5)
    old.status, old.canceled_at = "CANCELED", old.boundary(end)
    old.period = (old.boundary(end - 1), old.boundary(end))
    old.last_invoice_at, old.service_through = end, end - 1
    return [old, _sub(a, "free_monthly", old.boundary(end), seats=False)]


def _trialing(a: Account) -> list[Subscription]:
    """On Free for a year or more, then a 14-day trial of a paid plan started days ago."""
    rng = a.rng
    free = _sub(a, "free_monthly", _start(a, (13, 30)), seats=False)
    began = a.day0 - timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 23))
    k = free.index_at(began)
    free.status, free.canceled_at = "CANCELED", began
    free.period = (free.boundary(k), free.boundary(k + 1))
    free.last_invoice_at = free.service_through = k
    trial = _sub(a, None, began, seats=False)
    trial.status, trial.trial_end = "TRIALING", began + timedelta(days=14)
    trial.anchor, trial.period = trial.trial_end, (began, trial.trial_end)
    return [free, trial]


SCENARIOS: Final[Mapping[str, Callable[[Account], list[Subscription]]]] = {
    "rich": _rich,
    "active": _active,
    "active_draft": _active,
    "upgraded": _upgraded,
    "yearly": _yearly,
    "free": _free,
    "past_due": _past_due,
    "paused": _paused,
    "canceled": _canceled,
    "canceled_unpaid": _canceled,
    "trialing": _trialing,
}
