"""The request and response the API works with, independent of the event format.

Each event source (REST 1.0, HTTP 2.0, direct invoke) translates to and from these, so
routing and validation are written once. Plain classes, not dataclasses: class creation
is part of every cold start.
"""

from __future__ import annotations

from typing import NamedTuple


class BadEvent(ValueError):
    """The Lambda event itself is malformed or of an unknown kind (answered with 400)."""


class Request(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: str | None
    is_base64: bool = False
    request_id: str | None = None


class Response:
    """Mutable while the API fills it in (route, text count) before it is rendered."""

    __slots__ = ("body", "error", "headers", "route", "status", "texts")

    def __init__(
        self,
        status: int,
        body: str,
        headers: dict[str, str],
        error: str | None = None,
        texts: int = 0,
        route: str = "-",
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers
        # Not sent to the client: what the request log line reports.
        self.error = error
        self.texts = texts
        self.route = route
