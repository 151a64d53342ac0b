"""A loopback TCP proxy in front of the test S3 server that misbehaves on purpose: answers the
first connections with ``503 SlowDown`` or drops them, or cuts every connection (and stops
listening) once a number of response bytes went through, like a server that dies mid-read. It
counts the response bytes it forwards (``response_bytes``: what a client fetched)."""

from __future__ import annotations

import socket
import threading

SLOWDOWN = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nConnection: close\r\n"
            b"Content-Length: 87\r\n\r\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")


class FaultyProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream`` (host, port). ``fail_first`` connections are
    answered with ``mode`` ("503": SlowDown; "drop": closed after the request arrives);
    ``cut_after`` response bytes (request bytes with ``count_requests``), when set, end every
    connection and the listener."""

    def __init__(self, upstream: tuple[str, int], fail_first: int = 0, mode: str = "503",
                 cut_after: int | None = None, count_requests: bool = False) -> None:
        self.upstream, self.fail_first, self.mode, self.cut_after = upstream, fail_first, mode, cut_after
        self.count_requests = count_requests  # cut_after counts request bytes instead of response bytes
        self.connections = 0
        self.failed = 0
        self.sent = 0
        self.response_bytes = 0  # bytes forwarded from the server to clients (headers included)
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                fault = self.failed < self.fail_first
                if fault:
                    self.failed += 1
                self._socks.append(client)
            threading.Thread(target=self._serve, args=(client, fault), daemon=True).start()

    def _serve(self, client: socket.socket, fault: bool) -> None:
        if fault:
            try:
                client.recv(65536)  # the request head
                if self.mode == "503":
                    client.sendall(SLOWDOWN)
            except OSError:
                pass
            client.close()
            return
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        with self._lock:
            self._socks.append(server)
        threading.Thread(target=self._pipe, args=(client, server, self.count_requests, False), daemon=True).start()
        self._pipe(server, client, not self.count_requests, True)

    def _pipe(self, src: socket.socket, dst: socket.socket, counted: bool, response: bool) -> None:
        try:
            while data := src.recv(65536):
                if response:
                    with self._lock:
                        self.response_bytes += len(data)
                if counted and self.cut_after is not None:
                    with self._lock:
                        room = self.cut_after - self.sent
                        self.sent += len(data)
                    if room <= len(data):
                        dst.sendall(data[:max(room, 0)])
                        self.close()
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        """Stops listening and cuts every connection."""
        self._closed = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
