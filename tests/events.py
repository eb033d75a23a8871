"""Typed builders for the events Lambda receives, modelled on recorded AWS events.

The templates follow the documented examples for each source (REST API proxy
integration, HTTP API payload 2.0, Function URL); the builders fill in method, path,
headers and body the way the real service does, e.g. REST 1.0 keeps the client's header
case and fills multiValueHeaders, while 2.0 lower-cases names and joins repeats.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from typing import Any

Event = dict[str, Any]

_REST_V1_TEMPLATE: Event = {
    "resource": "/{proxy+}",
    "path": "/predict",
    "httpMethod": "POST",
    "headers": {},
    "multiValueHeaders": {},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": {"proxy": "predict"},
    "stageVariables": None,
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "1234567890",
        "domainName": "1234567890.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "1234567890",
        "extendedRequestId": "BQGojGkiIAMFb9A=",
        "httpMethod": "POST",
        "identity": {
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": "203.0.113.7",
            "user": None,
            "userAgent": "curl/8.5.0",
            "userArn": None,
        },
        "path": "/prod/predict",
        "protocol": "HTTP/1.1",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "requestTime": "09/Apr/2015:12:34:56 +0000",
        "requestTimeEpoch": 1428582896000,
        "resourceId": "123456",
        "resourcePath": "/{proxy+}",
        "stage": "prod",
    },
    "body": None,
    "isBase64Encoded": False,
}

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

_HTTP_V2_TEMPLATE: Event = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/predict",
    "rawQueryString": "",
    "headers": {},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "r3pmxmplak",
        "domainName": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
        "domainPrefix": "r3pmxmplak",
        "http": {
            "method": "POST",
            "path": "/predict",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": "$default",
        "stage": "$default",
        "time": "10/Mar/2020:05:16:23 +0000",
        "timeEpoch": 1583817383220,
    },
    "isBase64Encoded": False,
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

_FUNCTION_URL_CONTEXT = {
    "accountId": "anonymous",
    "apiId": "<urlid>",
    "domainName": "<urlid>.lambda-url.us-west-2.on.aws",
    "domainPrefix": "<urlid>",
    "requestId": "id",
    "routeKey": "$default",
    "stage": "$default",
    "time": "12/Mar/2020:19:03:58 +0000",
    "timeEpoch": 1583348638390,
}


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
    """A REST API proxy event (payload 1.0); ``version="1.0"`` makes it an HTTP API 1.0 one.

    ``headers`` keep the given case; ``multi_value_headers`` adds repeated headers (the
    single-value map then holds the last value, as API Gateway does). REST APIs leave the
    stage out of ``path``; HTTP APIs (version "1.0") put a named stage in front of it.
    """
    event = copy.deepcopy(_REST_V1_TEMPLATE)
    event["httpMethod"] = method
    event["path"] = path
    event["requestContext"]["stage"] = stage
    if version is not None and stage != "$default":
        event["path"] = f"/{stage}{path}"
    event["requestContext"]["httpMethod"] = method
    event["requestContext"]["path"] = f"/{stage}{path}"
    all_headers = {**_REST_V1_DEFAULT_HEADERS, **(headers or {})}
    event["headers"] = dict(all_headers)
    event["multiValueHeaders"] = {name: [value] for name, value in all_headers.items()}
    for name, values in (multi_value_headers or {}).items():
        event["multiValueHeaders"][name] = list(values)
        event["headers"][name] = values[-1]
    event["body"], event["isBase64Encoded"] = _body(body, base64_body)
    if version is not None:
        event["version"] = version
    return event


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
    """An HTTP API event (payload 2.0); a named ``stage`` prefixes rawPath, as the service does."""
    event = copy.deepcopy(_HTTP_V2_TEMPLATE)
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    event["rawPath"] = raw_path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = raw_path
    event["requestContext"]["stage"] = stage
    event["headers"] = {**_V2_DEFAULT_HEADERS, **{k.lower(): v for k, v in (headers or {}).items()}}
    if cookies:
        event["cookies"] = list(cookies)
    text, encoded = _body(body, base64_body)
    if text is not None:
        event["body"] = text
    event["isBase64Encoded"] = encoded
    return event


def function_url(
    method: str = "POST",
    path: str = "/predict",
    *,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> Event:
    """A Lambda Function URL event: payload 2.0 with a lambda-url domain and no stage."""
    event = http_v2(method, path, body=body, headers=headers, base64_body=base64_body)
    context = event["requestContext"]
    context.update(copy.deepcopy(_FUNCTION_URL_CONTEXT))
    event["headers"]["host"] = context["domainName"]
    return event


def direct(body: Any, **extra: Any) -> Event:
    """A direct invoke, e.g. ``aws lambda invoke --payload '{"body": "..."}'``."""
    return {"body": body, **extra}


def _body(body: str | bytes | None, base64_body: bool) -> tuple[str | None, bool]:
    if body is None:
        return None, base64_body
    if base64_body:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        return base64.b64encode(raw).decode("ascii"), True
    if isinstance(body, bytes):
        raise TypeError("bytes bodies need base64_body=True")
    return body, False


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
