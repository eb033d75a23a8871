"""Fuzzing: whatever arrives, the handler returns a well-formed proxy response, no 5xx.

Runs against the real (small) model, so odd Unicode reaches the real analyzer too.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as record_outcome
from hypothesis import strategies as st

from runtime.adapter import create_adapter
from runtime.config import ModelSource, Settings
from tests import events
from tests.events import check_response, payload_version_of
from tests.fakes import fake_app, unavailable_app

MARKER = "Zq7MARKER"  # put into every generated message; must never reach the logs
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OK_STATUSES = {200, 204, 400, 404, 405, 413, 415}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
event_keys = st.sampled_from(
    [
        "httpMethod",
        "path",
        "headers",
        "multiValueHeaders",
        "body",
        "isBase64Encoded",
        "version",
        "rawPath",
        "requestContext",
        "cookies",
        "routeKey",
    ]
)
messages = st.text(max_size=40).map(lambda text: text + MARKER)
content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON;charset=latin-1",
            "text/plain",
            "text/plain; charset=utf-8",
            "application/x-www-form-urlencoded",
            "application/problem+json",
            "multipart/form-data; boundary=x",
            "*/*",
            "",
            ";;;",
            "text/plain; charset",
        ]
    ),
    st.text(max_size=30),
)
json_bodies = st.one_of(
    st.fixed_dictionaries({"text": messages}),
    st.fixed_dictionaries({"texts": st.lists(messages, max_size=8)}),
    st.fixed_dictionaries({"texts": st.lists(st.one_of(messages, json_values), max_size=4)}),
    st.fixed_dictionaries({"text": json_values}),
    st.dictionaries(st.sampled_from(["text", "texts", "other"]), json_values, max_size=3),
    json_values,
)
bodies = st.one_of(
    st.none(),
    messages,
    json_bodies.map(json.dumps),
    st.binary(max_size=60),
    json_bodies.map(lambda value: json.dumps(value).encode()),
    # Forms, as curl --data-urlencode sends them: one or more fields, "text" among them.
    st.lists(st.tuples(st.sampled_from(["text", "lang", "t"]), messages), max_size=3).map(
        urlencode
    ),
)
methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "post"]),
    st.text(min_size=1, max_size=10).map(lambda text: text + MARKER),
)
paths = st.one_of(
    st.sampled_from(["/predict", "/health", "/predict/", "/", "/health/x", "//predict"]),
    st.text(max_size=20).map(lambda text: "/" + text + MARKER),
)
header_maps = st.dictionaries(
    st.sampled_from(["Content-Type", "content-type", "Origin", "X-Any", "CONTENT-TYPE"]),
    st.text(max_size=30),
    max_size=3,
)


def mostly(common: Any, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``common`` three times in four, so most requests get past routing."""
    return st.sampled_from([True, True, True, False]).flatmap(
        lambda usual: st.just(common) if usual else strategy
    )


@st.composite
def http_events(draw, routing: bool = True) -> dict[str, Any]:
    """Events from every source; ``routing=False`` keeps them on POST /predict."""
    builder = draw(st.sampled_from([events.rest_v1, events.http_v2, events.function_url, "direct"]))
    body = draw(bodies)
    headers = draw(header_maps)
    content_type = draw(mostly("application/json", content_types))
    if content_type is not None:
        headers["Content-Type"] = content_type
    if builder == "direct":
        if isinstance(body, bytes):
            return events.direct(body.decode("latin-1"), headers=headers)
        return events.direct(body, headers=headers)
    base64_body = isinstance(body, bytes) or draw(st.integers(0, 3)) == 0
    method, path = ("POST", "/predict")
    if routing:
        method, path = draw(mostly(method, methods)), draw(mostly(path, paths))
    event = builder(method, path, body=body, headers=headers, base64_body=base64_body)
    if base64_body and event.get("body") and draw(st.integers(0, 3)) == 0:
        event["body"] = draw(st.text(max_size=20))  # claims base64, often is not
    return event


arbitrary_events = st.one_of(
    json_values,
    st.dictionaries(event_keys, json_values, max_size=6),
    http_events().flatmap(
        lambda event: st.dictionaries(event_keys, json_values, max_size=2).map(
            lambda junk: {**event, **junk}  # a real event with some fields replaced by junk
        )
    ),
)


