"""The model file: one ``.npz`` of plain arrays plus a JSON metadata member, both directions.

This module is the single definition of the container. The exporter renders files with
``render_model_file`` and the runtime reads them with ``read_model_file``; what the
``features`` and ``classifier`` sections mean is defined by ``runtime/features.py`` and
``runtime/families/``, which take their arrays through ``ModelFile.take`` so that every
array is checked (dtype, shape, finite values) and none is left unexplained.

A file is untrusted input until its SHA-256 matches a pin, so every read is bounded:
the archive by ``runtime/npz.py``, the metadata by size, nesting depth and number
syntax. The content checksum detects corruption (truncation, flipped bits, a member
from another file); it has no key, so it does not detect deliberate tampering: pinning
the file's SHA-256 (``MODEL_SHA256``) does.
"""

from __future__ import annotations

import json
import math
import os
import stat
import time
from collections.abc import Mapping
from itertools import pairwise

try:  # built in: hashlib would load OpenSSL (~2 ms and 3.7 MiB of a cold start)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - depends on the interpreter
    from hashlib import blake2b

try:  # the built-in SHA-256 spares the cold start loading OpenSSL through hashlib
    from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]  # Python 3.12+
except ImportError:  # pragma: no cover - depends on the interpreter
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,unused-ignore]

from runtime.errors import json_problem, short
from runtime.npz import NpzError, RawArray, load_arrays, npy_bytes, write_npz
from runtime.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FORMAT_NAME = "sklearn-text-classifier"
FORMAT_VERSION = 2
METADATA = "metadata"  # UTF-8 JSON as a uint8 array
CHECKSUM_KEY = "content_blake2b"  # metadata key sealing the metadata and the arrays
MAX_METADATA_BYTES = 1 << 20
MAX_METADATA_DEPTH = 32
# CPython's default int_max_str_digits, whatever this interpreter is set to: converting
# is quadratic in the digits. Smaller integers that are out of range for their setting
# are refused by that setting's check, which names it.
MAX_INTEGER_DIGITS = 4300
# The .npy header numpy.save puts in front of the metadata document (a multiple of 64).
_NPY_HEADER_ROOM = 128
MAX_CLASSES = 1000
# Integers beyond it are not exact as doubles, which many JSON clients read numbers as.
MAX_JSON_INTEGER = 2**53


class ModelError(ValueError):
    """The model file is not one this runtime can trust; the message says why."""


def sha256_hex(data: bytes) -> str:
    return str(sha256(data).hexdigest())


class FileTooLarge(Exception):
    """The file is over the limit; ``size`` is its size, or None if it grew while read."""

    def __init__(self, size: int | None) -> None:
        super().__init__(size)
        self.size = size


_ENTRY_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ_CHUNK = 1 << 20  # after the first read, the deadline is checked between chunks


def read_bounded(
    path: str | os.PathLike[str],
    max_bytes: int,
    *,
    regular: bool = False,
    deadline: float | None = None,
) -> bytes:
    """The file's bytes, never more than ``max_bytes`` read: the size is checked before
    reading, and again after (the file may grow). Raises OSError if it cannot be read,
    FileTooLarge if it is over the limit.

    ``regular`` is for an entry anyone who can write its directory may replace: ``lstat``
    first, then a non-blocking open that follows no link, checked to be the same regular
    file, so a FIFO, a device or a symlink is refused at once instead of a read that never
    ends. ``deadline`` (``time.monotonic()``) stops the read between chunks with
    TimeoutError (an OSError)."""
    if not regular:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            if info.st_size > max_bytes:
                raise FileTooLarge(info.st_size)
            data = file.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise FileTooLarge(None)
        return data
    before = os.lstat(path)
    if not stat.S_ISREG(before.st_mode):
        raise OSError(f"{os.fspath(path)!r} is not a regular file")
    if before.st_size > max_bytes:
        raise FileTooLarge(before.st_size)
    descriptor = os.open(path, _ENTRY_FLAGS)
    try:
        opened = os.fstat(descriptor)  # the entry may have been swapped since lstat
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (
            before.st_dev,
            before.st_ino,
        ):
            raise OSError(f"{os.fspath(path)!r} changed while it was opened")
        return _read_chunks(descriptor, opened.st_size, max_bytes, deadline)
    finally:
        os.close(descriptor)


