"""runtime/api.py on its own: a Request in, a Response out, around a stand-in model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runtime.api import Api, parse_content_type
from runtime.config import Settings
from runtime.http_types import Request
from runtime.model_source import ModelHolder
from tests.fakes import FAKE_SOURCE, FakeModel

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def make_api(model: Any = None, **settings: Any) -> tuple[Api, Any]:
    model = FakeModel() if model is None else model
    return Api(
        Settings(source=FAKE_SOURCE, **settings), ModelHolder(lambda: model, FAKE_SOURCE)
    ), model


def post(api: Api, body: str | None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    response = api.handle(Request("POST", "/predict", body, headers or {}))
    return response.status, json.loads(response.body)


class OtherShapes(FakeModel):
    """A model whose predictions look nothing like FakeModel's: the API must not care."""

    def classify(self, texts, **_):
        return [{"label": 7, "score": -1.25, "extra": [len(t)]} for t in texts]


def test_predictions_are_passed_through_with_the_model_id_added():
    api, _ = make_api(OtherShapes())
    assert post(api, '{"text": "abc"}', JSON) == (
        200,
        {"label": 7, "score": -1.25, "extra": [3], "model": FakeModel.model_id},
    )
    assert post(api, '{"texts": ["a", "bb"]}', JSON)[0] == 200
    body = post(api, '{"texts": ["a", "bb"]}', JSON)[1]
    assert body == {
        "predictions": [
            {"label": 7, "score": -1.25, "extra": [1]},
            {"label": 7, "score": -1.25, "extra": [2]},
        ],
        "model": FakeModel.model_id,
    }


def test_the_models_objects_are_not_changed():
    shared = {"label": "ham"}

    class Shared(FakeModel):
        def classify(self, texts, **_):
            return [shared for _ in texts]

    api, _ = make_api(Shared())
    assert post(api, "x", {"Content-Type": "text/plain"})[1]["model"] == FakeModel.model_id
    assert shared == {"label": "ham"}


def test_the_response_counts_the_texts_for_the_log_line():
    api, _ = make_api()
    response = api.handle(Request("POST", "/predict", '{"texts": ["a", "b", "c"]}', JSON))
    assert (response.status, response.texts, response.route) == (200, 3, "POST /predict")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("text=hello+there", ["hello there"]),
        ("text=a%26b&lang=en", ["a&b"]),
        ('{"texts": ["a", "b"]}', ["a", "b"]),  # curl -d '{"texts": ...}'
        ("am i spam or am i ham?", ["am i spam or am i ham?"]),  # no "=": the raw message
    ],
)
def test_form_bodies(body, expected):
    api, model = make_api()
    assert post(api, body, FORM)[0] == 200
    assert model.seen == [expected]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("msg=hello", 'has no "text" field'),  # not classified as the literal "msg=hello"
        ("x=1&y=2", 'has no "text" field'),
        ("what is 2+2=4", 'has no "text" field'),
        ("a&b=c", "is not a well-formed form"),
        ("text=a&text=b", 'has 2 "text" fields'),
    ],
)
def test_a_form_without_one_text_field_is_refused_saying_which_field(body, problem):
    api, model = make_api()
    status, answer = post(api, body, FORM)
    assert (status, answer["error"]["code"]) == (400, "invalid_request")
    message = answer["error"]["message"]
    assert message.startswith(f"the form body {problem}")
    assert "send text=<message>" in message
    assert model.seen == []


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ('{"text": "hi", "threshold": 0.9}', '"threshold"'),
        ('{"texts": ["hi"], "Explain": true, "topp": 3}', '"Explain", "topp"'),
        ('{"txt": "hi"}', '"txt"'),
    ],
)
def test_unknown_json_keys_are_a_400_that_names_them(body, named):
    api, model = make_api()
    for headers in (JSON, {}):  # JSON, and the tutorial's bare JSON object
        status, answer = post(api, body, headers)
        assert (status, answer["error"]["code"]) == (400, "invalid_request")
        message = answer["error"]["message"]
        assert message.startswith(f"unknown field(s) {named}: a /predict body accepts only")
        assert '"text", "texts", "explain", "top"' in message
    assert model.seen == []


def test_many_or_long_unknown_keys_are_named_briefly():
    api, _ = make_api()
    document = {"text": "hi", **{f"k{i}": 1 for i in range(7)}, "x" * 500: 1}
    _, answer = post(api, json.dumps(document), JSON)
    message = answer["error"]["message"]
    assert '"k0", "k1", "k2", "k3", "k4" and 3 more' in message
    assert len(message) < 200


def test_size_limit_counts_utf8_bytes_of_the_decoded_body():
    api, _ = make_api(max_body_bytes=10)
    assert post(api, "é" * 5, {"Content-Type": "text/plain"})[0] == 200  # 10 bytes
    status, body = post(api, "é" * 6, {"Content-Type": "text/plain"})
    assert (status, body["error"]["code"]) == (413, "payload_too_large")


def test_an_api_without_a_model_holder_answers_misconfigured_everywhere_it_needs_one():
    api = Api(Settings(), None, startup_error="invalid configuration: MAX_BATCH_SIZE must be ...")
    status, body = post(api, '{"text": "x"}', JSON)
    assert (status, body["error"]["code"]) == (503, "misconfigured")
    assert "MAX_BATCH_SIZE" in body["error"]["message"]
    health = api.handle(Request("GET", "/health", None, {}))
    payload = json.loads(health.body)
    assert (health.status, payload["status"], payload["source"]) == (503, "unavailable", None)
    assert "Retry-After" not in health.headers
    assert api.model_id is None


def test_an_api_without_a_model_holder_needs_the_reason():
    with pytest.raises(ValueError, match="start-up error"):
        Api(Settings(), None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (None, None)),
        ("", (None, None)),
        ("*/*", (None, None)),
        ("Application/JSON; Charset=UTF-8", ("application/json", "utf-8")),
        ('text/plain; charset="latin-1"', ("text/plain", "latin-1")),
        ("text/plain; format=flowed", ("text/plain", None)),
    ],
)
def test_parse_content_type(value, expected):
    assert parse_content_type(value) == expected
    assert parse_content_type(value) == expected  # the second time from the cache


@pytest.mark.parametrize("explain", [False, True])
def test_an_answer_larger_than_lambda_carries_is_a_413_that_says_so(monkeypatch, explain):
    """Explanations grow with the messages' terms: a large enough batch would pass Lambda's
    6 MB response limit, which API Gateway answers with a bare 502."""
    from runtime import api as api_module

    monkeypatch.setattr(api_module, "RESPONSE_MAX_BYTES", 2_000)
    api, _ = make_api()
    body = {"texts": ["win a prize"] * 5}
    assert post(api, json.dumps(body))[0] == 200
    body = {"texts": ["win a prize"] * 50, **({"explain": True} if explain else {})}
    if explain:
        api.holder.get().explain = lambda texts, top: [{"terms": []} for _ in texts]
    status, answer = post(api, json.dumps(body))
    assert status == 413
    assert answer["error"]["code"] == "response_too_large"
    assert "Lambda carries at most 2000" in answer["error"]["message"]
    assert ("top" in answer["error"]["message"]) == explain
