"""A TCP proxy in front of the test PostgreSQL that a test can cut, freeze and
restore, so "the database is down" (connections refused) and "the database is
frozen" (connections accepted, nothing ever answered) are real network failures
without stopping the shared server."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qs, urlsplit, urlunsplit


class PgProxy:
    def __init__(self, upstream_dsn: str) -> None:
        self.upstream = urlsplit(upstream_dsn)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    @property
    def dsn(self) -> str:
        path = self.upstream.path or "/postgres"
        return urlunsplit(("postgresql", f"postgres@127.0.0.1:{self.port}", path, "", ""))

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    def freeze(self) -> None:
        """Keep accepting connections, but pass no byte either way until `thaw`."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        socket_dir = parse_qs(self.upstream.query).get("host", [None])[0]
        if socket_dir:
            return await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.5432")
        return await asyncio.open_connection(self.upstream.hostname, self.upstream.port or 5432)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        await self._flowing.wait()
        up_reader, up_writer = await self._open_upstream()
        self._writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()
