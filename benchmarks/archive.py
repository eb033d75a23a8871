"""The archive shard scorer: messages per second and peak memory per recipe, and what 1
billion messages cost with it, one invoke per message, or the tutorial's scikit-learn code.

    python -m benchmarks.archive --data ../shared/data/spam.csv --update-committed
    python -m benchmarks.archive --smoke --data SMALL.csv        # seconds, to check it works

Shards are JSON Lines (``{"id": i, "text": ...}``, the dataset's messages repeated) of
each --lines count, plain and gzip, in a moto S3 server on loopback. Each (recipe, shard)
is scored by ``runtime.archive.handler.shard_handler`` in a fresh process, which reads the
object from the server and writes its result there (multipart above 8 MiB). The model and
the S3 client are loaded before the clock starts, as in a warm Lambda container. Peak
memory is the process's own high-water resident set, VmHWM (interpreter, NumPy, boto3
included). "CPU
msg/s" divides by the scorer process's own CPU time: the moto server's work (the network,
on Lambda) and other processes on this shared machine are not in it.

scikit-learn's row is the tutorial's pipeline (TfidfVectorizer, then GaussianNB on the
dense rows, as its Lambda does) on the same plain shard read from memory, 1,000 messages
a call, results written as JSON lines to memory: no S3 at all, so it is flattered.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.output import add_data_option, add_output_options, log, output_dir, publish
from exporter.dataset import Dataset, load_dataset

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RECIPES = (
    "tutorial",
    "multinomial_nb",
    "complement_nb",
    "bernoulli_nb",
    "logistic_regression",
    "calibrated_svc",
)
SKLEARN_CHUNK = 1000

# Published us-east-1 list prices (first tier). aws.amazon.com is out of reach here: these
# match public copies of its Lambda and Step Functions price pages read on 2026-12-07;
# check https://aws.amazon.com/lambda/pricing/ and /step-functions/pricing/ before use.
PRICES_DATE = (
    "us-east-1 list prices, first tier, as in public copies of AWS's Lambda and Step "
    "Functions price pages read on 2026-12-07 (aws.amazon.com itself not reached)"
)
LAMBDA_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}  # first pricing tier
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
SFN_PER_TRANSITION = 0.025 / 1000  # Standard workflows
# A child execution of one Task state, counted as the issue counts one invoke per message:
# about 3 transitions (its start, the task, its end). Conservative for the batched run.
TRANSITIONS_PER_CHILD = 3
SHARD_MEMORY_MB = 1769  # one full vCPU: the per-core rate applies
PER_MESSAGE_MEMORY_MB = 512  # the API function's default
PER_MESSAGE_BILLED_SECONDS = 0.001  # Lambda's minimum billed duration per invoke
BILLION = 1_000_000_000
# A recipe named with this suffix is exported with --vectorizer-param preprocessor=null: what
# the normaliser costs, measured (the recipe must take vectorizer parameters).
UNNORMALISED = "+raw"

CHILD = r"""
import json, os, sys, time
from runtime.archive import handler
event = json.loads(sys.argv[1])
from runtime.archive.job import Job
job = Job.parse(event["BatchInput"])
handler.checked_model(job); handler._client()  # a warm container: loaded before the clock
def hwm():  # this process's own peak RSS (ru_maxrss would include the parent's at fork)
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
rss_ready = hwm()
cpu0, t0 = time.process_time(), time.perf_counter()
out = handler.shard_handler(event, None)
elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
peak = hwm()
print(json.dumps({"elapsed": elapsed, "cpu": cpu, "rss_ready_kib": rss_ready,
                  "peak_kib": peak, "objects": out["objects"]}))
