"""One row per built-in recipe: cold start, warm single message, batch, model file size.

Every recipe is trained on the tutorial's split and exported like ``exporter/export.py``
does. Its cold start runs from a folder holding ``runtime/`` and the model (a single
message never imports NumPy, so this is the default package's cold start minus unused
files); its warm and batch figures are measured in this process. The model file's size
and the warm ``classify([text])`` times come from exporter/footprint.py, the measurement
``export.py --compare`` shows users.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import coldstart, packages, warm
from benchmarks.contenders import export_recipe, rest_event
from exporter.dataset import Dataset
from exporter.footprint import Footprint, measure_footprint

BASELINE = "tutorial"  # GaussianNB: every other family should be at least as fast
# Differences below this are within run-to-run noise on a shared machine: not reported.
NOISE = 1.10


@dataclass(frozen=True)
class RecipeModel:
    name: str
    family: str
    features: str  # e.g. "word 1-1 (8,211 terms)": what the family is compared on
    package: packages.Package  # runtime/ + artifacts/model.npz, compiled for the target
    expected: str  # the label the cold start must print


@dataclass(frozen=True)
class RecipeRow:
    model: RecipeModel
    footprint: Footprint  # the model file's size and its warm classify([text]) calls
    classify: warm.Latency  # the footprint's calls, for the percentiles the tables show
    handler: warm.Latency
    batch: warm.Batch  # NumPy path
    plain_batch: warm.Batch  # plain-Python path, as in the NumPy-free build


def prepare(
    names: Sequence[str], dataset: Dataset, interpreter: Path, workdir: Path, text: str
) -> list[RecipeModel]:
    models = []
    for name in names:
        model_path = workdir / f"{name}.npz"
        exported = export_recipe(dataset, name, model_path)
        package = packages.build_numpy_free(model_path, interpreter, workdir / f"pkg-{name}")
        expected = str(exported.model.predict([text])[0])
        family = exported.model.family_name
        features = describe_features(exported.model.metadata["features"])
        models.append(RecipeModel(name, family, features, package, expected))
    return models


def describe_features(blocks: list[dict[str, Any]]) -> str:
    """ "word 1-1 (8,211 terms) + char_wb 2-5 (...)": one part per vectorizer."""
    return " + ".join(
        f"{b['analyzer']} {b['ngram_range'][0]}-{b['ngram_range'][1]} "
        f"({b['n_features']:,} {'hashed columns' if b['terms'] == 'hashing' else 'terms'})"
        for b in blocks
    )


def cold_variants(
    models: Sequence[RecipeModel], interpreter: Path, workdir: Path, event: dict[str, Any]
) -> list[coldstart.Variant]:
    variants = []
    for m in models:
        script = coldstart.write_script(
            workdir / f"cold_recipe_{m.name}.py",
            coldstart.OURS_SCRIPT,
            code_root=str(m.package.root),
            event=event,
        )
        variants.append(
            coldstart.Variant(
                f"recipe-{m.name}",
                f"{m.name} ({m.family}), {interpreter.name} -I",
                (str(interpreter), "-I", str(script)),
                {},
                m.expected,
                group="recipes",
            )
        )
    return variants


def measure(
    models: Sequence[RecipeModel], texts: list[str], calls: int, warmup: int, repeats: int
) -> list[RecipeRow]:
    """Warm and batch figures per recipe, with every path's labels checked against NumPy's."""
    events = [rest_event(t) for t in texts[: min(len(texts), 2000)]]
    return [measure_one(m, texts, events, calls, warmup, repeats) for m in models]


def measure_one(
    m: RecipeModel,
    texts: list[str],
    events: list[dict[str, Any]],
    calls: int,
    warmup: int,
    repeats: int,
) -> RecipeRow:
    from runtime.adapter import create_adapter
    from runtime.config import ModelSource, Settings
    from runtime.model import Model

    path = m.package.root / "artifacts" / "model.npz"
    footprint = measure_footprint(path.read_bytes(), texts, calls=calls, warmup=warmup)
    classify = warm.Latency("classify", "", footprint.call_seconds)
    model = Model.from_path(path)
    with warm.quiet_stdout():
        app = create_adapter(Settings(source=ModelSource("path", str(path))))
        handler = warm.measure_latency("handler", "", lambda e: app(e, None), events, calls, warmup)
        answer = json.loads(app(events[0], None)["body"]).get("label")
    if str(answer) != str(model.predict(texts[:1])[0]):
        raise RuntimeError(f"{m.name}: the handler answered {answer!r}")
    batch, labels = warm.measure_batch(
        "batch", "", lambda: model.predict(texts, vectorise=True), len(texts), repeats
    )
    plain, plain_labels = warm.measure_batch(
        "plain", "", lambda: model.predict(texts, vectorise=False), len(texts), repeats
    )
    if warm.disagreements(plain_labels, labels):
        raise RuntimeError(f"{m.name}: plain and NumPy paths disagree")
    return RecipeRow(m, footprint, classify, handler, batch, plain)


def slower_than_baseline(rows: Sequence[RecipeRow], cold_wall: dict[str, float]) -> list[str]:
    """Per recipe slower than GaussianNB's (the tutorial's) by more than NOISE: the measures.

    Each line says whether the recipe shares the tutorial's features: only then does the
    comparison speak about the classifier family rather than the vectorizers.
    """
    base = next((r for r in rows if r.model.name == BASELINE), None)
    if base is None:
        return []
    found = []
    for r in rows:
        if r is base:
            continue
        checks = {
            "warm classify p50": (r.classify.percentile(50), base.classify.percentile(50)),
            "warm handler p50": (r.handler.percentile(50), base.handler.percentile(50)),
            "batch (NumPy)": (r.batch.median_s, base.batch.median_s),
            "batch (plain)": (r.plain_batch.median_s, base.plain_batch.median_s),
        }
        if r.model.name in cold_wall and BASELINE in cold_wall:
            checks["cold start"] = (cold_wall[r.model.name], cold_wall[BASELINE])
        slower = [
            f"{what} {cost / b:.2f}x" for what, (cost, b) in checks.items() if cost > b * NOISE
        ]
        if slower:
            same = r.model.features == base.model.features
            why = "same features" if same else f"other features: {r.model.features}"
            found.append(f"{r.model.name} ({r.model.family}; {why}): {', '.join(slower)}")
    return found
