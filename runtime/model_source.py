"""Load the model once per container, from S3 or a file, and survive a failed load.

A cold start that cannot read the model must not crash the function (Lambda would
report only a generic error, and keep paying for re-inits): the holder remembers the
failure, requests get a 503 that says why, and later requests retry with exponential
backoff until the load succeeds.

A model that follows a pointer (MODEL_POINTER_S3_URI, or the local server's pointer
file) is also refreshed: at most once
per ``refresh_s`` seconds of the holder's clock, one request asks the loader's ``check``
whether the pointer moved, while concurrent requests keep being answered by the model
being served. A refresh that fails leaves that model serving, with an error log line
that is also a metric (``ModelRefreshFailed``).
"""

from __future__ import annotations

import math
import time
from _thread import allocate_lock  # threading's own primitive, without its import
from collections.abc import Callable

from runtime import logs, metrics
from runtime.config import ModelSource, Settings
from runtime.errors import ModelUnavailable
from runtime.model import Model, ModelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 60.0


def make_loader(settings: Settings) -> Callable[[], Model]:
    if settings.source.kind == "pointer":
        from runtime.pointer_loader import PointerLoader  # imports boto3 with S3Loader

        return PointerLoader(settings)
    if settings.source.kind == "pointer-file":
        from runtime.pointer_file import FilePointerLoader

        return FilePointerLoader(settings)
    if settings.source.kind == "s3":
        from runtime.s3_loader import S3Loader  # only S3-configured functions import it

        return S3Loader(settings)
    path, expected = settings.source.location, settings.model_sha256
    limit = settings.model_max_bytes
    return lambda: Model.from_path(path, expected_sha256=expected, max_bytes=limit)


class ModelHolder:
    """The container's model, loaded at most once, with backoff between failed attempts."""

    def __init__(
        self,
        loader: Callable[[], Model],
        source: ModelSource,
        *,
        clock: Callable[[], float] = time.monotonic,
        first_delay: float = FIRST_RETRY_DELAY,
        max_delay: float = MAX_RETRY_DELAY,
        refresh: Callable[[Model], Model | None] | None = None,
        refresh_s: float = math.inf,
        service: str = "local",
        namespace: str = metrics.NAMESPACE,
    ) -> None:
        self.source = source
        self.model: Model | None = None
        self.error: str | None = None
        self.error_code = "model_unavailable"
        self.attempts = 0
        self._loader = loader
        self._clock = clock
        self._delay = first_delay
        self._max_delay = max_delay
        self._next_attempt = -math.inf
        self._lock = allocate_lock()
        # refresh(current) -> a new model, or None when the source has not changed
        self._refresh = refresh
        self._refresh_s = refresh_s
        self._next_refresh = math.inf  # set when a load succeeds
        self._refresh_lock = allocate_lock()
        self._service = service
        self._namespace = namespace
        self.refreshes = 0  # refresh checks made, for tests and /health-style probes

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ModelHolder:
        loader = make_loader(settings)
        if settings.source.kind in ("pointer", "pointer-file"):
            kwargs.setdefault("refresh", loader.check)  # type: ignore[attr-defined]
            kwargs.setdefault("refresh_s", float(settings.model_refresh_s))
        kwargs.setdefault("service", settings.service_name)
        kwargs.setdefault("namespace", settings.metrics_namespace)
        return cls(loader, settings.source, **kwargs)

    def get(self) -> Model:
        """The model, loading it if due; raises ``ModelUnavailable`` otherwise."""
        model = self.model
        if model is not None:
            if self._refresh is not None and self._clock() >= self._next_refresh:
                return self._refreshed(model)
            return model
        with self._lock:  # one load at a time; concurrent callers wait for its outcome
            if self.model is None and self._clock() >= self._next_attempt:
                self._attempt()
            if self.model is not None:
                return self.model
            wait = max(0.0, self._next_attempt - self._clock())
            raise ModelUnavailable(
                self.error or "model not loaded",
                retry_after=wait if math.isfinite(wait) else None,
                code=self.error_code,
            )

    def _attempt(self) -> None:
        self.attempts += 1
        started = time.perf_counter()
        code = "model_unavailable"
        try:
            model = self._loader()
        except ModelUnavailable as exc:
            error = detail = exc.message
            code = exc.code
        except ModelError as exc:
            error = detail = f"model refused: {exc}"
        except Exception as exc:  # anything else must also leave the function serving 503s
            # A bug's message may hold internals: clients get a generic answer, the log the rest.
            error = "the model could not be loaded (the function's log has the details)"
            detail = f"{type(exc).__name__}: {exc}"
        else:
            self.model, self.error = model, None
            self._next_refresh = self._clock() + self._refresh_s
            logs.emit(
                {
                    "level": "INFO",
                    "msg": "model_loaded",
                    "source": self.source.describe(),
                    "model": model.model_id,
                    "load_ms": round((time.perf_counter() - started) * 1000.0, 1),
                }
            )
            return
        self.error, self.error_code = error, code
        self._next_attempt = self._clock() + self._delay
        record = {
            "level": "ERROR",
            "msg": "model_unavailable",
            "source": self.source.describe(),
            "error": detail,
            "attempt": self.attempts,
        }
        if math.isfinite(self._delay):  # a holder that never retries says nothing of it
            record["retry_in_s"] = self._delay
        logs.emit(record)
        self._delay = min(self._delay * 2.0, self._max_delay)

    def _refreshed(self, model: Model) -> Model:
        """The model after a refresh check; only one caller checks, the others go on."""
        if not self._refresh_lock.acquire(blocking=False):
            return model  # another request is checking: serve what is loaded meanwhile
        try:
            if self._clock() < self._next_refresh:  # checked while this caller waited
                return self.model or model
            # Scheduled before the check, so a slow or failing one is not repeated early.
            self._next_refresh = self._clock() + self._refresh_s
            self.refreshes += 1
            assert self._refresh is not None
            started = time.perf_counter()
            try:
                new = self._refresh(model)
            except Exception as exc:  # the old model keeps serving; say why it was not replaced
                detail = exc.message if isinstance(exc, ModelUnavailable) else str(exc)
                if not isinstance(exc, ModelUnavailable | ModelError):
                    detail = f"{type(exc).__name__}: {exc}"
                record: dict[str, Any] = {
                    "level": "ERROR",
                    "msg": "model_refresh_failed",
                    "source": self.source.describe(),
                    "serving": model.model_id,
                    "error": detail[:1000],
                }
                logs.emit(
                    metrics.with_count(
                        record,
                        "ModelRefreshFailed",
                        service=self._service,
                        namespace=self._namespace,
                    )
                )
                return model
            if new is None:
                return model
            self.model = new
            record = {
                "level": "INFO",
                "msg": "model_refreshed",
                "source": self.source.describe(),
                "model": new.model_id,
                "previous": model.model_id,
                "load_ms": round((time.perf_counter() - started) * 1000.0, 1),
            }
            logs.emit(
                metrics.with_count(
                    record, "ModelRefreshed", service=self._service, namespace=self._namespace
                )
            )
            return new
        finally:
            self._refresh_lock.release()
