"""``spam-learn`` (``python exporter/learn.py``): learn reports, forget some, or roll back.

The last line printed is one JSON summary (no report text): reports learned, skipped per
reason, the gate's figures, whether the model was promoted. Exit status: 0 a model was
written (or there was nothing to learn), 3 the gate refused the learned model, 2 the
input could not be used (the summary's ``error`` says why).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from runtime.learning.guards import GuardSettings
from runtime.learning.objects import ObjectError, Objects
from runtime.learning.run import RunOptions, promote, rollback, run
from runtime.modelfile import ModelError
from runtime.pointer import PointerError
from runtime.reports import ReportError, StorageError, is_report_id

EXIT_UNUSABLE = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        help="the serving model file (path or s3:// URI); default: the one --pointer names",
    )
    parser.add_argument("--reports", help="the report store: a directory or an s3:// prefix")
    parser.add_argument("--output", help="write the learned model to this path")
    parser.add_argument(
        "--models", help="s3:// prefix or directory to store the model in as <sha256>.npz"
    )
    parser.add_argument(
        "--pointer",
        help="the model pointer to update: an s3:// URI, or a file the local server follows",
    )
    parser.add_argument(
        "--promote",
        metavar="MODEL",
        help="store MODEL (a path or s3:// URI) under --models and point --pointer at it "
        "(seeds a pointer)",
    )
    parser.add_argument(
        "--forget",
        nargs="+",
        default=[],
        metavar="REPORT_ID",
        help="unlearn these reports (ungated; nothing new is learned) and delete them",
    )
    parser.add_argument(
        "--rollback",
        action="store_true",
        help="point --pointer back at the previous model; retire the reports it unlearns",
    )
    defaults = GuardSettings()
    parser.add_argument("--min-reports", type=int, default=defaults.min_new_reports)
    parser.add_argument("--reporter-cap", type=int, default=defaults.reporter_cap)
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL_S3"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    code, summary = EXIT_UNUSABLE, dict[str, Any]()
    try:
        code, summary = _dispatch(args)
    except (ObjectError, ModelError, PointerError, ReportError, StorageError, ValueError) as exc:
        summary = {"promoted": False, "error": str(exc)}
    print(json.dumps(summary, sort_keys=True))
    return code


def _dispatch(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    objects = Objects(args.endpoint_url)
    if args.rollback:
        if not args.pointer or not args.reports:
            raise ValueError("--rollback needs --pointer, and --reports to retire what it unlearns")
        return 0, rollback(args.pointer, objects, args.reports)
    if args.promote:
        if not args.pointer or not args.models:
            raise ValueError("--promote needs --pointer and --models")
        return promote(args.promote, args.pointer, args.models, objects)
    if not args.reports:
        raise ValueError("--reports is required (a directory or an s3:// prefix)")
    bad = [i for i in args.forget if not is_report_id(i)]
    if bad:
        raise ValueError(f"--forget takes report ids (64 hex digits), got {bad[0][:80]!r}")
    options = RunOptions(
        reports=args.reports,
        model=args.model,
        pointer=args.pointer,
        output=args.output,
        models=args.models,
        forget=list(args.forget),
        endpoint_url=args.endpoint_url,
        guards=GuardSettings(min_new_reports=args.min_reports, reporter_cap=args.reporter_cap),
    )
    return run(options, objects)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
