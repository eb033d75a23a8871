"""Where a benchmark's report goes: a scratch folder, and the committed copy only on request.

Every script writes to ``benchmarks/out/`` (git-ignored) unless told otherwise, so running
a benchmark never dirties the repository; ``--update-committed`` also replaces the copies
in ``benchmarks/`` that the README links to.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
DEFAULT_OUT = BENCHMARKS / "out"


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """``--data``: where every benchmark reads the SMS Spam Collection (never committed)."""
    parser.add_argument(
        "--data",
        type=Path,
        default=os.environ.get("SPAM_DATA") or BENCHMARKS.parent.parent / "shared/data/spam.csv",
        help="spam.csv or SMSSpamCollection (default: $SPAM_DATA, else ../shared/data/spam.csv)",
    )


def add_output_options(parser: argparse.ArgumentParser, committed: str) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        help=f"folder for the report (default: {DEFAULT_OUT.relative_to(BENCHMARKS.parent)}/; "
        "with --smoke a new temporary folder)",
    )
    parser.add_argument(
        "--update-committed",
        action="store_true",
        help=f"also replace the committed report in benchmarks/ ({committed}) "
        "(default: leave it alone)",
    )


def output_dir(args: argparse.Namespace) -> Path:
    if args.out is not None:
        out = Path(args.out)
    elif getattr(args, "smoke", False):
        out = Path(tempfile.mkdtemp(prefix="bench-smoke-"))
    else:
        out = DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    return out


def publish(args: argparse.Namespace, out: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write ``files`` into ``out``, and into benchmarks/ with --update-committed."""
    folders = [out]
    if args.update_committed:
        if getattr(args, "smoke", False):
            raise SystemExit("--update-committed with --smoke: smoke figures are not results")
        folders.append(BENCHMARKS)
    written = []
    for folder in folders:
        for name, data in files.items():
            path = folder / name
            path.write_bytes(data)
            written.append(path)
    return written


def log(message: str) -> None:
    """Progress for the person waiting: stderr, so stdout stays the report."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
