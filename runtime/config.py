"""Settings from environment variables, parsed once per container.

Every value is checked here, at cold start, so a typo in the function's configuration
shows up as one clear message instead of odd behaviour on some later request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from runtime.npz import MAX_FILE_BYTES
from runtime.records import NamedTuple

# Plain os.path and NamedTuple rather than pathlib and dataclasses: each costs a few
# milliseconds of import or class creation at every cold start.
BUNDLED_MODEL_PATH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "artifacts", "model.npz"
)

DEFAULT_MAX_BATCH_SIZE = 1000
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Lambda refuses synchronous payloads above 6 MB; the event's own fields need room too.
LAMBDA_MAX_BODY_BYTES = 6_000_000
# Each prediction is at most ~90 bytes of response JSON: 50,000 stay under the same 6 MB
# limit on responses (beyond it API Gateway would answer 502). Explanations list a
# message's own terms, so their size follows the body's: RESPONSE_MAX_BYTES refuses those.
LAMBDA_MAX_BATCH_SIZE = 50_000
# The largest answer body, as Lambda's runtime will carry it (JSON-escaped again inside the
# proxy response): 6 MB less room for the status and headers. A larger one is a 413.
RESPONSE_MAX_BYTES = 6_000_000 - 16 * 1024
# The largest model object read from S3 (or from the /tmp cache), checked against S3's
# Content-Length before any of the body is read. The tutorial's model is 0.16 MiB; 32 MiB
# leaves room for far larger vocabularies while a download (held once: a 30 MiB object
# measured 33 MiB over boto3's own ~62 MiB cold start) stays a small share of the memory.
DEFAULT_MODEL_MAX_BYTES = 32 * 1024 * 1024
# How often a function following a model pointer asks whether it moved: one conditional
# GET per minute per container costs next to nothing and bounds a rollout to a minute.
DEFAULT_MODEL_REFRESH_S = 60
MAX_MODEL_REFRESH_S = 24 * 3600
# The model file reader refuses anything larger whatever the setting (runtime/npz.py).
LAMBDA_MAX_MODEL_BYTES = MAX_FILE_BYTES
# S3's own limits (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
S3_MAX_KEY_BYTES = 1024
_BUCKET_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_HOST_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")  # what boto3 itself reads

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class ConfigError(ValueError):
    """The environment describes an impossible configuration; the message names the variable."""


class ModelSource(NamedTuple):
    """Where the model comes from: ``kind`` is "s3", "pointer", "pointer-file", "path" or
    "bundled".

    For "pointer", ``bucket``/``key`` name the pointer object (runtime/pointer.py), which
    names the model file and its SHA-256; "pointer-file" is the same pointer in a local
    file (the local server's ``--pointer``), ``location`` its absolute path."""

    kind: str
    location: str
    bucket: str | None = None
    key: str | None = None
    version_id: str | None = None

    def describe(self) -> str:
        if self.kind == "s3" and self.version_id:
            return f"{self.location}?versionId={self.version_id}"
        return self.location


# runtime/metrics.py's namespace when POWERTOOLS_METRICS_NAMESPACE is unset.
DEFAULT_METRICS_NAMESPACE = "SmsSpamClassifier"


class Settings(NamedTuple):
    source: ModelSource = ModelSource("bundled", BUNDLED_MODEL_PATH)
    model_sha256: str | None = None
    s3_endpoint_url: str | None = None
    cache_dir: str = "/tmp/sms-spam-model"
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    cors_origins: tuple[str, ...] = ()
    model_max_bytes: int = DEFAULT_MODEL_MAX_BYTES
    # The metrics' Service dimension and namespace, Powertools' variables first: Lambda
    # names the function in the environment.
    service_name: str = "local"
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE
    emit_metrics: bool = True  # the EMF lines; the local server leaves them out by default
    # Where POST /feedback stores reports: s3://bucket/prefix/ (None: not configured).
    reports_s3_uri: str | None = None
    # With a pointer source: seconds between conditional GETs of the pointer.
    model_refresh_s: int = DEFAULT_MODEL_REFRESH_S

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        source = _model_source(get("MODEL_S3_URI"), get("MODEL_S3_VERSION"), get("MODEL_PATH"))
        pointer_uri = get("MODEL_POINTER_S3_URI")
        if pointer_uri is not None:
            source = _pointer_source(pointer_uri, source, get("MODEL_SHA256"))
        endpoint_url = get("MODEL_S3_ENDPOINT_URL")
        if endpoint_url is not None:
            _check_endpoint_url(endpoint_url, "MODEL_S3_ENDPOINT_URL")
        elif source.kind in ("s3", "pointer") or get("REPORTS_S3_URI"):
            # boto3 would read these itself; a bad one must not pass for a network failure.
            for name in _ENDPOINT_VARIABLES:
                if (value := get(name)) is not None:
                    _check_endpoint_url(value, name)
                    break
        return cls(
            source=source,
            model_sha256=_sha256(get("MODEL_SHA256")),
            s3_endpoint_url=endpoint_url,
            cache_dir=get("MODEL_CACHE_DIR") or _default_cache_dir(env),
            max_batch_size=_int(
                get("MAX_BATCH_SIZE"),
                "MAX_BATCH_SIZE",
                DEFAULT_MAX_BATCH_SIZE,
                upper=LAMBDA_MAX_BATCH_SIZE,
            ),
            max_body_bytes=_int(
                get("MAX_BODY_BYTES"),
                "MAX_BODY_BYTES",
                DEFAULT_MAX_BODY_BYTES,
                upper=LAMBDA_MAX_BODY_BYTES,
            ),
            cors_origins=_origins(get("CORS_ALLOW_ORIGIN")),
            model_max_bytes=_int(
                get("MODEL_MAX_BYTES"),
                "MODEL_MAX_BYTES",
                DEFAULT_MODEL_MAX_BYTES,
                upper=LAMBDA_MAX_MODEL_BYTES,
            ),
            service_name=get("POWERTOOLS_SERVICE_NAME")
            or get("AWS_LAMBDA_FUNCTION_NAME")
            or "local",
            metrics_namespace=get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
            reports_s3_uri=_reports_uri(get("REPORTS_S3_URI")),
            model_refresh_s=_int(
                get("MODEL_REFRESH_S"),
                "MODEL_REFRESH_S",
                DEFAULT_MODEL_REFRESH_S,
                upper=MAX_MODEL_REFRESH_S,
            ),
        )


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); shared with exporter/upload.py."""
    if not uri.startswith("s3://"):
        raise ConfigError(f"expected s3://bucket/key, got {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key or key.endswith("/"):
        raise ConfigError(f"expected s3://bucket/key naming one object, got {uri!r}")
    problem = _bucket_name_problem(bucket)
    if problem:
        raise ConfigError(f"{bucket!r} is not a valid S3 bucket name: {problem}")
    if len(key.encode("utf-8", "surrogatepass")) > S3_MAX_KEY_BYTES:
        raise ConfigError(f"the object key is longer than S3's {S3_MAX_KEY_BYTES} bytes")
    return bucket, key


def parse_s3_prefix(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (bucket, "some/prefix/"); the prefix may be empty."""
    if not uri.startswith("s3://"):
        raise ConfigError(f"expected s3://bucket/prefix/, got {uri!r}")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    problem = _bucket_name_problem(bucket)
    if problem:
        raise ConfigError(f"{bucket!r} is not a valid S3 bucket name: {problem}")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if "//" in prefix or prefix.startswith("/"):
        raise ConfigError(f"the prefix of {uri!r} has an empty path segment")
    # Room for "<64 hex digits>.json" after the prefix.
    if len(prefix.encode("utf-8", "surrogatepass")) > S3_MAX_KEY_BYTES - 80:
        raise ConfigError(f"the prefix is longer than {S3_MAX_KEY_BYTES - 80} bytes")
    return bucket, prefix


