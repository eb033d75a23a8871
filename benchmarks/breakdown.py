"""Where a cold start's time goes, piece by piece, in the package Lambda would run.

    python benchmarks/breakdown.py --data ../shared/data/spam.csv
    python benchmarks/breakdown.py --smoke --data SMALL.csv      # seconds, to check it works

Builds the tutorial model and a NumPy-free package folder (runtime/ + model, the files a
single-message cold start touches), then runs fresh ``python3.13 -I`` processes that
report: the interpreter's own start, the handler's import (which loads the model), the
first request; the model load split into reading, inflating, metadata, checksum,
vocabulary and classifier arrays; and ``-X importtime`` per module. Medians of --runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.output import add_data_option, add_output_options, log, output_dir, publish
from exporter.dataset import DatasetError, load_dataset

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The real cold start, with clock readings: as benchmarks/coldstart.py's, plus timestamps.
TIMED_COLD = """\
import time
t0 = time.perf_counter()
import json
import sys

sys.path.insert(0, {root!r})
from runtime.handler import lambda_handler

t1 = time.perf_counter()
response = lambda_handler({event!r}, None)
t2 = time.perf_counter()
lambda_handler({event!r}, None)
t3 = time.perf_counter()
assert "numpy" not in sys.modules
print(json.dumps({{"handler import (incl. model load)": t1 - t0, "first request": t2 - t1,
                  "second request": t3 - t2}}))
"""

# The model load as Model.from_path does it, one step at a time, in a fresh process.
PIECES = """\
import time
clock = time.perf_counter
marks = []
t = clock()
def mark(name):
    global t
    now = clock()
    marks.append((name, now - t))
    t = now
import sys
sys.path.insert(0, {root!r})
from runtime import modelfile, npz
mark("import runtime.modelfile, runtime.npz")
from runtime.features import Featurizer
from runtime.families import load_family
from runtime.model import Model
mark("import runtime.model (features, analyzer, families)")
from runtime import adapter, api, config, events, logs, model_source
mark("import the request path (adapter, api, events, config, logs, model_source)")
path = {root!r} + "/artifacts/model.npz"
with open(path, "rb") as f:
    data = f.read()
mark("read the file")
model_id = modelfile.sha256_hex(data)
mark("SHA-256 of the file (the model id)")
arrays = npz.load_arrays(data)
mark("zip members: parse and inflate")
blob = arrays.pop("metadata")
meta = modelfile.parse_metadata(bytes(blob.values))
mark("metadata JSON")
assert meta[modelfile.CHECKSUM_KEY] == modelfile.content_digest(meta, arrays)
mark("content checksum (BLAKE2b)")
file = modelfile.ModelFile(meta, arrays)
featurizer = Featurizer.load(meta["features"], file.take)
mark("features: vocabulary and idf")
family = load_family(meta["classifier"], file.take, featurizer.n_features, len(meta["classes"]))
mark("classifier arrays")
model = Model.from_bytes(data)
mark("the whole Model.from_bytes again (warm code)")
model.classify([{text!r}])
mark("first classify([text])")
model.classify([{text!r}])
mark("second classify([text])")
import json
print(json.dumps(marks))
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_option(parser)
    parser.add_argument(
        "--recipe", default="tutorial", help="built-in recipe to export (default: tutorial)"
    )
    parser.add_argument(
        "--runs", type=int, help="fresh processes per measurement (default: 15; with --smoke 2)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="two runs each: checks that it works (default: off)"
    )
    add_output_options(parser, "breakdown.md")
    return parser


