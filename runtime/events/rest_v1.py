"""API Gateway REST API proxy integration (payload format 1.0).

Also what an HTTP API sends when its integration uses payload format 1.0 (those events
say ``"version": "1.0"`` and, unlike REST APIs, keep a named stage in ``path``). Header
names arrive in whatever case the client used.
"""

from __future__ import annotations

from runtime.events._common import (
    decoded_body,
    header_map,
    principal,
    proxy_response,
    request_id,
    strip_stage,
    text_field,
)
from runtime.http_types import Request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "rest_v1"
render = proxy_response


def matches(event: dict[str, Any]) -> bool:
    return "httpMethod" in event


def parse(event: dict[str, Any]) -> Request:
    # API Gateway fills both maps; ``headers`` holds each header's last value. Only events
    # without it (the console's test invoke sends null) need the multi-value map.
    headers = header_map(event.get("headers"))
    if not headers:
        multi = event.get("multiValueHeaders")
        if isinstance(multi, dict):
            headers = {
                name: ", ".join(v for v in values if isinstance(v, str))
                for name, values in multi.items()
                if isinstance(values, list) and values
            }
    path = text_field(event, "path")
    if event.get("version") == "1.0":
        path = strip_stage(path, event.get("requestContext"))
    method = text_field(event, "httpMethod").upper()
    body = decoded_body(event)
    return Request(method, path, body, headers, False, request_id(event), principal(event))
