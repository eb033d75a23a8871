"""A direct invoke such as ``{"body": "am i spam or am i ham?"}``, as in the tutorial.

Treated as ``POST /predict``. A ``body`` that is already a JSON object (or list) is taken
as the JSON request, so ``{"body": {"text": "..."}}`` works from the console too.
"""

from __future__ import annotations

import json
from typing import Any

from runtime.events._common import lower_headers
from runtime.http_types import BadEvent, Request


def parse(event: dict[str, Any]) -> Request:
    headers = lower_headers(event.get("headers"))
    body = event.get("body")
    if isinstance(body, dict | list):
        body = json.dumps(body)
        headers["content-type"] = "application/json"
    elif body is not None and not isinstance(body, str):
        raise BadEvent("direct invoke 'body' must be a string or a JSON object")
    encoded = event.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise BadEvent("event field 'isBase64Encoded' must be a boolean")
    return Request(method="POST", path="/predict", headers=headers, body=body, is_base64=encoded)
