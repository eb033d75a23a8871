"""API Gateway HTTP API (payload format 2.0) and Lambda Function URLs, which share it.

Header names arrive lower-cased with repeated values comma-joined; cookies come
separately and are not used. On a named stage ``rawPath`` starts with ``/<stage>``.
"""

from __future__ import annotations

from runtime.events._common import (
    decoded_body,
    header_map,
    principal,
    proxy_response,
    request_id,
    strip_stage,
)
from runtime.http_types import BadEvent, Request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "http_v2"
render = proxy_response


def matches(event: dict[str, Any]) -> bool:
    context = event.get("requestContext")
    return event.get("version") == "2.0" or (isinstance(context, dict) and "http" in context)


def parse(event: dict[str, Any]) -> Request:
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    if not isinstance(http, dict):
        raise BadEvent("payload 2.0 event needs requestContext.http")
    method = http.get("method")
    if not isinstance(method, str) or not method:
        raise BadEvent("payload 2.0 event needs requestContext.http.method")
    path = event.get("rawPath")
    if not isinstance(path, str) or not path:
        path = http.get("path")
        if not isinstance(path, str) or not path:
            raise BadEvent("payload 2.0 event needs rawPath")
    headers = header_map(event.get("headers"))
    path = strip_stage(path, context)
    body = decoded_body(event)
    return Request(method.upper(), path, body, headers, True, request_id(event), principal(event))