def _bucket_name_problem(bucket: str) -> str | None:
    """Why S3 would refuse this bucket name (its current naming rules), or None.

    Checked at cold start so that a typo answers ``misconfigured`` at once instead of
    looking like an S3 outage that later requests keep retrying.
    """
    if not 3 <= len(bucket) <= 63:
        return f"it has {len(bucket)} characters; S3 allows 3 to 63"
    if not _BUCKET_CHARACTERS.issuperset(bucket):
        return "only lowercase letters, digits, dots and hyphens are allowed"
    if not (bucket[0].isalnum() and bucket[-1].isalnum()):
        return "it must begin and end with a letter or a digit"
    if ".." in bucket:
        return "it has two adjacent dots"
    parts = bucket.split(".")
    if len(parts) == 4 and all(part.isdigit() for part in parts):
        return "it is formatted as an IP address"
    return None


def _check_endpoint_url(url: str, name: str) -> None:
    """Refuse what botocore would refuse (and anything that is not an http(s) URL)."""
    from urllib.parse import urlsplit  # boto3 imports it anyway once the URL is used

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise ConfigError(f"{name} is not a valid URL: {exc}") from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{name} must be an http:// or https:// URL with a host, got {url!r}")
    if any(char.isspace() for char in url) or parts.query or parts.fragment:
        raise ConfigError(f"{name} must be a plain endpoint URL, got {url!r}")
    if ":" not in host and not all(_is_host_label(label) for label in host.split(".")):
        raise ConfigError(f"{name} has an invalid host name {host!r}")


