"""One JSON object per line on stdout, which Lambda ships to CloudWatch as one event.

Only metadata is logged: SMS text is personal data, so no function here accepts it.
Failures are swallowed with try/except, not contextlib.suppress: contextlib is ~0.5 ms of
a cold start, and nothing else on that path imports it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from runtime.memo import Memo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode
_quote = json.encoder.encode_basestring_ascii  # C-accelerated, as json.dumps uses for str


def _string(value: object) -> str:
    if value is None:
        return "null"
    return _quote(value if isinstance(value, str) else str(value))


def emit(record: dict[str, Any]) -> None:
    """Write one log line; logging must never be why a request fails."""
    try:
        sys.stdout.write(_dumps(record) + "\n")
        sys.stdout.flush()
    except Exception:  # a broken stdout cannot be reported anywhere
        pass


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
    metrics: Callable[[float], str] | None = None,
) -> None:
    """The per-request line, formatted directly: it is on every request's path."""
    latency_ms = round((time.perf_counter() - started) * 1000.0, 3)
    line = (
        f'{{"level":"{"ERROR" if status >= 500 else "INFO"}","msg":"request",'
        f'"request_id":{_string(request_id)},"event":{_known(event_kind)},'
        f'"route":{_known(route)},"status":{int(status)},"texts":{int(texts)},'
        f'"latency_ms":{latency_ms!r},"model":{_known(model_id)}'
    )
    if error is not None:
        line += f',"error":{_known(error)}'
    line += "}\n"
    if metrics is not None:  # the EMF line beside it, in the same write
        try:  # noqa: SIM105 - see the module's docstring
            line += metrics(latency_ms) + "\n"
        except Exception:  # a broken metrics line must not take the request line with it
            pass
    try:
        sys.stdout.write(line)
        sys.stdout.flush()
    except Exception:  # logging must never be why a request fails
        pass


# Event kinds, routes, error codes and the model id come from small fixed sets: each is
# quoted once. Bounded all the same, as a route holds the client's method and path.
_QUOTED: Memo[str | None, str] = Memo(256)
_QUOTED[None] = "null"


def _known(value: str | None) -> str:
    quoted = _QUOTED.get(value)
    if quoted is None:
        quoted = _QUOTED.keep(value, _string(value))
    return quoted
