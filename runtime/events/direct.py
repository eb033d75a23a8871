"""A direct invoke such as ``{"body": "am i spam or am i ham?"}``, as in the tutorial.

Treated as ``POST /predict``. A ``body`` that is already a JSON object (or list) is taken
as the JSON request, so ``{"body": {"text": "..."}}`` works from the console too.
"""

from __future__ import annotations

import json

from runtime.events._common import decoded_body, header_map, proxy_response
from runtime.http_types import BadEvent, Request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "direct"
render = proxy_response


def matches(event: dict[str, Any]) -> bool:
    return "body" in event and event.get("version") is None and event.get("requestContext") is None


def parse(event: dict[str, Any]) -> Request:
    headers = header_map(event.get("headers"))
    body = event.get("body")
    if isinstance(body, dict | list):
        try:
            text = json.dumps(body)
        except (RecursionError, ValueError):  # nested too deeply to re-encode
            raise BadEvent("direct invoke 'body' is nested too deeply") from None
        headers = {**headers, "content-type": "application/json"}
        return Request(method="POST", path="/predict", body=text, headers=headers)
    if body is not None and not isinstance(body, str):
        raise BadEvent("direct invoke 'body' must be a string or a JSON object")
    return Request(method="POST", path="/predict", body=decoded_body(event), headers=headers)
