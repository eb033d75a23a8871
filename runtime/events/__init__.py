"""The event sources the handler accepts, tried in order; the first that matches parses.

- ``http_v2``: ``version == "2.0"`` or ``requestContext.http`` (HTTP API 2.0, Function URL)
- ``rest_v1``: ``httpMethod`` with ``version`` absent or "1.0" (REST API, HTTP API 1.0)
- ``direct``: only ``body`` (and optionally ``headers``): treated as POST /predict

A new source is one module with ``NAME``, ``matches``, ``parse`` and ``render``, added to
``SOURCES``. An event no source matches is a ``BadEvent``; its 400 answer uses
``FALLBACK``'s shape, which every caller (and the Lambda console) accepts.
"""

from __future__ import annotations

from runtime.events import direct, http_v2, rest_v1
from runtime.http_types import BadEvent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from runtime.events._common import EventSource  # a Protocol, for type checkers only

SOURCES: tuple[EventSource, ...] = (http_v2, rest_v1, direct)
FALLBACK: EventSource = rest_v1


def source_of(event: object) -> EventSource:
    """The source whose shape the event has; raises ``BadEvent`` for an unknown shape."""
    if not isinstance(event, dict):
        raise BadEvent(f"event must be a JSON object, got {type(event).__name__}")
    for source in SOURCES:
        if source.matches(event):
            return source
    raise BadEvent(
        "unrecognised event: expected an API Gateway proxy event (payload 1.0 or 2.0), "
        'a Function URL event, or a direct invoke {"body": "..."}'
    )


__all__ = ["FALLBACK", "SOURCES", "source_of"]
