"""Measure ours against the tutorial's scikit-learn path (and ONNX) side by side.

    python benchmarks/run.py --data ../shared/data/spam.csv      # full run, a few minutes
    python benchmarks/run.py --smoke --data SMALL.csv            # CI: seconds, writes to a tmp dir

Trains the tutorial model once, writes it in each contender's format, then measures cold
start (fresh processes, alternating), warm single-message latency, batch throughput,
package size and parity in one run, and writes ``results.md`` and ``chart.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from benchmarks import coldstart, report, warm
from benchmarks.contenders import ONNX_INPUT, Contenders, onnx_session, prepare, rest_event
from benchmarks.report import PackageRow, Results
from exporter.dataset import Dataset, DatasetError, load_dataset

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = PROJECT_ROOT / "benchmarks"
LIBRARIES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "joblib",
    "threadpoolctl",
    "onnxruntime",
    "skl2onnx",
    "onnx",
    "matplotlib",
)
ENV_RECORDED = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "PYTHONDONTWRITEBYTECODE",
)
ZIP_PYTHON = "3.13"  # the Lambda runtime build_zip.py targets by default


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=os.environ.get("SPAM_DATA") or PROJECT_ROOT.parent / "shared/data/spam.csv",
        help="spam.csv or SMSSpamCollection (default: $SPAM_DATA, else ../shared/data/spam.csv)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where results.md and chart.png go "
        "(default: benchmarks/; with --smoke a new temporary directory)",
    )
    parser.add_argument("--smoke", action="store_true", help="a handful of runs, to check it works")
    parser.add_argument(
        "--runs", type=int, help="cold-start runs per process (default 20; smoke 2)"
    )
    parser.add_argument(
        "--calls", type=int, help="warm calls per contender (default 10000; smoke 200)"
    )
    parser.add_argument(
        "--repeats", type=int, help="timed batch calls per contender (default 5; smoke 1)"
    )
    parser.add_argument("--no-onnx", action="store_true", help="skip ONNX even when installed")
    parser.add_argument(
        "--no-zip",
        action="store_true",
        help="skip build_zip.py: no package-size section and no Lambda-package cold start "
        "(implied by --smoke unless --zip)",
    )
    parser.add_argument("--zip", action="store_true", help="with --smoke, still build the zip")
    args = parser.parse_args(argv)
    smoke = args.smoke
    args.runs = args.runs or (2 if smoke else 20)
    args.calls = args.calls or (200 if smoke else 10_000)
    args.repeats = args.repeats or (1 if smoke else 5)
    args.warmup_calls = 20 if smoke else 500
    args.build_zip = not args.no_zip and (args.zip or not smoke)
    return args


# --- cold start ----------------------------------------------------------------------------


def primary_variants(
    c: Contenders,
    workdir: Path,
    event: dict[str, Any],
    expected: dict[str, str],
    env: dict[str, str],
) -> list[coldstart.Variant]:
    """Floors and contenders, all with this (the dev venv's) interpreter, from the source tree."""
    py = sys.executable
    code_root = compiled_runtime_copy(workdir / "src")
    ours = coldstart.write_script(
        workdir / "cold_ours.py", coldstart.OURS_SCRIPT, code_root=str(code_root), event=event
    )
    tutorial = coldstart.write_script(
        workdir / "cold_tutorial.py",
        coldstart.TUTORIAL_SCRIPT,
        vectorizer=str(c.vectorizer_pickle),
        classifier=str(c.classifier_pickle),
        event=event,
    )
    env_1t = {**env, "OPENBLAS_NUM_THREADS": "1"}
    variants = [
        coldstart.Variant("floor-pass", "python -c pass", (py, "-c", "pass"), env),
        coldstart.Variant(
            "floor-numpy", 'python -c "import numpy"', (py, "-c", "import numpy"), env
        ),
        coldstart.Variant(
            "floor-numpy-1t",
            'OPENBLAS_NUM_THREADS=1 python -c "import numpy" (the handler\'s thread setting)',
            (py, "-c", "import numpy"),
            env_1t,
        ),
        coldstart.Variant(
            "ours",
            "ours: lambda_handler from the source tree (compiled)",
            (py, str(ours)),
            {**env, "MODEL_PATH": str(c.npz)},
            expected["ours"],
        ),
        coldstart.Variant(
            "tutorial",
            "tutorial: joblib.load + sklearn",
            (py, str(tutorial)),
            env,
            expected["tutorial"],
        ),
    ]
    if c.onnx is not None:
        script = coldstart.write_script(
            workdir / "cold_onnx.py",
            coldstart.ONNX_SCRIPT,
            model=str(c.onnx),
            input=ONNX_INPUT,
            event=event,
        )
        variants.append(
            coldstart.Variant(
                "onnx", "ONNX: onnxruntime session", (py, str(script)), env, expected["onnx"]
            )
        )
    return variants


def compiled_runtime_copy(dest: Path) -> Path:
    """runtime/ with its bytecode, as deployed: the tutorial's libraries have theirs from pip.

    Without it, PYTHONDONTWRITEBYTECODE (set on this machine) would make every run compile
    the runtime's sources again, a cost no deployed function pays.
    """
    shutil.copytree(
        PROJECT_ROOT / "runtime", dest / "runtime", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(dest / "runtime")], check=True)
    return dest


