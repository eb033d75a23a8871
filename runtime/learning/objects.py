"""Model files and the pointer for the learner: local paths or S3, bounded, durable writes.

A model is written under its content hash (``<models prefix><sha256>.npz``) and the
pointer only after the model's PutObject was answered, so a pointer never names a model
that is not stored. The pointer is replaced with a conditional write (If-Match on the
ETag read, If-None-Match for a first pointer): two learners, or a learner and a
rollback, cannot silently overwrite each other's promotion.

Locally (the local server's ``--pointer``), the pointer is a file and models are files
named by their hash in a directory, referred to by ``file://`` URIs. The pointer file is
replaced by a rename after an fsync, so its reader sees the old or the new one, never a
mix, and a moved pointer has a new inode. Its "ETag" is the SHA-256 of the bytes read: a
pointer changed during the run is not overwritten, checked just before the rename (one
writer at a time is assumed for that last instant; S3's conditional write has no gap).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from runtime import pointer as pointers
from runtime.config import parse_s3_prefix, parse_s3_uri
from runtime.modelfile import ModelError, sha256_hex
from runtime.npz import MAX_FILE_BYTES
from runtime.s3_body import BodyTooLarge, read_body


class ObjectError(Exception):
    """A model or pointer could not be read or written; the message says which and why."""


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


class Objects:
    """Reads and writes S3 objects with one client (made on first use)."""

    def __init__(self, endpoint_url: str | None = None, client: Any = None) -> None:
        self._endpoint_url = endpoint_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from runtime.reports import make_s3_client

            self._client = make_s3_client(self._endpoint_url)
        return self._client

    def read_model(self, location: str, expected_sha256: str | None = None) -> bytes:
        """A model file's bytes, at most MAX_FILE_BYTES, checked against ``expected_sha256``."""
        location = pointers.local_path(location) or location
        if is_s3(location):
            bucket, key = parse_s3_uri(location)
            data, _ = self._get(bucket, key, MAX_FILE_BYTES, location)
            if data is None:
                raise ObjectError(f"no model at {location}")
        else:
            try:
                with open(location, "rb") as file:
                    data = file.read(MAX_FILE_BYTES + 1)
            except OSError as exc:
                raise ObjectError(f"cannot read {location}: {exc.strerror or exc}") from None
        if len(data) > MAX_FILE_BYTES:
            raise ModelError(f"{location} is larger than {MAX_FILE_BYTES} bytes")
        if expected_sha256 is not None and sha256_hex(data) != expected_sha256:
            raise ModelError(f"{location} does not have the SHA-256 the pointer names")
        return data

    def write_model(self, data: bytes, sha256: str, destination: str) -> str:
        """Store the model at a path; an S3 destination is a prefix it is named in by hash."""
        if is_s3(destination):
            return self.store_model(data, sha256, destination)
        return str(_write_file(Path(destination), data))

    def store_model(self, data: bytes, sha256: str, models: str) -> str:
        """Store the model as ``<sha256>.npz`` under an s3:// prefix or in a directory;
        the URI a pointer names it by (``s3://`` or ``file://``)."""
        if is_s3(models):
            bucket, prefix = parse_s3_prefix(models)
            key = f"{prefix}{sha256}.npz"
            self._put(bucket, key, data, "application/octet-stream", {})
            return f"s3://{bucket}/{key}"
        return pointers.file_uri(str(_write_file(Path(models) / f"{sha256}.npz", data)))

    def read_pointer(self, uri: str) -> tuple[pointers.Pointer | None, str | None]:
        """(pointer, its ETag), or (None, None) when there is no pointer yet."""
        if is_s3(uri):
            bucket, key = parse_s3_uri(uri)
            data, etag = self._get(bucket, key, pointers.MAX_POINTER_BYTES, uri)
        else:
            data = _read_file(uri, pointers.MAX_POINTER_BYTES)
            etag = None if data is None else sha256_hex(data)
        if data is None:
            return None, None
        return pointers.parse(data), etag

    def write_pointer(self, uri: str, pointer: pointers.Pointer, etag: str | None) -> None:
        if not is_s3(uri):
            data = _read_file(uri, pointers.MAX_POINTER_BYTES)
            if (None if data is None else sha256_hex(data)) != etag:
                raise ObjectError(f"{uri} changed while this run was learning; run again")
            _write_file(Path(uri), pointers.render(pointer))
            return
        bucket, key = parse_s3_uri(uri)
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        self._put(bucket, key, pointers.render(pointer), "application/json", condition)

    def delete_report(self, store: Any, report_id: str) -> bool:
        """Remove a stored report (``--forget``); True if it was there."""
        from runtime.reports import SUFFIX, DirectoryReportStore, S3ReportStore

        if isinstance(store, DirectoryReportStore):
            try:
                os.unlink(os.path.join(store.directory, report_id + SUFFIX))
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise ObjectError(f"cannot delete report {report_id}: {exc.strerror}") from None
            return True
        if isinstance(store, S3ReportStore):
            self._call(
                "delete_object", Bucket=store.bucket, Key=f"{store.prefix}{report_id}{SUFFIX}"
            )
            return True
        raise ObjectError(f"cannot delete reports from {type(store).__name__}")

    def _get(
        self, bucket: str, key: str, limit: int, where: str
    ) -> tuple[bytes | None, str | None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None, None
            raise ObjectError(f"cannot read {where}: {_reason(exc)}") from None
        except (BotoCoreError, OSError) as exc:
            raise ObjectError(f"cannot read {where}: {type(exc).__name__}") from None
        try:
            data = read_body(answer, limit)
        except BodyTooLarge as exc:
            raise ObjectError(f"{where} {exc}; at most {limit} are read") from None
        return data, answer.get("ETag")

    def _put(
        self, bucket: str, key: str, body: bytes, content_type: str, condition: dict[str, str]
    ) -> None:
        self._call(
            "put_object", Bucket=bucket, Key=key, Body=body, ContentType=content_type, **condition
        )

    def _call(self, operation: str, **request: Any) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"s3://{request['Bucket']}/{request['Key']}"
        try:
            getattr(self.client, operation)(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise ObjectError(
                    f"{where} changed while this run was learning; run again"
                ) from None
            raise ObjectError(f"cannot write {where}: {_reason(exc)}") from None
        except (BotoCoreError, OSError) as exc:
            raise ObjectError(f"cannot write {where}: {type(exc).__name__}") from None


def _read_file(path: str, limit: int) -> bytes | None:
    """A local pointer's bytes (at most ``limit``), or None when there is none."""
    try:
        with open(path, "rb") as file:
            data = file.read(limit + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ObjectError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ObjectError(f"{path} has more than {limit} bytes")
    return data


def _write_file(path: Path, data: bytes) -> Path:
    """Replace ``path`` durably: a temporary file, fsynced, renamed, the directory fsynced."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise ObjectError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _reason(exc: Any) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
