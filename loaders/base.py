"""Building blocks of every loader: keyed batch loads whose results are mapped by
key (never lined up by position) and keyset page loads for connections."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import asyncpg
from aiodataloader import DataLoader

from loaders.db import Db
from loaders.reach import Reach

Row = asyncpg.Record
# What every stored id looks like (the tables' CHECKs say the same): anything else
# is not found without asking the database, NUL bytes and lone surrogates included.
ID: Final = re.compile(r"[a-z]{2,5}_[0-9A-Za-z]{1,64}", re.ASCII)
# A row's position in its list: (created_at or position, id).
Key = tuple[datetime | int, str]
# A list's filters as SQL ("AND ..."), given the number of their first parameter.
Filters = Callable[[int], str]


def is_id(text: str) -> bool:
    return ID.fullmatch(text) is not None


def group(rows: Iterable[Row], column: str) -> dict[Any, list[Row]]:
    out: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        out[row[column]].append(row)
    return out


class Loader(DataLoader[Any, Any]):
    """A loader bound to the request's connection and reach."""

    def __init__(self, db: Db, reach: Reach) -> None:
        super().__init__()
        self.db = db
        self.reach = reach
        load = self.batch_load_fn

        async def counted(keys: list[Any]) -> Any:
            db.batched(type(self).__name__, len(keys))
            return await load(keys)

        self.batch_load_fn = counted

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """`sql` in the form for this request's reach, with the reach as $2."""
        return await self.db.fetch(self.reach.sql(sql), args[0], self.reach.param, *args[1:])


class RowByIdLoader(Loader):
    """key: id → the row or None. SQL takes $1 ids and $2 the reach."""

    sql: str

    async def batch_load_fn(self, keys: Sequence[str]) -> list[Row | None]:
        ids = [key for key in keys if is_id(key)]
        rows = await self.fetch(self.sql, ids) if ids else []
        found = {row["id"]: row for row in rows}
        return [found.get(key) for key in keys]


class RowsByParentLoader(Loader):
    """key: parent id → every child row. SQL takes $1 parent ids and $2 the reach."""

    sql: str
    parent: str

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[Row]]:
        rows = group(await self.fetch(self.sql, list(keys)), self.parent)
        return [rows.get(key, []) for key in keys]


@dataclass(frozen=True)
class PageArgs:
    """One page of a list, hashable so that one batch groups equal pages: `size` rows
    after the `after` key (`backward`: the last `size` before the `before` key), within
    both keys when both are given, among the rows matching `filters`."""

    size: int
    backward: bool = False
    after: Key | None = None
    before: Key | None = None
    filters: tuple[Hashable, ...] = ()
    counted: bool = False  # count the list's rows too (`Window.total`)


@dataclass(frozen=True)
class Window:
    """What a page statement returns for one parent: up to size + 1 rows in the order
    fetched (reversed when paging backward), and whether rows lie beyond the cursor the
    page starts from (before `after`, or after `before` when paging backward)."""

    rows: list[Row] = field(default_factory=list)
    beyond: bool = False
    total: int | None = None  # rows matching the filters, over all pages (counted lists)