def zip_variants(
    package: Path,
    interpreter: Path,
    workdir: Path,
    event: dict[str, Any],
    expected: str,
    env: dict[str, str],
) -> list[coldstart.Variant]:
    """The unzipped Lambda package under the target interpreter in isolated mode, with floors."""
    py = str(interpreter)
    env = {k: v for k, v in env.items() if k != "MODEL_PATH"}  # the bundled model, as deployed
    ours = coldstart.write_script(
        workdir / "cold_zip_ours.py", coldstart.OURS_SCRIPT, code_root=str(package), event=event
    )
    numpy_floor = f"import sys; sys.path.insert(0, {str(package)!r}); import numpy"
    name = f"python{ZIP_PYTHON} -I"
    return [
        coldstart.Variant(
            "zip-floor-pass", f"{name} -c pass", (py, "-I", "-c", "pass"), env, group="zip"
        ),
        coldstart.Variant(
            "zip-floor-numpy-1t",
            f'OPENBLAS_NUM_THREADS=1 {name} -c "import numpy" (the zip\'s NumPy)',
            (py, "-I", "-c", numpy_floor),
            {**env, "OPENBLAS_NUM_THREADS": "1"},
            group="zip",
        ),
        coldstart.Variant(
            "zip-floor-numpy",
            f'{name} -c "import numpy" (the zip\'s NumPy)',
            (py, "-I", "-c", numpy_floor),
            env,
            group="zip",
        ),
        coldstart.Variant(
            "zip-ours",
            f"ours: lambda_handler from the unzipped package, {name}",
            (py, "-I", str(ours)),
            env,
            expected,
            group="zip",
        ),
    ]


def build_package(c: Contenders, workdir: Path) -> tuple[Any, Path, Path]:
    """Build our Lambda zip as build_zip.py does; return (its report, unpacked dir, interpreter).

    The same call as ``package_size.measure_ours``, kept here so the zip outlives the call:
    the cold start runs from its unpacked copy.
    """
    import build_zip

    options = build_zip.BuildOptions(target=ours_target(), model=c.npz, out_dir=workdir / "dist")
    (report,) = build_zip.build(options)
    unpacked = workdir / "lambda-package"
    with zipfile.ZipFile(report.path) as z:
        z.extractall(unpacked)
    return report, unpacked, build_zip.find_interpreter(ZIP_PYTHON)


# --- in-process measurements ---------------------------------------------------------------


def load_handler(c: Contenders) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Import the real handler with MODEL_PATH set, as Lambda's init phase would."""
    os.environ["MODEL_PATH"] = str(c.npz)
    with warm.quiet_stdout():
        from runtime.handler import lambda_handler
    return lambda_handler


