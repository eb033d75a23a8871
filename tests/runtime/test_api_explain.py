"""/predict with "explain", /health's threshold, and the metrics line, on a real model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runtime.adapter import create_adapter
from runtime.config import ModelSource, Settings
from tests import events
from tests.corpus import HAM_EXAMPLE, SPAM_EXAMPLE
from tests.events import check_response

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def app(small_model_path):
    return create_adapter(Settings(source=ModelSource("path", str(small_model_path))))


def post(app, payload: Any, capsys) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    capsys.readouterr()
    result = app(events.rest_v1(body=events.json_body(payload), headers=JSON))
    body = check_response(result, payload_version="1.0")
    log = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return result["statusCode"], body, log


def test_explanation_of_one_message_sums_to_its_decision(app, capsys) -> None:
    status, body, log = post(app, {"text": SPAM_EXAMPLE, "explain": True, "top": 3}, capsys)
    assert status == 200
    assert body["label"] == "spam"
    explanation = body["explanation"]
    assert 1 <= len(explanation["terms"]) <= 3
    shares = sum(term["contribution"] for term in explanation["terms"])
    total = explanation["baseline"] + shares + explanation.get("others", 0.0)
    assert total == pytest.approx(explanation["decision"], rel=1e-9, abs=1e-6)
    # Explanations, like the text, never reach the log.
    assert "explanation" not in json.dumps(log)
    assert all(term not in json.dumps(log) for term in ("claim", "prize", "winner"))


def test_batch_explanations_follow_the_request_order(app, capsys) -> None:
    status, body, _ = post(app, {"texts": [SPAM_EXAMPLE, HAM_EXAMPLE], "explain": True}, capsys)
    assert status == 200
    assert [p["label"] for p in body["predictions"]] == ["spam", "ham"]
    assert all("explanation" in p for p in body["predictions"])


def test_no_explanation_unless_asked(app, capsys) -> None:
    _, body, _ = post(app, {"text": SPAM_EXAMPLE}, capsys)
    assert "explanation" not in body
    _, body, _ = post(app, {"text": SPAM_EXAMPLE, "explain": False}, capsys)
    assert "explanation" not in body


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"text": "x", "explain": "yes"}, '"explain"'),
        ({"text": "x", "explain": True, "top": 10**9}, '"top"'),
        ({"text": "x", "explain": True, "top": 0}, '"top"'),
        ({"text": "x", "explain": True, "top": "3"}, '"top"'),
        ({"text": "x", "top": 3}, '"top"'),
    ],
)
def test_bad_explain_fields_are_400_naming_the_field(app, capsys, payload, named) -> None:
    status, body, _ = post(app, payload, capsys)
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    assert named in body["error"]["message"]


def test_each_classified_request_writes_a_metrics_line_beside_its_log_line(app, capsys) -> None:
    _, _, log = post(app, {"texts": [SPAM_EXAMPLE, HAM_EXAMPLE, "zzzz qqqq"]}, capsys)
    request, metrics = log
    assert request["msg"] == "request"
    assert metrics["msg"] == "metrics"
    directive = metrics["_aws"]["CloudWatchMetrics"][0]
    assert {m["Name"] for m in directive["Metrics"]} >= {"Messages", "Predicted_spam"}
    assert metrics["Messages"] == 3
    assert metrics["Predicted_spam"] + metrics["Predicted_ham"] == 3
    assert 0 < metrics["OutOfVocabularyShare"] < 100


def test_errors_write_no_metrics_line(app, capsys) -> None:
    _, _, log = post(app, {"texts": []}, capsys)
    assert [line["msg"] for line in log] == ["request"]


def test_health_reports_the_family_and_threshold(app, capsys) -> None:
    result = app(events.rest_v1("GET", "/health"))
    body = check_response(result, payload_version="1.0")
    assert body["family"] == "gaussian_nb"
    assert body["threshold"] is None
