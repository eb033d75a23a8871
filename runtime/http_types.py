"""The request and response the API works with, independent of the event format.

Each event source (REST 1.0, HTTP 2.0, direct invoke) translates to and from these, so
routing and validation are written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class BadEvent(ValueError):
    """The Lambda event itself is malformed or of an unknown kind (answered with 400)."""


@dataclass(slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: str | None
    is_base64: bool = False
    request_id: str | None = None


@dataclass(slots=True)
class Response:
    status: int
    body: str
    headers: dict[str, str]
    # Not sent to the client: what the request log line reports.
    error: str | None = None
    texts: int = 0
    route: str = field(default="-")
