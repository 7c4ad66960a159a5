"""Relay connection arithmetic: argument checks, keyset pages both ways, cursors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Final, overload

from loaders.base import Key, PageArgs, Row, Window
from resolvers import cursors
from resolvers.errors import BadUserInput

DEFAULT_SIZE: Final = 20
MAX_SIZE: Final = 100
# The first sort column of each list's key; the second is always the id.
KEY_COLUMNS: Final = {"Invoice.lines": "position"}


@dataclass(frozen=True)
class Slice:
    """A connection's arguments as the client gave them."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None
    # Whether the client asked for totalCount: the page statement counts the list too.
    # (A count not made here is made by its own statement when read, so this only
    # ever saves work; it never changes an answer.)
    counted: bool = False


@dataclass(frozen=True)
class ListOf:
    """Which list a page is of: its name (`Account.invoices`), its parent's id and the
    filters the client chose. Cursors are bound to all three."""

    name: str
    parent: str
    filters: tuple[Hashable, ...] = ()

    def binding(self) -> bytes:
        return cursors.binding(self.name, self.parent, self.filters)


class Cursors(Sequence[str]):
    """A page's cursors, each sealed when first read: most pages are asked for their
    `nodes`, and then only for `pageInfo`'s two cursors, if at all."""

    def __init__(self, secret: bytes, of: ListOf, column: str, rows: Sequence[Row]):
        self._secret, self._of, self._column, self._rows = secret, of, column, rows
        self._bound_to: bytes | None = None  # the list's binding, made with the first cursor
        self._sealed: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        n = range(len(self._rows))[index]  # IndexError as a list raises it
        found = self._sealed.get(n)
        if found is None:
            row = self._rows[n]
            if self._bound_to is None:
                self._bound_to = self._of.binding()
            found = cursors.encode(self._secret, self._bound_to, (row[self._column], row["id"]))
            self._sealed[n] = found
        return found


@dataclass(frozen=True)
class Page:
    rows: Sequence[Row]
    cursors: Sequence[str]
    has_next: bool
    has_previous: bool
    count: Callable[[], Awaitable[int]]


def page_args(
    secret: bytes, of: ListOf, window: Slice, extra: tuple[Hashable, ...] = ()
) -> PageArgs:
    """`first` (default 20) rows after `after`, or the `last` rows before `before`;
    `extra` are SQL filters the client did not choose (the request's instant)."""
    if window.first is not None and window.last is not None:
        raise BadUserInput("Pass `first` or `last`, not both.")
    backward = window.last is not None
    size = _size("last", window.last) if backward else _size("first", window.first)
    return PageArgs(
        size=size,
        backward=backward,
        after=_key(secret, of, window.after),
        before=_key(secret, of, window.before),
        filters=of.filters + extra,
        counted=window.counted,
    )


def _size(name: str, value: int | None) -> int:
    if value is None:
        return DEFAULT_SIZE
    if not 0 <= value <= MAX_SIZE:
        raise BadUserInput(f"`{name}` must be between 0 and {MAX_SIZE}.")
    return value


def _key(secret: bytes, of: ListOf, cursor: str | None) -> Key | None:
    return None if cursor is None else cursors.decode(secret, of.binding(), cursor)


def make_page(
    secret: bytes,
    of: ListOf,
    args: PageArgs,
    window: Window,
    count: Callable[[], Awaitable[int]],
) -> Page:
    """Rows in list order with their cursors; a backward window arrives reversed.
    `count` runs only for lists whose page statement did not count them already."""
    more = len(window.rows) > args.size
    shown = list(window.rows[: args.size])
    if args.backward:
        shown.reverse()
    column = KEY_COLUMNS.get(of.name, "created_at")
    return Page(
        rows=shown,
        cursors=Cursors(secret, of, column, shown),
        has_next=window.beyond if args.backward else more,
        has_previous=more if args.backward else window.beyond,
        count=count if window.total is None else _counted(window.total),
    )


def _counted(total: int) -> Callable[[], Awaitable[int]]:
    async def count() -> int:
        return total

    return count
