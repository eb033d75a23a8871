"""One structured log line per request, and never the message text."""

from __future__ import annotations

import json
import re

import pytest

from tests import events
from tests.fakes import FakeModel, fake_app, unavailable_app

SECRET = "my PIN is 4921 and my address is 1 Secret Lane"


def request_lines(output: str) -> list[dict]:
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    return [record for record in records if record.get("msg") == "request"]


def test_one_line_per_request_with_the_fields(capsys):
    app, _ = fake_app()
    capsys.readouterr()
    context = events.LambdaContext(aws_request_id="req-123")
    app(events.rest_v1(body=json.dumps({"texts": [SECRET, "b"]})), context)
    app(events.http_v2("GET", "/health"), None)
    first, second = request_lines(capsys.readouterr().out)
    assert first["request_id"] == "req-123"
    assert first["event"] == "rest_v1"
    assert first["route"] == "POST /predict"
    assert first["status"] == 200
    assert first["texts"] == 2
    assert first["model"] == FakeModel.model_id
    assert first["level"] == "INFO"
    assert isinstance(first["latency_ms"], float)
    assert "error" not in first
    # Without a Lambda context the API Gateway request id identifies the request.
    assert second["request_id"] == "JKJaXmPLvHcESHA="
    assert (second["route"], second["texts"]) == ("GET /health", 0)


@pytest.mark.parametrize(
    "event",
    [
        events.rest_v1(body=json.dumps({"text": SECRET}), headers={"Content-Type": "text/plain"}),
        events.rest_v1(body=json.dumps({"texts": [SECRET, 5]})),
        events.rest_v1(body=json.dumps({"text": SECRET}), headers={"Content-Type": "text/xml"}),
        events.http_v2(body=SECRET + "{", headers={"content-type": "application/json"}),
        events.http_v2(body=SECRET, base64_body=True),
        events.direct(SECRET),
        events.direct({"text": SECRET}),
        events.rest_v1("PUT", "/predict", body=SECRET),
        events.rest_v1("POST", "/" + SECRET, body=SECRET),
        {"body": SECRET, "httpMethod": 3},
    ],
)
def test_message_text_is_never_logged(capsys, event):
    for app in (fake_app()[0], unavailable_app()):
        app(event, None)
        output = capsys.readouterr().out
        assert len(request_lines(output)) == 1
        # A clock's digits may hold "4921" by chance (CI saw Timestamp 1796701014921).
        output = re.sub(r'"(Timestamp|latency_ms|Latency)":[0-9.e+-]+', r'"\1":0', output)
        for fragment in ("4921", "Secret Lane", "PIN"):
            assert fragment not in output


def test_errors_log_their_code(capsys):
    app, _ = fake_app()
    capsys.readouterr()
    app(events.rest_v1(body="{", headers={"Content-Type": "application/json"}), None)
    app(events.rest_v1("GET", "/nowhere"), None)
    app(["not an event"], None)
    first, second, third = request_lines(capsys.readouterr().out)
    assert (first["status"], first["error"]) == (400, "invalid_json")
    assert (second["status"], second["error"], second["route"]) == (404, "not_found", "-")
    assert (third["status"], third["error"]) == (400, "bad_event")


def test_unavailable_model_is_logged_as_error_with_no_model(capsys):
    app = unavailable_app()
    output = capsys.readouterr().out
    records = [json.loads(line) for line in output.splitlines()]
    assert any(r["msg"] == "model_unavailable" and r["level"] == "ERROR" for r in records)
    app(events.rest_v1(body="hi"), None)
    (line,) = request_lines(capsys.readouterr().out)
    assert (line["status"], line["model"], line["error"]) == (503, None, "model_unavailable")


def test_unknown_methods_are_not_logged_verbatim(capsys):
    app, _ = fake_app()
    capsys.readouterr()
    app(events.rest_v1("X" * 500, "/predict"), None)
    (line,) = request_lines(capsys.readouterr().out)
    assert line["route"] == "OTHER /predict"
