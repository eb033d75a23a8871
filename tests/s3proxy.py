"""A misbehaving network between boto3 and the moto server: slow, huge or faulty.

Each request the proxy receives is forwarded to moto (so moto really serves it, and
``forwarded`` counts what moto saw); what goes back to the client depends on the next
behaviour in the list the test gives (the last one repeats):

- ``"pass"``: moto's answer, unchanged.
- ``"drip"``: moto's headers at once, then the body a few bytes at a time.
- ``"huge"``: moto's headers with Content-Length set to HUGE_LENGTH, then zeros for as
  long as the client reads.
- ``"error500"``: an S3 ``InternalError`` (500) instead of moto's answer.
- ``"reset"``: the headers and half the body, then a TCP reset.
- ``"stall"``: nothing at all, until the client gives up.

Everything runs on daemon threads on 127.0.0.1, and every wait is bounded by
MAX_SECONDS, so a test that goes wrong cannot hang the suite.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

HUGE_LENGTH = 600 * 1024 * 1024
DRIP_BYTES = 64
DRIP_INTERVAL = 0.2
MAX_SECONDS = 20.0
_ERROR_500 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)


class S3Proxy:
    """A running proxy: ``endpoint_url``, ``forwarded`` requests and ``bytes_sent``."""

    def __init__(self, upstream: str, behaviours: Sequence[str]) -> None:
        address = urlsplit(upstream)
        self._upstream = (address.hostname or "127.0.0.1", address.port or 80)
        self._behaviours = list(behaviours)
        self._lock = threading.Lock()
        self.forwarded: list[str] = []  # request lines, e.g. "GET /bucket/key HTTP/1.1"
        self.bytes_sent = 0  # body bytes written to clients
        self._active = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.endpoint_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def gets(self) -> int:
        return sum(line.startswith("GET ") for line in self.forwarded)

    def wait_until_idle(self, timeout: float) -> bool:
        """True once no client connection is being served (the client hung up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._active == 0:
                    return True
            time.sleep(0.02)
        return False

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._active += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            with client:
                client.settimeout(MAX_SECONDS)
                request = _read_request(client)
                if request is None:
                    return
                with self._lock:
                    index = len(self.forwarded)
                    self.forwarded.append(request.split(b"\r\n", 1)[0].decode("latin-1"))
                behaviour = self._behaviours[min(index, len(self._behaviours) - 1)]
                head, body = self._ask_upstream(request)
                getattr(self, "_" + behaviour)(client, head, body)
        except OSError:
            pass  # the client hung up: that is what several tests wait for
        finally:
            with self._lock:
                self._active -= 1

    def _ask_upstream(self, request: bytes) -> tuple[bytes, bytes]:
        with socket.create_connection(self._upstream, timeout=MAX_SECONDS) as upstream:
            upstream.sendall(_with_header(request, b"Connection", b"close"))
            response = bytearray()
            while chunk := upstream.recv(65536):
                response += chunk
        head, _, body = bytes(response).partition(b"\r\n\r\n")
        return head, body

    def _send_body(self, client: socket.socket, data: bytes) -> None:
        client.sendall(data)
        with self._lock:
            self.bytes_sent += len(data)

    def _pass(self, client: socket.socket, head: bytes, body: bytes) -> None:
        client.sendall(_with_header(head + b"\r\n\r\n", b"Connection", b"close"))
        self._send_body(client, body)

    def _drip(self, client: socket.socket, head: bytes, body: bytes) -> None:
        client.sendall(_with_header(head + b"\r\n\r\n", b"Connection", b"close"))
        stop = time.monotonic() + MAX_SECONDS
        for start in range(0, len(body), DRIP_BYTES):
            if time.monotonic() > stop:
                return
            self._send_body(client, body[start : start + DRIP_BYTES])
            time.sleep(DRIP_INTERVAL)

    def _huge(self, client: socket.socket, head: bytes, body: bytes) -> None:
        head = _with_header(head + b"\r\n\r\n", b"Content-Length", str(HUGE_LENGTH).encode())
        client.sendall(_with_header(head, b"Connection", b"close"))
        zeros = bytes(65536)
        stop = time.monotonic() + MAX_SECONDS
        sent = 0
        while sent < HUGE_LENGTH and time.monotonic() < stop:
            self._send_body(client, zeros)
            sent += len(zeros)

    def _error500(self, client: socket.socket, head: bytes, body: bytes) -> None:
        client.sendall(
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\n"
            + f"Content-Length: {len(_ERROR_500)}\r\nConnection: close\r\n\r\n".encode()
            + _ERROR_500
        )

    def _reset(self, client: socket.socket, head: bytes, body: bytes) -> None:
        client.sendall(_with_header(head + b"\r\n\r\n", b"Connection", b"close"))
        self._send_body(client, body[: len(body) // 2])
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _stall(self, client: socket.socket, head: bytes, body: bytes) -> None:
        client.settimeout(MAX_SECONDS)
        with contextlib.suppress(OSError):
            client.recv(1)  # returns when the client hangs up (or after MAX_SECONDS)


def _read_request(client: socket.socket) -> bytes | None:
    data = bytearray()
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def _with_header(message: bytes, name: bytes, value: bytes) -> bytes:
    """``message`` (headers ending in a blank line, then any body) with one header set."""
    head, _, body = message.partition(b"\r\n\r\n")
    lines = [
        line
        for line in head.split(b"\r\n")
        if line.partition(b":")[0].strip().lower() != name.lower()
    ]
    return b"\r\n".join([*lines, name + b": " + value]) + b"\r\n\r\n" + body


@contextlib.contextmanager
def s3_proxy(upstream: str, *behaviours: str) -> Iterator[S3Proxy]:
    proxy = S3Proxy(upstream, behaviours or ("pass",))
    proxy._thread.start()
    try:
        yield proxy
    finally:
        proxy._stopping.set()
        proxy._listener.close()
        proxy._thread.join(timeout=5)
