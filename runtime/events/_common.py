"""Helpers shared by the event sources: defensive reads of untrusted event fields."""

from __future__ import annotations

import binascii

from runtime.http_types import BadEvent, HttpError, Request, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class EventSource(Protocol):
        """What each module in ``runtime/events/`` provides (a module satisfies a Protocol).

        Only type checkers need it: nothing checks a source against it at run time.
        """

        NAME: str

        def matches(self, event: dict[str, Any]) -> bool: ...

        def parse(self, event: dict[str, Any]) -> Request: ...

        def render(self, response: Response) -> dict[str, Any]: ...


def proxy_response(response: Response) -> dict[str, Any]:
    """The proxy response. Payload 1.0 and 2.0 (and Function URLs) take the same four
    fields; giving all of them explicitly keeps 2.0 from guessing a shape from the body."""
    return {
        "statusCode": response.status,
        "headers": response.headers,
        "body": response.body,
        "isBase64Encoded": False,
    }


def text_field(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise BadEvent(f"event field {name!r} must be a non-empty string")
    return value


def decoded_body(event: dict[str, Any]) -> str | None:
    """The body as text: base64 (``isBase64Encoded``) and UTF-8 undone here, once."""
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise BadEvent("event field 'body' must be a string or null")
    encoded = event.get("isBase64Encoded", False)
    if encoded is False or encoded is None:
        return body
    if encoded is not True:
        raise BadEvent("event field 'isBase64Encoded' must be a boolean")
    if body is None:
        return None
    try:
        raw = binascii.a2b_base64(body, strict_mode=True)  # = b64decode(validate=True)
    except ValueError:  # binascii.Error, or non-ASCII characters
        raise HttpError(400, "invalid_base64", "body is not valid base64") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(
            400, "invalid_utf8", f"body is not valid UTF-8 (byte {exc.start})"
        ) from None


def header_map(raw: object) -> dict[str, Any]:
    """The event's header map, or an empty one when the field is missing or not a map."""
    return raw if isinstance(raw, dict) else {}


def request_id(event: dict[str, Any]) -> str | None:
    context = event.get("requestContext")
    if isinstance(context, dict):
        value = context.get("requestId")
        if isinstance(value, str):
            return value
    return None


def principal(event: dict[str, Any]) -> str | None:
    """Who API Gateway authenticated: the IAM principal, else the API key's id, else None.

    REST (1.0) events carry ``identity.userArn`` (IAM auth) and ``identity.apiKeyId``
    (a method that requires an API key); HTTP API and Function URL (2.0) events carry
    ``authorizer.iam.userArn``. ``identity.apiKey`` is the key itself: never read.
    """
    context = event.get("requestContext")
    if not isinstance(context, dict):
        return None
    identity = context.get("identity")
    if isinstance(identity, dict):
        for name in ("userArn", "apiKeyId"):
            value = identity.get(name)
            if isinstance(value, str) and value.strip():
                return value
    authorizer = context.get("authorizer")
    iam = authorizer.get("iam") if isinstance(authorizer, dict) else None
    if isinstance(iam, dict):
        value = iam.get("userArn")
        if isinstance(value, str) and value.strip():
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
