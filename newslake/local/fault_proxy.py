"""A TCP proxy on 127.0.0.1 that can turn slow or go down: fault injection for "the store
is slow" and "the store is stopped".

Everything the app sends to the store goes through it; set ``delay_s`` and each answer
from upstream is held that long before it is passed on, as a DynamoDB under strain would.
``cut()`` drops every connection and refuses new ones until ``restore()``, as a stopped
store does, while the store behind it keeps its data. The serving test on the local
platform and ``make bench-faults`` inject the same outage through it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType


class SlowProxy:
    """Forwards 127.0.0.1:<port> to 127.0.0.1:<upstream_port>; a context manager."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.delay_s = 0.0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = [self._listener]
        self._closed = threading.Event()
        self._down = threading.Event()

    def __enter__(self) -> SlowProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed.set()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones, until ``restore()``."""
        self._down.set()
        open_now, self._sockets = self._sockets[1:], self._sockets[:1]
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def restore(self) -> None:
        self._down.clear()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                return
            if self._down.is_set():  # a stopped store: the connection ends at once
                for sock in (client, upstream):
                    sock.close()
                continue
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while data := source.recv(65536):
                if answers and self.delay_s:
                    time.sleep(self.delay_s)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