"""


@dataclass(frozen=True)
class Run:
    recipe: str
    lines: int
    gzip: bool
    bytes: int
    elapsed: float
    cpu: float
    ready_mib: float
    peak_mib: float

    @property
    def rate(self) -> float:
        return self.lines / self.elapsed

    @property
    def cpu_rate(self) -> float:
        return self.lines / self.cpu


def shard_bytes(texts: list[str], lines: int) -> bytes:
    n = len(texts)
    rows = (json.dumps({"id": i, "text": texts[i % n]}) for i in range(lines))
    return ("\n".join(rows) + "\n").encode()


def score_in_child(env: dict[str, str], event: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(event)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"the shard scorer failed:\n{result.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return answer


def sklearn_rate(dataset: Dataset, data: bytes) -> tuple[float, float]:
    """(msg/s wall, msg/s CPU) of the tutorial's own pipeline over one plain shard."""
    from exporter.train import TrainingConfig, train

    vectorizer, classifier = train(dataset, TrainingConfig(recipe="tutorial")).model
    lines = data.splitlines()
    out = []
    cpu0, t0 = time.process_time(), time.perf_counter()
    for start in range(0, len(lines), SKLEARN_CHUNK):
        rows = [json.loads(line) for line in lines[start : start + SKLEARN_CHUNK]]
        texts = [row["text"] for row in rows]
        proba = classifier.predict_proba(vectorizer.transform(texts).toarray())
        labels = classifier.classes_[proba.argmax(axis=1)]
        out.append(
            "\n".join(
                json.dumps({"line": start + i + 1, "id": r["id"], "label": str(k), "scores": p})
                for i, (r, k, p) in enumerate(zip(rows, labels, proba.tolist(), strict=True))
            )
        )
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return len(lines) / elapsed, len(lines) / cpu


def cost_rows(rate: float, lines_per_shard: int, sklearn: float) -> list[tuple[str, str, float]]:
    """(approach, architecture, dollars for 1 billion messages)."""
    rows = []
    shards = BILLION / lines_per_shard
    for arch, gb_second in LAMBDA_GB_SECOND.items():
        for name, per_core in (("shard scorer (this)", rate), ("tutorial scikit-learn", sklearn)):
            seconds = BILLION / per_core
            compute = seconds * SHARD_MEMORY_MB / 1024 * gb_second
            fees = shards * (LAMBDA_PER_REQUEST + TRANSITIONS_PER_CHILD * SFN_PER_TRANSITION)
            rows.append((f"{name}, Distributed Map", arch, compute + fees))
        compute = BILLION * PER_MESSAGE_BILLED_SECONDS * PER_MESSAGE_MEMORY_MB / 1024 * gb_second
        fees = BILLION * (LAMBDA_PER_REQUEST + TRANSITIONS_PER_CHILD * SFN_PER_TRANSITION)
        rows.append(("one Step Functions invoke per message", arch, compute + fees))
    return rows


