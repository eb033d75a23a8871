"""The model, trained once, written in each contender's format for the benchmark to load.

Ours is the exported ``.npz``; the tutorial's way is two joblib pickles; ONNX (optional)
is the same fitted pipeline converted by skl2onnx. Every contender starts from the same
fitted objects, so differences in the results come from the serving path alone.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from exporter.dataset import Dataset
from exporter.pipeline import export_pipeline
from exporter.train import TrainedModel, TrainingConfig, train
from localserver import events as build_event

ONNX_INPUT = "text"
# onnxruntime's StringNormalizer defaults to the en_US.UTF-8 locale, which minimal Linux
# images (this machine, Lambda's) lack; C.UTF-8 is always there. Everything else is
# skl2onnx's default conversion, including its ASCII stand-in for the token regex.
ONNX_VECTORIZER_OPTIONS = {"locale": "C.UTF-8"}


@dataclass(frozen=True)
class Contenders:
    """Paths of the files each child process loads, plus the fitted objects."""

    trained: TrainedModel
    npz: Path
    vectorizer_pickle: Path
    classifier_pickle: Path
    onnx: Path | None
    onnx_note: str


def onnx_available() -> bool:
    """ONNX is an optional column: both packages must be importable."""
    return all(importlib.util.find_spec(name) for name in ("onnxruntime", "skl2onnx"))


def prepare(dataset: Dataset, workdir: Path, *, with_onnx: bool = True) -> Contenders:
    """Train the tutorial model once and write all contenders' files into ``workdir``."""
    trained = train(dataset, TrainingConfig())
    workdir.mkdir(parents=True, exist_ok=True)
    npz = workdir / "model.npz"
    metadata = {"training": {"data_sha256": dataset.sha256, "n_train": trained.n_train}}
    export_pipeline(trained.model, npz, texts=trained.test_texts, metadata=metadata)
    vectorizer_pickle = workdir / "vectorizer.joblib"
    classifier_pickle = workdir / "classifier.joblib"
    joblib.dump(trained.vectorizer, vectorizer_pickle)
    joblib.dump(trained.classifier, classifier_pickle)

    onnx_path, note = (
        None,
        "onnxruntime/skl2onnx not installed (pip install -r requirements-bench.txt)",
    )
    if with_onnx and onnx_available():
        onnx_path = workdir / "model.onnx"
        onnx_path.write_bytes(convert_to_onnx(trained))
        note = f"skl2onnx default conversion, options {json.dumps(ONNX_VECTORIZER_OPTIONS)}"
    elif not with_onnx:
        note = "ONNX disabled (--no-onnx)"
    return Contenders(trained, npz, vectorizer_pickle, classifier_pickle, onnx_path, note)


def convert_to_onnx(trained: TrainedModel) -> bytes:
    """The fitted TfidfVectorizer + GaussianNB as one ONNX graph taking raw strings."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.pipeline import Pipeline

    pipeline = Pipeline([("tfidf", trained.vectorizer), ("nb", trained.classifier)])
    options: dict[int, dict[str, Any]] = {
        id(trained.vectorizer): dict(ONNX_VECTORIZER_OPTIONS),
        id(trained.classifier): {"zipmap": False},  # plain arrays: no per-row dicts
    }
    model = convert_sklearn(
        pipeline, initial_types=[(ONNX_INPUT, StringTensorType([None, 1]))], options=options
    )
    serialized: bytes = model.SerializeToString()
    return serialized


def onnx_session(path: Path) -> Any:
    """An inference session on one CPU provider, as a Lambda function would create it."""
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


# What API Gateway adds to a curl request: the handler reads only two of them, but the
# event it parses carries them all, as in production.
API_GATEWAY_HEADERS = (
    ("Accept", "*/*"),
    ("CloudFront-Forwarded-Proto", "https"),
    ("CloudFront-Viewer-Country", "US"),
    ("Content-Type", "application/json"),
    ("Host", "1234567890.execute-api.us-east-1.amazonaws.com"),
    ("User-Agent", "curl/8.5.0"),
    ("Via", "2.0 a3650115c5e21e2b5d133ce84464bea3.cloudfront.net (CloudFront)"),
    ("X-Amz-Cf-Id", "ktHwTjFZ8nBVvpvAUPbSdH8hgxY5-u3gq4aP1dTBFRcVzhvyeRnRVA=="),
    ("X-Amzn-Trace-Id", "Root=1-5e66d96f-7491f09xmpl79d18acf3d050"),
    ("X-Forwarded-For", "203.0.113.7, 198.51.100.1"),
    ("X-Forwarded-Port", "443"),
    ("X-Forwarded-Proto", "https"),
)


def rest_event(text: str) -> dict[str, Any]:
    """An API Gateway REST (payload 1.0) ``POST /predict`` event, from the one builder."""
    return build_event.rest_v1(
        "POST", "/predict", headers=API_GATEWAY_HEADERS, body=json.dumps({"text": text})
    )


def export_recipe(
    dataset: Dataset, recipe: str, path: Path, vectorizer_params: dict[str, Any] | None = None
) -> Any:
    """Train a built-in recipe on the tutorial's split and export it (parity checked)."""
    config = TrainingConfig(recipe=recipe, vectorizer_params=dict(vectorizer_params or {}))
    trained = train(dataset, config)
    metadata = {"training": {"data_sha256": dataset.sha256, "n_train": trained.n_train}}
    return export_pipeline(trained.model, path, texts=trained.test_texts, metadata=metadata)
