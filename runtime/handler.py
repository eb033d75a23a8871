"""The Lambda entry point, ``runtime.handler.lambda_handler``.

Importing this module is the cold start: it reads the settings and loads the model once
for the container. Nothing a client sends makes the handler raise or answer 5xx; a
missing model is a 503 that says why, retried with backoff on later requests.
"""

import os

# Before anything imports NumPy: one BLAS thread roughly halves cold-start CPU on a
# fraction of a vCPU, and a single-message predict has nothing to parallelise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import contextlib
import time
from typing import Any

from runtime import events, logs
from runtime.api import Api, ApiError
from runtime.config import ConfigError, ModelSource, Settings
from runtime.http_types import BadEvent
from runtime.model_source import ModelHolder, ModelUnavailable


class App:
    """Event in, proxy response out, one log line per request; never raises."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._internal_error = ApiError(500, "internal_error", "internal error")

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        started = time.perf_counter()
        kind = events.REST_V1
        request = None
        try:
            kind = events.kind_of(event)
            request = events.parse(kind, event)
            response = self.api.handle(request)
        except BadEvent as exc:
            response = self.api.error(request, ApiError(400, "bad_event", str(exc)))
        except Exception as exc:  # a bug, not the client's fault: log its type, not its text
            response = self.api.error(request, self._internal_error)
            logs.emit(
                {"level": "ERROR", "msg": "unhandled_exception", "exception": type(exc).__name__}
            )
        result = events.render(response)
        model = self.api.holder.model
        logs.request(
            request_id=getattr(context, "aws_request_id", None)
            or (request.request_id if request is not None else None),
            event_kind=kind,
            route=response.route,
            status=response.status,
            texts=response.texts,
            started=started,
            model_id=model.model_id if model is not None else None,
            error=response.error,
        )
        return result


def create_app(settings: Settings, holder: ModelHolder | None = None) -> App:
    """An app for these settings; the model load is attempted now, as at a cold start."""
    holder = holder or ModelHolder.from_settings(settings)
    with contextlib.suppress(ModelUnavailable):  # logged; requests get 503 until a retry works
        holder.get()
    return App(Api(settings, holder))


def _misconfigured(message: str) -> App:
    def refuse() -> Any:
        raise ModelUnavailable(message, code="misconfigured")

    # No source is known: the environment that should name it is what is wrong.
    settings = Settings(source=ModelSource("invalid", "(invalid configuration)"))
    # The environment cannot change inside a container: retrying would never help.
    holder = ModelHolder(refuse, settings.source, first_delay=float("inf"))
    logs.emit({"level": "ERROR", "msg": "misconfigured", "error": message})
    return App(Api(settings, holder))


def _app_from_environment() -> App:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        return _misconfigured(f"invalid configuration: {exc}")
    return create_app(settings)


APP = _app_from_environment()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return APP(event, context)
