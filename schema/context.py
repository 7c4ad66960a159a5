"""What a GraphQL request carries through resolution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auth.principal import Principal
from loaders import Loaders
from loaders.db import Db
from loaders.reach import Reach


@dataclass
class RequestContext:
    principal: Principal
    reach: Reach
    db: Db
    loaders: Loaders
    request_id: str
    now: datetime
    cursor_secret: bytes
    introspection: bool = True

    @property
    def subject(self) -> str:
        return self.principal.subject


class ClockWatch:
    """Whether a request read the billing clock (shared by its contexts)."""

    def __init__(self) -> None:
        self.read = False


class WatchedContext(RequestContext):
    """A RequestContext that notes every read of `now` in `watch`: the response cache
    keeps an answer only when nothing read the clock, so a field that depends on the time
    is safe without anyone listing it."""

    watch: ClockWatch

    @property
    def now(self) -> datetime:
        self.watch.read = True
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        self._now = value

    @classmethod
    def watching(cls, watch: ClockWatch, **fields: Any) -> WatchedContext:
        context = cls(**fields)
        context.watch = watch
        return context
