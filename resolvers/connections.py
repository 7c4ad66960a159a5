"""Relay connection arithmetic: argument checks, keyset pages, cursors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Final

from loaders.base import PageArgs, Row
from resolvers import cursors
from resolvers.errors import BadUserInput

DEFAULT_FIRST: Final = 20
MAX_FIRST: Final = 100

# Each ordering names the sort key its cursors carry.
SORT_KEYS: Final = {
    "accounts": ("created_at", "id"),
    "subscriptions": ("created_at", "id"),
    "invoices": ("created_at", "id"),
    "lines": ("position", "id"),
}


@dataclass(frozen=True)
class Page:
    rows: Sequence[Row]
    cursors: Sequence[str]
    has_next: bool
    has_previous: bool
    count: Callable[[], Awaitable[int]]


def page_args(
    secret: bytes,
    ordering: str,
    first: int | None,
    after: str | None,
    filters: tuple[Hashable, ...] = (),
) -> PageArgs:
    size = DEFAULT_FIRST if first is None else first
    if size < 0 or size > MAX_FIRST:
        raise BadUserInput(f"`first` must be between 0 and {MAX_FIRST}.")
    key = cursors.decode(secret, ordering, after) if after is not None else None
    return PageArgs(first=size, after=key, filters=filters)


def make_page(
    secret: bytes,
    ordering: str,
    args: PageArgs,
    rows: Sequence[Row],
    count: Callable[[], Awaitable[int]],
) -> Page:
    shown = rows[: args.first]
    first_col, second_col = SORT_KEYS[ordering]
    return Page(
        rows=shown,
        cursors=[cursors.encode(secret, ordering, (r[first_col], r[second_col])) for r in shown],
        has_next=len(rows) > args.first,
        has_previous=args.after is not None,
        count=count,
    )
