"""Load the model once per container, from S3 or a file, and survive a failed load.

A cold start that cannot read the model must not crash the function (Lambda would
report only a generic error, and keep paying for re-inits): the holder remembers the
failure, requests get a 503 that says why, and later requests retry with exponential
backoff until the load succeeds.
"""

from __future__ import annotations

import json
import math
import os
import time
from _thread import allocate_lock, get_ident  # threading's own primitives, without its import
from collections.abc import Callable
from typing import Any

from runtime import logs
from runtime.config import ModelSource, Settings
from runtime.model import Model, ModelError
from runtime.modelfile import sha256_hex

# Worst case at cold start is about MAX_ATTEMPTS * (CONNECT + READ) plus ~1 s of retry
# backoff: ~7 s, inside Lambda's 10 s init limit with room for the imports.
S3_CONNECT_TIMEOUT = 1.0
S3_READ_TIMEOUT = 2.0
S3_MAX_ATTEMPTS = 2

FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 60.0


class ModelUnavailable(Exception):
    """No model to serve; ``retry_after`` is seconds until the next load attempt."""

    def __init__(
        self, message: str, retry_after: float | None = None, code: str = "model_unavailable"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.code = code


def make_loader(settings: Settings) -> Callable[[], Model]:
    if settings.source.kind == "s3":
        return S3Loader(settings)
    path, expected = settings.source.location, settings.model_sha256
    return lambda: Model.from_path(path, expected_sha256=expected)


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

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ModelHolder:
        return cls(make_loader(settings), settings.source, **kwargs)

    def get(self) -> Model:
        """The model, loading it if due; raises ``ModelUnavailable`` otherwise."""
        model = self.model
        if model is not None:
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
        logs.emit(
            {
                "level": "ERROR",
                "msg": "model_unavailable",
                "source": self.source.describe(),
                "error": detail,
                "attempt": self.attempts,
                "retry_in_s": self._delay if math.isfinite(self._delay) else None,
            }
        )
        self._delay = min(self._delay * 2.0, self._max_delay)


class S3Loader:
    """Read the model object with boto3 and keep a copy in the /tmp cache.

    A cached copy is used without asking S3 when the version or digest is pinned (it
    cannot have changed); otherwise a conditional GET (If-None-Match) revalidates it.
    """

    def __init__(self, settings: Settings) -> None:
        source = settings.source
        assert source.bucket is not None
        assert source.key is not None
        self._source = source
        self._expected = settings.model_sha256
        self._endpoint_url = settings.s3_endpoint_url
        identity = f"{settings.s3_endpoint_url}|{source.bucket}|{source.key}|{source.version_id}"
        name = sha256_hex(identity.encode())[:32]
        self._data_path = os.path.join(settings.cache_dir, name + ".npz")
        self._meta_path = os.path.join(settings.cache_dir, name + ".json")
        self._client: Any = None

    def __call__(self) -> Model:
        from botocore.exceptions import BotoCoreError, ClientError

        cached = self._read_cache()
        if cached is not None and (self._source.version_id or self._expected):
            return cached[0]
        request: dict[str, Any] = {
            "Bucket": self._source.bucket,
            "Key": self._source.key,
            "ChecksumMode": "ENABLED",  # botocore then verifies S3's stored checksum
        }
        if self._source.version_id:
            request["VersionId"] = self._source.version_id
        if cached is not None:
            request["IfNoneMatch"] = cached[1]
        where = self._source.describe()
        try:
            response = self._s3().get_object(**request)
            data = response["Body"].read()
        except ClientError as exc:
            if cached is not None and _status(exc) == 304:
                return cached[0]
            raise ModelUnavailable(f"cannot read {where}: {_reason(exc)}") from None
        except BotoCoreError as exc:
            raise ModelUnavailable(f"cannot read {where}: {exc}") from None

        model = Model.from_bytes(data, expected_sha256=self._expected)
        recorded = (response.get("Metadata") or {}).get("sha256")
        if recorded and recorded.strip().lower() != model.model_id:
            raise ModelError(
                f"object metadata says sha256 {recorded}, but its content has {model.model_id}"
            )
        self._write_cache(data, response.get("ETag"), model.model_id)
        return model

    def _s3(self) -> Any:
        if self._client is None:
            import boto3  # only S3-configured functions pay for importing boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=S3_CONNECT_TIMEOUT,
                read_timeout=S3_READ_TIMEOUT,
                retries={"mode": "standard", "max_attempts": S3_MAX_ATTEMPTS},
            )
            self._client = boto3.client("s3", endpoint_url=self._endpoint_url, config=config)
        return self._client

    def _read_cache(self) -> tuple[Model, str] | None:
        try:
            with open(self._meta_path, encoding="utf-8") as meta_file:
                meta = json.load(meta_file)
            sha256, etag = meta["sha256"], meta["etag"]
            if self._expected and sha256 != self._expected:
                return None
            with open(self._data_path, "rb") as data_file:
                return Model.from_bytes(data_file.read(), expected_sha256=sha256), etag
        except Exception:  # a missing or damaged cache is only a cache miss
            return None

    def _write_cache(self, data: bytes, etag: str | None, sha256: str) -> None:
        if not etag:
            return
        try:
            os.makedirs(os.path.dirname(self._data_path), exist_ok=True)
            suffix = f".{os.getpid()}.{get_ident()}.tmp"
            for path, content in (
                (self._data_path, data),
                (self._meta_path, json.dumps({"etag": etag, "sha256": sha256}).encode()),
            ):
                with open(path + suffix, "wb") as tmp:
                    tmp.write(content)
                os.replace(path + suffix, path)
        except OSError as exc:
            logs.emit({"level": "WARNING", "msg": "model_cache_unwritable", "error": str(exc)})


def _status(exc: Any) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _reason(exc: Any) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code") or _status(exc)
    message = error.get("Message")
    return f"{code} ({message})" if message else str(code)
