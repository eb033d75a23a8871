"""The Lambda side of the function: ``LambdaAdapter`` turns events into ``Request``s for
the ``Api`` and its ``Response``s into proxy responses, and writes the request log line.

Importing this module has no side effects; ``runtime.handler`` is the entry point that
builds the container's adapter at import (the cold start).
"""

from __future__ import annotations

import time

from runtime import events, logs, metrics
from runtime.api import Api
from runtime.config import ConfigError, Settings
from runtime.errors import ModelUnavailable
from runtime.http_types import BadEvent, HttpError, Request
from runtime.model_source import ModelHolder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtime.reports import ReportStore

_INTERNAL_ERROR = HttpError(500, "internal_error", "internal error")


class LambdaAdapter:
    """Adapts Lambda to the ``Api``: event in, proxy response out, one log line per
    request; never raises."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._cold = api.settings.emit_metrics  # the ColdStart metric is still to be written

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        started = time.perf_counter()
        if self._cold:
            self._cold = False
            settings = self.api.settings
            logs.write_line(
                metrics.cold_start_line(
                    service=settings.service_name, namespace=settings.metrics_namespace
                )
            )
        source = events.FALLBACK
        request: Request | None = None
        try:
            source = events.source_of(event)
            request = source.parse(event)
            response = self.api.handle(request)
        except BadEvent as exc:
            response = self.api.error(request, HttpError(400, "bad_event", str(exc)))
        except HttpError as exc:  # the event's body could not be decoded
            response = self.api.error(request, exc)
        except Exception as exc:  # a bug, not the client's fault: log its type, not its text
            response = self.api.error(request, _INTERNAL_ERROR)
            logs.emit(
                {"level": "ERROR", "msg": "unhandled_exception", "exception": type(exc).__name__}
            )
        result = source.render(response)
        logs.request(
            request_id=getattr(context, "aws_request_id", None)
            or (request.request_id if request is not None else None),
            event_kind=source.NAME,
            route=response.route,
            status=response.status,
            texts=response.texts,
            started=started,
            model_id=self.api.model_id,
            error=response.error,
            metrics=response.metrics,
        )
        return result


def create_adapter(
    settings: Settings, holder: ModelHolder | None = None, reports: ReportStore | None = None
) -> LambdaAdapter:
    """An adapter for these settings; the model load is attempted now, as at a cold start.

    ``reports`` defaults to the S3 store REPORTS_S3_URI names (None if it is unset).
    """
    holder = holder or ModelHolder.from_settings(settings)
    if reports is None and settings.reports_s3_uri is not None:
        from runtime.reports import S3ReportStore  # boto3 itself waits for the first report

        reports = S3ReportStore.from_uri(
            settings.reports_s3_uri, endpoint_url=settings.s3_endpoint_url
        )
    try:  # noqa: SIM105 - not contextlib.suppress: contextlib is ~0.5 ms of a cold start
        holder.get()
    except ModelUnavailable:  # logged; requests get 503 until a retry works
        pass
    return LambdaAdapter(Api(settings, holder, reports=reports))


def adapter_from_environment() -> LambdaAdapter:
    """The container's adapter; an invalid environment answers 503 ``misconfigured``
    (it cannot change inside a container, so nothing is retried)."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        message = f"invalid configuration: {exc}"
        logs.emit({"level": "ERROR", "msg": "misconfigured", "error": message})
        return LambdaAdapter(Api(Settings(), None, startup_error=message))
    return create_adapter(settings)
