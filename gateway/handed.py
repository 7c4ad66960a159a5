"""One worker of `serve --workers N`: uvicorn serving the connections its supervisor
(gateway/supervisor.py) accepted and handed over, instead of accepting on a socket of
its own.

The channel is a Unix SOCK_SEQPACKET socket: the supervisor sends one message per
connection with its descriptor attached (SCM_RIGHTS); the worker answers READY once its
lifespan has started and CLOSED each time one of its connections closes, which is how
the supervisor knows who holds the fewest."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from contextlib import suppress
from typing import Any, Final, NoReturn

import uvicorn
from uvicorn.config import STARTUP_FAILURE

READY: Final = b"r"
CLOSED: Final = b"c"
HANDOFF: Final = b"h"
BATCH: Final = 64  # descriptors taken per wake-up before the loop serves others


def run(options: dict[str, Any], channel: socket.socket) -> None:
    """The worker process's target: the gateway's app, configured as `serve` does."""
    # uvicorn re-raises the signal that stopped it once it has drained; exiting 0 then
    # (and before uvicorn takes the signals over) is a clean stop, not a crash.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_quietly)
    HandedServer(uvicorn.Config("gateway.asgi:app", **options), channel).run()


def _exit_quietly(signum: int, frame: object) -> NoReturn:
    raise SystemExit(0)


class HandedServer(uvicorn.Server):
    """uvicorn's Server with its listening part replaced by the channel: the same
    lifespan, protocol class, shared state and shutdown, so keep-alive, timeouts and
    draining behave exactly as under plain uvicorn."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self.channel = channel
        self._connecting: set[asyncio.Task[None]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # As uvicorn.Server.startup (0.54), minus create_server.
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        self.servers = []
        self._protocol_class = _reporting(self.config.http_protocol_class, self._closed)
        self.channel.setblocking(False)
        asyncio.get_running_loop().add_reader(self.channel.fileno(), self._receive)
        self.channel.send(READY)
        self.started = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Take no more connections; those already handed over are drained by uvicorn.
        asyncio.get_running_loop().remove_reader(self.channel.fileno())
        await super().shutdown(sockets)

    def _create_protocol(self) -> asyncio.Protocol:
        # What uvicorn's create_protocol builds for create_server.
        return self._protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )

    def _receive(self) -> None:
        for _ in range(BATCH):
            try:
                message, fds, _flags, _address = socket.recv_fds(self.channel, 16, 1)
            except BlockingIOError:
                return
            if not message and not fds:  # the supervisor is gone: drain and exit
                asyncio.get_running_loop().remove_reader(self.channel.fileno())
                self.should_exit = True
                return
            for fd in fds:
                task = asyncio.create_task(self._connect(socket.socket(fileno=fd)))
                self._connecting.add(task)
                task.add_done_callback(self._connecting.discard)

    async def _connect(self, sock: socket.socket) -> None:
        try:
            await asyncio.get_running_loop().connect_accepted_socket(self._create_protocol, sock)
        except OSError:
            sock.close()
            self._closed()

    def _closed(self) -> None:
        # The supervisor may be gone or stopping: then nobody counts any more.
        with suppress(OSError):
            self.channel.send(CLOSED)


def _reporting(base: type[asyncio.Protocol], closed: Any) -> type[asyncio.Protocol]:
    """`base` (uvicorn's HTTP protocol) that also reports each connection's end."""

    class Reporting(base):  # type: ignore[valid-type,misc]
        def connection_lost(self, exc: Exception | None) -> None:
            try:
                super().connection_lost(exc)
            finally:
                closed()

    return Reporting