def _read_chunks(descriptor: int, expected: int, max_bytes: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    size, want = 0, expected + 1  # usually the whole file in one read, no copy
    while size <= max_bytes:  # the file may grow after fstat
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError("the read did not end by its deadline")
        chunk = os.read(descriptor, min(want, max_bytes + 1 - size))
        if not chunk:
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        want = _READ_CHUNK
    raise FileTooLarge(None)


class ModelFile:
    """A parsed, checksummed file whose arrays are handed out one checked name at a time."""

    def __init__(self, metadata: dict[str, Any], arrays: dict[str, RawArray]) -> None:
        self.metadata = metadata
        self._arrays = arrays
        self._taken: set[str] = set()

    def take(self, name: str, dtype: str, shape: tuple[int, ...]) -> memoryview[Any]:
        """The flat typed view of array ``name``; -1 in ``shape`` accepts any length there."""
        array = self._arrays.get(name)
        if array is None:
            raise ModelError(f"missing array {name!r}")
        if array.dtype != dtype:
            raise ModelError(f"array {name!r} has dtype {array.dtype}, expected {dtype}")
        if len(array.shape) != len(shape) or any(
            want not in (-1, got) for want, got in zip(shape, array.shape, strict=True)
        ):
            raise ModelError(f"array {name!r} has shape {array.shape}, expected {shape}")
        values = array.values
        # Non-finite values would reach clients.
        if dtype == "<f8" and not all_finite(values):
            raise ModelError(f"array {name!r} contains NaN or infinite values")
        self._taken.add(name)
        return values

    def raw_arrays(self) -> dict[str, tuple[str, tuple[int, ...], bytes]]:
        """Every array as ``render_model_file`` takes it: to rewrite a file with some replaced."""
        return {
            name: (array.dtype, array.shape, array.values.tobytes())
            for name, array in self._arrays.items()
        }

    def finish(self) -> None:
        """Refuse arrays nobody asked for: a file must hold exactly what it describes.

        A learnable file's ``learning.*`` arrays are read only by the learner
        (``read_learning``); serving accepts exactly those names when the metadata
        declares the section, and never reads them.
        """
        expected = set(self._taken)
        if isinstance(self.metadata.get(LEARNING), dict):
            expected |= set(LEARNING_ARRAYS)
        unknown = sorted(set(self._arrays) - expected)
        if unknown:
            raise ModelError(f"unexpected arrays {unknown}")


# A float64 is NaN or infinite exactly when its 11 exponent bits are all ones: in its
# little-endian bytes, the low 7 bits of byte 7 and the high 4 bits of byte 6. These
# tables map such a byte 7 (0x7F or 0xFF) and byte 6 (0xF0 to 0xFF) to 1, others to 0.
_EXPONENT_HIGH = (bytes(0x7F) + b"\x01") * 2
_EXPONENT_LOW = bytes(0xF0) + b"\x01" * 0x10


def all_finite(values: memoryview[Any]) -> bool:
    """Whether a float64 view holds no NaN or infinity: exact, and every pass in C.

    ``math.isfinite(sum(values))`` took 0.47 ms for the tutorial model's arrays against
    0.03 ms (Python 3.12+ compensates float sums), and refused finite values whose sum
    passes the float range. Read a piece at a time, so a large array is not copied whole.
    """
    for start in range(0, len(values), _FINITE_PIECE):
        # Slicing bytes with a step is ~4x faster than slicing a memoryview.
        raw = values[start : start + _FINITE_PIECE].tobytes()
        high = raw[7::8]
        if b"\x7f" not in high and b"\xff" not in high:  # all |value| < 2**1009: the usual case
            continue
        suspects = int.from_bytes(high.translate(_EXPONENT_HIGH), "little")
        if suspects & int.from_bytes(raw[6::8].translate(_EXPONENT_LOW), "little"):
            return False
    return True


_FINITE_PIECE = 1 << 17  # values: 1 MiB of bytes


def read_model_file(data: bytes, *, verify_content: bool = True) -> ModelFile:
    """Parse the container and check the content checksum (skipped only for pinned files)."""
    if not data.startswith(b"PK\x03\x04"):
        raise ModelError("not a valid .npz archive (no zip header)")
    try:
        arrays = load_arrays(data, {METADATA: MAX_METADATA_BYTES + _NPY_HEADER_ROOM})
    except NpzError as exc:
        raise ModelError(f"not a valid .npz archive: {exc}") from None
    blob = arrays.pop(METADATA, None)
    if blob is None:
        raise ModelError(f"missing {METADATA!r} array")
    if blob.dtype != "|u1" or len(blob.shape) != 1:
        raise ModelError(f"{METADATA!r} must be a 1-D uint8 array of UTF-8 JSON")
    if len(blob.values) > MAX_METADATA_BYTES:  # before copying it
        raise ModelError(f"metadata is larger than {MAX_METADATA_BYTES} bytes")
    metadata = parse_metadata(bytes(blob.values))
    if verify_content and metadata.get(CHECKSUM_KEY) != content_digest(metadata, arrays):
        raise ModelError("content checksum mismatch: the file was corrupted after export")
    return ModelFile(metadata, arrays)


def parse_metadata(blob: bytes) -> dict[str, Any]:
    if len(blob) > MAX_METADATA_BYTES:
        raise ModelError(f"metadata is larger than {MAX_METADATA_BYTES} bytes")
    try:
        metadata = json.loads(
            blob.decode("utf-8"), parse_constant=_refuse_constant, parse_int=_bounded_int
        )
    except UnicodeDecodeError as exc:
        raise ModelError(f"metadata is not valid UTF-8 (byte {exc.start})") from None
    except RecursionError:
        raise ModelError("metadata is nested too deeply") from None
    except _IntegerTooLong as exc:
        raise ModelError(
            f"metadata holds an integer of {exc.digits} digits; at most {MAX_INTEGER_DIGITS}"
        ) from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity
        raise ModelError(
            f"metadata is not valid JSON: {json_problem(exc, own_data=True)}"
        ) from None
    if not isinstance(metadata, dict):
        raise ModelError("metadata must be a JSON object")
    _check_plain(metadata)
    if metadata.get("format") != FORMAT_NAME:
        raise ModelError(f"not a {FORMAT_NAME} file (format={short(metadata.get('format'), 60)})")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"unsupported format_version {short(metadata.get('format_version'), 60)}; "
            f"this runtime reads version {FORMAT_VERSION}"
        )
    return metadata


