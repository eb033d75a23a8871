"""What reports and the model pointer cost a warm function, next to a prediction.

    python -m benchmarks.feedback --data ../shared/data/spam.csv
    python -m benchmarks.feedback --smoke --data SMALL.csv      # seconds, to check it works

Exports the tutorial model, builds the Lambda adapter in this process and times warm
REST events (medians of --runs): ``POST /predict`` of one message against ``POST
/feedback`` of the same message stored in a directory on this machine's disk (each
report written, fsynced, linked and its directory fsynced before the 202), and against
a retried report (already stored). Then ``ModelHolder.get``, which every request calls,
for a fixed model against a pointer-following one between its checks: the price of the
refresh schedule on the requests that do not check.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.output import add_data_option, add_output_options, log, output_dir, publish
from exporter.dataset import DatasetError, load_dataset

HOLDER_CALLS = 10_000  # ModelHolder.get calls per timed sample


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_data_option(parser)
    parser.add_argument(
        "--runs", type=int, help="timed requests per measurement (default: 2000; with --smoke 20)"
    )
    parser.add_argument(
        "--reports-dir",
        type=Path,
        help="directory the reports go to, on the disk to measure (default: a temporary one)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="few runs: checks that it works (default: off)"
    )
    add_output_options(parser, "feedback.md")
    return parser


def median_us(call: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    runs = args.runs or (20 if args.smoke else 2000)
    try:
        dataset = load_dataset(args.data)
    except DatasetError as exc:
        print(f"error: {exc} (pass --data PATH or set SPAM_DATA)", file=sys.stderr)
        return 2
    from benchmarks.contenders import export_recipe
    from localserver import events
    from runtime.adapter import create_adapter
    from runtime.config import ModelSource, Settings
    from runtime.model_source import ModelHolder
    from runtime.reports import DirectoryReportStore

    text = next(
        t for t, label in zip(dataset.texts, dataset.labels, strict=True) if label == "spam"
    )
    with tempfile.TemporaryDirectory(prefix="feedback-") as tmp:
        model_path = Path(tmp) / "model.npz"
        log("exporting the tutorial model")
        export_recipe(dataset, "tutorial", model_path)
        reports_dir = args.reports_dir or Path(tmp) / "reports"
        reports_dir.mkdir(parents=True, exist_ok=True)
        settings = Settings(source=ModelSource("path", str(model_path)))
        holder = ModelHolder.from_settings(settings)
        with _QuietStdout():  # stdout is the report alone
            app = create_adapter(settings, holder, DirectoryReportStore(str(reports_dir)))
        headers = {"Content-Type": "application/json"}
        predict = events.rest_v1(
            "POST", "/predict", headers=headers, body=json.dumps({"text": text})
        )

        def feedback_event(n: int) -> dict[str, object]:
            body = json.dumps({"text": f"{text} #{n}", "label": "spam"})
            return events.rest_v1("POST", "/feedback", headers=headers, body=body, api_key_id="k")

        fresh = iter([feedback_event(n) for n in range(runs + 1)])
        retried = feedback_event(-1)
        log(f"{runs} requests per measurement")
        with _QuietStdout():  # the request log lines would time the terminal
            assert app(predict, None)["statusCode"] == 200
            assert app(retried, None)["statusCode"] == 202
            rows = [
                ("POST /predict, one message", median_us(lambda: app(predict, None), runs)),
                (
                    "POST /feedback, a new report (fsynced)",
                    median_us(lambda: app(next(fresh), None), runs),
                ),
                ("POST /feedback, a retried report", median_us(lambda: app(retried, None), runs)),
            ]
        stored = sum(1 for _ in reports_dir.glob("*.json"))
        fixed = ModelHolder(holder.get, settings.source)
        following = ModelHolder(
            holder.get, settings.source, refresh=lambda current: None, refresh_s=3600.0
        )
        with _QuietStdout():  # their model_loaded lines
            fixed.get()
            following.get()
        per_call = []
        for name, target in (("fixed model", fixed), ("pointer, between checks", following)):
            loop = _holder_loop(target)
            per_call.append((name, median_us(loop, max(5, runs // 100)) * 1e3 / HOLDER_CALLS))
    report = render(runs, rows, per_call, stored, args.reports_dir)
    written = publish(args, output_dir(args), {"feedback.md": report.encode()})
    print(report)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _holder_loop(holder: object) -> Callable[[], None]:
    get = holder.get  # type: ignore[attr-defined]

    def loop() -> None:
        for _ in range(HOLDER_CALLS):
            get()

    return loop


class _QuietStdout:
    def __enter__(self) -> None:
        self._saved = sys.stdout
        sys.stdout = open("/dev/null", "w")

    def __exit__(self, *exc: object) -> None:
        sys.stdout.close()
        sys.stdout = self._saved


def render(
    runs: int,
    rows: list[tuple[str, float]],
    per_call: list[tuple[str, float]],
    stored: int,
    reports_dir: Path | None,
) -> str:
    baseline = rows[0][1]
    lines = [
        "# Reports and the pointer: warm costs",
        "",
        f"Generated by `benchmarks/feedback.py`; medians of {runs} warm requests through the "
        f"Lambda adapter in one process, Python {platform.python_version()} on "
        f"{platform.machine()}. Reports stored: {stored}, in "
        f"{'--reports-dir ' + str(reports_dir) if reports_dir else 'a temporary directory'}.",
        "",
        "| request | median | ratio to /predict |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {value:.0f} µs | {value / baseline:.2f}x |" for name, value in rows]
    fixed = per_call[0][1]
    lines += [
        "",
        f"`ModelHolder.get`, which every request calls (median of {HOLDER_CALLS:,}-call loops):",
        "",
        "| holder | per call | ratio |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {value:.0f} ns | {value / fixed:.2f}x |" for name, value in per_call]
    lines += [
        "",
        "The fsync-bound rows depend on the disk; on Lambda reports go to S3 instead "
        "(one PutObject per report), which this run does not measure.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
