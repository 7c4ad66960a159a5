"""`serve --workers N` (N >= 2): this process owns the listening socket, accepts every
connection and hands it to the worker that holds the fewest open connections
(gateway/handed.py receives it).

Why not uvicorn's own workers: they all wait in accept() on one shared socket, and a
burst of keep-alive connections goes to whichever worker wakes first — in about half
of our load runs every connection of the run landed on one worker while the other
idled. Handing each connection over from here spreads them evenly from the first one.

Workers that die are replaced (their live gauges dropped from the metrics folder); a
worker that cannot start makes `serve` exit STARTUP_FAILURE instead of respawning
forever (one not ready within the start timeout is killed, and counts as such);
SIGTERM or SIGINT stops accepting and lets the workers drain."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import selectors
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any, Final

from gateway import handed, metrics

STARTUP_FAILURE: Final = 3  # uvicorn's status for the same failure with one worker
BACKLOG: Final = 2048  # uvicorn's default
GRACE: Final = 5.0  # seconds past the shutdown timeout before a worker is killed
BATCH: Final = 64  # accepts (or messages) per wake-up, so one source cannot starve the rest

log = logging.getLogger("billing.serve")
_spawn = multiprocessing.get_context("spawn")


@dataclass(eq=False)
class Worker:
    slot: int
    process: BaseProcess
    channel: socket.socket
    ready: bool = False
    started: float = field(default_factory=time.monotonic)
    open: int = 0  # connections handed over and not yet reported closed
    last: int = 0  # when it was last handed one (ties go to the longest waiting)

    @property
    def label(self) -> str:
        return str(self.slot)


@dataclass(eq=False)
class Supervisor:
    listener: socket.socket
    count: int
    options: dict[str, Any]
    shutdown_timeout: float
    start_timeout: float
    workers: list[Worker] = field(default_factory=list)
    status: int = 0
    stopping: bool = False
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    _ticks: Iterator[int] = field(default_factory=itertools.count)
    _listening: bool = False

    def run(self) -> int:
        """Serve until a signal (0) or a worker that cannot start (STARTUP_FAILURE)."""
        with self._signals():
            try:
                for slot in range(self.count):
                    self._spawn(slot)
                while not self.stopping:
                    for key, _ in self.selector.select(timeout=1.0):
                        key.data(key.fileobj)
                    self._overdue()
            finally:
                self._stop()
        return self.status

    # --- workers -------------------------------------------------------------------

    def _spawn(self, slot: int) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = _spawn.Process(
            target=handed.run, args=(self.options, theirs), name=f"worker-{slot}"
        )
        process.start()
        theirs.close()  # only the worker's copy: its exit then reads as end of file here
        ours.setblocking(False)
        worker = Worker(slot, process, ours)
        self.workers.append(worker)
        self.selector.register(ours, selectors.EVENT_READ, lambda _: self._hear(worker))
        log.info("worker %d started (pid %s)", slot, process.pid)

    def _hear(self, worker: Worker) -> None:
        for _ in range(BATCH):
            try:
                message = worker.channel.recv(16)
            except BlockingIOError:
                return
            except OSError:
                message = b""
            if not message:
                self._lost(worker)
                return
            if message == handed.CLOSED:
                worker.open = max(0, worker.open - 1)
                metrics.WORKER_OPEN.labels(worker.label).set(worker.open)
            elif message == handed.READY:
                worker.ready = True
                log.info("worker %d ready (pid %s)", worker.slot, worker.process.pid)
                self._listen()

    def _overdue(self) -> None:
        """A worker not ready within the start timeout (a lifespan stuck on the network,
        say) is killed: its exit then reads as a worker that could not start."""
        now = time.monotonic()
        for worker in self.workers:
            overdue = not worker.ready and now - worker.started > self.start_timeout
            if overdue and worker.process.is_alive():
                log.error(
                    "worker %d not ready within %g s (BILLING_WORKER_START_TIMEOUT): killed",
                    worker.slot,
                    self.start_timeout,
                )
                worker.process.kill()

    def _lost(self, worker: Worker) -> None:
        """A worker exited: replaced, unless we are stopping or it never started."""
        self.selector.unregister(worker.channel)
        worker.channel.close()
        self.workers.remove(worker)
        worker.process.join(GRACE)
        _forget(worker)
        self._listen()
        if self.stopping:
            return
        status = worker.process.exitcode
        if not worker.ready:
            log.error(
                "worker %d could not start (exit status %s; its log lines are above);"
                " stopping the server",
                worker.slot,
                status,
            )
            self.status, self.stopping = STARTUP_FAILURE, True
            return
        log.warning("worker %d (pid %s) exited (status %s); starting another",
                    worker.slot, worker.process.pid, status)  # fmt: skip
        metrics.WORKER_RESTARTS.inc()
        self._spawn(worker.slot)

    # --- connections ---------------------------------------------------------------

    def _listen(self) -> None:
        """Accept only while some worker is ready: until then connections wait in the
        backlog instead of being accepted with nowhere to go."""
        wanted = not self.stopping and any(w.ready for w in self.workers)
        if wanted and not self._listening:
            self.selector.register(self.listener, selectors.EVENT_READ, self._accept)
        elif self._listening and not wanted:
            self.selector.unregister(self.listener)
        self._listening = wanted

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(BATCH):
            try:
                conn, _address = listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:  # out of descriptors, say: the next wake-up retries
                log.warning("accept failed: %s", exc)
                return
            with conn:  # the worker has its own copy once handed over
                self._hand(conn)

    def _hand(self, conn: socket.socket) -> None:
        worker = min((w for w in self.workers if w.ready), key=lambda w: (w.open, w.last))
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as uvicorn's loop does
        try:
            socket.send_fds(worker.channel, [handed.HANDOFF], [conn.fileno()])
        except OSError as exc:  # its queue is full or it just died: the client retries
            log.warning("connection dropped: worker %d did not take it (%s)", worker.slot, exc)
            return
        worker.open += 1
        worker.last = next(self._ticks)
        metrics.WORKER_CONNECTIONS.labels(worker.label).inc()
        metrics.WORKER_OPEN.labels(worker.label).set(worker.open)

    # --- stopping ------------------------------------------------------------------

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT stop the server; a byte on a socket wakes select() at once."""
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        self.selector.register(wake_r, selectors.EVENT_READ, _drain)
        previous_fd = signal.set_wakeup_fd(wake_w.fileno())
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            signal.set_wakeup_fd(previous_fd)
            wake_r.close()
            wake_w.close()

    def _on_signal(self, signum: int, frame: object) -> None:
        if not self.stopping:
            log.info("%s: stopping", signal.Signals(signum).name)
        self.stopping = True

    def _stop(self) -> None:
        """No more connections; each worker drains within the shutdown timeout."""
        self.stopping = True
        self._listen()
        self.listener.close()
        for worker in self.workers:
            with suppress(ProcessLookupError):
                worker.process.terminate()
        deadline = time.monotonic() + self.shutdown_timeout + GRACE
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                log.error("worker %d did not stop in time: killed", worker.slot)
                worker.process.kill()
                worker.process.join()
            worker.channel.close()
            _forget(worker)
        self.workers.clear()
        self.selector.close()


def _drain(sock: socket.socket) -> None:
    with suppress(BlockingIOError):
        while sock.recv(64):
            pass


def _forget(worker: Worker) -> None:
    """Its live gauges (pool connections) leave the sums; its counters stay counted."""
    from prometheus_client import multiprocess

    if worker.process.pid is not None:
        multiprocess.mark_process_dead(worker.process.pid)  # type: ignore[no-untyped-call]
    metrics.WORKER_OPEN.labels(worker.label).set(0)


def serve(
    host: str,
    port: int,
    workers: int,
    options: dict[str, Any],
    shutdown: float,
    start: float,
) -> int:
    """Listen on host:port and supervise `workers` workers; the exit status."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc.strerror or exc)
        return STARTUP_FAILURE
    listener.setblocking(False)
    log.info("listening on http://%s:%d with %d workers", host, port, workers)
    options = options | {"host": host, "port": port}
    return Supervisor(listener, workers, options, shutdown, start).run()
