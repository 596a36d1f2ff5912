"""Several server processes on one port, each with a listening socket of its own.

uvicorn's own ``--workers`` shares one listening socket between its processes,
and whichever process wakes first accepts every connection waiting. A burst of
keep-alive connections (a dozen Alertmanager or PagerDuty senders connecting at
once) then lands on one process while the others idle, and the connections stay
where they landed: measured with sixteen senders and two processes, 14 and 2,
or 16 and 0. Here every process binds the port with ``SO_REUSEPORT`` and the
kernel spreads new connections over the processes' sockets by a hash of each
client's address and port, as nginx's and gunicorn's ``reuseport`` do.

The supervising process starts the workers, starts another in place of one
that dies (unless it died while starting: then the server stops, as a worker
that cannot start would only fail again) and, on SIGINT or SIGTERM, stops them
gracefully.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

logger = logging.getLogger("steward.serve")

# A worker that exits within this long of being started is taken as unable to start.
STARTUP_GRACE = 10.0
STOP_TIMEOUT = 30.0


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port with SO_REUSEPORT (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


def _worker(factory: str, host: str, port: int, options: dict[str, Any]) -> None:
    """One server process: its own socket on the shared port, one uvicorn server."""
    import uvicorn

    sock = listening_socket(host, port)
    config = uvicorn.Config(factory, factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def serve(factory: str, host: str, port: int, workers: int, **options: Any) -> int:
    """Run ``workers`` server processes of the application ``factory`` (``module:function``,
    as uvicorn takes it) until SIGINT or SIGTERM; the exit status."""
    # Held, bound and not listening, while the server runs: the port is checked before
    # any worker starts, and stays Steward's while a worker is replaced.
    guard = listening_socket(host, port)
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_worker, args=(factory, host, port, options),
                                  name="steward-worker", daemon=False)
        process.start()
        return process, time.monotonic()

    def stop(signum: int, _frame: Any) -> None:
        stopping.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    running = [start() for _ in range(workers)]
    try:
        while not stopping.wait(0.5):
            for index, (process, started) in enumerate(running):
                if process.is_alive() or stopping.is_set():
                    continue
                if time.monotonic() - started < STARTUP_GRACE:
                    logger.error("server process %s exited with %s while starting; stopping",
                                 process.pid, process.exitcode)
                    status = 1
                    stopping.set()
                    break
                logger.warning("server process %s exited with %s; starting another",
                               process.pid, process.exitcode)
                running[index] = start()
    finally:
        for process, _started in running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in hand
        deadline = time.monotonic() + STOP_TIMEOUT
        for process, _started in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        guard.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status
