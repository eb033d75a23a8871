"""Read the model object from S3: size checked first, streamed, verified, one deadline.

Why a deadline of our own: botocore's read timeout bounds each socket read, not a
download, so a body dripping a few bytes a second kept a cold start going for minutes,
and botocore's retries came on top. Here every request of a load (S3_MAX_ATTEMPTS per
request, with short backoff between them) shares S3_LOAD_BUDGET seconds. The requests
run in a worker thread; the caller waits for it at most until the deadline, then shuts
the connection's socket down so the worker stops reading too.

The budget: Lambda stops an init that runs past 10 s. The rest of an S3 cold start
(interpreter, imports, the boto3 client, parsing) measured 0.52 s of CPU on the dev
machine: ~1.8 s at 512 MB and ~3.6 s at 256 MB, since Lambda gives CPU in proportion to
memory (1,769 MB = one vCPU). 5 s for S3 fits beside it from 256 MB up. A load that does
not finish in time answers 503 and is retried on later requests (runtime/model_source.py).
"""

from __future__ import annotations

import io
import time
from _thread import allocate_lock, start_new_thread
from collections.abc import Callable

from runtime.config import Settings
from runtime.errors import ModelUnavailable
from runtime.model import Model, ModelError
from runtime.model_cache import CachedCopy, ModelCache
from runtime.modelfile import sha256_hex
from runtime.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _T = TypeVar("_T")

S3_CONNECT_TIMEOUT = 1.0  # per connection attempt
S3_READ_TIMEOUT = 2.0  # per socket read; the deadline bounds the whole load
S3_LOAD_BUDGET = 5.0  # seconds for all requests of one load, retries and backoff included
# Requests per operation, the first one included (botocore's own retries are turned off:
# its "max_attempts" counted retries, so 2 meant 3 GETs).
S3_MAX_ATTEMPTS = 3
FIRST_BACKOFF = 0.2  # seconds before the second attempt, doubled before each later one
CHUNK_BYTES = 256 * 1024  # one read of the body: the tutorial's model is a single chunk

_RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class Downloaded(NamedTuple):
    data: bytes
    sha256: str  # computed chunk by chunk while reading
    recorded_sha256: str | None  # the object's ``sha256`` metadata, if it has one


class _Retry(Exception):
    """A transient failure: worth another attempt while attempts and time remain."""


class _Cancelled(Exception):
    """The caller stopped waiting; the worker drops what it has."""


class _Transfer:
    """What the waiting caller and the worker thread share during one load."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.finished = allocate_lock()
        self.finished.acquire()  # released by the worker when it is done
        self.result: Any = None
        self.error: BaseException | None = None
        self._lock = allocate_lock()
        self._cancelled = False
        self._body: Any = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> None:
        if self._cancelled:
            raise _Cancelled

    def attach(self, body: Any) -> None:
        """Register the body being read, so that ``cancel`` can interrupt the read."""
        with self._lock:
            if self._cancelled:
                body.close()
                raise _Cancelled
            self._body = body

    def detach(self) -> None:
        with self._lock:
            self._body = None

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            body = self._body
        if body is not None:
            _interrupt(body)


def _interrupt(body: Any) -> None:
    """Wake a read blocked on this body's socket, from another thread."""
    raw: Any = getattr(body, "_raw_stream", None)
    try:
        raw.shutdown()  # urllib3 >= 2.3: shutdown(SHUT_RD) makes the blocked read return
        return
    except Exception:  # an older urllib3 (Lambda ships its own): fall back
        pass
    try:
        body.set_socket_timeout(0.001)  # the next socket read times out at once
    except Exception:
        body.close()


