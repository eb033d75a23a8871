"""openapi.yaml is a valid OpenAPI document and describes what the handler really answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from runtime.adapter import LambdaAdapter, create_adapter
from runtime.api import ALLOWED_METHODS, Api
from runtime.config import ModelSource, Settings
from tests import events
from tests.corpus import HAM_EXAMPLE, SPAM_EXAMPLE
from tests.fakes import unavailable_app
from tests.paths import ROOT

PROJECT_ROOT = ROOT
SPEC = yaml.safe_load((PROJECT_ROOT / "openapi.yaml").read_text(encoding="utf-8"))
JSON = {"Content-Type": "application/json"}


def resolve(node: Any) -> Any:
    """Inline every local $ref (the document has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = SPEC
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve(target)
        return {key: resolve(value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item) for item in node]
    return node


def test_document_is_valid_openapi():
    validate(SPEC)


def test_paths_and_methods_match_the_router():
    documented = {
        path: {method.upper() for method in operations}
        for path, operations in SPEC["paths"].items()
    }
    routed = {path: set(allowed.split(", ")) for path, allowed in ALLOWED_METHODS.items()}
    assert documented == routed


def test_every_error_code_in_the_code_is_documented():
    sources = "\n".join(p.read_text() for p in (PROJECT_ROOT / "runtime").rglob("*.py"))
    codes = set(re.findall(r'HttpError\(\s*\d{3},\s*"([a-z_0-9]+)"', sources))
    codes |= set(re.findall(r'code="([a-z_]+)"', sources))
    documented = set(SPEC["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"])
    assert "invalid_json" in codes  # the scan finds what it should
    assert codes <= documented, codes - documented


@pytest.fixture(scope="module")
def app(small_model_path):
    return create_adapter(Settings(source=ModelSource("path", str(small_model_path))))


def schema_for(path: str, method: str, status: int) -> dict[str, Any]:
    response = resolve(SPEC["paths"][path][method.lower()]["responses"][str(status)])
    return response["content"]["application/json"]["schema"]


def check(result: dict[str, Any], path: str, method: str) -> None:
    schema = schema_for(path, method, result["statusCode"])
    OAS30Validator(schema).validate(json.loads(result["body"]))


CASES = [
    ("single", "POST", "/predict", json.dumps({"text": SPAM_EXAMPLE}), 200),
    ("batch", "POST", "/predict", json.dumps({"texts": [SPAM_EXAMPLE, HAM_EXAMPLE]}), 200),
    ("invalid_json", "POST", "/predict", "{", 400),
    ("invalid_request", "POST", "/predict", json.dumps({"texts": []}), 400),
    ("batch_too_large", "POST", "/predict", json.dumps({"texts": ["a"] * 1001}), 413),
    ("health", "GET", "/health", None, 200),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "status"), CASES, ids=[c[0] for c in CASES]
)
def test_responses_match_the_schemas(app, name, method, path, body, status):
    result = app(events.rest_v1(method, path, body=body, headers=JSON), None)
    assert result["statusCode"] == status
    check(result, path, method)


def test_unsupported_media_type_matches(app):
    result = app(events.rest_v1(body="<x/>", headers={"Content-Type": "application/xml"}), None)
    assert result["statusCode"] == 415
    check(result, "/predict", "POST")


def test_unavailable_responses_match():
    app = unavailable_app()
    predict = app(events.rest_v1(body=json.dumps({"text": "x"}), headers=JSON), None)
    health = app(events.rest_v1("GET", "/health"), None)
    assert predict["statusCode"] == health["statusCode"] == 503
    check(predict, "/predict", "POST")
    check(health, "/health", "GET")


def test_misconfigured_responses_match():
    app = LambdaAdapter(Api(Settings(), None, startup_error="invalid configuration: X"))
    health = app(events.http_v2("GET", "/health"), None)
    assert health["statusCode"] == 503
    assert json.loads(health["body"])["source"] is None
    check(health, "/health", "GET")


