"""S3 for the shard scorer: a resumable object reader and a multipart result writer.

The reader asks for the listed version only (If-Match on the listing's ETag), so a shard
scores the bytes Distributed Map listed or refuses; a connection that breaks mid-object
resumes with a Range request where it stopped. The writer holds at most one part
(PART_BYTES) and makes the result visible only when it completes the upload; an aborted
shard leaves no result object behind.
"""

from __future__ import annotations

import contextlib

from runtime.archive.job import ShardRefused
from runtime.archive.lines import READ_BYTES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PART_BYTES = 8 * 1024 * 1024  # S3's parts are at least 5 MiB, except the last
READ_ATTEMPTS = 3  # GETs per object, the first included, when a body read breaks
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0  # per socket read; Lambda's own timeout bounds the whole shard


def client(endpoint_url: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": 5},
    )
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


def _client_error_reason(exc: Any) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(code)


class ObjectReader:
    """``read(size)`` over one S3 object, at most READ_BYTES at a time."""

    def __init__(self, s3: Any, bucket: str, key: str, etag: str | None) -> None:
        self._s3, self._bucket, self._key, self._etag = s3, bucket, key, etag
        self._body: Any = None
        self._position = 0
        self._attempts = 0
        self._ended = False
        self.length: int | None = None

    def _open(self) -> None:
        from botocore.exceptions import ClientError

        request: dict[str, Any] = {"Bucket": self._bucket, "Key": self._key}
        if self._etag:
            request["IfMatch"] = self._etag
        if self._position:
            request["Range"] = f"bytes={self._position}-"
        self._attempts += 1
        try:
            response = self._s3.get_object(**request)
        except ClientError as exc:
            reason = _client_error_reason(exc)
            if reason in ("PreconditionFailed", "412"):
                raise ShardRefused("the object changed after it was listed (ETag)") from None
            raise ShardRefused(f"cannot read the object: {reason}") from None
        if self.length is None:
            self.length = response.get("ContentLength")
            self._etag = self._etag or response.get("ETag")
        self._body = response["Body"]

    def read(self, size: int) -> bytes:
        from botocore.exceptions import BotoCoreError

        size = min(size, READ_BYTES)
        while not self._ended:
            if self._body is None:
                self._open()
            try:
                data: bytes = self._body.read(size)
            except (BotoCoreError, OSError) as exc:
                self._close()
                if self._attempts >= READ_ATTEMPTS:
                    raise ShardRefused(f"reading the object failed: {type(exc).__name__}") from None
                continue  # again from where it broke, with a Range request
            self._position += len(data)
            if data:
                return data
            self._close()
            if self.length is None or self._position >= self.length:
                self._ended = True
            elif self._attempts >= READ_ATTEMPTS:  # the body ended early every time
                raise ShardRefused(f"the object ended after {self._position} bytes")
        return b""

    def _close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None


class MultipartSink:
    """A result object: one PutObject when small, else a multipart upload of PART_BYTES parts."""

    def __init__(self, s3: Any, bucket: str, key: str) -> None:
        self._s3, self._bucket, self._key = s3, bucket, key
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= PART_BYTES:
            self._upload_part(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]

    def _upload_part(self, part: bytes) -> None:
        if self._upload_id is None:
            started = self._s3.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, ContentType="application/x-ndjson"
            )
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        sent = self._s3.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=part,
        )
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def commit(self) -> None:
        if self._upload_id is None:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=self._key,
                Body=bytes(self._buffer),
                ContentType="application/x-ndjson",
            )
        else:
            if self._buffer:
                self._upload_part(bytes(self._buffer))
            self._s3.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._buffer = bytearray()

    def abort(self) -> None:
        self._buffer = bytearray()
        if self._upload_id is not None:
            # Left incomplete on failure: an AbortIncompleteMultipartUpload rule removes it.
            with contextlib.suppress(Exception):
                self._s3.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
                )