def check_classes(classes: object) -> tuple[str | int, ...]:
    """At least two distinct labels, all strings or all integers, as JSON carries them."""
    if not (isinstance(classes, list) and 2 <= len(classes) <= MAX_CLASSES):
        raise ModelError(f"metadata 'classes' must list 2 to {MAX_CLASSES} labels")
    if not (
        all(isinstance(c, str) for c in classes)
        or all(isinstance(c, int) and not isinstance(c, bool) for c in classes)
    ):
        raise ModelError("metadata 'classes' must be all strings or all integers")
    if len(set(classes)) != len(classes):
        raise ModelError("metadata 'classes' must be distinct")
    if isinstance(classes[0], int) and any(abs(c) > MAX_JSON_INTEGER for c in classes):
        raise ModelError("metadata 'classes' must be integers within 2**53, as JSON carries them")
    return tuple(classes)


def content_digest(metadata: Mapping[str, Any], arrays: Mapping[str, RawArray | bytes]) -> str:
    """BLAKE2b-256 over the metadata and every array member's name and ``.npy`` bytes.

    The metadata is covered too: it holds the class labels and every vectorizer setting,
    so an edited label order would change predictions as surely as an edited array.
    BLAKE2b because it is built in and ~3x faster than the built-in SHA-256.
    """
    digest = blake2b(digest_size=32)
    sealed = {key: value for key, value in metadata.items() if key != CHECKSUM_KEY}
    digest.update(encode_metadata(sealed))
    for name in sorted(arrays):
        member = arrays[name]
        raw = member.member if isinstance(member, RawArray) else member
        digest.update(f"\n{name}\n".encode())
        digest.update(raw)  # the member's own bytes: no copy
    return digest.hexdigest()


def encode_metadata(metadata: Mapping[str, Any]) -> bytes:
    return json.dumps(
        metadata, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False
    ).encode("utf-8")


def render_model_file(
    metadata: Mapping[str, Any], arrays: Mapping[str, tuple[str, tuple[int, ...], bytes]]
) -> bytes:
    """The whole file as bytes, sealed with the content checksum.

    Fixed timestamps and member order make the file (and so its SHA-256, the model id)
    a pure function of the model: ``np.savez`` would stamp the current time.
    """
    members = {name: npy_bytes(*array) for name, array in arrays.items()}
    sealed = {**metadata, "format": FORMAT_NAME, "format_version": FORMAT_VERSION}
    sealed[CHECKSUM_KEY] = content_digest(sealed, members)
    blob = encode_metadata(sealed)
    members[METADATA] = npy_bytes("|u1", (len(blob),), blob)
    return write_npz(members)


