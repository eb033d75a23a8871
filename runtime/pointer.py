"""The model pointer: which model file serving functions should load, by S3 URI and SHA-256.

One small JSON object at ``MODEL_POINTER_S3_URI``::

    {"schema": 1, "model_uri": "s3://bucket/models/<sha256>.npz", "sha256": "<hex>",
     "previous": [{"model_uri": "...", "sha256": "..."}, ...]}

The learner writes it when it promotes a model (the promoted one first, the one it
replaces at the head of ``previous``) and a rollback pops the head of ``previous`` back
into place. Serving functions only read it, conditionally, and load a model only if its
bytes hash to ``sha256``: the pointer names the exact file, as a ``MODEL_SHA256`` pin does.
``previous`` keeps at most MAX_PREVIOUS entries, newest first.

A pointer in S3 names models in S3. The local server follows a pointer *file* the same
way; it names model files by ``file://`` URIs of absolute paths (``file_uri``, ``local_path``).
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote, unquote

from runtime.config import ConfigError, parse_s3_uri
from runtime.records import NamedTuple

SCHEMA = 1
MAX_PREVIOUS = 10
# Eleven URIs of at most ~1,100 characters (S3's 1,024-byte keys), JSON-escaped.
MAX_POINTER_BYTES = 64 * 1024
FILE_SCHEME = "file://"
MAX_PATH_CHARS = 4096  # Linux's PATH_MAX
_HEX = frozenset("0123456789abcdef")
_encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


class PointerError(ValueError):
    """A pointer that cannot be followed; the message says why."""


class ModelRef(NamedTuple):
    """One model file: where it is and the SHA-256 its bytes must have."""

    model_uri: str
    sha256: str


class Pointer(NamedTuple):
    current: ModelRef
    previous: tuple[ModelRef, ...] = ()

    @property
    def model_uri(self) -> str:
        return self.current.model_uri

    @property
    def sha256(self) -> str:
        return self.current.sha256


def render(pointer: Pointer) -> bytes:
    _check_ref(pointer.current, "the pointer")
    if len(pointer.previous) > MAX_PREVIOUS:
        raise PointerError(f"previous has {len(pointer.previous)} entries; at most {MAX_PREVIOUS}")
    for index, ref in enumerate(pointer.previous):
        _check_ref(ref, f"previous[{index}]")
    document = {
        "schema": SCHEMA,
        "model_uri": pointer.model_uri,
        "sha256": pointer.sha256,
        "previous": [ref._asdict() for ref in pointer.previous],
    }
    return _encode(document).encode("ascii") + b"\n"


def parse(data: bytes) -> Pointer:
    """Read a pointer object, bounded; every refusal names what is wrong."""
    if len(data) > MAX_POINTER_BYTES:
        raise PointerError(f"a pointer has at most {MAX_POINTER_BYTES} bytes, this has {len(data)}")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise PointerError(f"a pointer is a JSON document: {exc}") from None
    if not isinstance(document, dict):
        raise PointerError(f"a pointer is a JSON object, not {type(document).__name__}")
    fields = {"schema", "model_uri", "sha256", "previous"}
    if set(document) != fields:
        raise PointerError(
            f"a pointer has the fields {sorted(fields)}, this has {sorted(document)[:10]}"
        )
    if type(document["schema"]) is not int or document["schema"] != SCHEMA:
        raise PointerError(f"pointer schema {document['schema']!r:.40} is not {SCHEMA}")
    current = _ref(document, "the pointer")
    previous = document["previous"]
    if not isinstance(previous, list):
        raise PointerError("previous must be a list")
    if len(previous) > MAX_PREVIOUS:
        raise PointerError(f"previous has {len(previous)} entries; at most {MAX_PREVIOUS}")
    refs = []
    for index, entry in enumerate(previous):
        where = f"previous[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"model_uri", "sha256"}:
            raise PointerError(f"{where} must be an object with model_uri and sha256")
        refs.append(_ref(entry, where))
    return Pointer(current, tuple(refs))


def promoted(pointer: Pointer | None, model: ModelRef) -> Pointer:
    """The pointer after promoting ``model``: the current one moves to ``previous``."""
    _check_ref(model, "the promoted model")
    if pointer is None:
        return Pointer(model)
    if pointer.current == model:
        return pointer
    return Pointer(model, (pointer.current, *pointer.previous)[:MAX_PREVIOUS])


def rolled_back(pointer: Pointer) -> Pointer:
    """The pointer back at the previous model; refused when there is none to go back to."""
    if not pointer.previous:
        raise PointerError("the pointer has no previous model to roll back to")
    return Pointer(pointer.previous[0], pointer.previous[1:])


def file_uri(path: str) -> str:
    """The ``file://`` URI a pointer file uses for the model file at ``path``."""
    return FILE_SCHEME + quote(os.path.abspath(path))


def local_path(uri: str) -> str | None:
    """The absolute path a ``file://`` URI names; None for an ``s3://`` URI."""
    if not uri.startswith(FILE_SCHEME):
        return None
    path = unquote(uri[len(FILE_SCHEME) :])
    if not path.startswith("/"):
        raise PointerError(f"a file:// URI names an absolute path, got {uri[:200]!r}")
    if len(path) > MAX_PATH_CHARS or "\0" in path:
        raise PointerError(f"a file:// URI names a path of at most {MAX_PATH_CHARS} characters")
    return path


def _ref(document: dict[str, object], where: str) -> ModelRef:
    uri, sha256 = document["model_uri"], document["sha256"]
    if not isinstance(uri, str) or not isinstance(sha256, str):
        raise PointerError(f"{where}: model_uri and sha256 must be strings")
    ref = ModelRef(uri, sha256)
    _check_ref(ref, where)
    return ref


def _check_ref(ref: ModelRef, where: str) -> None:
    try:
        if local_path(ref.model_uri) is None:
            parse_s3_uri(ref.model_uri)
    except (ConfigError, PointerError) as exc:
        raise PointerError(f"{where}: model_uri: {exc}") from None
    if len(ref.sha256) != 64 or not _HEX.issuperset(ref.sha256):
        raise PointerError(f"{where}: sha256 must be 64 lowercase hexadecimal characters")
