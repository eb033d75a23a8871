"""Cold start: a fresh interpreter per run that imports, loads, answers one request, exits.

Each contender is a small script written into the work directory (constants inlined, so
a run reads nothing but its model files). All runs go through ``launcher.py`` in one
alternating schedule, so slow drift of the machine hits every contender alike.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "launcher.py"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

OURS_SCRIPT = """\
import json
import sys

sys.path.insert(0, {code_root!r})
from runtime.handler import lambda_handler

response = lambda_handler({event!r}, None)
label = json.loads(response["body"])["label"]
if "numpy" in sys.modules:
    sys.exit("one message imported NumPy")
print(label)
"""

# Run with ``-I -S``: the standard library and code_root are all it can import from.
NUMPY_FREE_SCRIPT = """\
import json
import sys

sys.path.insert(0, {code_root!r})
from runtime.handler import lambda_handler

response = lambda_handler({event!r}, None)
label = json.loads(response["body"])["label"]
try:
    import numpy
except ImportError:
    print(label)
else:
    sys.exit("NumPy is importable: " + numpy.__file__)
"""

TUTORIAL_SCRIPT = """\
import json

import joblib

vectorizer = joblib.load({vectorizer!r})
classifier = joblib.load({classifier!r})


def lambda_handler(event, context):
    text = json.loads(event["body"])["text"]
    label = classifier.predict(vectorizer.transform([text]).toarray())[0]
    return {{"statusCode": 200, "body": json.dumps({{"label": str(label)}})}}


print(json.loads(lambda_handler({event!r}, None)["body"])["label"])
"""

ONNX_SCRIPT = """\
import json

import numpy as np
import onnxruntime

session = onnxruntime.InferenceSession({model!r}, providers=["CPUExecutionProvider"])


def lambda_handler(event, context):
    text = json.loads(event["body"])["text"]
    label = session.run(None, {{{input!r}: np.array([[text]], dtype=object)}})[0][0]
    return {{"statusCode": 200, "body": json.dumps({{"label": str(label)}})}}


print(json.loads(lambda_handler({event!r}, None)["body"])["label"])
"""


@dataclass(frozen=True)
class Variant:
    """One way of starting: the command, its environment, and the label it must print."""

    key: str
    label: str
    argv: tuple[str, ...]
    env: dict[str, str]
    expected: str | None = None  # floors answer nothing
    group: str = "primary"  # "primary" (dev venv interpreter), "zip" (Lambda packages), ...
    cpus: tuple[int, ...] = ()  # pinned to these CPUs; empty: unpinned

    def pinned(self, cpus: tuple[int, ...] = (0,)) -> Variant:
        """The same start confined to ``cpus``, as a fraction-of-a-vCPU Lambda function is."""
        where = ",".join(map(str, cpus))
        return Variant(
            f"{self.key}@cpu{where}",
            f"{self.label}, pinned to CPU {where}",
            self.argv,
            self.env,
            self.expected,
            self.group,
            cpus,
        )


def replace_group(variant: Variant, group: str) -> Variant:
    return dataclasses.replace(variant, group=group)


@dataclass
class ColdStats:
    """Every measured run of one variant (warm-up runs excluded)."""

    variant: Variant
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ColdResult:
    stats: dict[str, ColdStats]
    launcher_rss_kib: int
    rounds: int


def write_script(path: Path, template: str, **values: object) -> Path:
    path.write_text(template.format(**values))
    return path


def schedule_order(keys: Sequence[str], rounds: int) -> list[str]:
    """Round-robin, rotated each round, so no contender always runs after the same one."""
    order: list[str] = []
    for r in range(rounds):
        shift = r % len(keys)
        order.extend([*keys[shift:], *keys[:shift]])
    return order


def run_cold_starts(
    variants: Sequence[Variant], rounds: int, workdir: Path, *, warmup_rounds: int = 1
) -> ColdResult:
    """Run the alternating schedule through the launcher and check every answer."""
    by_key = {v.key: v for v in variants}
    keys = [v.key for v in variants]
    order = schedule_order(keys, warmup_rounds + rounds)
    out_dir = workdir / "cold-runs"
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = []
    for i, key in enumerate(order):
        variant = by_key[key]
        stdout, stderr = out_dir / f"{i:04d}-{key}.out", out_dir / f"{i:04d}-{key}.err"
        jobs.append(
            (
                list(variant.argv),
                variant.env,
                str(workdir),
                str(stdout),
                str(stderr),
                list(variant.cpus),
            )
        )
    schedule_path, results_path = workdir / "schedule.marshal", workdir / "results.marshal"
    schedule_path.write_bytes(marshal.dumps(jobs))
    subprocess.run(
        [sys.executable, "-I", "-S", str(LAUNCHER), str(schedule_path), str(results_path)],
        check=True,
    )
    *runs, launcher_rss = marshal.loads(results_path.read_bytes())

    stats = {key: ColdStats(by_key[key]) for key in keys}
    warmup_jobs = warmup_rounds * len(keys)
    for i, (key, job, run) in enumerate(zip(order, jobs, runs, strict=True)):
        wall, cpu, rss, status = run
        check_answer(by_key[key], status, Path(job[3]), Path(job[4]))
        if i >= warmup_jobs:
            stats[key].wall_s.append(wall)
            stats[key].cpu_s.append(cpu)
            stats[key].rss_kib.append(rss)
    return ColdResult(stats, launcher_rss, rounds)


def check_answer(variant: Variant, status: int, stdout: Path, stderr: Path) -> None:
    """A run that failed or printed the wrong label would make its timing meaningless."""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"cold start {variant.key} exited {code}: {stderr.read_text()[-2000:]}")
    if variant.expected is None:
        return
    lines = stdout.read_text().strip().splitlines()
    answer = lines[-1] if lines else ""
    if answer != variant.expected:
        raise RuntimeError(
            f"cold start {variant.key} answered {answer!r}, expected {variant.expected!r}"
        )


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, quartiles and extremes: the median is quoted, the rest is the spread."""
    ordered = sorted(values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "q1": q1,
        "q3": q3,
    }