def measure_warm(
    c: Contenders, texts: list[str], args: argparse.Namespace, results: Results
) -> list[str]:
    """Single-message latencies; returns the handler's label for every message (parity)."""
    from runtime.model import Model

    model = Model.from_path(c.npz)
    handler = load_handler(c)
    vec, clf = c.trained.vectorizer, c.trained.classifier
    events = [rest_event(t) for t in texts]
    cases: list[tuple[str, str, Callable[[Any], object], list[Any]]] = [
        ("ours-predict", "ours: model.predict([text])", lambda t: model.predict([t]), texts),
        (
            "ours-handler",
            "ours: lambda_handler(REST 1.0 event)",
            lambda e: handler(e, None),
            events,
        ),
        (
            "tutorial-predict",
            "tutorial: clf.predict(vec.transform([text]).toarray())",
            lambda t: clf.predict(vec.transform([t]).toarray()),
            texts,
        ),
    ]
    if c.onnx is not None:
        session = onnx_session(c.onnx)
        cases.append(
            (
                "onnx-predict",
                "ONNX: session.run(text)",
                lambda t: session.run(None, {ONNX_INPUT: np.array([[t]], dtype=object)}),
                texts,
            )
        )
    with warm.quiet_stdout():
        for key, label, call, inputs in cases:
            results.latencies[key] = warm.measure_latency(
                key, label, call, inputs, args.calls, args.warmup_calls
            )
        return [json.loads(handler(e, None)["body"])["label"] for e in events]


def measure_batches(
    c: Contenders,
    texts: list[str],
    args: argparse.Namespace,
    results: Results,
    handler_labels: list[str],
) -> None:
    from runtime.model import Model

    model = Model.from_path(c.npz)
    vec, clf = c.trained.vectorizer, c.trained.classifier
    n = len(texts)
    floor = warm.tokenise_floor(vec.token_pattern, vec.lowercase)
    cases: list[tuple[str, str, Callable[[], object]]] = [
        ("ours", "ours: model.predict(texts)", lambda: model.predict(texts)),
        ("floor", "floor: [pattern.findall(t.lower()) for t in texts]", lambda: floor(texts)),
        (
            "tutorial",
            "tutorial: clf.predict(vec.transform(texts).toarray())",
            lambda: clf.predict(vec.transform(texts).toarray()),
        ),
    ]
    if c.onnx is not None:
        session = onnx_session(c.onnx)
        column = np.array(texts, dtype=object).reshape(-1, 1)
        cases.append(
            (
                "onnx",
                "ONNX: session.run(all texts)",
                lambda: session.run(None, {ONNX_INPUT: column})[0],
            )
        )
    outputs = {}
    for key, label, call in cases:
        results.batches[key], outputs[key] = warm.measure_batch(key, label, call, n, args.repeats)
    record_parity(results, outputs, handler_labels)


def record_parity(results: Results, outputs: dict[str, Any], handler_labels: list[str]) -> None:
    """Label disagreements with scikit-learn (the tutorial's own batch output) per contender."""
    reference = list(outputs["tutorial"])
    ours = warm.disagreements(outputs["ours"], reference)
    one_by_one = warm.disagreements(handler_labels, reference)
    results.parity["ours"] = f"{ours} batch, {one_by_one} via handler"
    results.parity["tutorial"] = "0 (is the reference)"
    if "onnx" in outputs:
        results.parity["onnx"] = str(warm.disagreements(list(outputs["onnx"]), reference))


# --- package size --------------------------------------------------------------------------


