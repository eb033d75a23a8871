"""Follow the model pointer (runtime/pointer.py): load what it names, and notice when it moves.

The cold start reads the pointer and loads the model it names through ``S3Loader``
(bounded, one deadline, the verified /tmp cache), pinned to the pointer's SHA-256: a
file with other bytes is refused, exactly as a ``MODEL_SHA256`` pin refuses it. After
that, ``check`` asks S3 with a conditional GET (If-None-Match: the pointer's ETag) whether
the pointer changed: unchanged costs one small request answered 304 without a body.
``ModelHolder`` decides when to call it (at most once per MODEL_REFRESH_S).
"""

from __future__ import annotations

from runtime.config import ModelSource, Settings, parse_s3_uri
from runtime.errors import ModelUnavailable
from runtime.model import Model, ModelError
from runtime.pointer import MAX_POINTER_BYTES, Pointer, PointerError, parse
from runtime.s3_body import BodyTooLarge, read_body
from runtime.s3_loader import S3Loader, make_client

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class PointerLoader:
    """The loader (``__call__``) and the refresh check (``check``) of a pointer source."""

    def __init__(self, settings: Settings, *, client: Any = None) -> None:
        source = settings.source
        assert source.kind == "pointer"
        assert source.bucket is not None
        assert source.key is not None
        self._settings = settings
        self._bucket, self._key = source.bucket, source.key
        self._where = source.location
        self._client = client
        self._etag: str | None = None  # of the pointer the served model came from
        self.pointer: Pointer | None = None

    def __call__(self) -> Model:
        """The model the pointer names now (the cold start, and retries after a failure)."""
        pointer, etag = self._read_pointer(None)
        assert pointer is not None  # an unconditional GET has a body
        model = self._load(pointer)
        self.pointer, self._etag = pointer, etag
        return model

    def check(self, current: Model) -> Model | None:
        """A newly loaded model if the pointer moved to another file, else None.

        Raises (``ModelUnavailable``, ``ModelError``) when the pointer or its model cannot
        be read or verified; the caller keeps serving ``current``. The ETag is recorded
        only once the new model is loaded, so a failed refresh is tried again next time.
        """
        pointer, etag = self._read_pointer(self._etag)
        if pointer is None:  # 304: unchanged
            return None
        if pointer.sha256 == current.model_id:  # rewritten, same model (e.g. a new history)
            self.pointer, self._etag = pointer, etag
            return None
        model = self._load(pointer)
        self.pointer, self._etag = pointer, etag
        return model

    def _read_pointer(self, etag: str | None) -> tuple[Pointer | None, str | None]:
        """(pointer, its ETag); (None, etag) when S3 answers 304 Not Modified."""
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {"Bucket": self._bucket, "Key": self._key}
        if etag is not None:
            request["IfNoneMatch"] = etag
        try:
            answer = self._s3().get_object(**request)
            try:
                data = read_body(answer, MAX_POINTER_BYTES)
            except BodyTooLarge as exc:
                raise ModelError(
                    f"the pointer {self._where} {exc}; at most {MAX_POINTER_BYTES}"
                ) from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 304 or error.get("Code") in ("304", "NotModified"):
                return None, etag
            reason = error.get("Code") or status
            raise ModelUnavailable(f"cannot read the pointer {self._where}: {reason}") from None
        except (BotoCoreError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            raise ModelUnavailable(f"cannot read the pointer {self._where}: {reason}") from None
        try:
            pointer = parse(data)
        except PointerError as exc:
            raise ModelError(f"the pointer {self._where} is refused: {exc}") from None
        new_etag = answer.get("ETag")
        return pointer, new_etag if isinstance(new_etag, str) else None

    def _load(self, pointer: Pointer) -> Model:
        """The model file the pointer names, refused unless its SHA-256 is the pointer's."""
        if not pointer.model_uri.startswith("s3://"):
            raise ModelError(
                f"the pointer {self._where} names {pointer.model_uri[:200]}: "
                "a pointer in S3 names models in S3"
            )
        bucket, key = parse_s3_uri(pointer.model_uri)  # parse() checked it already
        settings = self._settings._replace(
            source=ModelSource("s3", pointer.model_uri, bucket, key), model_sha256=pointer.sha256
        )
        identity = f"pointer|{self._settings.s3_endpoint_url}|{self._where}"
        return S3Loader(settings, client=self._s3(), cache_identity=identity)()

    def _s3(self) -> Any:
        if self._client is None:
            self._client = make_client(self._settings.s3_endpoint_url)
        return self._client
