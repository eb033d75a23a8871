"""runtime/events: each source recognises its own shape, parses it into a Request with a
decoded body, and renders the proxy response; the list of sources is complete."""

from __future__ import annotations

import base64
import pkgutil
from typing import Any

import pytest

import runtime.events
from runtime import events
from runtime.http_types import BadEvent, HttpError, Response
from tests import events as build


def parse(event: dict[str, Any]):
    return events.source_of(event).parse(event)


def test_every_module_in_the_package_is_a_registered_source():
    modules = {
        name for _, name, _ in pkgutil.iter_modules(runtime.events.__path__) if name[0] != "_"
    }
    assert {source.NAME for source in events.SOURCES} == modules
    for source in events.SOURCES:
        assert callable(source.matches)
        assert callable(source.parse)
        assert callable(source.render)


@pytest.mark.parametrize(
    ("event", "name"),
    [
        (build.rest_v1(), "rest_v1"),
        (build.rest_v1(version="1.0"), "rest_v1"),
        (build.http_v2(), "http_v2"),
        (build.function_url(), "http_v2"),
        ({"requestContext": {"http": {"method": "GET"}}, "rawPath": "/health"}, "http_v2"),
        (build.direct("am i spam or am i ham?"), "direct"),
        (build.direct(None, headers={"Content-Type": "text/plain"}), "direct"),
    ],
)
def test_each_shape_is_recognised_by_its_source(event, name):
    assert name == events.source_of(event).NAME


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "text",
        {},
        {"foo": 1},
        {"body": "x", "version": "1.0"},
        {"body": "x", "requestContext": {}},
    ],
)
def test_unknown_shapes_are_bad_events(event):
    with pytest.raises(BadEvent):
        events.source_of(event)


@pytest.mark.parametrize(
    "event",
    [
        build.rest_v1(body="héllo 東京", base64_body=True),
        build.http_v2(body="héllo 東京", base64_body=True),
        build.direct(base64.b64encode("héllo 東京".encode()).decode(), isBase64Encoded=True),
    ],
    ids=["rest_v1", "http_v2", "direct"],
)
def test_base64_bodies_arrive_decoded(event):
    assert parse(event).body == "héllo 東京"


@pytest.mark.parametrize(
    ("body", "code"),
    [("not base64!", "invalid_base64"), (base64.b64encode(b"caf\xe9").decode(), "invalid_utf8")],
)
def test_undecodable_bodies_are_client_errors(body, code):
    event = build.http_v2()
    event["body"], event["isBase64Encoded"] = body, True
    with pytest.raises(HttpError) as raised:
        parse(event)
    assert (raised.value.status, raised.value.code) == (400, code)


def test_rest_v1_headers_are_found_in_any_case_without_lower_casing_the_map():
    event = build.rest_v1(headers={"CONTENT-type": "text/plain", "ORIGIN": "https://a.example"})
    request = parse(event)
    assert request.header("content-type") == "text/plain"
    assert request.header("origin") == "https://a.example"
    assert request.header("x-missing") is None
    assert request.headers is event["headers"]  # no copy per request


def test_rest_v1_falls_back_to_multi_value_headers_when_headers_is_null():
    event = build.rest_v1(multi_value_headers={"Content-Type": ["text/plain"]})
    event["headers"] = None
    assert parse(event).header("content-type") == "text/plain"


def test_header_values_that_are_not_strings_are_absent():
    event = build.rest_v1()
    event["headers"] = {"Content-Type": 5, 7: "x"}
    assert parse(event).header("content-type") is None


def test_http_v2_strips_a_named_stage_and_keeps_the_request_id():
    request = parse(build.http_v2("GET", "/health", stage="prod"))
    assert (request.method, request.path, request.request_id) == (
        "GET",
        "/health",
        "JKJaXmPLvHcESHA=",
    )


def test_direct_invoke_json_object_becomes_a_json_request():
    request = parse(build.direct({"text": "hi"}, headers={"Content-Type": "text/plain"}))
    assert (request.method, request.path, request.body) == ("POST", "/predict", '{"text": "hi"}')
    assert request.header("content-type") == "application/json"


def test_render_gives_the_four_proxy_fields_for_every_source():
    response = Response(200, "{}", {"Content-Type": "application/json"})
    for source in events.SOURCES:
        assert source.render(response) == {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": "{}",
            "isBase64Encoded": False,
        }
