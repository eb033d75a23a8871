"""The local server over real HTTP: what curl sees must match the deployed API."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from runtime import events as event_formats
from runtime.config import ModelSource, Settings
from runtime.handler import create_adapter
from runtime.serve import LocalServer, build_event, response_parts
from tests.corpus import HAM_EXAMPLE, SPAM_EXAMPLE

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", params=["1.0", "2.0"])
def server(request, small_model_path):
    app = create_adapter(Settings(source=ModelSource("path", str(small_model_path))))
    local = LocalServer(("127.0.0.1", 0), app, request.param)
    thread = threading.Thread(target=local.serve_forever, daemon=True)
    thread.start()
    yield local
    local.shutdown()
    local.server_close()
    thread.join()


def fetch(
    server, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        data = body.encode() if isinstance(body, str) else body
        connection.request(method, path, body=data, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def curl_d(server, path: str, data: str) -> tuple[int, dict]:
    """What `curl -X POST URL -d DATA` sends: a form content type with the raw data."""
    status, _, body = fetch(
        server, "POST", path, data, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    return status, json.loads(body)


def test_the_readme_curl_works(server):
    status, body = curl_d(server, "/predict", '{"text": "WINNER!! claim your free prize now"}')
    assert status == 200
    assert body["label"] == "spam"
    assert set(body["probabilities"]) == {"ham", "spam"}
    assert len(body["model"]) == 64


def test_predict_json_and_batch(server):
    status, headers, raw = fetch(
        server,
        "POST",
        "/predict",
        json.dumps({"texts": [SPAM_EXAMPLE, HAM_EXAMPLE, SPAM_EXAMPLE]}),
        {"Content-Type": "application/json"},
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(raw)
    labels = [p["label"] for p in json.loads(raw)["predictions"]]
    assert labels == ["spam", "ham", "spam"]


def test_text_plain_and_utf8(server):
    status, _, raw = fetch(
        server, "POST", "/predict", "café 東京 " + HAM_EXAMPLE, {"Content-Type": "text/plain"}
    )
    assert status == 200
    assert json.loads(raw)["label"] == "ham"


def test_health(server):
    status, _, raw = fetch(server, "GET", "/health")
    body = json.loads(raw)
    assert status == 200
    assert body["classes"] == ["ham", "spam"]
    assert body["source"]["kind"] == "path"


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "code"),
    [
        ("POST", "/predict", "{", {"Content-Type": "application/json"}, 400, "invalid_json"),
        ("POST", "/predict", '{"texts": []}', {"Content-Type": "application/json"}, 400, None),
        ("POST", "/predict", None, {}, 400, "empty_body"),
        ("POST", "/predict", b"\xff\xfe\x00", {"Content-Type": "text/plain"}, 400, "invalid_utf8"),
        ("POST", "/predict", "<a/>", {"Content-Type": "application/xml"}, 415, None),
        ("POST", "/nope", "{}", {}, 404, "not_found"),
        ("GET", "/predict", None, {}, 405, "method_not_allowed"),
        ("DELETE", "/health", None, {}, 405, "method_not_allowed"),
        ("POST", "/predict", "x" * (1024 * 1024 + 1), {}, 413, "payload_too_large"),
    ],
)
def test_errors(server, method, path, body, headers, status, code):
    got_status, got_headers, raw = fetch(server, method, path, body, headers)
    assert got_status == status
    error = json.loads(raw)["error"]
    assert code is None or error["code"] == code
    if status == 405:
        assert "Allow" in got_headers


def test_options_and_head(server):
    status, headers, raw = fetch(server, "OPTIONS", "/predict")
    assert (status, headers["Allow"], raw) == (204, "OPTIONS, POST", b"")
    status, headers, raw = fetch(server, "HEAD", "/health")
    assert status == 405
    assert raw == b""


def test_query_strings_do_not_change_the_route(server):
    status, _, _ = fetch(server, "GET", "/health?verbose=1&x=2")
    assert status == 200


def test_twenty_concurrent_clients(server):
    texts = [SPAM_EXAMPLE if i % 2 else HAM_EXAMPLE for i in range(20)]

    def one(i: int) -> tuple[int, str]:
        status, _, raw = fetch(
            server,
            "POST",
            "/predict",
            json.dumps({"text": texts[i]}),
            {"Content-Type": "application/json"},
        )
        return status, json.loads(raw)["label"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert results == [(200, "spam" if i % 2 else "ham") for i in range(20)]


@pytest.mark.parametrize("payload_version", ["1.0", "2.0"])
def test_built_events_are_the_format_the_handler_expects(payload_version):
    event = build_event(
        "POST",
        "/predict?a=1&a=2",
        [
            ("Content-Type", "text/plain"),
            ("X-Multi", "1"),
            ("X-Multi", "2"),
            ("Cookie", "a=1; b=2"),
        ],
        "héllo".encode(),
        payload_version=payload_version,
        request_id="r-1",
    )
    kind = event_formats.kind_of(event)
    assert kind == ("http_v2" if payload_version == "2.0" else "rest_v1")
    request = event_formats.parse(kind, event)
    assert (request.method, request.path, request.body) == ("POST", "/predict", "héllo")
    assert request.headers["content-type"] == "text/plain"
    assert request.request_id == "r-1"
    if payload_version == "2.0":
        assert event["cookies"] == ["a=1", "b=2"]
        assert event["headers"]["x-multi"] == "1,2"
        assert event["queryStringParameters"] == {"a": "1,2"}
    else:
        assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
        assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}


def test_binary_bodies_travel_base64_encoded():
    event = build_event("POST", "/predict", [], b"\xff\x00", payload_version="1.0", request_id="r")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"


def test_malformed_handler_results_become_502_like_api_gateway():
    assert response_parts({"statusCode": "200", "body": ""})[0] == 502
    assert response_parts(None)[0] == 502
    status, headers, body = response_parts(
        {
            "statusCode": 201,
            "headers": {"A": "1"},
            "multiValueHeaders": {"B": ["2", "3"]},
            "body": base64.b64encode(b"\x00").decode(),
            "isBase64Encoded": True,
            "cookies": ["c=1"],
        }
    )
    assert (status, body) == (201, b"\x00")
    assert headers == [("A", "1"), ("B", "2"), ("B", "3"), ("Set-Cookie", "c=1")]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_module_entry_point_serves_and_shuts_down_gracefully(small_model_path, stop_signal):
    """`python -m runtime.serve`: the real command, a real request, then Ctrl-C (or TERM)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runtime.serve",
            "--port",
            "0",
            "--model",
            str(small_model_path),
            "--payload-version",
            "2.0",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", banner)
        assert match, banner
        port = int(match.group(1))
        assert "payload 2.0" in banner
        assert str(small_model_path) in banner

        class Address:
            server_address = ("127.0.0.1", port)

        status, body = curl_d(Address, "/predict", json.dumps({"text": SPAM_EXAMPLE}))
        assert (status, body["label"]) == (200, "spam")

        process.send_signal(stop_signal)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "Shutting down" in stderr
    assert "Traceback" not in stderr
    log_lines = [json.loads(line) for line in stdout.splitlines()]
    assert [r["msg"] for r in log_lines] == ["model_loaded", "request"]
    assert log_lines[1]["event"] == "http_v2"
    assert SPAM_EXAMPLE not in stdout


def test_module_entry_point_reports_a_busy_port(small_model_path):
    with LocalServer(("127.0.0.1", 0), lambda e, c: {}, "1.0") as busy:
        port = busy.server_address[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "runtime.serve",
                "--port",
                str(port),
                "--model",
                str(small_model_path),
            ],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "cannot listen" in done.stderr
