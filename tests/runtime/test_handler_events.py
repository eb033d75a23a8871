"""The handler against each event shape that can reach it, and the routes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests import events
from tests.events import check_response, payload_version_of
from tests.fakes import FakeModel, fake_app

JSON = {"Content-Type": "application/json"}

# Every HTTP source, as a builder taking (method, path, body=..., headers=..., base64_body=...).
SOURCES: dict[str, Callable[..., dict[str, Any]]] = {
    "rest_v1": events.rest_v1,
    "http_api_v1": lambda *a, **k: events.rest_v1(*a, version="1.0", stage="$default", **k),
    "http_api_v1_named_stage": lambda *a, **k: events.rest_v1(*a, version="1.0", **k),
    "http_v2": events.http_v2,
    "http_v2_named_stage": lambda *a, **k: events.http_v2(*a, stage="prod", **k),
    "function_url": events.function_url,
}


@pytest.fixture
def app():
    return fake_app()[0]


def call(app, event: dict[str, Any], context: Any = None) -> tuple[int, dict[str, str], dict]:
    result = app(event, context)
    body = check_response(result, payload_version=payload_version_of(event))
    return result["statusCode"], result["headers"], body


def error_of(app, event: dict[str, Any]) -> tuple[int, str, str]:
    status, _, body = call(app, event)
    return status, body["error"]["code"], body["error"]["message"]


@pytest.mark.parametrize("source", SOURCES)
def test_predict_one_message_from_every_source(app, source):
    event = SOURCES[source](body=events.json_body({"text": "Claim your PRIZE"}), headers=JSON)
    status, _, body = call(app, event)
    assert status == 200
    assert body == {
        "label": "spam",
        "probabilities": {"ham": 0.1, "spam": 0.9},
        "model": FakeModel.model_id,
    }


@pytest.mark.parametrize("source", SOURCES)
def test_batch_answers_in_request_order(app, source):
    texts = ["hello", "a prize!", "", "see you", "PRIZE draw"]
    event = SOURCES[source](body=events.json_body({"texts": texts}), headers=JSON)
    status, _, body = call(app, event)
    assert status == 200
    assert [p["label"] for p in body["predictions"]] == ["ham", "spam", "ham", "ham", "spam"]
    assert all(set(p) == {"label", "probabilities"} for p in body["predictions"])
    assert body["model"] == FakeModel.model_id


@pytest.mark.parametrize("source", SOURCES)
def test_base64_body_is_decoded(app, source):
    payload = json.dumps({"text": "prize café 東京"}).encode()
    status, _, body = call(app, SOURCES[source](body=payload, headers=JSON, base64_body=True))
    assert status == 200
    assert body["label"] == "spam"


@pytest.mark.parametrize("source", SOURCES)
def test_health(app, source):
    status, headers, body = call(app, SOURCES[source]("GET", "/health"))
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert body["status"] == "ok"
    assert body["model"] == FakeModel.model_id
    assert body["classes"] == ["ham", "spam"]
    assert body["source"] == {"kind": "path", "location": "/fake/model.npz"}
    assert body["runtime_version"]


@pytest.mark.parametrize("name", ["Content-Type", "content-type", "CONTENT-TYPE", "cOnTeNt-TyPe"])
def test_rest_v1_header_names_in_any_case(name):
    app, model = fake_app()
    event = events.rest_v1(body='{"text": "x"}', headers={name: "text/plain"})
    status, _, _ = call(app, event)
    assert status == 200
    assert model.seen == [['{"text": "x"}']]  # text/plain: the whole body is the message


def test_rest_v1_multi_value_headers_alone_are_enough():
    app, model = fake_app()
    event = events.rest_v1(body="a prize", multi_value_headers={"Content-Type": ["text/plain"]})
    event["headers"] = None  # what the console's test invoke sends
    status, _, body = call(app, event)
    assert (status, body["label"]) == (200, "spam")
    assert model.seen == [["a prize"]]


def test_http_v2_cookies_are_accepted_and_ignored(app):
    event = events.http_v2(body='{"text": "hi"}', headers=JSON, cookies=["a=1", "b=2"])
    assert call(app, event)[0] == 200


def test_tutorial_direct_invoke_raw_text():
    app, model = fake_app()
    result = app(events.direct("am i spam or am i ham?"), events.LambdaContext())
    body = check_response(result, payload_version="1.0")
    assert result["statusCode"] == 200
    assert body["label"] == "ham"
    assert model.seen == [["am i spam or am i ham?"]]


@pytest.mark.parametrize(
    "body",
    [
        '{"text": "win a prize"}',
        {"text": "win a prize"},  # console users paste JSON, not a string
    ],
)
def test_direct_invoke_json(body):
    app, model = fake_app()
    result = app(events.direct(body), None)
    assert check_response(result, payload_version="1.0")["label"] == "spam"
    assert model.seen == [["win a prize"]]


def test_direct_invoke_batch_object():
    app, _ = fake_app()
    result = app(events.direct({"texts": ["a", "prize"]}), None)
    body = check_response(result, payload_version="1.0")
    assert [p["label"] for p in body["predictions"]] == ["ham", "spam"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("not json at all", ["not json at all"]),
        ('"a JSON string"', ['"a JSON string"']),
        ("[1, 2]", ["[1, 2]"]),
        ("{broken", ["{broken"]),
        ('  {"text": "spaced"}', ["spaced"]),
    ],
)
def test_without_content_type_a_non_object_body_is_one_message(body, expected):
    app, model = fake_app()
    event = events.rest_v1(body=body)
    assert call(app, event)[0] == 200
    assert model.seen == [expected]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        "application/vnd.api+json",
        'application/json; charset="utf-8"',
        "*/*",
    ],
)
def test_json_content_types(content_type):
    app, model = fake_app()
    event = events.http_v2(body='{"text": "x"}', headers={"content-type": content_type})
    assert call(app, event)[0] == 200
    assert model.seen == [["x"]]


def test_curl_default_form_content_type_with_json_body_is_json():
    # curl -d '{"text": ...}' sends Content-Type: application/x-www-form-urlencoded
    app, model = fake_app()
    event = events.rest_v1(
        body='{"text": "WINNER!! claim your free prize now"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    status, _, body = call(app, event)
    assert (status, body["label"]) == (200, "spam")
    assert model.seen == [["WINNER!! claim your free prize now"]]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "text=WINNER%21%21+claim+your+prize",
            "WINNER!! claim your prize",
        ),  # curl --data-urlencode
        ("lang=en&text=caf%C3%A9+prize", "café prize"),
        ("text=", ""),
        ("am i spam or am i ham?", "am i spam or am i ham?"),  # curl -d, the tutorial's text
    ],
)
def test_form_body_reads_its_text_field_or_is_one_raw_message(body, expected):
    app, model = fake_app()
    assert call(app, events.rest_v1(body=body, headers=FORM))[0] == 200
    assert model.seen == [[expected]]


@pytest.mark.parametrize(
    "body",
    [
        "message=hello",  # a form without a text field: not the message "message=hello"
        "call me&text=later",  # not a well-formed form: one part has no "="
    ],
)
def test_a_form_body_with_an_equals_sign_but_no_text_field_is_a_400(body):
    app, model = fake_app()
    status, code, message = error_of(app, events.rest_v1(body=body, headers=FORM))
    assert (status, code) == (400, "invalid_request")
    assert "send text=<message>" in message
    assert model.seen == []


def test_direct_invoke_nested_too_deeply_to_re_encode_is_400_bad_event():
    app, model = fake_app()
    nested: Any = "x"
    for _ in range(100_000):
        nested = [nested]
    status, _, body = call(app, events.direct({"texts": nested}))
    assert (status, body["error"]["code"]) == (400, "bad_event")
    assert "nested too deeply" in body["error"]["message"]
    assert model.seen == []


def test_text_plain_body_is_one_message_even_if_it_looks_like_json():
    app, model = fake_app()
    event = events.http_v2(body='{"texts": ["a", "b"]}', headers={"content-type": "text/plain"})
    status, _, body = call(app, event)
    assert status == 200
    assert "predictions" not in body
    assert model.seen == [['{"texts": ["a", "b"]}']]


def test_empty_text_is_a_valid_message(app):
    assert call(app, events.rest_v1(body='{"text": ""}', headers=JSON))[0] == 200


def test_unknown_fields_are_refused_by_name(app):
    event = events.rest_v1(body='{"text": "x", "lang": "en"}', headers=JSON)
    status, code, message = error_of(app, event)
    assert (status, code) == (400, "invalid_request")
    assert message.startswith('unknown field(s) "lang"')


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/predict", "OPTIONS, POST"),
        ("PUT", "/predict", "OPTIONS, POST"),
        ("DELETE", "/predict", "OPTIONS, POST"),
        ("POST", "/health", "GET, OPTIONS"),
        ("HEAD", "/health", "GET, OPTIONS"),
    ],
)
def test_wrong_method_is_405_with_allow(app, source, method, path, allow):
    status, headers, body = call(app, SOURCES[source](method, path))
    assert status == 405
    assert headers["Allow"] == allow
    assert body["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("path", ["/", "/predictions", "/predict/x", "/Health", "/prod/other"])
def test_unknown_path_is_404(app, source, path):
    status, _, body = call(app, SOURCES[source]("POST", path, body="{}"))
    assert status == 404
    assert body["error"]["code"] == "not_found"
    assert "/predict" in body["error"]["message"]


def test_trailing_slash_is_the_same_route(app):
    assert call(app, events.rest_v1("GET", "/health/"))[0] == 200


def test_lower_case_method_is_accepted(app):
    assert call(app, events.rest_v1("post", body='{"text": "x"}', headers=JSON))[0] == 200


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("path", "allow"), [("/predict", "OPTIONS, POST"), ("/health", "GET, OPTIONS")]
)
def test_options_without_cors_answers_allow_only(app, source, path, allow):
    headers = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    status, response_headers, _ = call(app, SOURCES[source]("OPTIONS", path, headers=headers))
    assert status == 204
    assert response_headers["Allow"] == allow
    assert not any(name.startswith("Access-Control") for name in response_headers)


def test_cors_any_origin():
    app, _ = fake_app(cors_origins=("*",))
    preflight = events.http_v2(
        "OPTIONS", headers={"origin": "https://a.example", "access-control-request-method": "POST"}
    )
    status, headers, _ = call(app, preflight)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == "OPTIONS, POST"
    assert headers["Access-Control-Allow-Headers"] == "Content-Type"
    _, headers, _ = call(app, events.http_v2(body='{"text": "x"}', headers=JSON))
    assert headers["Access-Control-Allow-Origin"] == "*"
    _, headers, _ = call(app, events.http_v2(body="{", headers=JSON))  # errors too
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_cors_origin_list_echoes_only_listed_origins():
    app, _ = fake_app(cors_origins=("https://a.example", "https://b.example"))
    _, headers, _ = call(app, events.rest_v1("OPTIONS", headers={"Origin": "https://b.example"}))
    assert headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert headers["Vary"] == "Origin"
    _, headers, _ = call(app, events.rest_v1("OPTIONS", headers={"Origin": "https://evil.example"}))
    assert "Access-Control-Allow-Origin" not in headers
    assert "Access-Control-Allow-Methods" not in headers
    assert headers["Vary"] == "Origin"


def test_cors_is_off_by_default(app):
    event = events.rest_v1(body='{"text": "x"}', headers={**JSON, "Origin": "https://a.example"})
    _, headers, _ = call(app, event)
    assert not any(name.startswith("Access-Control") for name in headers)


def test_request_headers_do_not_leak_into_the_response(app):
    event = events.rest_v1(body='{"text": "x"}', headers={**JSON, "X-Secret": "token"})
    _, headers, _ = call(app, event)
    assert set(headers) == {"Content-Type"}