def test_schema_check_can_fail(app):
    result = app(events.rest_v1(body=json.dumps({"text": "x"}), headers=JSON), None)
    wrong = {**result, "body": json.dumps({"label": "spam"})}
    with pytest.raises(Exception, match="required"):
        check(wrong, "/predict", "POST")


def test_a_thresholded_answer_and_a_noted_health_match_the_schemas(tmp_path):
    from exporter import export_pipeline
    from runtime.decision import THRESHOLD_KEY
    from runtime.model import NOTE_KEY
    from tests.corpus import fit_tutorial, make_corpus

    texts, _ = make_corpus()
    threshold = {"score": "joint_log_likelihood_difference", "value": 25.0, "positive": "spam"}
    path = tmp_path / "model.npz"
    metadata = {THRESHOLD_KEY: {**threshold, "max_ham_flagged": 0.005}, NOTE_KEY: "a caveat"}
    export_pipeline(fit_tutorial(), path, texts=texts[:20], metadata=metadata)
    app = create_adapter(Settings(source=ModelSource("path", str(path))))
    for body in ({"text": SPAM_EXAMPLE}, {"texts": [SPAM_EXAMPLE, HAM_EXAMPLE]}):
        result = app(events.rest_v1(body=json.dumps(body), headers=JSON), None)
        check(result, "/predict", "POST")
        answer = json.loads(result["body"])
        for prediction in answer.get("predictions", [answer]):
            decided = prediction["decided_by"]
            assert (decided["score"], decided["threshold"]) == (threshold["score"], 25.0)
    health = app(events.rest_v1("GET", "/health"), None)
    check(health, "/health", "GET")
    assert json.loads(health["body"])["note"] == "a caveat"


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"text": "x", "explain": True, "top": 3}, True),
        ({"texts": ["x"], "explain": False}, True),
        ({"text": "x", "threshold": 0.9}, False),
        ({"texts": ["x"], "lang": "en"}, False),
    ],
)
def test_the_documented_request_bodies_allow_no_other_keys(body, valid):
    request = resolve(SPEC["paths"]["/predict"]["post"]["requestBody"])
    schema = {**request["content"]["application/json"]["schema"], "components": SPEC["components"]}
    assert OAS30Validator(schema).is_valid(body) is valid


@pytest.fixture
def feedback_app(small_model_path, tmp_path):
    from runtime.reports import DirectoryReportStore

    settings = Settings(source=ModelSource("path", str(small_model_path)))
    return create_adapter(settings, reports=DirectoryReportStore(str(tmp_path)))


FEEDBACK_CASES = [
    ("accepted", {"text": SPAM_EXAMPLE, "label": "spam"}, "k1", 202),
    ("invalid_label", {"text": SPAM_EXAMPLE, "label": "phish"}, "k1", 400),
    ("unauthenticated", {"text": SPAM_EXAMPLE, "label": "spam"}, None, 401),
    ("text_too_long", {"text": "x" * 40_000, "label": "spam"}, "k1", 413),
]


@pytest.mark.parametrize(
    ("name", "payload", "key_id", "status"), FEEDBACK_CASES, ids=[c[0] for c in FEEDBACK_CASES]
)
def test_feedback_responses_match_the_schemas(feedback_app, name, payload, key_id, status):
    event = events.rest_v1("POST", "/feedback", body=json.dumps(payload), headers=JSON)
    if key_id is not None:
        event["requestContext"]["identity"]["apiKeyId"] = key_id
    result = feedback_app(event, None)
    assert result["statusCode"] == status
    check(result, "/feedback", "POST")


def test_a_report_not_stored_matches_the_schema(small_model_path, tmp_path):
    from runtime.reports import DirectoryReportStore

    settings = Settings(source=ModelSource("path", str(small_model_path)))
    app = create_adapter(settings, reports=DirectoryReportStore(str(tmp_path / "absent")))
    event = events.rest_v1(
        "POST", "/feedback", body=json.dumps({"text": "x", "label": "ham"}), headers=JSON
    )
    event["requestContext"]["identity"]["apiKeyId"] = "k1"
    result = app(event, None)
    assert result["statusCode"] == 503
    assert result["headers"]["Retry-After"] == "5"
    check(result, "/feedback", "POST")
