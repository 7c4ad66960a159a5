"""Usage: each account's profile, its 90 days of raw events, and synthetic figures for
the periods before the event window."""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from gateway.seed.catalog import Meter
from gateway.seed.clock import HOUR
from resolvers.money import exact_sum

USAGE_DAYS: Final = 90
# Share of the hourly request rate by UTC hour, in percent (mean ≈ 100).
DIURNAL: Final = (
    *(70, 62, 56, 52, 50, 52, 60, 75, 92, 108, 120, 128),
    *(132, 134, 133, 130, 126, 120, 112, 104, 96, 88, 80, 74),
)


@dataclass(frozen=True)
class UsageProfile:
    requests_per_hour: int
    bandwidth_micro_gb: int  # per 3-hour slot
    storage_micro_gb: int  # level at the start of the window
    has_storage: bool


@dataclass
class MeterSeries:
    """One meter's events of one account, in time order."""

    meter: Meter
    times: list[datetime] = field(default_factory=list)
    quantities: list[Decimal] = field(default_factory=list)

    def add(self, at: datetime, quantity: Decimal) -> None:
        self.times.append(at)
        self.quantities.append(quantity)

    def aggregate(self, start: datetime, end: datetime) -> Decimal:
        values = self.quantities[bisect_left(self.times, start) : bisect_left(self.times, end)]
        if self.meter.aggregation == "MAX":
            return max(values, default=Decimal(0))
        return exact_sum(values)


def _micro(value: int) -> Decimal:
    return Decimal(value).scaleb(-6)


@dataclass
class _EventWindow:
    """The events drawn in [start, end), one meter series each; storage is a level."""

    rng: random.Random
    profile: UsageProfile
    start: datetime
    end: datetime
    requests: MeterSeries
    bandwidth: MeterSeries
    storage: MeterSeries
    level: int

    def keep(self, series: MeterSeries, at: datetime, quantity: Decimal) -> None:
        if self.start <= at < self.end:
            series.add(at, quantity)

    def draw_requests(self, hour: datetime, growth: int) -> None:
        """Request counts in most hours, one or two batches."""
        rng = self.rng
        if rng.randrange(100) >= 97:
            return
        noise = rng.randint(80, 120)
        count = self.profile.requests_per_hour * DIURNAL[hour.hour] * growth * noise // 1_000_000
        # Some hours report in two batches, so the rollup has work to do.
        first_part = count * rng.randint(20, 80) // 100 if rng.randrange(100) < 30 else 0
        for part, offset in ((first_part, 0), (count - first_part, 1800)):
            at = hour + timedelta(seconds=offset + rng.randrange(1800))
            if part:
                self.keep(self.requests, at, Decimal(part))

    def draw_bandwidth(self, hour: datetime, growth: int) -> None:
        gb = self.profile.bandwidth_micro_gb * growth * self.rng.randint(50, 150) // 10_000
        at = hour + timedelta(seconds=self.rng.randrange(3 * 3600))
        self.keep(self.bandwidth, at, _micro(gb))

    def draw_storage(self, hour: datetime) -> None:
        self.level += self.rng.randint(-self.level // 400, self.level // 150)
        at = hour + timedelta(seconds=self.rng.randrange(6 * 3600))
        self.keep(self.storage, at, _micro(self.level))


def generate_usage(
    rng: random.Random,
    profile: UsageProfile,
    meters: Mapping[str, Meter],
    as_of: datetime,
    days: int = USAGE_DAYS,
) -> list[MeterSeries]:
    """Events in [as_of - days, as_of): request counts in most hours (one or two
    batches), a bandwidth figure per 3 hours, a storage level (MAX meter) per 6 hours."""
    start = as_of - timedelta(days=days)
    first = start.replace(minute=0, second=0, microsecond=0)
    hours = (as_of - first) // HOUR + 1
    window = _EventWindow(
        *(rng, profile, start, as_of),
        *(MeterSeries(meters["requests"]), MeterSeries(meters["bandwidth_gb"])),
        *(MeterSeries(meters["storage_gb"]), profile.storage_micro_gb),
    )
    for n in range(hours):
        hour = first + n * HOUR
        growth = 90 + 20 * n // hours  # +20 % over the window, in percent
        window.draw_requests(hour, growth)
        if n % 3 == 0:
            window.draw_bandwidth(hour, growth)
        if n % 6 == 0 and profile.has_storage:
            window.draw_storage(hour)
    return [s for s in (window.requests, window.bandwidth, window.storage) if s.times]


def synthetic_usage(
    key: str,
    profile: UsageProfile,
    meter: Meter,
    period: tuple[datetime, datetime],
    as_of: datetime,
) -> Decimal:
    """A period's usage before the event window: the profile, smaller for older periods,
    with noise from an RNG keyed by the period (independent of call order)."""
    start, end = period
    rng = random.Random(f"{key}:{meter.key}:{start.isoformat()}")
    months_ago = (as_of - end).days // 30
    scale = max(40, 100 - 3 * months_ago) * rng.randint(85, 115)  # percent × percent
    hours = (end - start) // HOUR
    if meter.key == "requests":
        return Decimal(profile.requests_per_hour * hours * scale // 10_000)
    if meter.key == "bandwidth_gb":
        return _micro(profile.bandwidth_micro_gb * hours // 3 * scale // 10_000)
    return _micro(profile.storage_micro_gb * scale // 10_000) if profile.has_storage else Decimal(0)
