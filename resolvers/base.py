"""What resolvers need from a request, without knowing GraphQL."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from loaders import Loaders
from loaders.base import Row
from loaders.db import Db
from loaders.reach import Reach
from resolvers.errors import NotFound


class Ctx(Protocol):
    loaders: Loaders
    reach: Reach
    now: datetime
    cursor_secret: bytes
    db: Db

    @property
    def subject(self) -> str:
        """The token's `sub`: who writes, and whom idempotency keys and quotes belong to."""
        ...


def found(row: Row | None) -> Row:
    """The row, or NOT_FOUND: missing and out of reach look the same."""
    if row is None:
        raise NotFound()
    return row
