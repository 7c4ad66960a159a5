"""Building blocks of every loader: keyed batch loads whose results are mapped by
key (never lined up by position) and windowed page loads for connections."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from aiodataloader import DataLoader

from loaders.db import Db
from loaders.reach import Reach

Row = asyncpg.Record


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


class RowByIdLoader(Loader):
    """key: id → the row or None. SQL takes $1 ids and $2 the reach."""

    sql: str

    async def batch_load_fn(self, keys: Sequence[str]) -> list[Row | None]:
        rows = await self.db.fetch(self.sql, list(keys), self.reach.param)
        found = {row["id"]: row for row in rows}
        return [found.get(key) for key in keys]


class RowsByParentLoader(Loader):
    """key: parent id → every child row. SQL takes $1 parent ids and $2 the reach."""

    sql: str
    parent: str

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[Row]]:
        rows = group(await self.db.fetch(self.sql, list(keys), self.reach.param), self.parent)
        return [rows.get(key, []) for key in keys]


@dataclass(frozen=True)
class PageArgs:
    """A connection's arguments, hashable so that one batch groups equal pages."""

    first: int
    after: tuple[datetime | int, str] | None = None
    filters: tuple[Hashable, ...] = ()


class PageLoader(Loader):
    """key: (parent id, PageArgs) → up to first + 1 rows (the extra one says whether
    there is a next page). One windowed statement per distinct PageArgs in a batch.

    SQL parameters: $1 parent ids, $2 reach, $3 limit, $4/$5 the after-cursor's
    sort key (or NULLs), then the filters in order."""

    sql: str
    parent: str

    async def batch_load_fn(self, keys: Sequence[tuple[str, PageArgs]]) -> list[list[Row]]:
        by_args: dict[PageArgs, list[str]] = defaultdict(list)
        for parent, args in keys:
            by_args[args].append(parent)
        pages: dict[tuple[str, PageArgs], list[Row]] = {}
        for args, parents in by_args.items():
            after = args.after or (None, None)
            rows = await self.db.fetch(
                self.sql, parents, self.reach.param, args.first + 1, *after, *args.filters
            )
            grouped = group(rows, self.parent)
            pages |= {(p, args): grouped.get(p, []) for p in parents}
        return [pages[key] for key in keys]


class CountLoader(Loader):
    """key: (parent id, filters) → the number of rows. SQL: $1 parents, $2 reach,
    then the filters; returns (parent, n)."""

    sql: str

    async def batch_load_fn(self, keys: Sequence[tuple[str, tuple[Hashable, ...]]]) -> list[int]:
        by_filters: dict[tuple[Hashable, ...], list[str]] = defaultdict(list)
        for parent, filters in keys:
            by_filters[filters].append(parent)
        counts: dict[tuple[str, tuple[Hashable, ...]], int] = {}
        for filters, parents in by_filters.items():
            rows = await self.db.fetch(self.sql, parents, self.reach.param, *filters)
            found = {row["parent"]: int(row["n"]) for row in rows}
            counts |= {(p, filters): found.get(p, 0) for p in parents}
        return [counts[key] for key in keys]
