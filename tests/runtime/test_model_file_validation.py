"""A damaged or tampered model file (format 2) is refused with an error that says what is wrong.

The crafted-file attacks of issue 8 and their cost are in test_loader_bounds.py; this
module covers the container's contract: what the checksum covers, what a pin replaces,
and that structure and values are checked even in a file whose checksum matches.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runtime.features import encode_vocabulary
from runtime.model import Model, ModelError
from runtime.modelfile import (
    CHECKSUM_KEY,
    FORMAT_NAME,
    FORMAT_VERSION,
    METADATA,
    encode_metadata,
    read_model_file,
    render_model_file,
    sha256_hex,
)
from tests.crafted import Arrays, metadata_member, reseal, unpack, with_members

Edit = Callable[[dict[str, Any], Arrays], None]
THETA, VAR, IDF, VOCABULARY = (
    "classifier.theta",
    "classifier.var",
    "features.0.idf",
    "features.0.vocabulary",
)


@pytest.fixture(scope="module")
def good(small_model_path: Path) -> bytes:
    return small_model_path.read_bytes()


def resealed(good: bytes, edit: Edit) -> bytes:
    metadata, arrays = unpack(good)
    edit(metadata, arrays)
    return reseal(metadata, arrays)


def unsealed(good: bytes, edit: Edit) -> bytes:
    """Edited, keeping the original checksum: what corruption (or a careless edit) gives."""
    metadata, arrays = unpack(good)
    checksum = read_model_file(good).metadata[CHECKSUM_KEY]
    edit(metadata, arrays)
    render = render_model_file(metadata, arrays)
    return with_members(
        render, {f"{METADATA}.npy": metadata_member(_sealed_with(render, checksum))}
    )


def _sealed_with(data: bytes, checksum: str) -> bytes:
    metadata = dict(read_model_file(data).metadata)
    metadata[CHECKSUM_KEY] = checksum
    return encode_metadata(metadata)


def floats(array: tuple[str, tuple[int, ...], bytes]) -> list[float]:
    return list(memoryview(array[2]).cast("d"))


def with_floats(array: tuple[str, tuple[int, ...], bytes], values: list[float]) -> tuple:
    return (array[0], array[1], struct.pack(f"<{len(values)}d", *values))


def test_good_file_loads_and_is_format_2(good: bytes) -> None:
    model = Model.from_bytes(good)
    assert model.classes == ("ham", "spam")
    assert model.metadata["format"] == FORMAT_NAME
    assert model.metadata["format_version"] == FORMAT_VERSION == 2
    assert model.model_id == sha256_hex(good)


def test_rendering_is_deterministic_and_lists_its_members(good: bytes) -> None:
    metadata, arrays = unpack(good)
    assert reseal(metadata, arrays) == good
    assert zipfile.ZipFile(io.BytesIO(good)).namelist() == sorted(
        f"{name}.npy" for name in [*arrays, METADATA]
    )


@pytest.mark.parametrize("cut", [0, 10, 100, 0.5, -1])
def test_truncated_file(good: bytes, cut: float) -> None:
    end = int(len(good) * cut) if isinstance(cut, float) else cut
    with pytest.raises(ModelError, match=r"npz"):
        Model.from_bytes(good[:end])


def test_flipped_byte_inside_compressed_array(good: bytes) -> None:
    damaged = bytearray(good)
    damaged[len(good) // 3] ^= 0xFF
    with pytest.raises(ModelError, match=r"corrupt|CRC-32|npz"):
        Model.from_bytes(bytes(damaged))


def test_not_a_zip() -> None:
    with pytest.raises(ModelError, match="no zip header"):
        Model.from_bytes(b"this is not a model")


@pytest.mark.parametrize(
    "edit",
    [
        lambda m, a: a.__setitem__(THETA, with_floats(a[THETA], floats(a[THETA])[::-1])),
        lambda m, a: m.__setitem__("classes", ["spam", "ham"]),  # every prediction inverted
        lambda m, a: m["features"][0].__setitem__("lowercase", False),
        lambda m, a: m.__setitem__("note", "added by hand"),
    ],
    ids=["array", "swapped classes", "vectorizer setting", "added key"],
)
def test_any_unsealed_edit_fails_the_checksum(good: bytes, edit: Edit) -> None:
    with pytest.raises(ModelError, match="content checksum mismatch"):
        Model.from_bytes(unsealed(good, edit))


def test_the_checksum_does_not_stop_tampering_but_a_pin_does(good: bytes) -> None:
    """Resealed, swapped classes load (the checksum has no key); MODEL_SHA256 refuses them."""
    tampered = resealed(good, lambda m, a: m.__setitem__("classes", ["spam", "ham"]))
    assert Model.from_bytes(tampered).classes == ("spam", "ham")
    with pytest.raises(ModelError, match=rf"model SHA-256 is {sha256_hex(tampered)}, expected"):
        Model.from_bytes(tampered, expected_sha256=sha256_hex(good))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m, a: a.__setitem__(THETA, ("<f8", (2, 3), bytes(48))), rf"'{THETA}' has shape"),
        (
            lambda m, a: a.__setitem__(
                VAR, with_floats(a[VAR], [float("nan"), *floats(a[VAR])[1:]])
            ),
            "NaN or infinite",
        ),
        (
            lambda m, a: a.__setitem__(VAR, with_floats(a[VAR], [-v for v in floats(a[VAR])])),
            "var must be strictly positive",
        ),
        (lambda m, a: a.__setitem__(IDF, ("<f8", (1,), bytes(8))), rf"'{IDF}' has shape"),
        (lambda m, a: a.__setitem__(VOCABULARY, ("|u1", (3,), b"a\nb")), "vocabulary holds 2"),
        (lambda m, a: m.__setitem__("classes", ["ham"]), "'classes' must list 2 to"),
        (lambda m, a: m.__setitem__("classes", ["ham", "ham"]), "'classes' must be distinct"),
        (lambda m, a: m.__setitem__("n_features", 3), "n_features=3"),
        (lambda m, a: m["classifier"].__setitem__("family", "svm"), "unknown classifier family"),
        (lambda m, a: m["features"][0].__setitem__("token_pattern", "("), "token_pattern"),
        (lambda m, a: m["features"][0].__setitem__("analyzer", "chars"), "analyzer must be"),
        (lambda m, a: m["features"][0].__setitem__("steps", ["idf"] * 2), "idf and sublinear_tf"),
        (lambda m, a: m["features"][0].__setitem__("n_features", 10**9), "n_features must be"),
        (lambda m, a: m.__setitem__("features", []), "features must be a list of 1 to 16"),
    ],
)
def test_resealed_but_invalid_files_are_refused(good: bytes, edit: Edit, message: str) -> None:
    """A matching checksum (a hand-made file) does not skip the structural checks."""
    with pytest.raises(ModelError, match=message):
        Model.from_bytes(resealed(good, edit))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "other"}, "not a sklearn-text-classifier file"),
        ({"format_version": 1}, "unsupported format_version 1; this runtime reads version 2"),
    ],
)
def test_format_is_checked(good: bytes, changes: dict[str, Any], message: str) -> None:
    document = encode_metadata({**read_model_file(good).metadata, **changes})
    with pytest.raises(ModelError, match=message):
        Model.from_bytes(with_members(good, {f"{METADATA}.npy": metadata_member(document)}))


def test_duplicate_vocabulary_terms(good: bytes) -> None:
    def edit(metadata: dict[str, Any], arrays: Arrays) -> None:
        separator = metadata["features"][0]["separator"]
        terms = bytes(arrays[VOCABULARY][2]).decode().split(separator)
        terms[1] = terms[0]
        separator, blob = encode_vocabulary(terms)
        metadata["features"][0]["separator"] = separator
        arrays[VOCABULARY] = ("|u1", (len(blob),), blob)

    with pytest.raises(ModelError, match="duplicate terms"):
        Model.from_bytes(resealed(good, edit))


def test_expected_sha256_pins_the_file(good: bytes) -> None:
    model = Model.from_bytes(good)
    assert Model.from_bytes(good, expected_sha256=model.model_id.upper()).model_id == model.model_id
    with pytest.raises(ModelError, match="SHA-256"):
        Model.from_bytes(good, expected_sha256="0" * 64)


def test_a_pin_replaces_only_the_content_checksum(good: bytes) -> None:
    stale = unsealed(good, lambda m, a: m.__setitem__("note", "edited"))
    with pytest.raises(ModelError, match="checksum"):
        Model.from_bytes(stale)
    assert Model.from_bytes(stale, expected_sha256=sha256_hex(stale)).classes
    broken = unsealed(good, lambda m, a: a.__setitem__(VAR, ("<f8", (2, 3), bytes(48))))
    with pytest.raises(ModelError, match="has shape"):  # structure is still checked
        Model.from_bytes(broken, expected_sha256=sha256_hex(broken))


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read model file"):
        Model.from_path(tmp_path / "missing.npz")


def test_from_path_honours_a_smaller_size_limit(small_model_path: Path) -> None:
    size = small_model_path.stat().st_size
    with pytest.raises(ModelError, match=rf"has {size} bytes; the limit is {size - 1}"):
        Model.from_path(small_model_path, max_bytes=size - 1)
    assert Model.from_path(small_model_path, max_bytes=size).classes == ("ham", "spam")
