"""The proxy events API Gateway and Function URLs send, built from an HTTP request.

One builder for the local server and the tests. The shapes follow the documented
examples for each source: REST 1.0 keeps the client's header case and fills
``multiValueHeaders``; 2.0 lower-cases names, joins repeats with commas and moves
cookies to ``cookies``; bodies that are not UTF-8 travel base64-encoded.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

Event = dict[str, Any]
Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def rest_v1(
    method: str = "POST",
    target: str = "/predict",
    *,
    headers: Headers = (),
    body: str | bytes | None = None,
    base64_body: bool = False,
    stage: str = "prod",
    version: str | None = None,
    request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    source_ip: str = "203.0.113.7",
    now: float | None = None,
    api_key_id: str | None = None,
) -> Event:
    """A REST API proxy event (payload 1.0); ``version="1.0"`` makes it an HTTP API 1.0 one.

    REST APIs leave the stage out of ``path``; HTTP APIs (version "1.0") put a named
    stage in front of it. ``headers["X"]`` holds the last value of a repeated header.
    ``api_key_id`` is what API Gateway adds for a method that requires an API key.
    """
    url = urlsplit(target)
    path = url.path or "/"
    query = parse_qs(url.query, keep_blank_values=True)
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in _pairs(headers):
        single[name] = value
        multi.setdefault(name, []).append(value)
    text, encoded = encode_body(body, base64_body)
    epoch_ms = int((time.time() if now is None else now) * 1000)
    event: Event = {
        "resource": "/{proxy+}",
        "path": f"/{stage}{path}" if version is not None and stage != "$default" else path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "1234567890",
            "domainName": "1234567890.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "1234567890",
            "httpMethod": method,
            "identity": {
                "sourceIp": source_ip,
                "userAgent": _last(multi, "User-Agent"),
                **({"apiKeyId": api_key_id} if api_key_id is not None else {}),
            },
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTimeEpoch": epoch_ms,
            "resourcePath": "/{proxy+}",
            "stage": stage,
        },
        "body": text,
        "isBase64Encoded": encoded,
    }
    if version is not None:
        event["version"] = version
    return event


def http_v2(
    method: str = "POST",
    target: str = "/predict",
    *,
    headers: Headers = (),
    body: str | bytes | None = None,
    base64_body: bool = False,
    stage: str = "$default",
    domain: str = "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
    request_id: str = "JKJaXmPLvHcESHA=",
    source_ip: str = "203.0.113.7",
    now: float | None = None,
    iam_user_arn: str | None = None,
) -> Event:
    """An HTTP API event (payload 2.0); a named ``stage`` prefixes rawPath, as the service does.

    ``iam_user_arn`` is the caller IAM authorization identified (``authorizer.iam``).
    """
    url = urlsplit(target)
    path = url.path or "/"
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in _pairs(headers):
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    text, encoded = encode_body(body, base64_body)
    at = time.time() if now is None else now
    event: Event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": url.query,
        "headers": joined,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain.partition(".")[0],
            "domainName": domain,
            "domainPrefix": domain.partition(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(at)),
            "timeEpoch": int(at * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if iam_user_arn is not None:
        event["requestContext"]["authorizer"] = {"iam": {"userArn": iam_user_arn}}
    if cookies:
        event["cookies"] = cookies
    query = parse_qs(url.query, keep_blank_values=True)
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in query.items()}
    if text is not None:
        event["body"] = text
    return event


def function_url(
    method: str = "POST",
    target: str = "/predict",
    *,
    headers: Headers = (),
    body: str | bytes | None = None,
    base64_body: bool = False,
    request_id: str = "id",
) -> Event:
    """A Lambda Function URL event: payload 2.0 with a lambda-url domain and no stage."""
    domain = "urlid.lambda-url.us-west-2.on.aws"
    hosted = [(k, v) for k, v in _pairs(headers) if k.lower() != "host"] + [("host", domain)]
    event = http_v2(
        method,
        target,
        headers=hosted,
        body=body,
        base64_body=base64_body,
        domain=domain,
        request_id=request_id,
    )
    event["requestContext"]["accountId"] = "anonymous"
    return event


def direct(body: Any, **extra: Any) -> Event:
    """A direct invoke, e.g. ``aws lambda invoke --payload '{"body": "..."}'``."""
    return {"body": body, **extra}


def encode_body(body: str | bytes | None, base64_body: bool = False) -> tuple[str | None, bool]:
    """(event body, isBase64Encoded): text as is; bytes that are not UTF-8, or any body
    when ``base64_body``, base64-encoded as API Gateway does for binary content."""
    if body is None:
        return None, base64_body
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not base64_body:
        try:
            return raw.decode("utf-8") if isinstance(body, bytes) else body, False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode("ascii"), True


def _pairs(headers: Headers) -> list[tuple[str, str]]:
    return list(headers.items() if isinstance(headers, Mapping) else headers)


def _last(multi: dict[str, list[str]], name: str) -> str | None:
    values = multi.get(name)
    return values[-1] if values else None