# The learnable section: what scikit-learn's ``partial_fit`` needs besides the feature
# rows (runtime/learning/ reads it; exporter/learnable.py writes it). Metadata
# ``learning`` holds the settings and, in a learned file, what was learned; the arrays
# hold the export's counts, the learned report ids and the golden set.
LEARNING = "learning"
LEARNING_SCHEMA = 1
LEARNING_CLASS_COUNT = "learning.class_count"  # (n_classes,) the export's class_count_
# feature_count_ (n_classes, n_features), sparse: hashing makes it mostly zeros, and a dense
# copy doubled the learnable recipe's load time (62 ms against 32 ms without the section).
LEARNING_FEATURE_INDEX = "learning.feature_index"  # flat class-major positions, ascending
LEARNING_FEATURE_COUNT = "learning.feature_count"  # the nonzero counts at those positions
LEARNING_REPORTS = "learning.reports"  # 32 bytes per learned report id, strictly ascending
LEARNING_GOLDEN = "learning.golden"  # UTF-8 JSON [[label, text], ...] from the held-out split
LEARNING_ARRAYS = (
    LEARNING_CLASS_COUNT,
    LEARNING_FEATURE_INDEX,
    LEARNING_FEATURE_COUNT,
    LEARNING_REPORTS,
    LEARNING_GOLDEN,
)
MAX_LEARNED_REPORTS = 200_000  # 6.1 MiB of ids; the learner re-reads them all per run
MAX_GOLDEN_MESSAGES = 5_000
MAX_GOLDEN_BYTES = 1 << 20
REPORT_ID_BYTES = 32


class LearningSection(NamedTuple):
    """A learnable file's section, checked: settings, export counts, learned ids, golden set."""

    settings: dict[str, Any]  # family, alpha, force_alpha, fit_prior, class_prior, norm, binarize
    class_count: memoryview[Any]  # the export's, flat (n_classes,)
    feature_index: memoryview[Any]  # the export's nonzero feature counts: flat positions
    feature_count: memoryview[Any]  # (class * n_features + column), ascending, and values
    reports: tuple[str, ...]  # learned report ids (hex), ascending
    golden: tuple[tuple[str | int, str], ...]  # (label, text) pairs
    learned: dict[str, Any] | None  # what a learned file says about its learning


def read_learning(
    file: ModelFile, classes: tuple[str | int, ...], n_features: int
) -> LearningSection:
    """The learnable section of ``file``; ModelError names what is missing or wrong."""
    section = file.metadata.get(LEARNING)
    if not isinstance(section, dict):
        raise ModelError("not a learnable model file: it has no 'learning' section")
    if section.get("schema") != LEARNING_SCHEMA:
        raise ModelError(f"unsupported learning schema {short(section.get('schema'), 60)}")
    n_classes = len(classes)
    settings = _learning_settings(section, n_classes)
    classifier = file.metadata.get("classifier")
    if not (isinstance(classifier, dict) and classifier.get("family") == settings["family"]):
        raise ModelError("the learning section names another family than the classifier")
    class_count = file.take(LEARNING_CLASS_COUNT, "<f8", (n_classes,))
    feature_index = file.take(LEARNING_FEATURE_INDEX, "<f8", (-1,))
    feature_count = file.take(LEARNING_FEATURE_COUNT, "<f8", (len(feature_index),))
    if min(class_count) < 0 or (len(feature_count) and min(feature_count) <= 0):
        raise ModelError("learning counts must be non-negative, and stored only when nonzero")
    size = n_classes * n_features
    positions = feature_index.tolist()
    if positions and not (
        all(float(p).is_integer() for p in positions)
        and positions[0] >= 0
        and positions[-1] < size
        and all(a < b for a, b in pairwise(positions))
    ):
        raise ModelError(
            f"{LEARNING_FEATURE_INDEX} must hold ascending whole positions below {size}"
        )
    reports: tuple[str, ...] = ()
    if LEARNING_REPORTS in file._arrays:
        blob = bytes(file.take(LEARNING_REPORTS, "|u1", (-1,)))
        if len(blob) % REPORT_ID_BYTES or len(blob) > MAX_LEARNED_REPORTS * REPORT_ID_BYTES:
            raise ModelError(
                f"{LEARNING_REPORTS} must hold at most {MAX_LEARNED_REPORTS} ids of "
                f"{REPORT_ID_BYTES} bytes"
            )
        reports = tuple(
            blob[i : i + REPORT_ID_BYTES].hex() for i in range(0, len(blob), REPORT_ID_BYTES)
        )
        if any(a >= b for a, b in pairwise(reports)):
            raise ModelError(f"{LEARNING_REPORTS} must be strictly ascending")
    golden: tuple[tuple[str | int, str], ...] = ()
    if LEARNING_GOLDEN in file._arrays:
        golden = _golden(bytes(file.take(LEARNING_GOLDEN, "|u1", (-1,))), classes)
    learned = section.get("learned")
    if learned is not None and not isinstance(learned, dict):
        raise ModelError("learning 'learned' must be an object")
    if (learned is None) != (not reports):
        raise ModelError("a learned file records its reports, and only a learned file does")
    return LearningSection(
        settings, class_count, feature_index, feature_count, reports, golden, learned
    )


