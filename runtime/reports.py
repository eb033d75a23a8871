"""User reports ("this is spam", "this is ham"): the one owner of their format and storage.

A report is one JSON object, stored as one object or file named ``<report_id>.json``::

    {"schema": 1, "report_id": "<hex>", "text": "...", "label": "spam",
     "received_at": "2026-12-07T20:50:53Z", "model_sha256": "<hex>", "reporter": "..."}

``report_id`` is the SHA-256 of a canonical encoding of (reporter, label, text): a
content hash, so a retried report lands on the same name and is stored once (the first
copy stored wins; a retry's later ``received_at`` is not kept). The reporter is part of
it on purpose: two users reporting the same text are two reports, and the learner's
guard rails count reports per reporter, which they could not do if the second report
vanished into the first.

Stores write without ever overwriting (a report, once acknowledged, is never changed by
a later write) and acknowledge only once the report is durable: the directory store
fsyncs the file and its directory, the S3 store waits for PutObject's answer. Both list
and read reports for the learner, with every read bounded by ``MAX_REPORT_BYTES``.

The learner *retires* a report it will not learn (refused for good, refused by the gate,
or rolled back): the report leaves the inbox for a retired area named by the reason,
``<directory>/retired/<reason>/`` or ``<parent of the prefix>retired/<reason>/`` on S3,
so later runs do not examine it again. Moving it back into the inbox requeues it.
"""

from __future__ import annotations

import heapq
import json
import os
import stat
import time
from collections.abc import Iterator

from runtime.modelfile import FileTooLarge, read_bounded, sha256_hex
from runtime.records import NamedTuple
from runtime.s3_body import BodyTooLarge, read_body

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object

SCHEMA = 1
# A long SMS is 160 characters and a concatenated one a few thousand; 32,768 leaves room
# for e-mail-sized texts. JSON escapes a character in at most 12 bytes (a non-BMP one
# as two \\u escapes), so a rendered report stays under MAX_REPORT_BYTES.
MAX_TEXT_CHARS = 32_768
MAX_LABEL_CHARS = 256
MAX_REPORTER_CHARS = 2048  # an IAM ARN is at most 2,048 characters
MAX_REPORT_BYTES = 512 * 1024
MAX_PAGE = 1000  # ids per listing page; S3's own ListObjectsV2 maximum
SUFFIX = ".json"
RETIRED = "retired"
# Why the learner retired a report (docs/learning.md, "Retired reports").
RETIRE_REASONS = frozenset(
    {
        "unknown_label",
        "reporter_cap",
        "already_confident",
        "invalid_report",
        "gate_refused",
        "rolled_back",
    }
)
_FIELDS = ("schema", "report_id", "text", "label", "received_at", "model_sha256", "reporter")
_HEX = frozenset("0123456789abcdef")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


class ReportError(ValueError):
    """A report (or the parts of one) that cannot be accepted; the message says why."""


class StorageError(Exception):
    """The store could not make a report durable, or could not read one; worth retrying."""


class Report(NamedTuple):
    report_id: str
    text: str
    label: str
    received_at: str
    model_sha256: str
    reporter: str


def report_id(reporter: str, label: str, text: str) -> str:
    """The content hash naming a report: SHA-256 of an unambiguous JSON array.

    JSON string escaping is deterministic and the array's separators cannot occur inside
    an encoded string, so different triples never share an encoding.
    """
    return sha256_hex(_encode(["sms-spam-report", SCHEMA, reporter, label, text]).encode("ascii"))


def new_report(
    *, text: str, label: str, reporter: str, model_sha256: str, now: float | None = None
) -> Report:
    """A checked report received at ``now`` (seconds since the epoch; default: the clock)."""
    _check_text(text)
    _check_string(label, "label", MAX_LABEL_CHARS)
    _check_string(reporter, "reporter", MAX_REPORTER_CHARS)
    _check_sha256(model_sha256, "model_sha256")
    received_at = time.strftime(_TIME_FORMAT, time.gmtime(time.time() if now is None else now))
    return Report(
        report_id(reporter, label, text), text, label, received_at, model_sha256, reporter
    )