def measure_packages(ours: Any, results: Results) -> None:
    """Our zip next to the tutorial stack as ``benchmarks/package_size.py`` builds it.

    Both are the same Lambda target, compiled to bytecode and zipped by build_zip's writer.
    """
    results.packages["ours"] = PackageRow(
        "ours", "ours: lambda.zip (runtime + slimmed NumPy + model)", ours.size, ours.total_unpacked
    )
    from benchmarks.package_size import measure_stack

    try:
        stack = measure_stack(ours_target())
    except Exception as exc:  # BuildError: pip could not fetch the wheels, no python3.13
        results.notes.append(f"scikit-learn stack not measured: {type(exc).__name__}: {exc}")
        return
    versions = ", ".join(f"{name} {version}" for name, version in stack.pins.items())
    results.packages["tutorial"] = PackageRow(
        "tutorial",
        f"tutorial: {versions} and dependencies",
        stack.zipped,
        stack.unpacked_with_bytecode,
    )
    results.packages["tutorial-no-pyc"] = PackageRow(
        "tutorial-no-pyc",
        "tutorial, without bytecode (slower cold starts)",
        stack.zipped_without_bytecode,
        stack.unpacked,
    )
    results.notes.append(
        f"Package sizes for {stack.target.lambda_runtime} {stack.target.arch} "
        f"({stack.target.platform}); the tutorial's own model pickles are not counted; "
        "ONNX's package (onnxruntime wheel) is not measured."
    )


def ours_target() -> Any:
    import build_zip

    return build_zip.Target(ZIP_PYTHON, build_zip.DEFAULT_ARCH)


# --- run -----------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def blas_info() -> str:
    """What the BLAS really runs as (core type, threads): OPENBLAS_CORETYPE changes it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    return "; ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
        f"{i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "runtime", "benchmarks"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (runtime/ or benchmarks/ modified)" if dirty.stdout.strip() else "")


def library_versions() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def machine_info(env: dict[str, str], zip_python: Path | None) -> dict[str, str]:
    info = {
        "CPU": f"{cpu_model()}, {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} usable)",
        "memory": memory_total(),
        "OS": platform.platform(),
        "Python": f"{platform.python_version()} ({sys.executable})",
        "libraries": library_versions(),
        "BLAS": blas_info(),
        "environment": ", ".join(f"{k}={env.get(k, 'unset')}" for k in ENV_RECORDED),
        "commit": git_revision(),
        "load average at start (1, 5, 15 min)": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    if zip_python is not None:
        version = subprocess.run(
            [str(zip_python), "-I", "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        info["Lambda-package interpreter"] = f"{version} ({zip_python})"
    return info


def expected_labels(c: Contenders, text: str) -> dict[str, str]:
    """What each contender must print at cold start (ONNX may differ from sklearn)."""
    sklearn_label = str(
        c.trained.classifier.predict(c.trained.vectorizer.transform([text]).toarray())[0]
    )
    expected = {"ours": sklearn_label, "tutorial": sklearn_label}
    if c.onnx is not None:
        out = onnx_session(c.onnx).run(None, {ONNX_INPUT: np.array([[text]], dtype=object)})
        expected["onnx"] = str(out[0][0])
    return expected


def cold_start_text(dataset: Dataset) -> str:
    """The first spam message: one request, with a label worth computing."""
    return next(
        t for t, label in zip(dataset.texts, dataset.labels, strict=True) if label == "spam"
    )


def run(args: argparse.Namespace, env: dict[str, str], out_dir: Path) -> Results:
    started = time.perf_counter()
    dataset = load_dataset(args.data)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        log(f"training the tutorial model on {len(dataset.texts):,} messages")
        c = prepare(dataset, workdir, with_onnx=not args.no_onnx)
        text = cold_start_text(dataset)
        event = rest_event(text)
        expected = expected_labels(c, text)
        variants = primary_variants(c, workdir, event, expected, env)

        zip_report, zip_python, notes = None, None, [f"ONNX: {c.onnx_note}"]
        if args.build_zip:
            log("building the Lambda zip (build_zip.py)")
            try:
                zip_report, package, zip_python = build_package(c, workdir)
            except Exception as exc:  # build_zip.BuildError, no network, no python3.13...
                notes.append(f"no Lambda zip, so no zip rows: {type(exc).__name__}: {exc}")
            else:
                variants += zip_variants(package, zip_python, workdir, event, expected["ours"], env)
        else:
            notes.append("zip not built (--smoke or --no-zip): no package-size section")

        results = Results(machine=machine_info(env, zip_python), settings={}, notes=notes)
        log(f"cold start: {len(variants)} processes x {args.runs} runs, alternating")
        results.cold = coldstart.run_cold_starts(variants, args.runs, workdir)
        log(f"warm latency: {args.calls:,} calls per contender")
        handler_labels = measure_warm(c, dataset.texts, args, results)
        log("batch throughput and parity")
        measure_batches(c, dataset.texts, args, results, handler_labels)
        if zip_report is not None:
            log("package size of the scikit-learn stack (benchmarks/package_size.py)")
            measure_packages(zip_report, results)
    results.notes += standing_notes(results)
    results.settings = {
        "command": shlex.join(["python", "benchmarks/run.py", *recorded_arguments(sys.argv[1:])]),
        "dataset": f"{args.data.name}, {len(dataset.texts):,} messages, "
        f"sha256 {dataset.sha256[:16]}...",
        "cold start": f"{args.runs} measured runs per process after 1 discarded warm-up round",
        "warm": f"{args.calls:,} calls per contender after {args.warmup_calls} warm-up calls",
        "batch": f"{args.repeats} timed calls per contender after 1 untimed call",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "duration": f"{time.perf_counter() - started:.0f} s",
        "load average at end (1, 5, 15 min)": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    return results


def recorded_arguments(argv: list[str]) -> list[str]:
    """The command line without ``--out``: where the report went is not part of the result."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--out":
            skip = True
        elif not arg.startswith("--out="):
            kept.append(arg)
    return kept


