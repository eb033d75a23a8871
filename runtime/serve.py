"""Serve the Lambda handler over HTTP on your own machine, without AWS or Docker.

    python -m runtime.serve [--port 8080] [--model artifacts/model.npz] [--payload-version 1.0]

Each HTTP request becomes the API Gateway proxy event the deployed function would get,
and the handler's proxy response becomes the HTTP response, so a client cannot tell the
difference (apart from TLS and the platform's own limits).
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# Lambda's synchronous invocation limit: larger requests never reach the function.
MAX_REQUEST_BYTES = 6 * 1024 * 1024
PAYLOAD_VERSIONS = ("1.0", "2.0")


class LocalContext:
    """The parts of the Lambda context object the handler reads."""

    function_name = "sms-spam-local"
    memory_limit_in_mb = 512

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def build_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    payload_version: str,
    request_id: str,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The proxy event API Gateway would send for this HTTP request."""
    url = urlsplit(target)
    path = url.path or "/"
    query = parse_qs(url.query, keep_blank_values=True)
    try:
        text: str | None = body.decode("utf-8") if body else None
        is_base64 = False
    except UnicodeDecodeError:  # binary bodies travel base64-encoded, as API Gateway does
        text, is_base64 = base64.b64encode(body).decode("ascii"), True
    now = time.time()
    if payload_version == "2.0":
        joined: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in headers:
            key = name.lower()
            if key == "cookie":
                cookies.extend(part.strip() for part in value.split(";") if part.strip())
                continue
            joined[key] = f"{joined[key]},{value}" if key in joined else value
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": url.query,
            "headers": joined,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": "localhost",
                "domainPrefix": "localhost",
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": joined.get("user-agent", ""),
                },
                "requestId": request_id,
                "routeKey": "$default",
                "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
            "isBase64Encoded": is_base64,
        }
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = {k: ",".join(v) for k, v in query.items()}
        if text is not None:
            event["body"] = text
        return event

    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/local{path}",
            "stage": "local",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": single.get("User-Agent")},
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


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


class ProxyRequestHandler(BaseHTTPRequestHandler):
    """Turns each HTTP request into one handler invocation."""

    server_version = "sms-spam-local"
    timeout = 10  # seconds a silent client may hold a thread (and delay shutdown)

    def do_GET(self) -> None:
        self._invoke()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def _invoke(self) -> None:
        server: LocalServer = self.server  # type: ignore[assignment]
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self._reply(411, b'{"message": "send a Content-Length, not chunked encoding"}')
            return
        try:
            length = int(length_header) if length_header else 0
        except ValueError:
            length = -1
        if length < 0:
            self._reply(400, b'{"message": "invalid Content-Length"}')
            return
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            self._reply(413, b'{"message": "Request Entity Too Large"}')
            return
        body = self.rfile.read(length) if length else b""
        request_id = str(uuid.uuid4())
        event = build_event(
            self.command,
            self.path,
            list(self.headers.items()),
            body,
            payload_version=server.payload_version,
            request_id=request_id,
            source_ip=self.client_address[0],
        )
        try:
            result = server.handler(event, LocalContext(request_id))
        except Exception:  # as API Gateway does when the function fails
            result = None
        status, headers, data = response_parts(result)
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the handler already writes one JSON line per request


class LocalServer(ThreadingHTTPServer):
    # In-flight requests finish on shutdown: server_close() joins non-daemon threads.
    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # the default 5 drops bursts of connections (1 s SYN retries)

    def __init__(self, address: tuple[str, int], handler: Handler, payload_version: str) -> None:
        if payload_version not in PAYLOAD_VERSIONS:
            raise ValueError(f"payload version must be one of {PAYLOAD_VERSIONS}")
        self.handler = handler
        self.payload_version = payload_version
        super().__init__(address, ProxyRequestHandler)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m runtime.serve", description=__doc__.split("\n\n")[0]
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
        "--payload-version",
        choices=PAYLOAD_VERSIONS,
        default="1.0",
        help="event format to build: 1.0 = REST API, 2.0 = HTTP API / Function URL "
        "(default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.model:
        os.environ["MODEL_PATH"] = args.model
        os.environ.pop("MODEL_S3_URI", None)
        os.environ.pop("MODEL_S3_VERSION", None)
    from runtime import handler  # the cold start: settings and model, as on Lambda

    try:
        server = LocalServer((args.host, args.port), handler.lambda_handler, args.payload_version)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    host, port = server.server_address[:2]
    source = handler.APP.api.holder.source.describe()
    print(
        f"Serving on http://{host}:{port} (payload {args.payload_version}, model {source}); "
        "Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Shutting down: finishing requests in flight", file=sys.stderr, flush=True)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
