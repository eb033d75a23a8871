"""POST /feedback: who reported, what is accepted, and 202 only for a durable report."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from runtime import reports
from runtime.adapter import LambdaAdapter, create_adapter
from runtime.config import Settings
from runtime.model_source import ModelHolder
from runtime.reports import DirectoryReportStore, Report, StorageError
from tests import events
from tests.fakes import FAKE_SOURCE, FakeModel, unavailable_app

JSON = {"Content-Type": "application/json"}
SECRET_TEXT = "Hi mum, my phone broke, text me on 07700900123 and send 200 quid"
KEY_ID = "a1b2c3d4e5"


def app_with(store: Any, **settings: Any) -> LambdaAdapter:
    chosen = Settings(source=FAKE_SOURCE)._replace(**settings)
    return create_adapter(chosen, ModelHolder(FakeModel, FAKE_SOURCE), reports=store)


def feedback_event(
    payload: Any, *, key_id: str | None = KEY_ID, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    event = events.rest_v1("POST", "/feedback", body=body, headers=headers or JSON)
    if key_id is not None:  # what API Gateway adds for a method that requires an API key
        event["requestContext"]["identity"].update(apiKeyId=key_id, apiKey="the-secret-key")
    return event


def call(app: LambdaAdapter, event: dict[str, Any]) -> tuple[int, dict[str, Any], Any]:
    result = app(event, events.LambdaContext())
    body = events.check_response(result, payload_version=events.payload_version_of(event))
    return result["statusCode"], result["headers"], body


class BrokenStore:
    """A store whose writes fail, as a full disk or an S3 outage would."""

    def __init__(self) -> None:
        self.attempts = 0

    def put(self, report: Report) -> bool:
        self.attempts += 1
        raise StorageError("cannot store the report in s3://reports/in/: InternalError")


def test_a_report_is_stored_with_its_reporter_and_model_and_answered_202(tmp_path: Path) -> None:
    app = app_with(DirectoryReportStore(str(tmp_path)))
    status, _, body = call(app, feedback_event({"text": SECRET_TEXT, "label": "spam"}))
    assert status == 202
    assert body == {"report_id": reports.report_id(KEY_ID, "spam", SECRET_TEXT)}
    stored = reports.parse((tmp_path / f"{body['report_id']}.json").read_bytes())
    assert (stored.text, stored.label, stored.reporter) == (SECRET_TEXT, "spam", KEY_ID)
    assert stored.model_sha256 == FakeModel.model_id


def test_a_retried_report_gets_the_same_id_and_is_stored_once(tmp_path: Path) -> None:
    app = app_with(DirectoryReportStore(str(tmp_path)))
    event = feedback_event({"text": SECRET_TEXT, "label": "ham"})
    first, second = call(app, event), call(app, event)
    assert first[0] == second[0] == 202
    assert first[2] == second[2]
    assert len(os.listdir(tmp_path)) == 1
    other = call(app, feedback_event({"text": SECRET_TEXT, "label": "ham"}, key_id="z9y8x7w6v5"))
    assert other[2] != first[2]  # another reporter: another report
    assert len(os.listdir(tmp_path)) == 2


@pytest.mark.parametrize(
    ("kind", "context", "expected"),
    [
        ("rest", {"identity": {"apiKeyId": "k1", "apiKey": "secret"}}, "k1"),
        (
            "rest",
            {"identity": {"userArn": "arn:aws:iam::123456789012:user/ann"}},
            "arn:aws:iam::123456789012:user/ann",
        ),
        (
            "http",
            {"authorizer": {"iam": {"userArn": "arn:aws:sts::123456789012:assumed-role/r/s"}}},
            "arn:aws:sts::123456789012:assumed-role/r/s",
        ),
    ],
)
def test_the_reporter_is_the_principal_api_gateway_authenticated(
    tmp_path: Path, kind: str, context: dict[str, Any], expected: str
) -> None:
    body = json.dumps({"text": SECRET_TEXT, "label": "spam"})
    if kind == "rest":
        event = events.rest_v1("POST", "/feedback", body=body, headers=JSON)
        event["requestContext"]["identity"].update(context["identity"])
    else:
        event = events.http_v2("POST", "/feedback", body=body, headers=JSON)
        event["requestContext"].update(context)
    status, _, answer = call(app_with(DirectoryReportStore(str(tmp_path))), event)
    assert status == 202
    assert DirectoryReportStore(str(tmp_path)).read(answer["report_id"]).reporter == expected


@pytest.mark.parametrize(
    "event",
    [
        feedback_event({"text": SECRET_TEXT, "label": "spam"}, key_id=None),
        feedback_event(
            {"text": SECRET_TEXT, "label": "spam"},
            key_id=None,
            headers={**JSON, "X-Reporter": "me"},
        ),
        events.http_v2("POST", "/feedback", body='{"text": "x", "label": "spam"}', headers=JSON),
        events.function_url("POST", "/feedback", body='{"text": "x", "label": "spam"}'),
    ],
    ids=["rest", "rest-with-header", "http", "function-url"],
)
def test_no_anonymous_reports_on_lambda(tmp_path: Path, event: dict[str, Any]) -> None:
    status, _, body = call(app_with(DirectoryReportStore(str(tmp_path))), event)
    assert (status, body["error"]["code"]) == (401, "unauthenticated")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("payload", "headers", "status", "code", "message"),
    [
        (
            {"text": "x", "label": "phishing"},
            JSON,
            400,
            "invalid_label",
            "one of the model's classes: ham, spam",
        ),
        (
            {"text": "x"},
            JSON,
            400,
            "invalid_request",
            '"label" must be a non-empty string, got null',
        ),
        (
            {"text": "  ", "label": "spam"},
            JSON,
            400,
            "invalid_request",
            '"text" must be a non-empty string, got empty',
        ),
        ({"text": ["x"], "label": "spam"}, JSON, 400, "invalid_request", "got an array"),
        (
            {"text": "x", "label": "spam", "note": 1},
            JSON,
            400,
            "invalid_request",
            'unknown field(s) "note": a /feedback body accepts only "text", "label"',
        ),
        ('["x"]', JSON, 400, "invalid_request", "got an array"),
        ("{", JSON, 400, "invalid_json", "not valid JSON"),
        (
            {"text": "x", "label": "spam"},
            {"Content-Type": "text/plain"},
            415,
            "unsupported_media_type",
            "send JSON",
        ),
        (  # what a cross-site form or a fetch of a Blob sends: no preflight, so refused
            {"text": "x", "label": "spam"},
            {"X-Other": "1"},
            415,
            "unsupported_media_type",
            "send JSON",
        ),
        (
            {"text": "x" * (reports.MAX_TEXT_CHARS + 1), "label": "spam"},
            JSON,
            413,
            "text_too_long",
            "at most 32768",
        ),
    ],
)
def test_bad_reports_are_refused_naming_the_problem(
    tmp_path: Path, payload: Any, headers: dict[str, str], status: int, code: str, message: str
) -> None:
    app = app_with(DirectoryReportStore(str(tmp_path)))
    got_status, _, body = call(app, feedback_event(payload, headers=headers))
    assert (got_status, body["error"]["code"]) == (status, code)
    assert message in body["error"]["message"]
    assert os.listdir(tmp_path) == []


def test_the_body_limit_applies_as_for_predict(tmp_path: Path) -> None:
    app = app_with(DirectoryReportStore(str(tmp_path)), max_body_bytes=100)
    status, _, body = call(app, feedback_event({"text": "y" * 200, "label": "spam"}))
    assert (status, body["error"]["code"]) == (413, "payload_too_large")


def test_a_storage_failure_is_503_with_retry_after_and_logs_no_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = BrokenStore()
    app = app_with(store)
    capsys.readouterr()  # the cold start's model_loaded line
    status, headers, body = call(app, feedback_event({"text": SECRET_TEXT, "label": "spam"}))
    assert (status, body["error"]["code"]) == (503, "storage_unavailable")
    assert int(headers["Retry-After"]) >= 1
    assert store.attempts == 1
    written = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    lines = [line for line in written if line["msg"] != "metrics"]  # the container's ColdStart
    assert [line["msg"] for line in lines] == ["report_not_stored", "request"]
    assert "InternalError" in lines[0]["error"]
    assert SECRET_TEXT not in json.dumps(written)
    assert "the-secret-key" not in json.dumps(lines)


def test_an_accepted_report_logs_one_request_line_without_text_or_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_with(DirectoryReportStore(str(tmp_path)))
    capsys.readouterr()
    call(app, feedback_event({"text": SECRET_TEXT, "label": "spam"}))
    output = capsys.readouterr().out
    assert SECRET_TEXT[:20] not in output
    assert "07700900123" not in output
    written = [json.loads(text) for text in output.splitlines()]
    # The container's first invocation also writes its ColdStart metric, which has no fields
    # of the request; no EMF line of the request itself exists.
    (line,) = [entry for entry in written if "ColdStart" not in entry]
    assert (line["msg"], line["route"], line["status"]) == ("request", "POST /feedback", 202)
    assert "_aws" not in line


def test_without_a_store_feedback_is_503_misconfigured() -> None:
    status, _, body = call(app_with(None), feedback_event({"text": "x", "label": "spam"}))
    assert (status, body["error"]["code"]) == (503, "misconfigured")
    assert "REPORTS_S3_URI" in body["error"]["message"]


def test_while_the_model_is_unavailable_reports_are_503(tmp_path: Path) -> None:
    app = unavailable_app()
    app.api.reports = DirectoryReportStore(str(tmp_path))
    status, _headers, body = call(app, feedback_event({"text": "x", "label": "spam"}))
    assert (status, body["error"]["code"]) == (503, "model_unavailable")
    assert os.listdir(tmp_path) == []


def test_reports_s3_uri_makes_an_s3_store_without_importing_boto3_yet() -> None:
    settings = Settings(source=FAKE_SOURCE, reports_s3_uri="s3://reports-bucket/in/")
    app = create_adapter(settings, ModelHolder(FakeModel, FAKE_SOURCE))
    store = app.api.reports
    assert isinstance(store, reports.S3ReportStore)
    assert store.describe() == "s3://reports-bucket/in/"
    assert store._client is None


def test_a_browser_may_send_the_api_key_with_a_report() -> None:
    app = app_with(None, cors_origins=("*",))
    preflight = events.http_v2(
        "OPTIONS",
        "/feedback",
        headers={"origin": "https://a.example", "access-control-request-method": "POST"},
    )
    status, headers, _ = call(app, preflight)
    assert status == 204
    assert headers["Access-Control-Allow-Headers"] == "Content-Type, X-Api-Key"
    assert headers["Access-Control-Allow-Methods"] == "OPTIONS, POST"
    predict = events.http_v2("OPTIONS", headers={"origin": "https://a.example"})
    assert call(app, predict)[1]["Access-Control-Allow-Headers"] == "Content-Type"