def encode_report_ids(report_ids: list[str]) -> bytes:
    return b"".join(bytes.fromhex(report_id) for report_id in sorted(report_ids))


def encode_golden(golden: list[tuple[str | int, str]]) -> bytes:
    blob = json.dumps([[label, text] for label, text in golden], ensure_ascii=False)
    data = blob.encode("utf-8", "surrogatepass")
    if len(golden) > MAX_GOLDEN_MESSAGES or len(data) > MAX_GOLDEN_BYTES:
        raise ValueError(
            f"the golden set holds at most {MAX_GOLDEN_MESSAGES} messages and "
            f"{MAX_GOLDEN_BYTES} bytes; got {len(golden)} messages, {len(data)} bytes"
        )
    return data


def _golden(blob: bytes, classes: tuple[str | int, ...]) -> tuple[tuple[str | int, str], ...]:
    if len(blob) > MAX_GOLDEN_BYTES:
        raise ModelError(f"{LEARNING_GOLDEN} is larger than {MAX_GOLDEN_BYTES} bytes")
    try:
        pairs = json.loads(blob.decode("utf-8", "surrogatepass"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise ModelError(f"{LEARNING_GOLDEN} is not valid UTF-8 JSON") from None
    known = set(classes)
    if not (
        isinstance(pairs, list)
        and len(pairs) <= MAX_GOLDEN_MESSAGES
        and all(
            isinstance(p, list) and len(p) == 2 and p[0] in known and isinstance(p[1], str)
            for p in pairs
        )
    ):
        raise ModelError(
            f"{LEARNING_GOLDEN} must list at most {MAX_GOLDEN_MESSAGES} [label, text] pairs "
            "whose labels are the model's classes"
        )
    return tuple((label, text) for label, text in pairs)


def _learning_settings(section: dict[str, Any], n_classes: int) -> dict[str, Any]:
    """The shared settings are checked here; the family checks its own (``norm``,
    ``binarize``): runtime/families/counts.py, imported only when learning."""
    from runtime.families.counts import OWN_SETTINGS, check_settings

    try:
        check_settings(section)
    except ValueError as exc:
        raise ModelError(str(exc)) from None
    alpha = section.get("alpha")
    if not (isinstance(alpha, int | float) and _is_number(alpha) and 0 <= alpha < math.inf):
        raise ModelError("learning alpha must be a non-negative number")
    for key in ("force_alpha", "fit_prior"):
        if not isinstance(section.get(key), bool):
            raise ModelError(f"learning {key} must be a boolean")
    prior = section.get("class_prior")
    if prior is not None and not (
        isinstance(prior, list)
        and len(prior) == n_classes
        and all(_is_number(p) and p > 0 for p in prior)
    ):
        raise ModelError(f"learning class_prior must be null or {n_classes} positive numbers")
    keys = ("family", "alpha", "force_alpha", "fit_prior", "class_prior", *OWN_SETTINGS)
    return {key: section.get(key) for key in keys}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _IntegerTooLong(Exception):
    def __init__(self, digits: int) -> None:
        self.digits = digits


def _bounded_int(text: str) -> int:
    """Refuse long integers by length, before int() spends time converting them."""
    digits = len(text) - text.startswith("-")
    if digits > MAX_INTEGER_DIGITS:
        raise _IntegerTooLong(digits)
    return int(text)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _check_plain(value: Any) -> None:
    """Depth-bounded walk: no float outside the finite range, no nesting past the cap."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_METADATA_DEPTH:
            raise ModelError(f"metadata is nested deeper than {MAX_METADATA_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ModelError("metadata holds a number outside the float range")