def report(runs: list[Run], sk: tuple[float, float], load: str, note: str) -> str:
    out = [
        "# Archive shard scorer: throughput, memory and cost",
        "",
        f"Machine: {os.cpu_count()} cores, shared; load average {load} when the run started.",
        note,
        "",
        "| recipe | lines | gzip | object MiB | wall s | msg/s (wall) | msg/s (CPU) | "
        "RSS ready MiB | peak RSS MiB |",
        "|---|---:|:---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        out.append(
            f"| {r.recipe} | {r.lines:,} | {'yes' if r.gzip else 'no'} | {r.bytes / 2**20:.1f} | "
            f"{r.elapsed:.2f} | {r.rate:,.0f} | {r.cpu_rate:,.0f} | {r.ready_mib:.0f} | "
            f"{r.peak_mib:.0f} |"
        )
    out += [
        "",
        f"scikit-learn, the tutorial's pipeline on the {runs[0].lines:,}-line plain shard from "
        f"memory: {sk[0]:,.0f} msg/s wall, {sk[1]:,.0f} msg/s CPU.",
    ]
    largest = max(r.lines for r in runs)
    largest_runs = [r for r in runs if r.lines == largest]
    # The cost is priced from the tutorial recipe's plain shard when it was measured.
    base = [r for r in largest_runs if r.recipe == "tutorial" and not r.gzip] or largest_runs
    if base:
        rate = base[0].cpu_rate
        out += [
            "",
            f"## Cost of 1 billion messages (from the {base[0].recipe} recipe's CPU rate on the "
            f"{largest:,}-line plain shard, {rate:,.0f} msg/s, and scikit-learn's {sk[1]:,.0f})",
            "",
            f"Prices: {PRICES_DATE}. Lambda ${LAMBDA_GB_SECOND['x86_64']} per GB-s (x86_64), "
            f"${LAMBDA_GB_SECOND['arm64']} (arm64), $0.20 per million requests; Step "
            "Functions Standard $0.025 per 1,000 state transitions. Check them before relying "
            "on this.",
            f"Assumptions: {SHARD_MEMORY_MB} MB functions (one vCPU; below that Lambda gives "
            "CPU in proportion, so the cost per message stays about the same); "
            f"{largest:,} lines per child; {TRANSITIONS_PER_CHILD} transitions per child "
            "execution; arm64 at the x86_64 rate (not measured here); one invoke per "
            f"message billed Lambda's 1 ms minimum at {PER_MESSAGE_MEMORY_MB} MB. Excluded: "
            "S3 requests and storage, data transfer, CloudWatch Logs.",
            "",
            "| approach | architecture | USD per 1e9 messages |",
            "|---|---|---:|",
        ]
        for name, arch, dollars in cost_rows(rate, largest, sk[1]):
            out.append(f"| {name} | {arch} | {dollars:,.2f} |")
        out += [
            "",
            "The shard scorer's cost per recipe, from each recipe's own CPU rate on the "
            f"{largest:,}-line plain shard (same prices and assumptions):",
            "",
            "| recipe | msg/s per core | USD per 1e9 messages, x86_64 | arm64 |",
            "|---|---:|---:|---:|",
        ]
        for r in largest_runs:
            if not r.gzip:
                x86, arm = (cost_rows(r.cpu_rate, largest, sk[1])[i][2] for i in (0, 3))
                out.append(f"| {r.recipe} | {r.cpu_rate:,.0f} | {x86:,.2f} | {arm:,.2f} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_option(parser)
    add_output_options(parser, "archive.md")
    parser.add_argument(
        "--recipes",
        default=",".join(DEFAULT_RECIPES),
        help=f"comma-separated; NAME{UNNORMALISED} is the recipe without the normaliser",
    )
    parser.add_argument("--lines", default="100000,1000000", help="shard sizes, comma-separated")
    parser.add_argument("--smoke", action="store_true", help="300 lines, one recipe")
    args = parser.parse_args(argv)
    from benchmarks.contenders import export_recipe
    from tests.s3server import moto_server

    dataset = load_dataset(args.data)
    recipes = ["tutorial"] if args.smoke else args.recipes.split(",")
    sizes = [300] if args.smoke else [int(n) for n in args.lines.split(",")]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="archive-bench-"))
    models = {}
    for recipe in recipes:
        log(f"exporting {recipe}")
        params = {"preprocessor": None} if recipe.endswith(UNNORMALISED) else {}
        name = recipe.removesuffix(UNNORMALISED)
        exported = export_recipe(dataset, name, work / f"{recipe}.npz", params)
        models[recipe] = (work / f"{recipe}.npz", exported.model.model_id)
    runs: list[Run] = []
    with moto_server() as s3:
        bucket = s3.bucket()
        objects = []
        for lines in sizes:
            plain = shard_bytes(dataset.texts, lines)
            for zipped in (False, True):
                data = gzip.compress(plain, 6, mtime=0) if zipped else plain
                key = f"in/{lines}.jsonl" + (".gz" if zipped else "")
                s3.client.put_object(Bucket=bucket, Key=key, Body=data)
                etag = s3.client.head_object(Bucket=bucket, Key=key)["ETag"]
                objects.append((lines, zipped, key, len(data), etag))
        sk = sklearn_rate(dataset, shard_bytes(dataset.texts, sizes[0]))
        log(f"scikit-learn: {sk[0]:,.0f} msg/s")
        env = {**os.environ, "AWS_ENDPOINT_URL_S3": s3.endpoint_url}
        for recipe in recipes:
            path, sha = models[recipe]
            for lines, zipped, key, size, etag in objects:
                job = {
                    "model_sha256": sha,
                    "input_bucket": bucket,
                    "input_prefix": "in/",
                    "output_bucket": bucket,
                    "output_prefix": f"out/{recipe}/",
                }
                event = {"Items": [{"Key": key, "Size": size, "Etag": etag}], "BatchInput": job}
                answer = score_in_child({**env, "MODEL_PATH": str(path)}, event)
                assert answer["objects"][0]["scored"] == lines
                run = Run(
                    recipe,
                    lines,
                    zipped,
                    size,
                    answer["elapsed"],
                    answer["cpu"],
                    answer["rss_ready_kib"] / 1024,
                    answer["peak_kib"] / 1024,
                )
                log(f"{recipe} {key}: {run.rate:,.0f} msg/s, peak {run.peak_mib:.0f} MiB")
                runs.append(run)
    note = "Smoke run: not results." if args.smoke else "One run per row (not best of several)."
    text = report(runs, sk, load, note)
    print(text)
    publish(args, output_dir(args), {"archive.md": text.encode()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
