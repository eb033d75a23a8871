"""Train the tutorial's spam model and export it for the NumPy runtime.

    python exporter/export.py --data ../shared/data/spam.csv

Without --data (or SPAM_DATA) the public UCI collection is downloaded once into a user
cache directory. The export only writes the artifact after the NumPy runtime has been
checked against scikit-learn on the test split.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import sklearn

from exporter.dataset import UCI_URL, Dataset, DatasetError, default_cache_dir, fetch_dataset
from exporter.dataset import load_dataset as load_dataset_file
from exporter.emit import render_model, save
from exporter.extract import UnsupportedModelError, extract
from exporter.report import evaluate, format_report
from exporter.train import TUTORIAL_VECTORIZER_PARAMS, TrainingConfig, train
from runtime.model import Model

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT_ROOT / "artifacts" / "model.npz"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=os.environ.get("SPAM_DATA") or None,
        help="spam.csv (Kaggle), SMSSpamCollection (UCI) or the UCI zip; default: $SPAM_DATA, "
        "else download",
    )
    parser.add_argument(
        "--data-url",
        default=os.environ.get("SPAM_DATA_URL", UCI_URL),
        help="where to download the collection when no --data is given",
    )
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    parser.add_argument("--output", "-o", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--test-size", type=float, default=0.1)
    parser.add_argument("--random-state", type=int, default=42)
    parser.add_argument(
        "--vectorizer-param",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help='override a TfidfVectorizer parameter, e.g. ngram_range=[1,2] or stop_words="english"',
    )
    parser.add_argument(
        "--upload",
        metavar="S3_URI",
        help="after exporting, upload the artifact to s3://bucket/key (see exporter/upload.py)",
    )
    return parser.parse_args(argv)


def vectorizer_params(overrides: list[str]) -> dict[str, Any]:
    params = dict(TUTORIAL_VECTORIZER_PARAMS)
    for item in overrides:
        name, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"--vectorizer-param expects NAME=JSON, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # bare strings such as analyzer=char_wb
        params[name] = tuple(value) if name == "ngram_range" else value
    return params


def load_data(args: argparse.Namespace) -> Dataset:
    if args.data is not None:
        return load_dataset_file(args.data)
    return fetch_dataset(args.data_url, args.cache_dir)


def run(args: argparse.Namespace) -> int:
    dataset = load_data(args)
    config = TrainingConfig(
        test_size=args.test_size,
        random_state=args.random_state,
        vectorizer_params=vectorizer_params(args.vectorizer_param),
    )
    trained = train(dataset, config)
    parts = extract(trained.vectorizer, trained.classifier)

    sklearn_predicted = trained.classifier.predict(
        trained.vectorizer.transform(trained.test_texts).toarray()
    ).tolist()
    metrics = evaluate(trained.test_labels, sklearn_predicted, parts.classes)
    metadata = {
        "created_by": {
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "training": {
            "data_sha256": dataset.sha256,
            "rows": len(dataset.texts),
            "n_train": trained.n_train,
            "n_test": len(trained.test_texts),
            "test_size": config.test_size,
            "random_state": config.random_state,
        },
        "metrics": metrics.as_dict(),
    }
    data = render_model(parts, metadata)

    model = Model.from_bytes(data)
    runtime_predicted = model.predict(trained.test_texts)
    differences = sum(a != b for a, b in zip(runtime_predicted, sklearn_predicted, strict=True))
    print(
        format_report(
            source=dataset.source,
            n_rows=len(dataset.texts),
            n_train=trained.n_train,
            n_features=len(parts.vocabulary),
            metrics=metrics,
            parity_differences=differences,
            artifact=str(args.output),
            size_bytes=len(data),
            sha256=model.model_id,
        )
    )
    if differences:
        print("error: runtime disagrees with scikit-learn; artifact not written", file=sys.stderr)
        return 1
    save(data, args.output)

    if args.upload:
        return upload(args.output, args.upload)
    return 0


def upload(path: Path, s3_uri: str) -> int:
    from exporter.upload import UploadError, upload_model  # boto3 only when uploading

    try:
        result = upload_model(
            path, s3_uri, endpoint_url=os.environ.get("MODEL_S3_ENDPOINT_URL") or None
        )
    except UploadError as exc:
        print(f"error: upload failed: {exc}", file=sys.stderr)
        return 1
    print(f"uploaded        {result.uri}\n{result.env_lines()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (DatasetError, UnsupportedModelError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