def render(report: Report) -> bytes:
    """The stored form: ASCII JSON (any string, even a lone surrogate, survives it)."""
    data = _encode({"schema": SCHEMA, **report._asdict()}).encode("ascii")
    if len(data) > MAX_REPORT_BYTES:  # cannot happen for a report new_report accepted
        raise ReportError(f"the report renders to {len(data)} bytes; at most {MAX_REPORT_BYTES}")
    return data


def parse(data: bytes) -> Report:
    """Read a stored report, refusing anything that is not exactly one, with the reason."""
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(f"a report has at most {MAX_REPORT_BYTES} bytes, this has {len(data)}")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ReportError(f"a report is a JSON document: {exc}") from None
    if not isinstance(document, dict):
        raise ReportError(f"a report is a JSON object, not {type(document).__name__}")
    if set(document) != set(_FIELDS):
        missing = sorted(set(_FIELDS) - set(document))
        unknown = sorted(set(document) - set(_FIELDS))
        raise ReportError(
            f"a report has the fields {list(_FIELDS)}: missing {missing}, unknown {unknown[:10]}"
        )
    if document["schema"] != SCHEMA or type(document["schema"]) is not int:
        raise ReportError(f"report schema {document['schema']!r} is not {SCHEMA}")
    text, label, reporter = document["text"], document["label"], document["reporter"]
    _check_text(text)
    _check_string(label, "label", MAX_LABEL_CHARS)
    _check_string(reporter, "reporter", MAX_REPORTER_CHARS)
    _check_sha256(document["model_sha256"], "model_sha256")
    received_at = document["received_at"]
    if not isinstance(received_at, str) or not _is_timestamp(received_at):
        raise ReportError(f"received_at must be YYYY-MM-DDTHH:MM:SSZ, got {received_at!r:.40}")
    stated = document["report_id"]
    _check_sha256(stated, "report_id")
    if stated != report_id(reporter, label, text):
        raise ReportError(
            f"report_id {stated} does not match the report's reporter, label and text"
        )
    return Report(stated, text, label, received_at, document["model_sha256"], reporter)


def is_report_id(value: str) -> bool:
    return len(value) == 64 and _HEX.issuperset(value)


def _check_text(text: object) -> None:
    _check_string(text, "text", MAX_TEXT_CHARS)


def _check_string(value: object, name: str, limit: int) -> None:
    if not isinstance(value, str):
        raise ReportError(f"{name} must be a string, not {_type_name(value)}")
    if not value.strip():
        raise ReportError(f"{name} must not be empty or only white space")
    if len(value) > limit:
        raise ReportError(f"{name} has {len(value)} characters; at most {limit}")


def _check_sha256(value: object, name: str) -> None:
    if not isinstance(value, str) or not is_report_id(value):
        raise ReportError(f"{name} must be 64 lowercase hexadecimal characters")


def _is_timestamp(value: str) -> bool:
    if len(value) != 20:
        return False
    try:
        time.strptime(value, _TIME_FORMAT)
    except ValueError:
        return False
    return True


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


class ReportStore(Protocol):
    """Where reports live; ``put`` returns only once the report is durable."""

    def put(self, report: Report) -> bool:
        """Store ``report``; True if it is new, False if the same id was stored before.

        Raises ``StorageError`` if the report may not be durable: never acknowledge then.
        """

    def list_ids(self, *, start_after: str | None = None, limit: int = MAX_PAGE) -> list[str]:
        """One page of stored report ids in ascending order, after ``start_after``."""

    def read(self, report_id: str) -> Report:
        """The stored report; ``ReportError`` if it is not a valid one."""

    def retire(self, report_id: str, reason: str) -> bool:
        """Move the report out of the inbox into the retired area under ``reason``.

        True if it was in the inbox, False if not; returns only once the move is durable.
        """

    def retire_many(self, report_ids: list[str], reason: str) -> int:
        """``retire`` for each id, durable once this returns; how many were in the inbox."""


def all_ids(store: ReportStore, *, page: int = MAX_PAGE) -> Iterator[str]:
    """Every stored id, ascending, one bounded page at a time."""
    after: str | None = None
    while True:
        ids = store.list_ids(start_after=after, limit=page)
        yield from ids
        if len(ids) < page:
            return
        after = ids[-1]