def run_json(argv: list[str]) -> Any:
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def import_times(argv: list[str], runs: int) -> dict[str, float]:
    """Median self time per module (seconds) from ``-X importtime``."""
    per_module: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        err = subprocess.run(
            [argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, check=True
        ).stderr
        for line in err.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _, name = line.removeprefix("import time:").split("|")
            per_module[name.strip()].append(int(self_us) / 1e6)
    return {name: statistics.median(v) for name, v in per_module.items()}


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    runs = args.runs or (2 if args.smoke else 15)
    try:
        dataset = load_dataset(args.data)
    except DatasetError as exc:
        print(f"error: {exc} (pass --data PATH or set SPAM_DATA)", file=sys.stderr)
        return 2
    from benchmarks import packages
    from benchmarks.contenders import export_recipe, rest_event
    from benchmarks.run import ZIP_PYTHON, cold_start_text, target_interpreter

    interpreter = target_interpreter()
    if interpreter is None:
        print(f"error: python{ZIP_PYTHON} not found", file=sys.stderr)
        return 2
    text = cold_start_text(dataset)
    with tempfile.TemporaryDirectory(prefix="breakdown-") as tmp:
        work = Path(tmp)
        log(f"exporting {args.recipe}")
        export_recipe(dataset, args.recipe, work / "model.npz")
        package = packages.build_numpy_free(work / "model.npz", interpreter, work / "pkg")
        root = str(package.root)
        timed = work / "timed.py"
        timed.write_text(TIMED_COLD.format(root=root, event=rest_event(text)))
        pieces = work / "pieces.py"
        pieces.write_text(PIECES.format(root=root, text=text))
        py = str(interpreter)
        log(f"{runs} fresh processes per measurement, interleaved")
        floor_s, total_s, phases, steps = [], [], defaultdict(list), defaultdict(list)
        for _ in range(runs):
            floor_s.append(wall([py, "-I", "-c", "pass"]))
            total_s.append(wall([py, "-I", str(timed)]))
            for name, value in run_json([py, "-I", str(timed)]).items():
                phases[name].append(value)
            for name, value in run_json([py, "-I", str(pieces)]):
                steps[name].append(value)
        log("-X importtime")
        imports = import_times([py, "-I", str(timed)], runs)
    report = render(args, interpreter, package, floor_s, total_s, phases, steps, imports)
    written = publish(args, output_dir(args), {"breakdown.md": report.encode()})
    print(report)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def render(
    args: argparse.Namespace,
    interpreter: Path,
    package: object,
    floor_s: list[float],
    total_s: list[float],
    phases: dict[str, list[float]],
    steps: dict[str, list[float]],
    imports: dict[str, float],
) -> str:
    med = statistics.median
    total, floor = med(total_s), med(floor_s)
    in_script = sum(med(v) for k, v in phases.items() if k != "second request")
    lines = [
        f"# Cold start, piece by piece ({args.recipe}, {interpreter.name} -I)",
        "",
        "Generated by `benchmarks/breakdown.py`; medians of "
        f"{len(total_s)} fresh processes each, interleaved. Wall times include fork and exec "
        "from the measuring process.",
        "",
        "| phase | median | share of the cold start |",
        "|---|---|---|",
        f"| whole cold start (import, load, one REST event, exit) | {ms(total)} | 100% |",
        f"| `{interpreter.name} -I -c pass` (start and exit) | {ms(floor)} | {floor / total:.0%} |",
    ]
    for name, values in phases.items():
        lines.append(f"| {name} | {ms(med(values))} | {med(values) / total:.0%} |")
    rest = total - floor - in_script
    lines += [
        f"| the rest, by difference (script compile, `import time`, teardown) | {ms(rest)} "
        f"| {rest / total:.0%} |",
        "",
        "## The model load, step by step (a fresh process, in the order Model.from_bytes runs)",
        "",
        "| step | median |",
        "|---|---|",
        *[f"| {name} | {ms(med(values))} |" for name, values in steps.items()],
        "",
        "## Imports by module (`-X importtime`, self time, largest first)",
        "",
        "| module | self |",
        "|---|---|",
    ]
    ranked = sorted(imports.items(), key=lambda kv: -kv[1])
    lines += [f"| {name} | {ms(seconds)} |" for name, seconds in ranked[:25]]
    runtime_s = sum(s for n, s in imports.items() if n.split(".")[0] == "runtime")
    lines += [
        f"| all {sum(1 for n in imports if n.split('.')[0] == 'runtime')} runtime.* modules "
        f"| {ms(runtime_s)} (includes the model load at runtime.handler) |",
        f"| all other {sum(1 for n in imports if n.split('.')[0] != 'runtime')} modules "
        f"| {ms(sum(imports.values()) - runtime_s)} |",
        "",
        f"Package folder: {getattr(package, 'unpacked', 0) / 1024:.0f} KiB unpacked; "
        f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