@pytest.fixture(scope="module")
def app():
    """The request path around a stand-in model: what is fuzzed here is not the model."""
    with contextlib.redirect_stdout(io.StringIO()):
        adapter, _ = fake_app(
            max_body_bytes=300,  # small limits so the fuzzer reaches the 413s too
            max_batch_size=5,
            cors_origins=("https://a.example",),
        )
    return adapter


def run(app, event: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = app(event, None)
    version = payload_version_of(event) if isinstance(event, dict) else "1.0"
    return result, check_response(result, payload_version=version), out.getvalue()


def event_label(result: dict[str, Any], body: dict[str, Any]) -> None:
    """Reported by --hypothesis-show-statistics: shows the fuzzer reaches every outcome."""
    code = body.get("error", {}).get("code", "ok")
    record_outcome(f"{result['statusCode']} {code}")


def check_logs(log: str) -> None:
    """One request line (and, for a classified request, its metrics line); never the text."""
    lines = [json.loads(line) for line in log.splitlines()]
    if lines and "ColdStart" in lines[0]:  # the container's first request: written once
        lines = lines[1:]
    messages = [line["msg"] for line in lines]
    assert messages in (["request"], ["request", "metrics"])
    if messages == ["request", "metrics"]:
        assert lines[0]["status"] == 200
        assert "_aws" in lines[1]
    assert MARKER not in log


@pytest.mark.slow  # hypothesis over whole events, ~0.5 s
@FUZZ
@given(event=http_events(routing=False))
def test_predict_requests_never_fail(app, event):
    result, body, log = run(app, event)
    assert result["statusCode"] in OK_STATUSES - {204, 404, 405}, body
    check_logs(log)
    event_label(result, body)
    if result["statusCode"] == 200:
        predictions = body.get("predictions", [body])
        assert 1 <= len(predictions) <= 5
        for prediction in predictions:
            assert prediction["label"] in ("ham", "spam")
            assert abs(sum(prediction["probabilities"].values()) - 1.0) < 1e-9


@pytest.mark.slow  # hypothesis over whole events, ~0.5 s
@FUZZ
@given(event=http_events())
def test_http_events_never_fail(app, event):
    result, body, log = run(app, event)
    assert result["statusCode"] in OK_STATUSES, body
    check_logs(log)
    event_label(result, body)
    if result["statusCode"] == 200 and "label" in body:
        assert body["label"] in ("ham", "spam")
        assert abs(sum(body["probabilities"].values()) - 1.0) < 1e-9
    if result["statusCode"] == 200 and "predictions" in body:
        assert 1 <= len(body["predictions"]) <= 5


@pytest.mark.slow
@FUZZ
@given(event=arbitrary_events)
def test_arbitrary_events_never_fail(app, event):
    result, body, log = run(app, event)
    assert result["statusCode"] in OK_STATUSES, body
    check_logs(log)
    event_label(result, body)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(event=st.one_of(http_events(), arbitrary_events))
def test_without_a_model_the_only_5xx_is_503(event):
    app = _unavailable()
    result, body, log = run(app, event)
    assert result["statusCode"] in (OK_STATUSES - {200}) | {503}, body
    if result["statusCode"] == 503:
        assert body["error"]["code"] == "model_unavailable"
        assert result["headers"]["Retry-After"].isdigit()
    assert MARKER not in log


_UNAVAILABLE = []


def _unavailable():
    if not _UNAVAILABLE:
        with contextlib.redirect_stdout(io.StringIO()):
            _UNAVAILABLE.append(unavailable_app())
    return _UNAVAILABLE[0]


@pytest.fixture(scope="module")
def roomy_app(small_model_path):
    return create_adapter(Settings(source=ModelSource("path", str(small_model_path))))


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(st.text(max_size=200), min_size=1, max_size=5))
def test_any_unicode_text_is_classified(roomy_app, texts):
    event = events.http_v2(
        body=json.dumps({"texts": texts}), headers={"content-type": "application/json"}
    )
    result, body, _ = run(roomy_app, event)
    assert result["statusCode"] == 200, body
    assert [p["label"] for p in body["predictions"]] == roomy_app.api.holder.model.predict(texts)