class S3Loader:
    """Load the model from S3, through the verified /tmp cache."""

    def __init__(
        self,
        settings: Settings,
        *,
        budget: float = S3_LOAD_BUDGET,
        client: Any = None,
        cache_identity: str | None = None,
    ) -> None:
        source = settings.source
        assert source.bucket is not None
        assert source.key is not None
        self._source = source
        self._where = source.describe()
        self._expected = settings.model_sha256
        self._endpoint_url = settings.s3_endpoint_url
        self._max_bytes = settings.model_max_bytes
        self._budget = budget
        # One /tmp copy per identity: a pointer source passes its own, so each model it
        # moves to replaces the last one's copy instead of filling /tmp.
        identity = (
            cache_identity
            or f"{settings.s3_endpoint_url}|{source.bucket}|{source.key}|{source.version_id}"
        )
        name = sha256_hex(identity.encode())[:32] + ".npz"
        self._cache = ModelCache(f"{settings.cache_dir}/{name}", settings.model_max_bytes)
        self._client: Any = client  # None: made at the first load (boto3 imported then)
        self._previous: _Transfer | None = None

    def __call__(self) -> Model:
        cached = self._cache.read(deadline=time.monotonic() + self._budget)
        if cached is not None and self._expected is not None:
            if cached.sha256 == self._expected:  # pinned and intact: no need to ask S3
                return Model.from_bytes(
                    cached.data, expected_sha256=self._expected, sha256=cached.sha256
                )
            cached = None  # a copy that is not the pinned file is a miss
        client = self._s3()  # imports boto3 and builds the client before the clock starts
        outcome = self._within_deadline(lambda transfer: self._fetch(client, transfer, cached))
        if isinstance(outcome, CachedCopy):  # the object's recorded digest vouched for it
            return Model.from_bytes(outcome.data, sha256=outcome.sha256)
        recorded = outcome.recorded_sha256
        if recorded is not None and recorded != outcome.sha256:
            raise ModelError(
                f"object metadata says sha256 {recorded}, but its content has {outcome.sha256}"
            )
        model = Model.from_bytes(
            outcome.data, expected_sha256=self._expected, sha256=outcome.sha256
        )
        if self._expected or outcome.recorded_sha256:  # a copy nothing can vouch for is useless
            self._cache.write(outcome.data)
        return model

    # The worker thread's side

    def _fetch(
        self, client: Any, transfer: _Transfer, cached: CachedCopy | None
    ) -> Downloaded | CachedCopy:
        if cached is not None:
            head = self._attempts(transfer, "HEAD", lambda: client.head_object(**self._request()))
            if _recorded_sha256(head, self._where) == cached.sha256:
                return cached
        return self._attempts(transfer, "GET", lambda: self._get(client, transfer))

    def _attempts(self, transfer: _Transfer, what: str, operation: Callable[[], _T]) -> _T:
        from botocore.exceptions import BotoCoreError, ClientError

        delay = FIRST_BACKOFF
        for attempt in range(1, S3_MAX_ATTEMPTS + 1):
            transfer.check()
            try:
                return operation()
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                reason = _reason(exc)
                if status not in _RETRYABLE_STATUSES and _code(exc) != "SlowDown":
                    raise ModelUnavailable(f"cannot read {self._where}: {reason}") from None
            except _Retry as exc:
                reason = str(exc)
            except (BotoCoreError, OSError) as exc:  # connection and read errors, timeouts
                reason = str(exc) or type(exc).__name__
            if attempt == S3_MAX_ATTEMPTS or transfer.remaining() <= delay:
                break
            time.sleep(delay)
            delay *= 2
        raise ModelUnavailable(f"cannot read {self._where}: {reason} ({what}, attempt {attempt})")

    def _get(self, client: Any, transfer: _Transfer) -> Downloaded:
        # ChecksumMode: botocore also checks S3's stored checksum as the body streams by.
        response = client.get_object(**self._request(), ChecksumMode="ENABLED")
        body = response["Body"]
        transfer.attach(body)
        try:
            length = response.get("ContentLength")
            if not isinstance(length, int):
                raise ModelUnavailable(f"cannot read {self._where}: S3 sent no Content-Length")
            if length > self._max_bytes:  # refused before a byte of the body is read
                raise ModelError(
                    f"{self._where} is {length} bytes, "
                    f"more than MODEL_MAX_BYTES ({self._max_bytes})"
                )
            import hashlib  # loaded by boto3 already; the pinned /tmp copy path never needs it

            digest = hashlib.sha256()
            # BytesIO grows in place (large blocks are remapped, not copied) and getvalue()
            # hands its buffer over, so the object is held once, not twice as a join would.
            buffer = io.BytesIO()
            received = 0
            while chunk := body.read(CHUNK_BYTES):
                transfer.check()
                received += len(chunk)
                if received > length:
                    raise _Retry(f"the body is longer than its Content-Length ({length})")
                digest.update(chunk)
                buffer.write(chunk)
            transfer.check()
            if received != length:
                raise _Retry(f"the body ended after {received} of {length} bytes")
        finally:
            transfer.detach()
            body.close()
        data = buffer.getvalue()
        del buffer
        return Downloaded(data, digest.hexdigest(), _recorded_sha256(response, self._where))

    def _request(self) -> dict[str, Any]:
        request = {"Bucket": self._source.bucket, "Key": self._source.key}
        if self._source.version_id:
            request["VersionId"] = self._source.version_id
        return request

    # The caller's side

    def _within_deadline(self, work: Callable[[_Transfer], _T]) -> _T:
        previous = self._previous
        if previous is not None and previous.finished.locked():
            raise ModelUnavailable(
                f"cannot read {self._where}: the previous attempt is still stopping"
            )
        transfer = _Transfer(time.monotonic() + self._budget)
        self._previous = transfer
        start_new_thread(_run, (transfer, work))
        if not transfer.finished.acquire(timeout=max(transfer.remaining(), 0.0)):
            transfer.cancel()
            raise ModelUnavailable(
                f"cannot read {self._where}: no complete answer within the {self._budget:g} s "
                "load deadline"
            )
        transfer.finished.release()
        if transfer.error is not None:
            raise transfer.error
        result: _T = transfer.result
        return result

    def _s3(self) -> Any:
        if self._client is None:
            self._client = make_client(self._endpoint_url)
        return self._client


def make_client(endpoint_url: str | None) -> Any:
    """A boto3 S3 client for loads: short timeouts, and no retries of botocore's own."""
    import boto3  # only S3-configured functions pay for importing boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=S3_CONNECT_TIMEOUT,
        read_timeout=S3_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": 1},  # ours count instead
    )
    try:
        return boto3.client("s3", endpoint_url=endpoint_url, config=config)
    except ValueError as exc:  # botocore refuses the endpoint: retrying cannot help
        message = f"invalid S3 endpoint: {exc}"
        raise ModelUnavailable(message, code="misconfigured") from None


def _run(transfer: _Transfer, work: Callable[[_Transfer], Any]) -> None:
    try:
        transfer.result = work(transfer)
    except BaseException as exc:  # handed to the caller, which re-raises it
        transfer.error = exc
    finally:
        transfer.finished.release()


def _recorded_sha256(response: dict[str, Any], where: str) -> str | None:
    recorded = (response.get("Metadata") or {}).get("sha256")
    if recorded is None:
        return None
    value = str(recorded).strip().lower()
    if len(value) != 64 or not all(char in "0123456789abcdef" for char in value):
        raise ModelError(f"{where} has sha256 metadata that is not a SHA-256: {recorded[:80]!r}")
    return value


def _code(exc: Any) -> str | None:
    code = exc.response.get("Error", {}).get("Code")
    return None if code is None else str(code)


def _reason(exc: Any) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = error.get("Message")
    return f"{code} ({message})" if message else str(code)
