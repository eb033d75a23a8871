"""Cold start of a model that reads text through the normaliser vs the same model without it.

Two model files of one recipe (the tutorial's TF-IDF + MultinomialNB), one with
``preprocessor=exporter.normalize.fold_leet``, trained on the same data. Each run is a
fresh interpreter (this venv's, ``-I``) that imports the runtime, loads the file and
classifies one message; runs alternate between the contenders. Printed: the median of
the whole process (wall, interpreter start included) and the median and minimum of the
in-process part (import + load + first answer), for an ASCII and a non-ASCII message, and
the ratios. On a shared machine the minimum is the steadier of the two.

    python -m benchmarks.coldstart_normaliser --data ../shared/data/spam.csv --rounds 40
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """\
import time
start = time.perf_counter()
import sys
sys.path.insert(0, {root!r})
from runtime.model import Model
model = Model.from_path({path!r})
label = model.classify([{text!r}])[0]["label"]
print(time.perf_counter() - start, label)
"""
MESSAGES = {
    "ascii": "WINNER!! claim your FREE prize now, txt CLAIM to 80082",
    "non-ascii": "\uff37\uff29\uff2e\uff2e\uff25\uff32!! claim your fr\u200bee prize now, "
    "txt CL\u0410IM to 80082",
}


def train_pair(data: Path | None, out: Path) -> dict[str, Path]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    from exporter import export_pipeline
    from exporter.dataset import load_dataset
    from exporter.normalize import fold_leet
    from tests.corpus import make_corpus

    if data is not None:
        dataset = load_dataset(data)
        texts, labels = dataset.texts, dataset.labels
    else:
        texts, labels = make_corpus(300)
    paths = {}
    for name, preprocessor in (("plain", None), ("normalised", fold_leet)):
        model = make_pipeline(
            TfidfVectorizer(sublinear_tf=True, max_df=0.5, preprocessor=preprocessor),
            MultinomialNB(alpha=0.1),
        ).fit(texts, labels)
        paths[name] = out / f"{name}.npz"
        export_pipeline(model, paths[name])
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="spam.csv; unset: the synthetic corpus")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        paths = train_pair(args.data, folder)
        scripts = {}
        for model, path in paths.items():
            for message, text in MESSAGES.items():
                script = folder / f"{model}-{message}.py"
                script.write_text(SCRIPT.format(root=str(PROJECT_ROOT), path=str(path), text=text))
                scripts[(model, message)] = script
        wall: dict[tuple[str, str], list[float]] = {key: [] for key in scripts}
        inside: dict[tuple[str, str], list[float]] = {key: [] for key in scripts}
        for _ in range(args.rounds):
            for key, script in scripts.items():
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-I", str(script)], capture_output=True, text=True, check=True
                )
                wall[key].append(time.perf_counter() - start)
                inside[key].append(float(done.stdout.split()[0]))
        sizes = {model: path.stat().st_size for model, path in paths.items()}
    print(f"{args.rounds} alternating cold starts each, Python {sys.version.split()[0]}")
    print("| model | message | file | process (median) | import+load+answer (median, min) |")
    print("|---|---|---:|---:|---:|")
    for (model, message), values in wall.items():
        print(
            f"| {model} | {message} | {sizes[model] / 1024:.0f} KiB | "
            f"{statistics.median(values) * 1000:.1f} ms | "
            f"{statistics.median(inside[(model, message)]) * 1000:.1f} ms, "
            f"{min(inside[(model, message)]) * 1000:.1f} ms |"
        )
    for message in MESSAGES:
        plain, normalised = ("plain", message), ("normalised", message)
        print(
            f"ratio normalised/plain, {message}: process "
            f"{statistics.median(wall[normalised]) / statistics.median(wall[plain]):.3f}, "
            f"in-process "
            f"{statistics.median(inside[normalised]) / statistics.median(inside[plain]):.3f} "
            f"(min: {min(inside[normalised]) / min(inside[plain]):.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