@dataclass(frozen=True)
class Keyset:
    """A list's order over a table, and the statement that pages it each way.

    Page parameters: $1 parent ids, $2 the reach, $3 the limit, $4/$5 the after key,
    $6/$7 the before key (NULLs when absent), then the list's filters from $8; count
    parameters: $1 parent ids, $2 the reach, the filters from $3. The key bounds compare
    the row (key column, id) with the cursor's, so a page starts on the index at its
    cursor whichever way it goes; a missing cursor becomes the list's end."""

    source: str  # "invoices i"
    columns: str
    parent: str  # ties a row to p.parent: "i.account_id = p.parent" ("true" for a root)
    reach: str  # in_reach(...) of the account column
    key: str  # the first sort column; the second is always <alias>.id
    key_type: str  # "timestamptz" or "integer"
    descending: bool
    filters: Filters = lambda first: ""
    # Whether a page statement may count the list too (`total`) when the page asks:
    # one statement instead of two for `totalCount`. Off for lists with no natural
    # bound (every account), counted apart.
    counted: bool = True

    def sql(self, backward: bool, counted: bool = False) -> str:
        after_op, before_op = ("<", ">") if self.descending else (">", "<")
        after, before = self._bound(after_op, 4), self._bound(before_op, 6)
        # `beyond`: the rows the page's own cursor leaves out, on the side it came from.
        beyond = (
            self._bound(before_op, 6, left_out=True)
            if backward
            else self._bound(after_op, 4, left_out=True)
        )
        where = f"{self.parent} AND {self.reach} {self.filters(8)}"
        ascending = self.descending == backward  # the order rows are fetched in
        fetch, probe = ("ASC", "DESC") if ascending else ("DESC", "ASC")
        total = ""
        if counted and self.counted:
            total = f", (SELECT count(*) FROM {self.source} WHERE {where}) AS total_count"
        # The probe walks the index away from the cursor and stops at the first row.
        # OFFSET 0 keeps `o` a subquery run once per parent; pulled up, its probe and
        # count ran once per row of the page.
        return f"""
SELECT p.parent, o.*, x.* FROM unnest($1::text[]) AS p(parent)
CROSS JOIN LATERAL (SELECT coalesce((
  SELECT true FROM {self.source} WHERE {where} AND {beyond}
   ORDER BY {self._order(probe)} LIMIT 1), false) AS beyond{total} OFFSET 0) o
LEFT JOIN LATERAL (
  SELECT {self.columns} FROM {self.source}
   WHERE {where} AND {after} AND {before}
   ORDER BY {self._order(fetch)} LIMIT $3) x ON true"""

    def count_sql(self) -> str:
        """(parent, n): the rows matching the filters, counted on the same index."""
        return f"""
SELECT p.parent, (SELECT count(*) FROM {self.source}
   WHERE {self.parent} AND {self.reach} {self.filters(3)}) AS n
  FROM unnest($1::text[]) AS p(parent)"""

    def _order(self, direction: str) -> str:
        return f"{self.key} {direction}, {self.source.split()[1]}.id {direction}"

    def _bound(self, op: str, n: int, left_out: bool = False) -> str:
        """(key, id) op the cursor in $n/$n+1; without a cursor, the list's far end,
        which every row passes. `left_out`: the rows the bound excludes instead."""
        alias = self.source.split()[1]
        end = _ENDS[self.key_type][op == ">"]
        shown = _LEFT_OUT[op] if left_out else op
        cursor = f"(coalesce(${n}::{self.key_type}, {end}), coalesce(${n + 1}::text, ''))"
        return f"({self.key}, {alias}.id) {shown} {cursor}"


# key type -> (its largest value, its smallest): a missing cursor's stand-in.
_ENDS: Final = {
    "timestamptz": ("'infinity'::timestamptz", "'-infinity'::timestamptz"),
    "integer": ("2147483647", "-2147483648"),
}
_LEFT_OUT: Final = {"<": ">=", ">": "<="}


class PageLoader(Loader):
    """key: (parent id, PageArgs) → a Window. One statement per distinct PageArgs in a
    batch, in the form of the page's direction."""

    keyset: Keyset

    async def batch_load_fn(self, keys: Sequence[tuple[str, PageArgs]]) -> list[Window]:
        by_args: dict[PageArgs, list[str]] = defaultdict(list)
        for parent, args in keys:
            by_args[args].append(parent)
        pages: dict[tuple[str, PageArgs], Window] = {}
        for args, parents in by_args.items():
            statement = self.keyset.sql(args.backward, args.counted)
            rows = await self.fetch(statement, parents, *_params(args))
            grouped = group(rows, "parent")
            pages |= {(p, args): _window(grouped.get(p, [])) for p in parents}
        return [pages[key] for key in keys]


def _params(args: PageArgs) -> list[Any]:
    after = args.after or (None, None)
    before = args.before or (None, None)
    return [args.size + 1, *after, *before, *args.filters]


def _window(rows: list[Row]) -> Window:
    # A parent with no rows in the page still has one row: its `beyond`, its `total`
    # (counted lists) and NULLs.
    total = rows[0].get("total_count") if rows else None
    return Window(
        [r for r in rows if r["id"] is not None],
        bool(rows and rows[0]["beyond"]),
        None if total is None else int(total),
    )


class CountLoader(Loader):
    """key: (parent id, filters) → the number of rows. SQL: $1 parents, $2 reach,
    then the filters; returns (parent, n)."""

    sql: str

    def statement(self) -> str:
        return self.sql

    async def batch_load_fn(self, keys: Sequence[tuple[str, tuple[Hashable, ...]]]) -> list[int]:
        by_filters: dict[tuple[Hashable, ...], list[str]] = defaultdict(list)
        for parent, filters in keys:
            by_filters[filters].append(parent)
        counts: dict[tuple[str, tuple[Hashable, ...]], int] = {}
        for filters, parents in by_filters.items():
            rows = await self.fetch(self.statement(), parents, *filters)
            found = {row["parent"]: int(row["n"]) for row in rows}
            counts |= {(p, filters): found.get(p, 0) for p in parents}
        return [counts[key] for key in keys]
