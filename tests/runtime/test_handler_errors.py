"""Every client error maps to its status and a JSON error naming the problem."""

from __future__ import annotations

import json

import pytest

from tests import events
from tests.events import check_response, payload_version_of
from tests.fakes import ExplodingModel, fake_app, unavailable_app

JSON = {"Content-Type": "application/json"}


def answer(app, event) -> tuple[int, dict[str, str], dict]:
    result = app(event, None)
    body = check_response(result, payload_version=payload_version_of(event))
    return result["statusCode"], result["headers"], body


def error_of(app, event) -> tuple[int, str, str]:
    status, _, body = answer(app, event)
    return status, body["error"]["code"], body["error"]["message"]


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ("{", "invalid_json", "not valid JSON"),
        ('{"text": "x",}', "invalid_json", "line 1 column"),
        ("[" * 100_000 + "]" * 100_000, "invalid_json", "not valid JSON"),
        ("[1, 2]", "invalid_request", "got an array"),
        ('"just a string"', "invalid_request", "got a string"),
        ("42", "invalid_request", "got a number"),
        ("null", "invalid_request", "got null"),
        ("{}", "invalid_request", '"text" (one message) or "texts"'),
        ('{"message": "x"}', "invalid_request", 'unknown field(s) "message": a /predict body'),
        ('{"explain": true}', "invalid_request", '"text" (one message) or "texts"'),
        ('{"text": null}', "invalid_request", '"text" must be a string, got null'),
        ('{"text": 5}', "invalid_request", '"text" must be a string, got a number'),
        ('{"text": ["x"]}', "invalid_request", '"text" must be a string, got an array'),
        ('{"text": {"a": 1}}', "invalid_request", "got an object"),
        ('{"text": true}', "invalid_request", "got a boolean"),
        ('{"texts": "x"}', "invalid_request", '"texts" must be a list of strings, got a string'),
        ('{"texts": null}', "invalid_request", '"texts" must be a list'),
        ('{"texts": []}', "invalid_request", '"texts" must not be empty'),
        ('{"texts": ["a", 2, "c"]}', "invalid_request", '"texts"[1] must be a string'),
        ('{"texts": ["a", null]}', "invalid_request", '"texts"[1] must be a string, got null'),
        ('{"text": "a", "texts": ["b"]}', "invalid_request", "not both"),
    ],
)
def test_bad_json_requests_are_400(body, code, fragment):
    app, model = fake_app()
    status, got_code, message = error_of(app, events.rest_v1(body=body, headers=JSON))
    assert (status, got_code) == (400, code)
    assert fragment in message
    assert model.seen == []


@pytest.mark.parametrize("body", [None, ""])
@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
def test_empty_body_is_400(body, content_type):
    app, _ = fake_app()
    headers = {"Content-Type": content_type} if content_type else {}
    status, code, _ = error_of(app, events.rest_v1(body=body, headers=headers))
    assert (status, code) == (400, "empty_body")


def test_direct_invoke_without_body_is_400():
    app, _ = fake_app()
    assert error_of(app, events.direct(None))[:2] == (400, "empty_body")


@pytest.mark.parametrize("body", ["not base64!", "QUJ", "QQ", "QQ=", "Zm9v\nYmFy", "é"])
def test_invalid_base64_is_400(body):
    app, _ = fake_app()
    event = events.http_v2(body=None, headers=JSON)
    event["body"], event["isBase64Encoded"] = body, True
    assert error_of(app, event)[:2] == (400, "invalid_base64")


@pytest.mark.parametrize("raw", [b"\xff\xfe", b'{"text": "\xc3"}', b"\xed\xa0\x80", b"caf\xe9"])
def test_invalid_utf8_is_400(raw):
    app, _ = fake_app()
    event = events.function_url(body=raw, headers=JSON, base64_body=True)
    status, code, message = error_of(app, event)
    assert (status, code) == (400, "invalid_utf8")
    assert "byte" in message


@pytest.mark.parametrize(
    "content_type",
    [
        "application/xml",
        "multipart/form-data; boundary=x",
        "text/html",
        "application/octet-stream",
        "text/plain; charset=latin-1",
        "application/json; charset=utf-16",
    ],
)
def test_unsupported_content_type_is_415(content_type):
    app, model = fake_app()
    event = events.rest_v1(body='{"text": "x"}', headers={"Content-Type": content_type})
    assert error_of(app, event)[:2] == (415, "unsupported_media_type")
    assert model.seen == []


