"""The local server's POST /feedback: reports from localhost need no key, others are refused."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from localserver.server import LocalServer
from runtime import reports
from runtime.adapter import create_adapter
from runtime.config import Settings
from runtime.model_source import ModelHolder
from runtime.reports import DirectoryReportStore
from tests.fakes import FAKE_SOURCE, FakeModel
from tests.localserver.test_localserver import at, fetch, spawn

JSON = {"Content-Type": "application/json"}
TEXT = "Your USPS parcel is on hold, confirm at https://x.example/p"


def serve(reports_dir: Path, payload_version: str, host: str = "127.0.0.1") -> LocalServer:
    app = create_adapter(
        Settings(source=FAKE_SOURCE),
        ModelHolder(FakeModel, FAKE_SOURCE),
        DirectoryReportStore(str(reports_dir)),
    )
    local = LocalServer((host, 0), app, payload_version)
    threading.Thread(target=local.serve_forever, args=(0.05,), daemon=True).start()
    return local


@pytest.fixture(params=["1.0", "2.0"])
def payload_version(request: Any) -> str:
    return str(request.param)


def post(server: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"text": TEXT, "label": "spam"})
    status, _, raw = fetch(server, "POST", "/feedback", body, {**JSON, **(headers or {})})
    return status, json.loads(raw)


@pytest.mark.parametrize(
    ("headers", "reporter"), [({}, "local"), ({"X-Reporter": " alice "}, "alice")]
)
def test_localhost_reports_are_stored_under_the_header_or_local(
    tmp_path: Path, payload_version: str, headers: dict[str, str], reporter: str
) -> None:
    local = serve(tmp_path, payload_version)
    try:
        status, body = post(local, headers)
    finally:
        local.shutdown()
        local.server_close()
    assert status == 202
    assert body["report_id"] == reports.report_id(reporter, "spam", TEXT)
    stored = DirectoryReportStore(str(tmp_path)).read(body["report_id"])
    assert (stored.reporter, stored.text) == (reporter, TEXT)


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_reports_from_another_host_are_refused(tmp_path: Path, payload_version: str) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    local = serve(tmp_path, payload_version, host=address)
    try:
        status, body = post(local, {"X-Reporter": "mallory"})
    finally:
        local.shutdown()
        local.server_close()
    assert (status, body["error"]["code"]) == (401, "unauthenticated")
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_the_reports_dir_option_stores_reports(small_model_path: Path, tmp_path: Path) -> None:
    reports_dir = tmp_path / "reports"  # created by the server
    process, port = spawn("--model", str(small_model_path), "--reports-dir", str(reports_dir))
    try:
        status, _, raw = fetch(
            at(port), "POST", "/feedback", json.dumps({"text": TEXT, "label": "ham"}), JSON
        )
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert status == 202
    report_id = json.loads(raw)["report_id"]
    assert os.listdir(reports_dir) == [f"{report_id}.json"]
    assert DirectoryReportStore(str(reports_dir)).read(report_id).label == "ham"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},  # a page the user has open, posting cross-site
        {"Host": "evil.example:8080"},  # DNS rebinding: the page's own name, resolved here
        {"Origin": "null"},  # a sandboxed frame or a file:// page
    ],
    ids=["foreign-origin", "rebound-host", "null-origin"],
)
def test_a_web_page_cannot_report_through_localhost(
    tmp_path: Path, payload_version: str, headers: dict[str, str]
) -> None:
    local = serve(tmp_path, payload_version)
    try:
        status, body = post(local, headers)
        allowed, _ = post(local, {"Origin": "http://localhost:8080"})
    finally:
        local.shutdown()
        local.server_close()
    assert (status, body["error"]["code"]) == (401, "unauthenticated")
    assert allowed == 202  # the same server still takes a local page's report
    assert len(os.listdir(tmp_path)) == 1
