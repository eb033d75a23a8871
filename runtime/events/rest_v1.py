"""API Gateway REST API proxy integration (payload format 1.0).

Also what an HTTP API sends when its integration uses payload format 1.0 (those events
say ``"version": "1.0"`` and, unlike REST APIs, keep a named stage in ``path``). Header
names arrive in whatever case the client used.
"""

from __future__ import annotations

from typing import Any

from runtime.events._common import (
    body_fields,
    lower_headers,
    request_id,
    strip_stage,
    text_field,
)
from runtime.http_types import Request


def parse(event: dict[str, Any]) -> Request:
    # API Gateway fills both maps; ``headers`` holds each header's last value. Only events
    # without it (the console's test invoke sends null) need the multi-value map.
    headers = lower_headers(event.get("headers"))
    if not headers:
        multi = event.get("multiValueHeaders")
        if isinstance(multi, dict):
            headers = lower_headers(
                {
                    name: ", ".join(v for v in values if isinstance(v, str))
                    for name, values in multi.items()
                    if isinstance(values, list) and values
                }
            )
    path = text_field(event, "path")
    if event.get("version") == "1.0":
        path = strip_stage(path, event.get("requestContext"))
    body, is_base64 = body_fields(event)
    return Request(
        method=text_field(event, "httpMethod").upper(),
        path=path,
        headers=headers,
        body=body,
        is_base64=is_base64,
        request_id=request_id(event),
    )