def _is_host_label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and _HOST_CHARACTERS.issuperset(label)
    )


def _model_source(s3_uri: str | None, version: str | None, path: str | None) -> ModelSource:
    if s3_uri and path:
        raise ConfigError("set MODEL_S3_URI or MODEL_PATH, not both")
    if version and not s3_uri:
        raise ConfigError("MODEL_S3_VERSION needs MODEL_S3_URI")
    if s3_uri:
        try:
            bucket, key = parse_s3_uri(s3_uri)
        except ConfigError as exc:
            raise ConfigError(f"MODEL_S3_URI: {exc}") from None
        return ModelSource("s3", f"s3://{bucket}/{key}", bucket, key, version)
    if path:
        return ModelSource("path", path)
    return ModelSource("bundled", BUNDLED_MODEL_PATH)


def _pointer_source(uri: str, other: ModelSource, pin: str | None) -> ModelSource:
    if other.kind != "bundled":
        raise ConfigError("set MODEL_POINTER_S3_URI or MODEL_S3_URI / MODEL_PATH, not both")
    if pin is not None:
        raise ConfigError(
            "MODEL_SHA256 pins one file, MODEL_POINTER_S3_URI follows the pointer's SHA-256: "
            "set one of them"
        )
    try:
        bucket, key = parse_s3_uri(uri)
    except ConfigError as exc:
        raise ConfigError(f"MODEL_POINTER_S3_URI: {exc}") from None
    return ModelSource("pointer", f"s3://{bucket}/{key}", bucket, key)


def pointer_file_source(path: str, pin: str | None = None) -> ModelSource:
    """The local server's ``--pointer PATH``: follow a pointer kept in a file."""
    if pin is not None:
        raise ConfigError(
            "MODEL_SHA256 pins one file, --pointer follows the pointer's SHA-256: set one of them"
        )
    if not path or "\0" in path:
        raise ConfigError(f"--pointer names a file, got {path[:200]!r}")
    return ModelSource("pointer-file", os.path.abspath(path))


def _reports_uri(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        bucket, prefix = parse_s3_prefix(value)
    except ConfigError as exc:
        raise ConfigError(f"REPORTS_S3_URI: {exc}") from None
    return f"s3://{bucket}/{prefix}"


def _sha256(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) != 64 or not _HEX_DIGITS.issuperset(value):
        raise ConfigError("MODEL_SHA256 must be 64 hexadecimal characters")
    return value.lower()


def _int(value: str | None, name: str, default: int, *, upper: int | None = None) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if number < 1:
        raise ConfigError(f"{name} must be at least 1, got {number}")
    if upper is not None and number > upper:
        raise ConfigError(f"{name} must be at most {upper}, got {number}")
    return number


def _origins(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    origins = tuple(part.strip() for part in value.split(",") if part.strip())
    if "*" in origins and len(origins) > 1:
        raise ConfigError("CORS_ALLOW_ORIGIN is either * or a comma-separated list of origins")
    return origins


def _default_cache_dir(env: Mapping[str, str]) -> str:
    # Lambda's only writable place is /tmp; elsewhere honour TMPDIR like tempfile does,
    # without importing tempfile (it costs milliseconds at cold start).
    return os.path.join(env.get("TMPDIR") or "/tmp", "sms-spam-model")
