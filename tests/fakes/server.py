"""What every fake platform shares: a Starlette app served by uvicorn on 127.0.0.1, in a
background thread, so that the real SDKs on the test's event loop talk to it over HTTP."""

from __future__ import annotations

import socket
import threading
import time
from typing import Self

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route


class LocalServer:
    """Subclasses say what they serve (`routes`); `start`, `close`, or `with`."""

    graceful_seconds = 2  # how long a request in hand may finish at `close`

    def __init__(self) -> None:
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        # IPPROTO_TCP explicitly: asyncio disables Nagle's algorithm only on such sockets,
        # and every answer would otherwise wait ~40 ms for a delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            Starlette(routes=self.routes()),
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=self.graceful_seconds,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.005)

    def close(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
