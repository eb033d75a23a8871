"""The local server over real HTTP: what curl sees must match the deployed API, and no
client (slow, stalled or oversized) can exhaust it or hold up its shutdown."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from localserver import events as build
from localserver.server import LocalServer, response_parts
from runtime import events as event_formats
from tests.corpus import HAM_EXAMPLE, SPAM_EXAMPLE
from tests.fakes import FakeModel, fake_app
from tests.paths import ROOT

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

PROJECT_ROOT = ROOT
JSON = {"Content-Type": "application/json"}


def start(payload_version: str = "1.0", **options) -> LocalServer:
    """A server around a stand-in model, serving from a thread until ``stop``.

    Every client here is 127.0.0.1: the cap per address is raised unless a test sets it
    (tests/localserver/test_localserver_bounds.py tests the cap itself, from several addresses)."""
    options.setdefault("max_per_client", 64)
    local = LocalServer(("127.0.0.1", 0), fake_app()[0], payload_version, **options)
    threading.Thread(target=local.serve_forever, args=(0.05,), daemon=True).start()
    return local


def stop(local: LocalServer) -> None:
    local.shutdown()
    local.server_close()


@pytest.fixture(scope="module", params=["1.0", "2.0"])
def server(request):
    local = start(request.param)
    yield local
    stop(local)


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
    assert body["model"] == FakeModel.model_id


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
    builder = build.http_v2 if payload_version == "2.0" else build.rest_v1
    event = builder(
        "POST",
        "/predict?a=1&a=2",
        headers=[
            ("Content-Type", "text/plain"),
            ("X-Multi", "1"),
            ("X-Multi", "2"),
            ("Cookie", "a=1; b=2"),
        ],
        body="héllo".encode(),
        request_id="r-1",
    )
    source = event_formats.source_of(event)
    assert ("http_v2" if payload_version == "2.0" else "rest_v1") == source.NAME
    request = source.parse(event)
    assert (request.method, request.path, request.body) == ("POST", "/predict", "héllo")
    assert request.header("content-type") == "text/plain"
    assert request.request_id == "r-1"
    if payload_version == "2.0":
        assert event["cookies"] == ["a=1", "b=2"]
        assert event["headers"]["x-multi"] == "1,2"
        assert event["queryStringParameters"] == {"a": "1,2"}
    else:
        assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
        assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}


def test_binary_bodies_travel_base64_encoded():
    event = build.rest_v1("POST", "/predict", body=b"\xff\x00")
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


def spawn(*args: str) -> tuple[subprocess.Popen, int]:
    """`python -m localserver ARGS` on a free port; returns the process and its port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "localserver", "--port", "0", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner = process.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)", banner)
    if not match:
        process.kill()
        raise AssertionError(banner + process.communicate()[1])
    return process, int(match.group(1))


def at(port: int) -> Any:
    class Address:
        server_address = ("127.0.0.1", port)

    return Address


def stalled_client(
    port: int, data: bytes = b"POST /predict HTTP/1.1\r\nHost: x\r\n", source: str = "127.0.0.1"
) -> socket.socket:
    """A client that sends the start of a request and then nothing (from ``source``: any
    127.x.y.z address is this machine)."""
    client = socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
    client.sendall(data)
    return client


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_module_entry_point_serves_and_shuts_down_gracefully(small_model_path, stop_signal):
    """`python -m localserver`: the real command, a real request, then Ctrl-C (or TERM)."""
    process, port = spawn("--model", str(small_model_path), "--payload-version", "2.0")
    try:
        status, _, raw = fetch(at(port), "GET", "/health")
        assert (status, json.loads(raw)["source"]["location"]) == (200, str(small_model_path))
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


