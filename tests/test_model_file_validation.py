"""A damaged or tampered model file is refused with an error that says what is wrong."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from exporter.emit import model_arrays, render_model
from runtime.artifact import CHECKSUM_KEY, METADATA_ARRAY, content_digest, encode_metadata
from runtime.model import Model, ModelError
from tests.corpus import fit_parts


@pytest.fixture(scope="module")
def good() -> bytes:
    return render_model(fit_parts()[2], {})


def members(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def repack(arrays: dict[str, np.ndarray], *, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=allow_pickle, **arrays)
    return buffer.getvalue()


def with_metadata(arrays: dict[str, np.ndarray], **changes) -> dict[str, np.ndarray]:
    metadata = json.loads(arrays[METADATA_ARRAY].tobytes())
    metadata.update(changes)
    return {**arrays, METADATA_ARRAY: encode_metadata(metadata)}


def resealed(arrays: dict[str, np.ndarray], **changes) -> dict[str, np.ndarray]:
    """As a hand-made file would be: changed, with a checksum that matches the change."""
    metadata = {**json.loads(arrays[METADATA_ARRAY].tobytes()), **changes}
    payload = {k: v for k, v in arrays.items() if k != METADATA_ARRAY}
    metadata[CHECKSUM_KEY] = content_digest(payload, metadata)
    return {**arrays, METADATA_ARRAY: encode_metadata(metadata)}


def test_good_file_loads_and_repacking_keeps_it_valid(good: bytes) -> None:
    assert Model.from_bytes(good).classes == ("ham", "spam")
    Model.from_bytes(repack(members(good)))


@pytest.mark.parametrize("cut", [0, 10, 100, 0.5, -1])
def test_truncated_file(good: bytes, cut: float) -> None:
    end = int(len(good) * cut) if isinstance(cut, float) else cut
    with pytest.raises(ModelError, match=r"npz|read"):
        Model.from_bytes(good[:end])


def test_flipped_byte_inside_compressed_array(good: bytes) -> None:
    damaged = bytearray(good)
    damaged[len(good) // 3] ^= 0xFF
    with pytest.raises(ModelError):
        Model.from_bytes(bytes(damaged))


def test_not_a_zip() -> None:
    with pytest.raises(ModelError, match="npz"):
        Model.from_bytes(b"this is not a model")


def test_object_array_is_refused_without_unpickling(good: bytes) -> None:
    arrays = members(good)
    arrays["theta"] = np.array([{"evil": 1}], dtype=object)
    with pytest.raises(ModelError, match="Python objects, which are never unpickled"):
        Model.from_bytes(repack(arrays, allow_pickle=True))


@pytest.mark.parametrize(
    ("name", "mutate", "message"),
    [
        ("theta", lambda a: a[:, :-1], "checksum"),
        ("var", lambda a: a.astype(np.float32), "dtype"),
        ("class_prior", lambda a: np.append(a, 0.5), "checksum"),
    ],
)
def test_changed_array_fails_checksum_or_dtype(good, name, mutate, message) -> None:
    arrays = members(good)
    arrays[name] = mutate(arrays[name])
    with pytest.raises(ModelError, match=message):
        Model.from_bytes(repack(arrays))


@pytest.mark.parametrize(
    ("name", "mutate", "message"),
    [
        ("theta", lambda a: a[:, :-1], "shape"),
        ("var", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 3, np.nan, a), "NaN"),
        ("var", lambda a: -a, "positive"),
        ("idf", lambda a: np.append(a, 1.0), "shape"),
        ("class_prior", lambda a: a * 3, "sum to 1"),
        ("vocabulary_offsets", lambda a: a[::-1].copy(), "partition"),
    ],
)
def test_consistently_resigned_but_invalid_arrays(good, name, mutate, message) -> None:
    """Even with a matching checksum (a hand-made file), shapes and values are checked."""
    arrays = members(good)
    arrays[name] = mutate(arrays[name])
    arrays = resealed(arrays)
    with pytest.raises(ModelError, match=message):
        Model.from_bytes(repack(arrays))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format_version": 99}, "format_version"),
        ({"format": "something-else"}, "format"),
        ({"classes": ["ham"]}, "classes"),
        ({"n_features": 3}, "n_features"),
    ],
)
def test_bad_metadata(good, changes, message) -> None:
    with pytest.raises(ModelError, match=message):
        Model.from_bytes(repack(resealed(members(good), **changes)))


@pytest.mark.parametrize(
    "changes",
    [
        {"classes": ["spam", "ham"]},  # swapped labels: every prediction inverted
        {"vectorizer": {"lowercase": False}},
        {"note": "added by hand"},
    ],
)
def test_edited_metadata_fails_the_checksum(good, changes) -> None:
    arrays = members(good)
    metadata = json.loads(arrays[METADATA_ARRAY].tobytes())
    for key, value in changes.items():
        metadata[key] = {**metadata[key], **value} if isinstance(value, dict) else value
    arrays[METADATA_ARRAY] = encode_metadata(metadata)
    with pytest.raises(ModelError, match="checksum"):
        Model.from_bytes(repack(arrays))


def test_missing_and_unknown_arrays(good: bytes) -> None:
    arrays = members(good)
    del arrays["var"]
    arrays["extra"] = np.zeros(3)
    with pytest.raises(ModelError, match=r"missing \['var'\], unknown \['extra'\]"):
        Model.from_bytes(repack(arrays))


def test_expected_sha256_pins_the_file(good: bytes) -> None:
    model = Model.from_bytes(good)
    assert Model.from_bytes(good, expected_sha256=model.model_id.upper()).model_id == model.model_id
    with pytest.raises(ModelError, match="SHA-256"):
        Model.from_bytes(good, expected_sha256="0" * 64)


def test_unreadable_path(tmp_path) -> None:
    with pytest.raises(ModelError, match="cannot read model file"):
        Model.from_path(tmp_path / "missing.npz")


def test_export_is_byte_identical(good: bytes) -> None:
    assert render_model(fit_parts()[2], {}) == good
    assert zipfile.ZipFile(io.BytesIO(good)).namelist() == sorted(
        f"{name}.npy" for name in [*model_arrays(fit_parts()[2]), METADATA_ARRAY]
    )


def test_duplicate_vocabulary_terms(good: bytes) -> None:
    from runtime.artifact import decode_vocabulary, encode_vocabulary

    arrays = members(good)
    terms = list(decode_vocabulary(arrays["vocabulary_text"], arrays["vocabulary_offsets"]))
    terms[1] = terms[0]
    arrays["vocabulary_text"], arrays["vocabulary_offsets"] = encode_vocabulary(terms)
    arrays = resealed(arrays)
    with pytest.raises(ModelError, match="duplicate terms"):
        Model.from_bytes(repack(arrays))


def test_pinned_sha256_replaces_only_the_content_checksum(good: bytes) -> None:
    arrays = members(good)
    # A file with a wrong content checksum but otherwise sound: refused unless pinned.
    tampered = repack(with_metadata(arrays, **{CHECKSUM_KEY: "0" * 64}))
    with pytest.raises(ModelError, match="checksum"):
        Model.from_bytes(tampered)
    from runtime.artifact import sha256_hex

    assert Model.from_bytes(tampered, expected_sha256=sha256_hex(tampered)).classes
    # Structural checks still run on a pinned file.
    broken = dict(arrays)
    broken["var"] = -broken["var"]
    broken_bytes = repack(broken)
    with pytest.raises(ModelError, match="positive"):
        Model.from_bytes(broken_bytes, expected_sha256=sha256_hex(broken_bytes))
    assert json.loads(arrays[METADATA_ARRAY].tobytes())[CHECKSUM_KEY]


def test_invalid_token_pattern_is_a_model_error(good: bytes) -> None:
    arrays = members(good)
    settings = json.loads(arrays[METADATA_ARRAY].tobytes())["vectorizer"]
    with pytest.raises(ModelError, match="token_pattern"):
        Model.from_bytes(repack(resealed(arrays, vectorizer={**settings, "token_pattern": "("})))
