"""Write ``ModelParts`` as a reproducible ``.npz`` ("emit").

``np.savez`` stamps each member with the current time, so two exports of the same model
would differ. Writing the zip ourselves with fixed timestamps and order makes the file
(and so its SHA-256, the model id) a pure function of the model.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from exporter.extract import ModelParts
from runtime.artifact import (
    CHECKSUM_KEY,
    FORMAT_NAME,
    FORMAT_VERSION,
    METADATA_ARRAY,
    content_digest,
    encode_metadata,
    encode_vocabulary,
)

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def model_arrays(parts: ModelParts) -> dict[str, np.ndarray]:
    text, offsets = encode_vocabulary(parts.vocabulary)
    arrays = {
        "vocabulary_text": text,
        "vocabulary_offsets": offsets,
        "theta": parts.theta,
        "var": parts.var,
        "class_prior": parts.class_prior,
    }
    if parts.idf is not None:
        arrays["idf"] = parts.idf
    return arrays


def render_model(parts: ModelParts, extra_metadata: dict[str, Any]) -> bytes:
    """The complete file as bytes; ``extra_metadata`` holds provenance and metrics."""
    arrays = model_arrays(parts)
    metadata = {
        **extra_metadata,
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "classes": parts.classes,
        "n_features": len(parts.vocabulary),
        "vectorizer": parts.vectorizer_settings,
        "classifier": parts.classifier_settings,
    }
    metadata[CHECKSUM_KEY] = content_digest(arrays, metadata)
    arrays[METADATA_ARRAY] = encode_metadata(metadata)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(
                member, np.ascontiguousarray(arrays[name]), allow_pickle=False
            )
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def write_model(parts: ModelParts, extra_metadata: dict[str, Any], path: Path) -> str:
    """Render and save; returns the file's SHA-256 (the model id)."""
    data = render_model(parts, extra_metadata)
    save(data, path)
    return hashlib.sha256(data).hexdigest()


def save(data: bytes, path: Path) -> None:
    """Replace ``path`` atomically, so a reader never sees half a model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
