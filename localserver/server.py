"""Serve the Lambda handler over HTTP on your own machine, without AWS or Docker.

    python -m localserver [--port 8080] [--model artifacts/model.npz] [--payload-version 1.0]
                          [--reports-dir DIR] [--pointer PATH --model-refresh-s N]

Each HTTP request becomes the API Gateway proxy event the deployed function would get,
and the handler's proxy response becomes the HTTP response. A fixed number of worker
threads serve one request per connection, each within one deadline, so stalled clients
can neither exhaust threads nor hold up a shutdown for longer than the grace period.

With ``--reports-dir``, POST /feedback stores reports in that directory. The server
plays API Gateway's part for loopback clients only: it attaches the reporter (the
X-Reporter header, or "local") where API Gateway would put an authenticated caller, so
reports from localhost need no key, and reports from anywhere else are refused (401).

With ``--pointer PATH``, the server follows a pointer file (the learner's pointer format,
written by ``exporter/learn.py --pointer PATH``) as a deployed function follows
MODEL_POINTER_S3_URI: a model the learner promotes, or a rollback, is served within
``--model-refresh-s`` seconds, without a restart (runtime/pointer_file.py).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import ipaddress
import math
import os
import queue
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import urlsplit

from localserver import events
from runtime.adapter import create_adapter
from runtime.config import LAMBDA_MAX_BODY_BYTES, ConfigError, Settings, pointer_file_source
from runtime.errors import ModelUnavailable
from runtime.model_source import ModelHolder
from runtime.reports import DirectoryReportStore

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

PAYLOAD_VERSIONS = ("1.0", "2.0")
REPORTER_HEADER = "X-Reporter"
LOCAL_REPORTER = "local"
DEFAULT_WORKERS = 8
DEFAULT_REQUEST_TIMEOUT = 10.0
DEFAULT_SHUTDOWN_GRACE = 3.0
# Request line and headers together, at most (API Gateway's REST APIs allow 10,240 bytes
# of headers); more is answered 431.
MAX_HEADER_BYTES = 32 * 1024


def _canned(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (status, len(body), body)
    )


BUSY_BODY = b'{"message": "server busy, try again"}'
BUSY_RESPONSE = _canned(b"503 Service Unavailable", BUSY_BODY)
CROWDED_RESPONSE = _canned(
    b"503 Service Unavailable", b'{"message": "too many connections from your address"}'
)
# What API Gateway answers when the integration outlives its timeout.
TIMED_OUT_RESPONSE = _canned(b"504 Gateway Timeout", b'{"message": "Endpoint request timed out"}')
EXPORT_HINT = (
    "make one with: spam-export --recipe best --data path/to/spam.csv "
    "(writes artifacts/model.npz), or pass --model PATH"
)


class LocalContext:
    """The part of the Lambda context object the handler reads."""

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id


def response_parts(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body from a proxy response, as API Gateway reads it."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return 502, [("Content-Type", "application/json")], b'{"message": "Internal server error"}'
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or ())
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return result["statusCode"], headers, data


class _EndAwareReader:
    """The request stream, noting when it ended: headers cut short by the client hanging up
    (or by the deadline) parse like complete ones, and must not reach the handler."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.ended = False
        self._line_bytes = 0  # the request line and headers are the only lines read

    def readline(self, limit: int = -1) -> bytes:
        room = MAX_HEADER_BYTES - self._line_bytes
        if room <= 0:
            # parse_request answers 431 to an HTTPException while reading headers.
            raise http.client.HTTPException(f"headers past {MAX_HEADER_BYTES} bytes")
        line: bytes = self._stream.readline(room if limit < 0 else min(limit, room))
        self._line_bytes += len(line)
        if not line.endswith(b"\n"):
            if self._line_bytes >= MAX_HEADER_BYTES:
                raise http.client.HTTPException(f"headers past {MAX_HEADER_BYTES} bytes")
            self.ended = True
        return line

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        if size < 0 or len(data) < size:
            self.ended = True
        return data

    def close(self) -> None:
        self._stream.close()