def test_form_with_two_text_fields_is_400():
    app, model = fake_app()
    event = events.rest_v1(
        body="text=a&text=b", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    status, code, message = error_of(app, event)
    assert (status, code) == (400, "invalid_request")
    assert '2 "text" fields' in message
    assert model.seen == []


@pytest.mark.parametrize("body", ['{"text": "x"', "a message without an equals sign"])
def test_form_body_that_is_neither_a_form_nor_json_is_one_raw_message(body):
    app, model = fake_app()
    event = events.rest_v1(body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer(app, event)[0] == 200
    assert model.seen == [[body]]


@pytest.mark.parametrize("body", ["a=1&b", "text=%ff"])
def test_form_body_with_an_equals_sign_that_is_no_form_is_400(body):
    app, model = fake_app()
    event = events.rest_v1(body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    status, code, message = error_of(app, event)
    assert (status, code) == (400, "invalid_request")
    assert message.startswith("the form body is not a well-formed form")
    assert model.seen == []


@pytest.mark.parametrize("base64_body", [False, True])
def test_body_over_the_limit_is_413(base64_body):
    app, model = fake_app(max_body_bytes=100)
    fits = json.dumps({"text": "x" * 80})
    too_big = json.dumps({"text": "x" * 100})
    assert answer(app, events.rest_v1(body=fits, headers=JSON, base64_body=base64_body))[0] == 200
    event = events.rest_v1(body=too_big, headers=JSON, base64_body=base64_body)
    status, code, message = error_of(app, event)
    assert (status, code) == (413, "payload_too_large")
    assert "100 bytes" in message
    assert len(model.seen) == 1


def test_body_limit_counts_utf8_bytes_not_characters():
    app, _ = fake_app(max_body_bytes=100)
    # 30 characters but 120 bytes of UTF-8
    event = events.rest_v1(body="😀" * 30, headers={"Content-Type": "text/plain"})
    assert error_of(app, event)[:2] == (413, "payload_too_large")
    event = events.rest_v1(body="😀" * 25, headers={"Content-Type": "text/plain"})
    assert answer(app, event)[0] == 200


def test_default_body_limit_is_one_mebibyte():
    app, _ = fake_app()
    fits = json.dumps({"text": "a" * (1024 * 1024 - 20)})
    assert answer(app, events.rest_v1(body=fits, headers=JSON))[0] == 200
    too_big = json.dumps({"text": "a" * (1024 * 1024)})
    assert error_of(app, events.rest_v1(body=too_big, headers=JSON))[0] == 413


def test_batch_over_the_limit_is_413():
    app, model = fake_app(max_batch_size=3)
    ok = events.rest_v1(body=json.dumps({"texts": ["a"] * 3}), headers=JSON)
    assert answer(app, ok)[0] == 200
    status, code, message = error_of(
        app, events.rest_v1(body=json.dumps({"texts": ["a"] * 4}), headers=JSON)
    )
    assert (status, code) == (413, "batch_too_large")
    assert "limit is 3" in message
    assert len(model.seen) == 1


def test_default_batch_limit_is_1000():
    app, _ = fake_app()
    ok = events.rest_v1(body=json.dumps({"texts": ["a"] * 1000}), headers=JSON)
    assert answer(app, ok)[0] == 200
    too_many = events.rest_v1(body=json.dumps({"texts": ["a"] * 1001}), headers=JSON)
    assert error_of(app, too_many)[:2] == (413, "batch_too_large")


@pytest.mark.parametrize(
    "event",
    [
        [],
        "am i spam?",
        42,
        None,
        {},
        {"foo": "bar"},
        {"httpMethod": "POST"},  # no path
        {"httpMethod": 5, "path": "/predict"},
        {"httpMethod": "POST", "path": "/predict", "body": 5},
        {"httpMethod": "POST", "path": "/predict", "body": "x", "isBase64Encoded": "yes"},
        {"version": "2.0", "rawPath": "/predict"},  # no requestContext.http
        {"version": "2.0", "requestContext": {"http": "POST"}},
        {"version": "2.0", "requestContext": {"http": {"method": "POST"}}},  # no path
        {"body": 42},
        {"body": True},
    ],
)
def test_malformed_events_are_400_not_exceptions(event):
    app, _ = fake_app()
    result = app(event, None)
    body = check_response(result, payload_version="2.0" if _is_v2(event) else "1.0")
    assert result["statusCode"] == 400
    assert body["error"]["code"] in {"bad_event", "empty_body"}


def _is_v2(event: object) -> bool:
    return isinstance(event, dict) and event.get("version") == "2.0"


def test_model_unavailable_is_503_with_retry_after():
    app = unavailable_app("cannot read s3://models/model.npz: NoSuchKey (missing)")
    status, headers, body = answer(app, events.rest_v1(body='{"text": "x"}', headers=JSON))
    assert status == 503
    assert body["error"] == {
        "code": "model_unavailable",
        "message": "cannot read s3://models/model.npz: NoSuchKey (missing)",
    }
    assert int(headers["Retry-After"]) >= 1


def test_health_says_why_the_model_is_unavailable():
    app = unavailable_app("cannot read s3://models/model.npz: AccessDenied")
    status, _, body = answer(app, events.http_v2("GET", "/health"))
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["error"]["message"] == "cannot read s3://models/model.npz: AccessDenied"
    assert body["source"]["location"] == "/fake/model.npz"


def test_bad_requests_are_400_even_while_the_model_is_unavailable():
    app = unavailable_app()
    assert error_of(app, events.rest_v1(body="{", headers=JSON))[:2] == (400, "invalid_json")
    assert error_of(app, events.rest_v1("GET", "/nope"))[0] == 404


def test_a_bug_is_a_bland_500_without_internals(capsys):
    app, _ = fake_app(ExplodingModel())
    result = app(events.rest_v1(body='{"text": "my bank pin is 1234"}', headers=JSON), None)
    body = check_response(result, payload_version="1.0")
    assert result["statusCode"] == 500
    assert body == {"error": {"code": "internal_error", "message": "internal error"}}
    logged = capsys.readouterr().out
    assert "RuntimeError" in logged
    assert "1234" not in logged
    assert "secret internals" not in logged
    assert "Traceback" not in logged + result["body"]


def test_base64_and_raw_bodies_give_identical_answers():
    app, _ = fake_app()
    raw = '{"texts": ["prize", "lunch?"]}'
    plain = app(events.rest_v1(body=raw, headers=JSON), None)
    encoded = app(events.rest_v1(body=raw, headers=JSON, base64_body=True), None)
    assert encoded["statusCode"] == 200
    assert plain == encoded