@pytest.mark.slow
def test_sigterm_exits_within_the_grace_period_despite_stalled_clients(small_model_path):
    process, port = spawn(
        "--model",
        str(small_model_path),
        "--workers",
        "4",
        "--request-timeout",
        "60",
        "--shutdown-grace",
        "1",
    )
    clients = [stalled_client(port) for _ in range(12)]  # more than the workers
    try:
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        took = time.monotonic() - started
    finally:
        for client in clients:
            client.close()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert took < 5, took  # grace 1 s, plus the cut-off and the exit
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_without_a_usable_model_the_server_exits_non_zero_and_says_how_to_make_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    done = subprocess.run(
        [sys.executable, "-m", "localserver", "--port", "0", "--model", str(tmp_path / "no.npz")],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no usable model" in done.stderr
    assert "no.npz" in done.stderr
    assert "spam-export --recipe best --data" in done.stderr
    assert "Serving on" not in done.stderr
    # It exits: the log line of the failed load promises no retry.
    [failed] = [json.loads(line) for line in done.stdout.splitlines()]
    assert failed["msg"] == "model_unavailable"
    assert "retry_in_s" not in failed
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("port", ["99999", "-1"])
def test_a_port_out_of_range_is_one_line(port):
    done = subprocess.run(
        [sys.executable, "-m", "localserver", "--port", port],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == f"error: --port must be from 0 to 65535, got {port}\n"


@pytest.mark.slow
def test_module_entry_point_reports_a_busy_port(small_model_path):
    with LocalServer(("127.0.0.1", 0), lambda e, c: {}, "1.0") as busy:
        port = busy.server_address[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "localserver",
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
        busy.server_close()
    assert done.returncode == 1
    assert "cannot listen" in done.stderr


def wait_for(condition: Any, seconds: float = 10) -> None:
    give_up = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < give_up, "condition not reached"
        time.sleep(0.01)


def test_stalled_clients_hold_at_most_the_workers_and_each_gets_one_deadline():
    """Four stalled clients from one address hold one of two workers (the cap per
    address, issue 20); the others are answered 503 at once, the one in service 408 at
    its deadline, and a request from another address is served meanwhile."""
    threads_before = threading.active_count()
    local = start(workers=2, request_timeout=0.3, max_per_client=1)
    try:
        assert threading.active_count() - threads_before <= 3  # two workers, one accept loop
        port = local.server_address[1]
        stalled = [stalled_client(port, source="127.0.0.2") for _ in range(4)]
        started = time.monotonic()
        status, _, raw = fetch(local, "POST", "/predict", '{"text": "a prize"}', JSON)
        waited = time.monotonic() - started
        assert (status, json.loads(raw)["label"]) == (200, "spam")
        assert threading.active_count() - threads_before <= 3
        assert waited < 10, waited
        answers = []
        for client in stalled:
            client.settimeout(10)
            answers.append(client.recv(1024)[:13])
            client.close()
        assert sorted(answers) == [b"HTTP/1.1 408 "] + [b"HTTP/1.1 503 "] * 3, answers
    finally:
        stop(local)


def test_a_client_dripping_bytes_is_cut_off_at_its_deadline():
    local = start(request_timeout=0.5)
    try:
        client = stalled_client(local.server_address[1])
        client.settimeout(10)
        started = time.monotonic()
        answer = b""
        with contextlib.suppress(OSError):
            for _ in range(40):  # one header byte every 0.1 s: no single read waits long
                client.sendall(b"X")
                time.sleep(0.1)
        answer = client.recv(1024)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert time.monotonic() - started < 5
    finally:
        client.close()
        stop(local)


def test_a_full_queue_is_answered_503_at_once():
    local = start(workers=1, request_timeout=5)
    try:
        port = local.server_address[1]
        stalled = [stalled_client(port)]  # the worker's
        wait_for(lambda: local.busy() and local.queued() == 0)
        stalled += [stalled_client(port) for _ in range(4)]  # the queue's
        wait_for(lambda: local.queued() == 4)
        status, _, raw = fetch(local, "GET", "/health")
        assert status == 503
        assert b"busy" in raw
        for client in stalled:
            client.close()
    finally:
        stop(local)


def test_drain_lets_a_request_in_flight_finish_and_cuts_off_stalled_ones():
    local = start(request_timeout=30)
    port = local.server_address[1]
    body = json.dumps({"text": "a prize"}).encode()
    in_flight = stalled_client(
        port,
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:5],
    )
    idle = stalled_client(port)
    time.sleep(0.2)
    local.shutdown()  # what Ctrl-C does to serve_forever
    finisher = threading.Timer(0.2, in_flight.sendall, args=(body[5:],))
    finisher.start()
    started = time.monotonic()
    local.drain(grace=0.8)
    took = time.monotonic() - started
    finisher.join()
    in_flight.settimeout(5)
    idle.settimeout(5)
    answer = in_flight.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert b'"label":"spam"' in answer
    assert idle.recv(1024).startswith(b"HTTP/1.1 408 ")
    assert took < 3, took
    in_flight.close()
    idle.close()


def test_expect_100_continue_is_answered_before_the_body():
    body = json.dumps({"text": "x" * 5000 + " prize"}).encode()
    local = start()
    try:
        client = socket.create_connection(local.server_address[:2], timeout=5)
        client.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        assert client.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        client.sendall(body)
        response = b""
        while chunk := client.recv(4096):
            response += chunk
        assert response.startswith(b"HTTP/1.1 200 ")
        assert response.endswith(b'"model":"' + FakeModel.model_id.encode() + b'"}')
        client.close()
    finally:
        stop(local)


def test_expect_100_continue_with_a_body_over_lambdas_limit_is_413_without_continue():
    local = start()
    try:
        client = socket.create_connection(local.server_address[:2], timeout=5)
        client.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 7000000\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert client.recv(1024).startswith(b"HTTP/1.1 413 ")
        client.close()
    finally:
        stop(local)


@pytest.mark.parametrize(
    "partial",
    [
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n",  # headers cut
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\na prize",  # body cut
    ],
    ids=["headers", "body"],
)
def test_a_request_cut_short_by_the_client_never_reaches_the_handler(partial, capsys):
    adapter, model = fake_app()
    capsys.readouterr()
    local = LocalServer(("127.0.0.1", 0), adapter, "1.0")
    threading.Thread(target=local.serve_forever, args=(0.05,), daemon=True).start()
    try:
        client = stalled_client(local.server_address[1], partial)
        wait_for(local.busy)
        client.close()
        wait_for(lambda: not local.busy())
        status, _, _ = fetch(local, "POST", "/predict", "a prize", {"Content-Type": "text/plain"})
        assert status == 200
        assert model.seen == [["a prize"]]  # only the complete request
        handled = [line for line in capsys.readouterr().out.splitlines() if '"request"' in line]
        assert len(handled) == 1, handled
    finally:
        stop(local)
