"""For the worker-balance investigation only: the gateway served by N independent
uvicorn processes, each listening on its own socket bound with SO_REUSEPORT to the
same port, so that the kernel spreads new connections over the sockets (by a hash of
each connection's addresses) instead of every worker waiting on one shared socket.

An alternative to the process model `billing-gateway serve --workers N` uses (a
supervisor handing each connection to the least busy worker), measured the same way by
`.ci/dev bench --balance`.

    python -m bench.reuseport --port P --workers N   (settings from the environment)
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import socket
from types import FrameType


def listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def serve(host: str, port: int) -> None:
    """One worker: its own socket, the gateway's app, as `serve` configures uvicorn (its
    JSON log lines included: one per request)."""
    import uvicorn

    from gateway import logs

    config = uvicorn.Config(
        "gateway.asgi:app",
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_config=logs.config(),
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(target=serve, args=(args.host, args.port)) for _ in range(args.workers)
    ]
    for w in workers:
        w.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        for w in workers:
            if w.pid is not None and w.is_alive():
                w.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for w in workers:
        w.join()


if __name__ == "__main__":
    main()
