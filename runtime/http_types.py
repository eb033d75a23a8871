"""The request and response the API works with, independent of the event format.

Each event source (REST 1.0, HTTP 2.0, direct invoke) translates to and from these, so
routing and validation are written once. Plain classes with slots, not dataclasses or
NamedTuples: class creation is part of every cold start, and one of each is made per request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class BadEvent(ValueError):
    """The Lambda event itself is malformed or of an unknown kind (answered with 400)."""


class HttpError(Exception):
    """A problem with what the client sent (or a state of the service), as status and code."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class Request:
    """One HTTP request; ``body`` is already decoded text (base64 and UTF-8 are undone)."""

    __slots__ = (
        "body",
        "headers",
        "headers_lower_cased",
        "method",
        "path",
        "principal",
        "request_id",
    )

    def __init__(
        self,
        method: str,
        path: str,
        body: str | None,
        # As the event has them: looking up the two headers the API reads is cheaper than
        # lower-casing every name of every request (API Gateway adds a dozen).
        headers: Mapping[str, Any],
        headers_lower_cased: bool = False,
        request_id: str | None = None,
        principal: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.body = body
        self.headers = headers
        self.headers_lower_cased = headers_lower_cased
        self.request_id = request_id
        # Who sent it, as API Gateway authenticated them (API key id or IAM principal);
        # None when nothing did. Never taken from a header the client controls.
        self.principal = principal

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (given in lower case), matched case-insensitively."""
        headers = self.headers
        value = headers.get(name)
        if value is None and not self.headers_lower_cased:
            value = headers.get(name.title())  # how clients usually spell it: no scan
            if value is None:
                size = len(name)
                for key, candidate in headers.items():
                    if isinstance(key, str) and len(key) == size and key.lower() == name:
                        value = candidate
                        break
        return value if isinstance(value, str) else None


class Response:
    """Mutable while the API fills it in (route, text count) before it is rendered."""

    __slots__ = ("body", "error", "headers", "metrics", "route", "status", "texts")

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
        # /predict: a callable that formats the request's EMF metrics line given its
        # latency (labels, scores and counts only: never message text).
        self.metrics: Callable[[float], str] | None = None
