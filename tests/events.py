"""Events as AWS sends them, for the tests: the shared builder (localserver.events) plus
the headers API Gateway adds to every request, and checks on the handler's responses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from localserver import events as build
from localserver.events import Event, direct

_REST_V1_DEFAULT_HEADERS = {
    "Accept": "*/*",
    "CloudFront-Forwarded-Proto": "https",
    "CloudFront-Viewer-Country": "US",
    "Host": "1234567890.execute-api.us-east-1.amazonaws.com",
    "User-Agent": "curl/8.5.0",
    "Via": "2.0 a3650115c5e21e2b5d133ce84464bea3.cloudfront.net (CloudFront)",
    "X-Amz-Cf-Id": "ktHwTjFZ8nBVvpvAUPbSdH8hgxY5-u3gq4aP1dTBFRcVzhvyeRnRVA==",
    "X-Amzn-Trace-Id": "Root=1-5e66d96f-7491f09xmpl79d18acf3d050",
    "X-Forwarded-For": "203.0.113.7, 198.51.100.1",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
}

_V2_DEFAULT_HEADERS = {
    "accept": "*/*",
    "host": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
    "user-agent": "curl/8.5.0",
    "x-amzn-trace-id": "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
}

__all__ = ["Event", "direct", "function_url", "http_v2", "rest_v1"]


def rest_v1(
    method: str = "POST",
    path: str = "/predict",
    *,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    multi_value_headers: dict[str, list[str]] | None = None,
    base64_body: bool = False,
    version: str | None = None,
    stage: str = "prod",
) -> Event:
    """A REST API event with API Gateway's usual headers; ``multi_value_headers`` adds
    repeated headers (the single-value map then holds the last value)."""
    merged = {**_REST_V1_DEFAULT_HEADERS, **(headers or {})}
    pairs = [
        (name, value) for name, value in merged.items() if name not in (multi_value_headers or {})
    ]
    for name, values in (multi_value_headers or {}).items():
        pairs.extend((name, value) for value in values)
    return build.rest_v1(
        method,
        path,
        headers=pairs,
        body=body,
        base64_body=base64_body,
        stage=stage,
        version=version,
        now=1428582896.0,
    )


def http_v2(
    method: str = "POST",
    path: str = "/predict",
    *,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    cookies: list[str] | None = None,
    base64_body: bool = False,
    stage: str = "$default",
) -> Event:
    """An HTTP API event (payload 2.0) with the service's usual headers."""
    pairs = list(
        {**_V2_DEFAULT_HEADERS, **{k.lower(): v for k, v in (headers or {}).items()}}.items()
    )
    if cookies:
        pairs.append(("cookie", "; ".join(cookies)))
    return build.http_v2(
        method,
        path,
        headers=pairs,
        body=body,
        base64_body=base64_body,
        stage=stage,
        now=1583817383.22,
    )


def function_url(
    method: str = "POST",
    path: str = "/predict",
    *,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> Event:
    """A Lambda Function URL event with the usual headers."""
    pairs = {**_V2_DEFAULT_HEADERS, **{k.lower(): v for k, v in (headers or {}).items()}}
    return build.function_url(method, path, headers=pairs, body=body, base64_body=base64_body)


def json_body(payload: Any) -> str:
    return json.dumps(payload)


@dataclass
class LambdaContext:
    aws_request_id: str = "8f5ba5e2-6a9e-4f63-9b86-7a4fd4c2c0de"
    function_name: str = "sms-spam"


# The response keys API Gateway accepts for each payload version; anything else, or a
# wrong type, is a 502 "malformed Lambda proxy response" at the gateway.
V1_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
V2_RESPONSE_KEYS = {"statusCode", "headers", "body", "isBase64Encoded", "cookies"}


def check_response(result: Any, *, payload_version: str) -> dict[str, Any]:
    """Assert a well-formed proxy response and return its parsed JSON body (or {})."""
    assert isinstance(result, dict), result
    allowed = V2_RESPONSE_KEYS if payload_version == "2.0" else V1_RESPONSE_KEYS
    assert set(result) <= allowed, set(result) - allowed
    assert type(result["statusCode"]) is int
    assert 100 <= result["statusCode"] <= 599
    assert isinstance(result["body"], str)
    assert result["isBase64Encoded"] is False
    headers = result["headers"]
    assert isinstance(headers, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    assert headers["Content-Type"] == "application/json"
    if result["statusCode"] == 204:
        assert result["body"] == ""
        return {}
    body = json.loads(result["body"])
    assert isinstance(body, dict)
    if result["statusCode"] >= 400:
        assert set(body["error"]) == {"code", "message"}
        assert isinstance(body["error"]["code"], str)
        assert isinstance(body["error"]["message"], str)
        assert body["error"]["message"]
    return body


def payload_version_of(event: Event) -> str:
    return "2.0" if event.get("version") == "2.0" else "1.0"
