"""Learning from reports: its cost, what it fixes (drift) and what a poisoner gets.

1. Cost: the runtime learner relearns 10,000 reports (feature rows, counts, the
   family's arrays, the new file) and runs a whole learner pass over a store of 10,000
   new reports (reads, guard rails, relearn, gate); CPU seconds and peak traced MiB, each
   in a fresh process, beside scikit-learn's own ``partial_fit`` of the same reports.
2. Drift: the ``learnable`` recipe, trained on the tutorial's split, meets a smishing
   campaign the 2012 data lacks (benchmarks/campaign.py). N of its first 50 messages
   are reported as spam through the API handler (POST /feedback, one reporter each),
   the learner runs with its default guard rails and gate, and the campaign's recall on
   its 150 unreported messages and the test split's ham flagged are printed before and
   after.
3. Poisoning: one reporter (one API key) posts 1,000 hostile reports, training-split
   ham labelled spam and spam labelled ham; the table shows what the rails let through
   and how many golden-set predictions changed.

Run: ``python -m benchmarks.learning [--data spam.csv] [--out DIR]``; committed as
benchmarks/learning.md. ``--smoke`` runs tiny sizes (tests/benchmarks/test_learning_benchmark.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from benchmarks.campaign import campaign
from localserver import events as build_event

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "spam.csv"
N_VALUES: tuple[int, ...] = (5, 10, 20, 50)
N_COST = 10_000
N_HOSTILE = 1_000
HEADERS = (("Content-Type", "application/json"),)


def export_learnable(data_path: Path, out: Path) -> tuple[bytes, Any]:
    from exporter.dataset import load_dataset
    from exporter.pipeline import export_pipeline
    from exporter.train import TrainingConfig, train

    trained = train(load_dataset(data_path), TrainingConfig(recipe="learnable"))
    exported = export_pipeline(
        trained.model,
        out,
        texts=trained.test_texts,
        learnable=True,
        golden=(trained.test_texts, trained.test_labels),
    )
    return exported.data, trained


def post_reports(model_path: Path, store_dir: Path, reports: list[tuple[str, str, str]]) -> int:
    """POST /feedback through the Lambda adapter; returns how many were answered 202."""
    from runtime.adapter import create_adapter
    from runtime.config import ModelSource, Settings
    from runtime.model import Model
    from runtime.model_source import ModelHolder
    from runtime.reports import DirectoryReportStore

    source = ModelSource("path", str(model_path))
    settings = Settings(source=source)
    holder = ModelHolder(lambda: Model.from_path(model_path), source)
    accepted = 0
    with contextlib.redirect_stdout(io.StringIO()):  # the handler's log lines
        app = create_adapter(settings, holder, reports=DirectoryReportStore(str(store_dir)))
        for text, label, reporter in reports:
            body = json.dumps({"text": text, "label": label})
            event = build_event.rest_v1("POST", "/feedback", headers=HEADERS, body=body)
            event["requestContext"]["identity"]["apiKeyId"] = reporter
            accepted += app(event, None)["statusCode"] == 202
    return accepted


def spam_rate(model: Any, texts: list[str]) -> float:
    labels = [p["label"] for p in model.classify(texts)]
    return float(sum(label == "spam" for label in labels) / len(labels))


def learn_once(model_path: Path, store_dir: Path, out: Path) -> tuple[int, dict[str, Any]]:
    from runtime.learning.run import RunOptions, run

    return run(RunOptions(reports=str(store_dir), model=str(model_path), output=str(out)))


def drift(data_path: Path, work: Path) -> list[str]:
    from runtime.model import Model

    base_path = work / "learnable.npz"
    _, trained = export_learnable(data_path, base_path)
    base = Model.from_path(base_path)
    texts = campaign()
    reported_pool, unreported = texts[:50], texts[50:]
    test_ham = [
        t for t, y in zip(trained.test_texts, trained.test_labels, strict=True) if y == "ham"
    ]
    lines = [
        "| reports N | answered 202 | learned | skipped | campaign recall before | after | "
        "ham flagged before | after | promoted |",
        "|---:|---:|---:|---|---:|---:|---:|---:|:-:|",
    ]
    recall_before, flagged_before = spam_rate(base, unreported), spam_rate(base, test_ham)
    for n in N_VALUES:
        store = work / f"reports-{n}"
        store.mkdir()
        posted = [(t, "spam", f"user-{i}") for i, t in enumerate(reported_pool[:n])]
        accepted = post_reports(base_path, store, posted)
        out = work / f"learned-{n}.npz"
        _, summary = learn_once(base_path, store, out)
        after = Model.from_path(out) if summary["promoted"] else base
        skipped = ", ".join(f"{k} {v}" for k, v in summary["skipped"].items()) or "-"
        if summary.get("reason"):
            skipped += f" ({summary['reason']})"
        lines.append(
            f"| {n} | {accepted} | {summary['learned']} | {skipped} | {recall_before:.3f} | "
            f"{spam_rate(after, unreported):.3f} | {flagged_before:.4f} | "
            f"{spam_rate(after, test_ham):.4f} | {'yes' if summary['promoted'] else 'no'} |"
        )
    lines += ["", *poisoning(base_path, work, trained)]
    return lines


def poisoning(base_path: Path, work: Path, trained: Any) -> list[str]:
    from runtime.learning.relearn import LearnableModel
    from runtime.model import Model

    ham = [t for t, y in zip(trained.train_texts, trained.train_labels, strict=True) if y == "ham"]
    spam = [
        t for t, y in zip(trained.train_texts, trained.train_labels, strict=True) if y == "spam"
    ]
    lines = [
        f"One reporter posts {N_HOSTILE:,} hostile reports (default rails and gate):",
        "",
        "| attack | answered 202 | learned | skipped | gate | golden predictions changed |",
        "|---|---:|---:|---|---|---:|",
    ]
    golden = [text for _, text in LearnableModel(base_path.read_bytes()).section.golden]
    before = Model.from_path(base_path).predict(golden)
    attacks = {
        "ham labelled spam": [(t, "spam") for t in ham[:N_HOSTILE]],
        "spam labelled ham": [(t, "ham") for t in (spam * 3)[:N_HOSTILE]],
        "half and half": [(t, "spam") for t in ham[: N_HOSTILE // 2]]
        + [(t, "ham") for t in spam[: N_HOSTILE // 2]],
    }
    for name, reports in attacks.items():
        store = work / f"hostile-{name.replace(' ', '-')}"
        store.mkdir()
        # Distinct texts: the report id is a content hash, so repeats would be stored once.
        posted = [(f"{t} #{i}", label, "mallory") for i, (t, label) in enumerate(reports)]
        accepted = post_reports(base_path, store, posted)
        out = work / f"hostile-{name.replace(' ', '-')}.npz"
        _, summary = learn_once(base_path, store, out)
        after = Model.from_path(out).predict(golden) if summary["promoted"] else before
        changed = sum(a != b for a, b in zip(before, after, strict=True))
        gate = summary["gate"]
        verdict = (
            "not reached" if gate is None else ("passed" if gate["passed"] else gate["reason"])
        )
        skipped = ", ".join(f"{k} {v}" for k, v in summary["skipped"].items()) or "-"
        lines.append(
            f"| {name} | {accepted} | {summary['learned']} | {skipped} | {verdict} | {changed} |"
        )
    return lines


def cost_reports(data_path: Path, n: int) -> list[Any]:
    from exporter.dataset import load_dataset
    from runtime.reports import new_report

    data = load_dataset(data_path)
    texts = campaign() + data.texts
    labels = ["spam"] * 200 + data.labels
    return [
        new_report(
            text=f"{texts[i % len(texts)]} {i}",
            label=labels[i % len(labels)],
            reporter=f"user-{i}",
            model_sha256="0" * 64,
            now=1_796_644_800 + i,
        )
        for i in range(n)
    ]


def measure(kind: str, data_path: Path, model_path: Path, traced: bool) -> dict[str, float]:
    """One measurement in this (fresh) process: CPU seconds, or peak traced MiB.

    Tracing allocations slows Python code several-fold, so CPU is measured untraced.
    """
    reports = cost_reports(data_path, N_COST)
    data = model_path.read_bytes()
    if kind == "store":
        from runtime.reports import DirectoryReportStore

        store_dir = Path(tempfile.mkdtemp())
        store = DirectoryReportStore(str(store_dir))
        for r in reports:
            store.put(r)
    if traced:
        tracemalloc.start()
    start = time.process_time()
    if kind == "relearn":
        from runtime.learning.relearn import LearnableModel

        LearnableModel(data).relearn(reports)
    elif kind == "store":
        from runtime.learning.guards import GuardSettings
        from runtime.learning.learner import learn

        learn(data, store, guards=GuardSettings(max_prior_shift=1.0, max_learned_share=1e9))
    else:  # scikit-learn's partial_fit of the same reports on the fitted pipeline
        import copy

        from exporter.dataset import load_dataset
        from exporter.train import TrainingConfig, train

        model = train(load_dataset(data_path), TrainingConfig(recipe="learnable")).model
        if traced:
            tracemalloc.reset_peak()
        start = time.process_time()
        learned = copy.deepcopy(model)
        ordered = sorted(reports, key=lambda r: r.report_id)
        learned[-1].partial_fit(
            learned[:-1].transform([r.text for r in ordered]), [r.label for r in ordered]
        )
    cpu = time.process_time() - start
    if traced:
        return {"peak_mib": tracemalloc.get_traced_memory()[1] / 2**20}
    return {"cpu_s": cpu}


def cost(data_path: Path, model_path: Path, smoke: list[str]) -> list[str]:
    rows = {
        "relearn": f"runtime: relearn {N_COST:,} reports (rows, counts, arrays, file)",
        "store": f"runtime: learner run over {N_COST:,} new stored reports (read, rails, gate)",
        "sklearn": f"scikit-learn: partial_fit of the same {N_COST:,} (rows + counts only)",
    }
    results: dict[str, dict[str, float]] = {kind: {} for kind in rows}
    for kind in rows:
        for traced in ([], ["--traced"]):
            command = [
                sys.executable,
                "-m",
                "benchmarks.learning",
                "--measure",
                kind,
                "--data",
                str(data_path),
            ]
            out = subprocess.run(
                [*command, "--model", str(model_path), *traced, *smoke],
                capture_output=True,
                text=True,
                check=True,
            )
            results[kind].update(json.loads(out.stdout.strip().splitlines()[-1]))
    lines = ["| what | CPU s | peak traced MiB | CPU vs scikit-learn |", "|---|---:|---:|---:|"]
    for kind, label in rows.items():
        r = results[kind]
        ratio = r["cpu_s"] / results["sklearn"]["cpu_s"]
        lines.append(f"| {label} | {r['cpu_s']:.2f} | {r['peak_mib']:.0f} | {ratio:.2f}x |")
    return lines


def main(argv: list[str] | None = None) -> int:
    global N_VALUES, N_COST, N_HOSTILE
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="default: spam.csv")
    parser.add_argument("--out", type=Path, help="also write learning.md here (default: none)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (default: off)")
    parser.add_argument("--measure", choices=["relearn", "store", "sklearn"])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        N_VALUES, N_COST, N_HOSTILE = (5, 10), 300, 60
    if args.measure:
        print(json.dumps(measure(args.measure, args.data, args.model, args.traced)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        drift_lines = drift(args.data, work)
        smoke = ["--smoke"] if args.smoke else []
        lines = [
            f"## Cost (goal: at most 5 s CPU and 256 MiB for {N_COST:,} reports)",
            "",
            *cost(args.data, work / "learnable.npz", smoke),
            "",
            f"## Drift: a campaign the training data lacks, {len(campaign())} messages",
            "",
            *drift_lines,
        ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "learning.md").write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
