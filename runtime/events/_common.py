"""Helpers shared by the event parsers: defensive reads of untrusted event fields."""

from __future__ import annotations

from typing import Any

from runtime.http_types import BadEvent


def text_field(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise BadEvent(f"event field {name!r} must be a non-empty string")
    return value


def body_fields(event: dict[str, Any]) -> tuple[str | None, bool]:
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise BadEvent("event field 'body' must be a string or null")
    encoded = event.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise BadEvent("event field 'isBase64Encoded' must be a boolean")
    return body, encoded


def lower_headers(raw: object) -> dict[str, str]:
    """Header names lower-cased; values that are not strings are dropped, not fatal."""
    if not isinstance(raw, dict):
        return {}
    try:  # the usual case, in one pass: names from a JSON event are always strings
        return {name.lower(): value for name, value in raw.items() if isinstance(value, str)}
    except AttributeError:
        return {
            name.lower(): value
            for name, value in raw.items()
            if isinstance(name, str) and isinstance(value, str)
        }


def request_id(event: dict[str, Any]) -> str | None:
    context = event.get("requestContext")
    if isinstance(context, dict):
        value = context.get("requestId")
        if isinstance(value, str):
            return value
    return None


def strip_stage(path: str, context: object) -> str:
    """HTTP APIs put a named stage in the path (``/prod/predict``); routes do not have it."""
    stage = context.get("stage") if isinstance(context, dict) else None
    if isinstance(stage, str) and stage and stage != "$default":
        prefix = "/" + stage
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) :] or "/"
    return path
