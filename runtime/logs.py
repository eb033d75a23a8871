"""One JSON object per line on stdout, which Lambda ships to CloudWatch as one event.

Only metadata is logged: SMS text is personal data, so no function here accepts it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import Any

_dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode


def emit(record: dict[str, Any]) -> None:
    """Write one log line; logging must never be why a request fails."""
    with contextlib.suppress(Exception):  # a broken stdout cannot be reported anywhere
        sys.stdout.write(_dumps(record) + "\n")
        sys.stdout.flush()


def request(
    *,
    request_id: str | None,
    event_kind: str,
    route: str,
    status: int,
    texts: int,
    started: float,
    model_id: str | None,
    error: str | None,
) -> None:
    record: dict[str, Any] = {
        "level": "ERROR" if status >= 500 else "INFO",
        "msg": "request",
        "request_id": request_id,
        "event": event_kind,
        "route": route,
        "status": status,
        "texts": texts,
        "latency_ms": round((time.perf_counter() - started) * 1000.0, 3),
        "model": model_id,
    }
    if error is not None:
        record["error"] = error
    emit(record)