def standing_notes(results: Results) -> list[str]:
    notes = [
        "Cold start: each run is a new process started by a small launcher "
        "(benchmarks/launcher.py) with fork+exec; wall = fork to exit as seen by the launcher, "
        "CPU = user+system and peak RSS = ru_maxrss, both from wait4.",
        "Every cold-start run's printed label was checked; a wrong answer fails the benchmark.",
        "The primary comparison uses one interpreter (this venv's) for every row; the zip rows "
        "use the Lambda target interpreter and have their own floors.",
        "Warm handler calls include the handler's JSON log line, written to /dev/null.",
        "The handler sets OPENBLAS_NUM_THREADS=1 before NumPy loads, so the like-for-like floor "
        "is the 1-thread import; the plain `import numpy` starts one OpenBLAS thread per core "
        "and on this machine took ~68 ms when idle but ~120 ms when other work shared the cores.",
    ]
    if results.cold is not None:
        notes.append(f"Launcher's own peak RSS: {report.fmt_kib(results.cold.launcher_rss_kib)}.")
    return notes


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    env = dict(os.environ)  # before the handler's import sets OPENBLAS_NUM_THREADS here
    args = parse_args(argv)
    out_dir = args.out or (
        Path(tempfile.mkdtemp(prefix="bench-smoke-")) if args.smoke else DEFAULT_OUT
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        results = run(args, env, out_dir)
    except DatasetError as exc:
        print(f"error: {exc} (pass --data PATH or set SPAM_DATA)", file=sys.stderr)
        return 2
    chart = out_dir / "chart.png"
    has_chart = report.render_chart(results, chart)
    if not has_chart:
        results.notes.append("no chart: matplotlib is not installed")
    markdown = report.render_markdown(results, chart.name if has_chart else None)
    (out_dir / "results.md").write_text(markdown)
    print(report.summary_table(results))
    print()
    print(report.targets_table(report.all_targets(results)))
    print(f"\nwrote {out_dir / 'results.md'}" + (f" and {chart}" if has_chart else ""))
    if not results.parity.get("ours", "").startswith("0 batch, 0 "):
        print("error: ours disagrees with scikit-learn; the figures are void", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
