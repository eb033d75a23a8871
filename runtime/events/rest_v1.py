"""API Gateway REST API proxy integration (payload format 1.0).

Also what an HTTP API sends when its integration uses payload format 1.0. Header names
arrive in whatever case the client used, and repeated headers only in multiValueHeaders.
"""

from __future__ import annotations

from typing import Any

from runtime.events._common import body_fields, lower_headers, render, request_id, text_field
from runtime.http_types import Request, Response


def parse(event: dict[str, Any]) -> Request:
    headers: dict[str, str] = {}
    multi = event.get("multiValueHeaders")
    if isinstance(multi, dict):
        for name, values in multi.items():
            if isinstance(name, str) and isinstance(values, list):
                strings = [value for value in values if isinstance(value, str)]
                if strings:
                    headers[name.lower()] = ", ".join(strings)
    lower_headers(event.get("headers"), headers)  # single values win when both are present
    body, is_base64 = body_fields(event)
    return Request(
        method=text_field(event, "httpMethod").upper(),
        path=text_field(event, "path"),
        headers=headers,
        body=body,
        is_base64=is_base64,
        request_id=request_id(event),
    )


def render_response(response: Response) -> dict[str, Any]:
    return render(response.status, response.headers, response.body)
