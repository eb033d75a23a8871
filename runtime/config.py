"""Settings from environment variables, parsed once per container.

Every value is checked here, at cold start, so a typo in the function's configuration
shows up as one clear message instead of odd behaviour on some later request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

# Plain os.path and NamedTuple rather than pathlib and dataclasses: each costs a few
# milliseconds of import or class creation at every cold start.
BUNDLED_MODEL_PATH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "artifacts", "model.npz"
)

DEFAULT_MAX_BATCH_SIZE = 1000
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Lambda refuses synchronous payloads above 6 MB; the event's own fields need room too.
LAMBDA_MAX_BODY_BYTES = 6_000_000
# Each prediction is at most ~90 bytes of response JSON: 50,000 stay well under the same
# 6 MB limit on responses (beyond it API Gateway would answer 502).
LAMBDA_MAX_BATCH_SIZE = 50_000

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class ConfigError(ValueError):
    """The environment describes an impossible configuration; the message names the variable."""


class ModelSource(NamedTuple):
    """Where the model comes from: ``kind`` is "s3", "path" or "bundled"."""

    kind: str
    location: str
    bucket: str | None = None
    key: str | None = None
    version_id: str | None = None

    def describe(self) -> str:
        if self.kind == "s3" and self.version_id:
            return f"{self.location}?versionId={self.version_id}"
        return self.location


class Settings(NamedTuple):
    source: ModelSource = ModelSource("bundled", BUNDLED_MODEL_PATH)
    model_sha256: str | None = None
    s3_endpoint_url: str | None = None
    cache_dir: str = "/tmp/sms-spam-model"
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            source=_model_source(get("MODEL_S3_URI"), get("MODEL_S3_VERSION"), get("MODEL_PATH")),
            model_sha256=_sha256(get("MODEL_SHA256")),
            s3_endpoint_url=get("MODEL_S3_ENDPOINT_URL"),
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
        )


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); shared with exporter/upload.py."""
    if not uri.startswith("s3://"):
        raise ConfigError(f"expected s3://bucket/key, got {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key or key.endswith("/"):
        raise ConfigError(f"expected s3://bucket/key naming one object, got {uri!r}")
    return bucket, key


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
