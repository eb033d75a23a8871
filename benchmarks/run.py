"""Measure ours against the tutorial's scikit-learn path (and ONNX) side by side.

    python benchmarks/run.py --data ../shared/data/spam.csv      # full run, a few minutes
    python benchmarks/run.py --smoke --data SMALL.csv            # CI: seconds, writes to a tmp dir

Trains the tutorial model once, writes it in each contender's format, then measures cold
start (fresh processes, interleaved, unpinned and pinned to one CPU), warm single-message
latency, batch throughput, package size and parity in one run; then the same figures for
every built-in recipe. Writes ``results.md`` and ``chart.png`` to benchmarks/out/ (the
committed copies in benchmarks/ only with --update-committed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from benchmarks import coldstart, packages, recipes, report, warm
from benchmarks.contenders import ONNX_INPUT, Contenders, onnx_session, prepare, rest_event
from benchmarks.output import add_data_option, add_output_options, log, output_dir, publish
from benchmarks.report import PackageRow, Results
from exporter.dataset import Dataset, DatasetError, load_dataset
from exporter.train import RECIPES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SMOKE_RECIPES = ("tutorial", "multinomial_nb")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    add_data_option(parser)
    add_output_options(parser, "results.md, chart.png")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a handful of runs, to check that it works; figures mean nothing (default: off)",
    )
    parser.add_argument(
        "--runs", type=int, help="cold-start runs per process (default: 20; with --smoke 1)"
    )
    parser.add_argument(
        "--calls",
        type=int,
        help="warm single-message calls per contender (default: 10000; with --smoke 200)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="timed whole-dataset calls per contender (default: 5; with --smoke 1)",
    )
    parser.add_argument(
        "--recipes",
        help="comma-separated built-in recipes for the per-recipe table, or 'none' "
        f"(default: all: {','.join(RECIPES)}; with --smoke {','.join(SMOKE_RECIPES)})",
    )
    parser.add_argument(
        "--no-onnx", action="store_true", help="skip ONNX even when installed (default: off)"
    )
    parser.add_argument(
        "--no-zip",
        action="store_true",
        help="skip build_zip.py: no package sizes and no default-package cold start "
        "(default: off; --smoke implies it unless --zip)",
    )
    parser.add_argument(
        "--zip", action="store_true", help="with --smoke, still build the zip (default: off)"
    )
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    smoke = args.smoke
    args.runs = args.runs or (1 if smoke else 20)
    args.calls = args.calls or (200 if smoke else 10_000)
    args.repeats = args.repeats or (1 if smoke else 5)
    args.warmup_calls = 20 if smoke else 500
    args.build_zip = not args.no_zip and (args.zip or not smoke)
    chosen = args.recipes or ",".join(SMOKE_RECIPES if smoke else RECIPES)
    args.recipe_names = [] if chosen == "none" else [r for r in chosen.split(",") if r]
    unknown = [r for r in args.recipe_names if r not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe(s) {', '.join(unknown)}; choose from {', '.join(RECIPES)}")
    return args


# --- cold start ----------------------------------------------------------------------------


def primary_variants(
    c: Contenders,
    workdir: Path,
    event: dict[str, Any],
    expected: dict[str, str],
    env: dict[str, str],
    *,
    pin_tutorial: bool = True,
) -> list[coldstart.Variant]:
    """Floors and contenders, all with this (the dev venv's) interpreter, from the source tree.

    The tutorial also runs pinned to one CPU (``pin_tutorial``; its import spreads over
    threads), which costs about a second per run.
    """
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
    tutorial_variant = coldstart.Variant(
        "tutorial",
        "tutorial: joblib.load + sklearn",
        (py, str(tutorial)),
        env,
        expected["tutorial"],
    )
    variants = [
        coldstart.Variant("floor-pass", "python -c pass", (py, "-c", "pass"), env),
        coldstart.Variant(
            "floor-numpy-1t",
            'OPENBLAS_NUM_THREADS=1 python -c "import numpy"',
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
        tutorial_variant,
    ]
    if pin_tutorial:
        variants.append(tutorial_variant.pinned())
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


def package_variants(
    default: packages.Package | None,
    numpy_free: packages.Package,
    interpreter: Path,
    workdir: Path,
    event: dict[str, Any],
    expected: str,
    env: dict[str, str],
) -> list[coldstart.Variant]:
    """The Lambda packages under the target interpreter in isolated mode, with floors.

    Each is also run pinned to one CPU: a 128-512 MB function gets a fraction of one vCPU,
    so work on other threads (BLAS, the kernel's page-ins) no longer hides on a second core.
    """
    py = str(interpreter)
    env = {k: v for k, v in env.items() if k != "MODEL_PATH"}  # the bundled model, as deployed
    name = f"{interpreter.name} -I"
    floor = coldstart.Variant("zip-floor-pass", f"{name} -c pass", (py, "-I", "-c", "pass"), env)
    free_script = coldstart.write_script(
        workdir / "cold_numpy_free.py",
        coldstart.NUMPY_FREE_SCRIPT,
        code_root=str(numpy_free.root),
        event=event,
    )
    free = coldstart.Variant(
        "numpy-free",
        f"NumPy-free build: runtime/ + model only, {name} -S",
        (py, "-I", "-S", str(free_script)),
        env,
        expected,
    )
    variants = [floor, floor.pinned(), free, free.pinned()]
    if default is not None:
        script = coldstart.write_script(
            workdir / "cold_zip_ours.py",
            coldstart.OURS_SCRIPT,
            code_root=str(default.root),
            event=event,
        )
        numpy_floor = f"import sys; sys.path.insert(0, {str(default.root)!r}); import numpy"
        ours = coldstart.Variant(
            "zip-ours",
            f"default package (build_zip.py), {name}",
            (py, "-I", str(script)),
            env,
            expected,
        )
        variants += [
            coldstart.Variant(
                "zip-floor-numpy-1t",
                f'OPENBLAS_NUM_THREADS=1 {name} -c "import numpy" (the package\'s NumPy)',
                (py, "-I", "-c", numpy_floor),
                {**env, "OPENBLAS_NUM_THREADS": "1"},
            ),
            ours,
            ours.pinned(),
        ]
    return [coldstart.replace_group(v, "zip") for v in variants]


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


def measure_packages(
    default: packages.Package | None, numpy_free: packages.Package | None, results: Results
) -> None:
    """Our packages next to the tutorial stack as ``benchmarks/package_size.py`` builds it.

    All are the same Lambda target, compiled to bytecode and zipped.
    """
    if default is not None:
        results.packages["ours"] = PackageRow(
            "ours",
            "ours: default package (build_zip.py: runtime + slimmed NumPy + model)",
            default.zipped,
            default.unpacked,
        )
    if numpy_free is not None:
        results.packages["numpy-free"] = PackageRow(
            "numpy-free",
            "ours: NumPy-free build (runtime + model)",
            numpy_free.zipped,
            numpy_free.unpacked,
        )
    if default is None:
        return
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


def measure_package_batches(
    c: Contenders,
    default: packages.Package | None,
    numpy_free: packages.Package,
    interpreter: Path,
    texts: list[str],
    repeats: int,
    workdir: Path,
    results: Results,
) -> None:
    """Both packages' batch throughput under the Lambda Python, labels checked."""
    reference = [
        str(label)
        for label in c.trained.classifier.predict(c.trained.vectorizer.transform(texts).toarray())
    ]
    py, name = str(interpreter), interpreter.name
    runs = [("numpy-free", numpy_free, [py, "-I", "-S"], "NumPy-free build", False)]
    if default is not None:
        runs.append(("zip-ours", default, [py, "-I"], "default package", True))
    for key, package, argv, what, numpy in runs:
        label = f"{what}: model.predict(texts), {name} {' '.join(argv[1:])}"
        batch, labels = packages.package_batch(
            package, argv, label, texts, repeats, workdir, numpy=numpy
        )
        results.batches[key] = dataclasses.replace(batch, key=key)
        results.parity[key] = str(warm.disagreements(labels, reference))


def ours_target() -> Any:
    import build_zip

    return build_zip.Target(ZIP_PYTHON, build_zip.DEFAULT_ARCH)


def target_interpreter() -> Path | None:
    """The Lambda runtime's Python (3.13) on this machine, or None when it is missing."""
    import interpreters

    try:
        return Path(interpreters.find_interpreter(ZIP_PYTHON))
    except interpreters.InterpreterNotFound:
        return None


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
        dirty = subprocess.run(  # the reports themselves do not make the code "modified"
            ["git", "status", "--porcelain", "--", "runtime", "benchmarks/*.py"],
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


def run(args: argparse.Namespace, env: dict[str, str]) -> Results:
    started = time.perf_counter()
    dataset = load_dataset(args.data)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        log(f"training the tutorial model on {len(dataset.texts):,} messages")
        c = prepare(dataset, workdir, with_onnx=not args.no_onnx)
        text = cold_start_text(dataset)
        event = rest_event(text)
        expected = expected_labels(c, text)
        variants = primary_variants(c, workdir, event, expected, env, pin_tutorial=not args.smoke)

        notes = [f"ONNX: {c.onnx_note}"]
        interpreter = target_interpreter()
        default, numpy_free, recipe_models = None, None, []
        if interpreter is None:
            notes.append(f"no python{ZIP_PYTHON} found: no Lambda-package or recipe rows")
        else:
            if args.build_zip:
                log("building the default package (build_zip.py)")
                default = packages.build_default(c.npz, ZIP_PYTHON, workdir / "default")
            else:
                notes.append("default package not built (--smoke or --no-zip)")
            numpy_free = packages.build_numpy_free(c.npz, interpreter, workdir / "numpy-free")
            variants += package_variants(
                default, numpy_free, interpreter, workdir, event, expected["ours"], env
            )
            if args.recipe_names:
                log(f"training and exporting {len(args.recipe_names)} recipes")
                recipe_models = recipes.prepare(
                    args.recipe_names, dataset, interpreter, workdir / "recipes", text
                )
                variants += recipes.cold_variants(recipe_models, interpreter, workdir, event)

        results = Results(machine=machine_info(env, interpreter), settings={}, notes=notes)
        log(f"cold start: {len(variants)} processes x {args.runs} runs, interleaved")
        results.cold = coldstart.run_cold_starts(variants, args.runs, workdir)
        log(f"warm latency: {args.calls:,} calls per contender")
        handler_labels = measure_warm(c, dataset.texts, args, results)
        log("batch throughput and parity")
        measure_batches(c, dataset.texts, args, results, handler_labels)
        if numpy_free is not None and interpreter is not None:
            log("batch throughput of the Lambda packages, in their own interpreter")
            measure_package_batches(
                c, default, numpy_free, interpreter, dataset.texts, args.repeats, workdir, results
            )
        if recipe_models:
            log(f"recipes: warm and batch figures for {len(recipe_models)} recipes")
            results.recipes = recipes.measure(
                recipe_models,
                dataset.texts,
                max(args.calls // 5, 100),
                args.warmup_calls,
                args.repeats,
            )
        if default is not None:
            log("package size of the scikit-learn stack (benchmarks/package_size.py)")
        measure_packages(default, numpy_free, results)
    results.notes += standing_notes(results)
    results.settings = {
        "command": shlex.join(["python", "benchmarks/run.py", *recorded_arguments(sys.argv[1:])]),
        "dataset": f"{args.data.name}, {len(dataset.texts):,} messages, "
        f"sha256 {dataset.sha256[:16]}...",
        "cold start": f"{args.runs} measured runs per process after 1 discarded warm-up round, "
        "all processes interleaved",
        "warm": f"{args.calls:,} calls per contender after {args.warmup_calls} warm-up calls "
        f"(recipes: {max(args.calls // 5, 100):,})",
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
        "CPU = user+system and peak RSS = ru_maxrss, both from wait4. Pinned runs are "
        "confined to CPU 0 (sched_setaffinity in the child before exec).",
        "Every cold-start run's printed label was checked; a wrong answer fails the benchmark. "
        "Our runs also check that answering one message did not import NumPy, and the "
        "NumPy-free build's that NumPy cannot be imported at all.",
        "The first comparison uses one interpreter (this venv's) for every row; the Lambda "
        "package and recipe rows use the Lambda runtime's Python version and have their "
        "own floor.",
        "The NumPy-free build is a folder with runtime/ (compiled) and the model only, run "
        "with -I -S so that only the standard library and that folder can be imported.",
        "Warm handler calls include the handler's log lines, written to a pipe that another "
        "process drains, as Lambda's runtime does (benchmarks/warm.py).",
        "The handler sets OPENBLAS_NUM_THREADS=1 before NumPy loads, so the like-for-like "
        "NumPy floor is the 1-thread import.",
    ]
    if results.cold is not None:
        notes.append(f"Launcher's own peak RSS: {report.fmt_kib(results.cold.launcher_rss_kib)}.")
    return notes


def main(argv: list[str] | None = None) -> int:
    env = dict(os.environ)  # before the handler's import sets OPENBLAS_NUM_THREADS here
    args = parse_args(argv)
    try:
        results = run(args, env)
    except DatasetError as exc:
        print(f"error: {exc} (pass --data PATH or set SPAM_DATA)", file=sys.stderr)
        return 2
    out_dir = output_dir(args)
    chart = out_dir / "chart.png"
    has_chart = report.render_chart(results, chart)
    if not has_chart:
        results.notes.append("no chart: matplotlib is not installed")
    markdown = report.render_markdown(results, chart.name if has_chart else None)
    files = {"results.md": markdown.encode()}
    if has_chart:
        files["chart.png"] = chart.read_bytes()
    written = publish(args, out_dir, files)
    print(report.summary_table(results))
    print("\nwrote " + ", ".join(str(p) for p in written))
    if not results.parity.get("ours", "").startswith("0 batch, 0 "):
        print("error: ours disagrees with scikit-learn; the figures are void", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