class DirectoryReportStore:
    """Reports as files ``<directory>/<report_id>.json``, for the local server and tests.

    A put writes a temporary file in the same directory, fsyncs it, hard-links it to the
    report's name (a link never replaces an existing file, unlike a rename), removes the
    temporary name and fsyncs the directory, so both the bytes and the name survive a
    power cut before ``put`` returns. The directory must be on a file system with hard
    links (any local POSIX one).
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def describe(self) -> str:
        return self.directory

    def put(self, report: Report) -> bool:
        data = render(report)
        final = self._path(report.report_id)
        if os.path.exists(final):  # a retry: its writer fsynced the file before linking it
            try:
                self._sync_directory()  # and the name is durable once this returns
            except OSError as exc:
                raise StorageError(
                    f"cannot store the report in {self.directory}: {exc.strerror or exc}"
                ) from None
            return False
        temporary = os.path.join(
            self.directory, f".{report.report_id}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
        )
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(temporary, final)
                created = True
            except FileExistsError:  # stored before: the same content by its name
                created = False
            finally:
                os.unlink(temporary)
            self._sync_directory()  # the new name, or a concurrent writer's, is durable
        except OSError as exc:
            _remove_quietly(temporary)
            raise StorageError(
                f"cannot store the report in {self.directory}: {exc.strerror or exc}"
            ) from None
        return created

    def list_ids(self, *, start_after: str | None = None, limit: int = MAX_PAGE) -> list[str]:
        limit = max(1, min(limit, MAX_PAGE))
        try:
            with os.scandir(self.directory) as entries:
                names = (
                    entry.name[: -len(SUFFIX)] for entry in entries if entry.name.endswith(SUFFIX)
                )
                wanted = (
                    name
                    for name in names
                    if is_report_id(name) and (start_after is None or name > start_after)
                )
                return heapq.nsmallest(limit, wanted)  # memory bounded by the page
        except OSError as exc:
            raise StorageError(f"cannot list {self.directory}: {exc.strerror or exc}") from None

    def read(self, report_id: str) -> Report:
        if not is_report_id(report_id):
            raise ReportError(f"{report_id[:80]!r} is not a report id")
        path = self._path(report_id)
        try:  # a FIFO, device or link put in the inbox is refused, never waited on
            if not stat.S_ISREG(os.lstat(path).st_mode):
                raise ReportError(f"{path} is not a regular file")
            data = read_bounded(path, MAX_REPORT_BYTES, regular=True)
        except FileTooLarge as exc:
            raise ReportError(
                f"{path} has {exc.size or 'more'} bytes; a report has at most {MAX_REPORT_BYTES}"
            ) from None
        except FileNotFoundError:
            raise ReportError(f"no report {report_id} in {self.directory}") from None
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from None
        report = _parse_named(data, report_id, path)
        return report

    def retire(self, report_id: str, reason: str) -> bool:
        return self.retire_many([report_id], reason) == 1

    def retire_many(self, report_ids: list[str], reason: str) -> int:
        """Renames into ``<directory>/retired/<reason>/``, then one fsync of each directory
        they touched, so the moves survive a power cut before this returns."""
        for report_id in report_ids:
            _check_retire(report_id, reason)
        retired = os.path.join(self.directory, RETIRED)
        target = os.path.join(retired, reason)
        moved = 0
        try:
            os.makedirs(target, exist_ok=True)
            for report_id in report_ids:
                try:
                    os.rename(self._path(report_id), os.path.join(target, report_id + SUFFIX))
                    moved += 1
                except FileNotFoundError:
                    pass
            for directory in (target, retired, self.directory):
                _sync(directory)
        except OSError as exc:
            raise StorageError(
                f"cannot retire reports in {self.directory}: {exc.strerror or exc}"
            ) from None
        return moved

    def _path(self, report_id: str) -> str:
        return os.path.join(self.directory, report_id + SUFFIX)

    def _sync_directory(self) -> None:
        _sync(self.directory)


def _sync(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_retire(report_id: str, reason: str) -> None:
    if not is_report_id(report_id):
        raise ReportError(f"{report_id[:80]!r} is not a report id")
    if reason not in RETIRE_REASONS:
        raise ReportError(f"{reason[:80]!r} is not a reason to retire a report")


def _remove_quietly(path: str) -> None:
    try:  # noqa: SIM105 - contextlib is not otherwise imported on this path
        os.unlink(path)
    except OSError:
        pass


def _parse_named(data: bytes, report_id: str, where: str) -> Report:
    try:
        report = parse(data)
    except ReportError as exc:
        raise ReportError(f"{where}: {exc}") from None
    if report.report_id != report_id:
        raise ReportError(f"{where} holds report {report.report_id}, not {report_id}")
    return report


# S3: PutObject with If-None-Match: * creates the object only if the key is free, and
# answers 412 PreconditionFailed if it exists (S3 conditional writes, also in moto's
# put_object). 409 ConditionalRequestConflict means a concurrent write of the same key is
# in flight: retried. Retrying a put is safe for the same reason: if a lost answer hid a
# success, the retry's 412 reports it.
# Worst case of one put: S3_MAX_ATTEMPTS x (connect + read timeout) plus botocore's
# backoff (at most 1 s before the second attempt) = 7 s, inside the function's 10 s
# timeout, so a report S3 cannot take is answered 503 rather than timing out.
S3_CONNECT_TIMEOUT = 1.0
S3_READ_TIMEOUT = 2.0
S3_MAX_ATTEMPTS = 2  # botocore's standard retry mode, first attempt included
CONFLICT_RETRY_WITHIN = 2.0  # seconds into a put after which a 409 is not retried
RETIRE_THREADS = 16  # a retire is two requests; the learner retires thousands at a time


class S3ReportStore:
    """Reports as objects ``s3://<bucket>/<prefix><report_id>.json``.

    ``prefix`` is empty or ends with "/". The serving function needs only
    s3:PutObject on the prefix: a 412 answer says the report exists without reading it.
    """

    def __init__(
        self, bucket: str, prefix: str, client: Any = None, *, endpoint_url: str | None = None
    ) -> None:
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.bucket = bucket
        self.prefix = prefix
        self._client = client
        self._endpoint_url = endpoint_url

    @classmethod
    def from_uri(cls, uri: str, *, endpoint_url: str | None = None) -> S3ReportStore:
        """A store for ``s3://bucket/prefix/``; boto3 is imported at its first request."""
        from runtime.config import parse_s3_prefix

        bucket, prefix = parse_s3_prefix(uri)
        return cls(bucket, prefix, endpoint_url=endpoint_url)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def put(self, report: Report) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        body = render(report)
        started = time.monotonic()
        for attempt in range(2):  # a second try only for a 409 conflict
            try:
                self._s3().put_object(
                    Bucket=self.bucket,
                    Key=self._key(report.report_id),
                    Body=body,
                    ContentType="application/json",
                    IfNoneMatch="*",
                )
                return True
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                code = exc.response.get("Error", {}).get("Code")
                if status == 412 or code == "PreconditionFailed":
                    return False  # the same report id is stored already
                conflict = status == 409 or code == "ConditionalRequestConflict"
                if conflict and attempt == 0 and time.monotonic() - started < CONFLICT_RETRY_WITHIN:
                    time.sleep(0.1)
                    continue
                raise StorageError(
                    f"cannot store the report in {self.describe()}: {code or status}"
                ) from None
            except (BotoCoreError, OSError) as exc:
                raise StorageError(
                    f"cannot store the report in {self.describe()}: {type(exc).__name__}"
                ) from None
        raise StorageError(
            f"cannot store the report in {self.describe()}: a concurrent write conflicted"
        )

    def list_ids(self, *, start_after: str | None = None, limit: int = MAX_PAGE) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        limit = max(1, min(limit, MAX_PAGE))
        after = None if start_after is None else self._key(start_after)
        ids: list[str] = []
        while len(ids) < limit:  # more than one page only if other keys share the prefix
            request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
            request["MaxKeys"] = limit - len(ids)
            if after is not None:
                request["StartAfter"] = after
            try:
                answer = self._s3().list_objects_v2(**request)
            except (ClientError, BotoCoreError, OSError) as exc:
                raise StorageError(f"cannot list {self.describe()}: {_s3_reason(exc)}") from None
            contents = answer.get("Contents") or ()
            for entry in contents:
                after = str(entry.get("Key", ""))
                name = after[len(self.prefix) :]
                if name.endswith(SUFFIX) and is_report_id(name[: -len(SUFFIX)]):
                    ids.append(name[: -len(SUFFIX)])
            if not answer.get("IsTruncated") or not contents:
                break
        return ids

    def read(self, report_id: str) -> Report:
        from botocore.exceptions import BotoCoreError, ClientError

        if not is_report_id(report_id):
            raise ReportError(f"{report_id[:80]!r} is not a report id")
        key = self._key(report_id)
        where = f"s3://{self.bucket}/{key}"
        try:
            answer = self._s3().get_object(Bucket=self.bucket, Key=key)
            try:
                data = read_body(answer, MAX_REPORT_BYTES)
            except BodyTooLarge as exc:
                raise ReportError(
                    f"{where} {exc}; a report has at most {MAX_REPORT_BYTES}"
                ) from None
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise ReportError(f"no report {report_id} in {self.describe()}") from None
            raise StorageError(f"cannot read {where}: {_s3_reason(exc)}") from None
        except (BotoCoreError, OSError) as exc:
            raise StorageError(f"cannot read {where}: {_s3_reason(exc)}") from None
        return _parse_named(data, report_id, where)

    @property
    def retired_prefix(self) -> str:
        """``retired/`` beside the reports prefix: ``a/reports/`` -> ``a/retired/``."""
        parent = self.prefix.rstrip("/").rpartition("/")[0]
        retired = f"{parent}/{RETIRED}/" if parent else f"{RETIRED}/"
        if retired == self.prefix:
            raise ReportError(f"the reports prefix {self.prefix!r} is the retired area's name")
        return retired

    def retire(self, report_id: str, reason: str) -> bool:
        """CopyObject to ``<retired prefix><reason>/<id>.json``, then DeleteObject: the
        report is never absent from both places (the learner's IAM allows just that)."""
        from botocore.exceptions import BotoCoreError, ClientError

        _check_retire(report_id, reason)
        key = self._key(report_id)
        target = f"{self.retired_prefix}{reason}/{report_id}{SUFFIX}"
        where = f"s3://{self.bucket}/{key}"
        try:
            self._s3().copy_object(
                Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key}
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return False
            raise StorageError(f"cannot retire {where}: {_s3_reason(exc)}") from None
        except (BotoCoreError, OSError) as exc:
            raise StorageError(f"cannot retire {where}: {_s3_reason(exc)}") from None
        try:
            self._s3().delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError, OSError) as exc:
            raise StorageError(f"cannot retire {where}: {_s3_reason(exc)}") from None
        return True

    def retire_many(self, report_ids: list[str], reason: str) -> int:
        """``retire`` of each id, RETIRE_THREADS requests at a time."""
        from concurrent.futures import ThreadPoolExecutor

        if not report_ids:
            return 0
        with ThreadPoolExecutor(RETIRE_THREADS) as pool:
            return sum(pool.map(lambda i: self.retire(i, reason), report_ids))

    def _key(self, report_id: str) -> str:
        return f"{self.prefix}{report_id}{SUFFIX}"

    def _s3(self) -> Any:
        if self._client is None:
            try:
                self._client = make_s3_client(self._endpoint_url)
            except Exception as exc:  # an invalid endpoint or region: say which, not a trace
                raise StorageError(f"cannot create an S3 client: {exc}") from None
        return self._client


def make_s3_client(endpoint_url: str | None) -> Any:
    """A boto3 S3 client with short timeouts and a bounded number of attempts."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=S3_CONNECT_TIMEOUT,
        read_timeout=S3_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": S3_MAX_ATTEMPTS},
    )
    client = boto3.client("s3", endpoint_url=endpoint_url, config=config)
    # botocore asks S3 for "100 Continue" before sending any PutObject body: a round trip
    # that only pays off for bodies large enough to be worth not sending. Reports are small.
    client.meta.events.register("before-send.s3.PutObject", _send_body_at_once)
    return client


def _send_body_at_once(request: Any, **_: Any) -> None:
    if "Expect" in request.headers:  # not a signed header: removing it after signing is fine
        del request.headers["Expect"]


def _s3_reason(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return str(error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    return type(exc).__name__