class ProxyRequestHandler(BaseHTTPRequestHandler):
    """Turns one HTTP request into one handler invocation, then closes the connection."""

    server: LocalServer
    server_version = "sms-spam-local"
    protocol_version = "HTTP/1.1"  # needed to answer Expect: 100-continue
    timeout = 5  # per socket operation; the whole request has the server's deadline

    def setup(self) -> None:
        super().setup()
        self.rfile = _EndAwareReader(self.rfile)  # type: ignore[assignment]

    def do_GET(self) -> None:
        self._invoke()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def handle_expect_100(self) -> bool:
        """curl sends bodies over 1 KB only after "100 Continue": refuse too large first."""
        if self._length() > LAMBDA_MAX_BODY_BYTES:
            self._reply(413, b'{"message": "Request Entity Too Large"}')
            return False
        return super().handle_expect_100()

    def _length(self) -> int:
        """Content-Length, 0 when absent, -1 when invalid."""
        value = self.headers.get("Content-Length")
        try:
            return int(value) if value else 0
        except ValueError:
            return -1

    def _invoke(self) -> None:
        self.close_connection = True
        if self.headers.get("Transfer-Encoding"):
            self._reply(411, b'{"message": "send a Content-Length, not chunked encoding"}')
            return
        if len(self.headers.get_all("Content-Length") or ()) > 1:  # request smuggling's tool
            self._reply(400, b'{"message": "more than one Content-Length"}')
            return
        length = self._length()
        if length < 0:
            self._reply(400, b'{"message": "invalid Content-Length"}')
            return
        if length > LAMBDA_MAX_BODY_BYTES:  # Lambda's limit: larger never reach the function
            self._reply(413, b'{"message": "Request Entity Too Large"}')
            return
        body = self.rfile.read(length) if length else b""
        if self.server.expired(self.connection):
            self._reply(408, b'{"message": "Request Timeout"}')
            return
        if self.rfile.ended:  # type: ignore[attr-defined]
            return  # the client hung up before the request was complete: nobody to answer
        if not self.server.begin(self.connection, HANDLING):
            self._reply(408, b'{"message": "Request Timeout"}')
            return
        request_id = str(uuid.uuid4())
        common: dict[str, Any] = {
            "headers": list(self.headers.items()),
            "body": body or None,
            "request_id": request_id,
            "source_ip": self.client_address[0],
        }
        caller = self._local_caller()
        if self.server.payload_version == "2.0":
            event = events.http_v2(
                self.command, self.path, stage="$default", iam_user_arn=caller, **common
            )
        else:
            event = events.rest_v1(
                self.command, self.path, stage="local", api_key_id=caller, **common
            )
        try:
            result = self.server.handler(event, LocalContext(request_id))
        except Exception:  # as API Gateway does when the function fails
            result = None
        if not self.server.begin(self.connection, WRITING):
            return  # past the deadline: the server has answered 504 already
        status, headers, data = response_parts(result)
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self._end_headers(len(data))
        if self.command != "HEAD":
            self.wfile.write(data)

    def _local_caller(self) -> str | None:
        """The reporter of a loopback client (X-Reporter, else "local"); None for others.

        A loopback peer is not enough: a web page the user has open can reach this port
        too. Its requests name another Origin, or (DNS rebinding) another Host.
        """
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            return None
        origin = self.headers.get("Origin")
        if not _is_loopback_host(self.headers.get("Host")) or (
            origin is not None and not _is_loopback_host(urlsplit(origin).netloc)
        ):
            return None
        return (self.headers.get(REPORTER_HEADER) or "").strip() or LOCAL_REPORTER

    def _reply(self, status: int, body: bytes) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client may be gone (or cut off) already
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self._end_headers(len(body))
            self.wfile.write(body)

    def _end_headers(self, length: int) -> None:
        self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the handler already writes one JSON line per request


def _is_loopback_host(host: str | None) -> bool:
    """Whether an HTTP Host (or an Origin's netloc) names this machine's loopback."""
    if not host:
        return False
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:
        return False
    if name == "localhost":
        return True
    try:
        return name is not None and ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


QUEUED, READING, HANDLING, WRITING, ANSWERED = range(5)  # a connection's phases


class _Connection:
    """What the server knows of one accepted connection until it is closed."""

    __slots__ = ("address", "cut", "deadline", "phase")

    def __init__(self, address: str, deadline: float) -> None:
        self.address = address
        self.deadline = deadline
        self.phase = QUEUED
        self.cut = False  # the deadline has passed and the server acted on it


