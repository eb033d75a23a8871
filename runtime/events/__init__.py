"""Explicit dispatch on the event's shape, the way Mangum and apig-wsgi do it.

- ``version == "2.0"`` or ``requestContext.http``: HTTP API payload 2.0 / Function URL
- ``httpMethod`` (``version`` absent or "1.0"): REST API proxy, payload 1.0
- only ``body`` (and optionally ``headers``): a direct invoke, treated as POST /predict

Anything else is a ``BadEvent``; its 400 answer uses the 1.0 shape, which every caller
(and the Lambda console) accepts.
"""

from __future__ import annotations

from typing import Any

from runtime.events import direct, http_v2, rest_v1
from runtime.http_types import BadEvent, Request, Response

REST_V1 = "rest_v1"
HTTP_V2 = "http_v2"
DIRECT = "direct"


def kind_of(event: object) -> str:
    """Which format the event is in; raises ``BadEvent`` for an unknown shape."""
    if not isinstance(event, dict):
        raise BadEvent(f"event must be a JSON object, got {type(event).__name__}")
    version = event.get("version")
    context = event.get("requestContext")
    if version == "2.0" or (isinstance(context, dict) and "http" in context):
        return HTTP_V2
    if "httpMethod" in event:
        return REST_V1
    if version is None and context is None and "body" in event:
        return DIRECT
    raise BadEvent(
        "unrecognised event: expected an API Gateway proxy event (payload 1.0 or 2.0), "
        'a Function URL event, or a direct invoke {"body": "..."}'
    )


def parse(kind: str, event: dict[str, Any]) -> Request:
    if kind == HTTP_V2:
        return http_v2.parse(event)
    if kind == REST_V1:
        return rest_v1.parse(event)
    return direct.parse(event)


def render(response: Response) -> dict[str, Any]:
    """The proxy response. Payload 1.0 and 2.0 (and Function URLs) take the same four
    fields; giving all of them explicitly keeps 2.0 from guessing a shape from the body."""
    return {
        "statusCode": response.status,
        "headers": response.headers,
        "body": response.body,
        "isBase64Encoded": False,
    }