class LocalServer(HTTPServer):
    """An HTTP server with ``workers`` threads and one deadline per connection.

    The deadline starts when the connection is accepted, so it covers waiting in the
    queue, reading the request and answering it. The accept loop queues connections for
    the workers (a full queue is answered 503 at once, as is a client address that
    already holds ``max_per_client`` connections); the loop's idle ticks act on
    connections past their deadline: a queued one is answered 503, one being read is
    cut off (its worker answers 408), one whose handler is still running is answered
    504 as API Gateway would (the handler's late result is dropped), and one whose
    answer the client reads too slowly is closed.
    """

    request_queue_size = 128  # the default 5 drops bursts of connections (1 s SYN retries)

    def __init__(
        self,
        address: tuple[str, int],
        handler: Handler,
        payload_version: str,
        *,
        workers: int = DEFAULT_WORKERS,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_per_client: int | None = None,
    ) -> None:
        if payload_version not in PAYLOAD_VERSIONS:
            raise ValueError(f"payload version must be one of {PAYLOAD_VERSIONS}")
        if workers < 1 or request_timeout <= 0:
            raise ValueError("workers and request_timeout must be positive")
        if max_per_client is not None and max_per_client < 1:
            raise ValueError("max_per_client must be positive")
        self.handler = handler
        self.payload_version = payload_version
        self.request_timeout = request_timeout
        # One address may hold half the workers: the other half stays for everyone else.
        self.max_per_client = max_per_client or max(1, workers // 2)
        self._waiting: queue.Queue[tuple[socket.socket, Any] | None] = queue.Queue(workers * 4)
        self._connections: dict[socket.socket, _Connection] = {}  # accepted, not yet closed
        self._per_client: dict[str, int] = {}
        self._latest_deadline = float("inf")  # lowered by drain()
        self._lock = threading.Lock()
        self._workers = [
            threading.Thread(target=self._work, name=f"worker-{n}", daemon=True)
            for n in range(workers)
        ]
        super().__init__(address, ProxyRequestHandler)  # binds: may raise OSError
        for worker in self._workers:
            worker.start()

    # Called by serve_forever in the accept thread.

    def process_request(self, request: Any, client_address: Any) -> None:
        host = str(client_address[0])
        with self._lock:
            crowded = self._per_client.get(host, 0) >= self.max_per_client
            if not crowded:
                self._per_client[host] = self._per_client.get(host, 0) + 1
                deadline = min(time.monotonic() + self.request_timeout, self._latest_deadline)
                self._connections[request] = _Connection(host, deadline)
        if crowded:
            _send_and_close(request, CROWDED_RESPONSE)
            self.shutdown_request(request)
            return
        try:
            self._waiting.put_nowait((request, client_address))
        except queue.Full:
            self._forget(request)
            _send_and_close(request, BUSY_RESPONSE)
            self.shutdown_request(request)

    def service_actions(self) -> None:
        self.cut_off_expired()

    # The workers.

    def _work(self) -> None:
        while True:
            item = self._waiting.get()
            if item is None:
                return
            connection, address = item
            try:
                if self.begin(connection, READING):
                    self.finish_request(connection, address)
            except Exception as exc:  # one broken connection must not end the worker
                print(f"request failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            finally:
                self._forget(connection)
                self.shutdown_request(connection)

    def begin(self, connection: socket.socket, phase: int) -> bool:
        """Move a connection to ``phase``; False once the deadline has been acted on."""
        with self._lock:
            state = self._connections.get(connection)
            if state is None or state.cut or state.phase == ANSWERED:
                return False
            state.phase = phase
            return True

    def _forget(self, connection: socket.socket) -> None:
        with self._lock:
            state = self._connections.pop(connection, None)
            if state is not None:
                left = self._per_client[state.address] - 1
                if left:
                    self._per_client[state.address] = left
                else:
                    del self._per_client[state.address]

    def expired(self, connection: socket.socket) -> bool:
        with self._lock:
            state = self._connections.get(connection)
            return state is None or state.cut

    def cut_off_expired(self) -> None:
        """Act on connections past their deadline (see the class's docstring)."""
        now = time.monotonic()
        due = []
        with self._lock:
            for connection, state in self._connections.items():
                if state.deadline <= now and not state.cut:
                    state.cut = True
                    due.append((connection, state.phase))
                    if state.phase in (QUEUED, HANDLING):
                        state.phase = ANSWERED
        for connection, phase in due:
            if phase == READING:  # the blocked worker wakes up and answers 408
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RD)
            elif phase == WRITING:  # a client reading the answer too slowly: the write fails
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            else:
                _send_and_close(
                    connection, BUSY_RESPONSE if phase == QUEUED else TIMED_OUT_RESPONSE
                )

    def server_close(self) -> None:
        super().server_close()
        for _ in self._workers:  # each worker ends at the first None it takes
            with contextlib.suppress(queue.Full):
                self._waiting.put_nowait(None)

    def queued(self) -> int:
        """Connections accepted and waiting for a worker."""
        return self._waiting.qsize()

    def busy(self) -> bool:
        with self._lock:
            return any(state.phase != ANSWERED for state in self._connections.values())

    def drain(self, grace: float) -> None:
        """Stop accepting; requests in flight (and accepted ones) get ``grace`` seconds."""
        self.socket.close()
        with self._lock:
            self._latest_deadline = time.monotonic() + grace
            for state in self._connections.values():
                state.deadline = min(state.deadline, self._latest_deadline)
        give_up = self._latest_deadline + 1.0
        while self.busy() and time.monotonic() < give_up:
            self.cut_off_expired()
            time.sleep(0.05)
        self.server_close()


def _send_and_close(connection: socket.socket, response: bytes) -> None:
    """Answer without waiting on the client, then end our side (the worker that owns the
    connection closes it; closing now could reset it before the client reads this)."""
    with contextlib.suppress(OSError):
        connection.setblocking(False)
        connection.send(response)
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m localserver", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="model file to serve (sets MODEL_PATH); default: MODEL_S3_URI, MODEL_PATH or the "
        "bundled artifacts/model.npz",
    )
    parser.add_argument(
        "--emf",
        action="store_true",
        help="also print each request's CloudWatch metrics (EMF) line, as the function logs it",
    )
    parser.add_argument(
        "--payload-version",
        choices=PAYLOAD_VERSIONS,
        default="1.0",
        help="event format to build: 1.0 = REST API, 2.0 = HTTP API / Function URL "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="threads serving requests; more clients wait (default: %(default)s)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="SECONDS",
        help="deadline for one connection: waiting for a worker, receiving and answering "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-per-client",
        type=int,
        default=None,
        metavar="N",
        help="connections one client address may hold; more are answered 503 "
        "(default: half the workers)",
    )
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=DEFAULT_SHUTDOWN_GRACE,
        metavar="SECONDS",
        help="on Ctrl-C or SIGTERM, how long requests in flight may still take "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--reports-dir",
        metavar="DIR",
        help="store POST /feedback reports in DIR, one file each (created if missing); "
        "default: REPORTS_S3_URI, or no report store",
    )
    parser.add_argument(
        "--pointer",
        metavar="PATH",
        help="follow the model pointer file PATH (as written by exporter/learn.py --pointer): "
        "serve the model it names, and the next one when it moves",
    )
    parser.add_argument(
        "--model-refresh-s",
        metavar="N",
        help="with --pointer: look at the pointer at most every N seconds (sets "
        "MODEL_REFRESH_S; default 60)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not 0 <= args.port <= 65535:
        print(f"error: --port must be from 0 to 65535, got {args.port}", file=sys.stderr)
        return 2
    if args.model and args.pointer:
        print("error: give --model or --pointer, not both", file=sys.stderr)
        return 2
    if args.model:
        os.environ["MODEL_PATH"] = args.model
        os.environ.pop("MODEL_S3_URI", None)
        os.environ.pop("MODEL_S3_VERSION", None)
    if args.pointer:  # the pointer file is the model's only source
        for name in ("MODEL_S3_URI", "MODEL_S3_VERSION", "MODEL_PATH", "MODEL_POINTER_S3_URI"):
            os.environ.pop(name, None)
    if args.model_refresh_s is not None:
        os.environ["MODEL_REFRESH_S"] = args.model_refresh_s
    try:
        settings = Settings.from_env()._replace(emit_metrics=args.emf)
        if args.pointer:
            source = pointer_file_source(args.pointer, settings.model_sha256)
            settings = settings._replace(source=source)
    except ConfigError as exc:
        print(f"error: invalid configuration: {exc}", file=sys.stderr)
        return 2
    reports = None
    if args.reports_dir:
        try:
            os.makedirs(args.reports_dir, exist_ok=True)
        except OSError as exc:
            print(f"error: cannot use --reports-dir {args.reports_dir}: {exc}", file=sys.stderr)
            return 2
        reports = DirectoryReportStore(args.reports_dir)
    # Without a model the server exits: nothing is retried, and the log line says none is.
    holder = ModelHolder.from_settings(settings, first_delay=math.inf)
    try:
        holder.get()  # the cold start, as on Lambda
    except ModelUnavailable as exc:
        print(f"error: no usable model: {exc.message}\n{EXPORT_HINT}", file=sys.stderr)
        return 2
    try:
        server = LocalServer(
            (args.host, args.port),
            create_adapter(settings, holder, reports),
            args.payload_version,
            workers=args.workers,
            request_timeout=args.request_timeout,
            max_per_client=args.max_per_client,
        )
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    host, port = server.server_address[:2]
    print(
        f"Serving on http://{host!s}:{port} (payload {args.payload_version}, model "
        f"{settings.source.describe()}, {args.workers} workers, {args.request_timeout:g} s "
        "per request); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        for stop_signal in (signal.SIGINT, signal.SIGTERM):  # the grace period is short
            signal.signal(stop_signal, signal.SIG_IGN)
        print(
            f"Shutting down: requests in flight get up to {args.shutdown_grace:g} s",
            file=sys.stderr,
            flush=True,
        )
    finally:
        server.drain(args.shutdown_grace)
    return 0
