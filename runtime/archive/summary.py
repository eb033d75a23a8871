"""One summary for a run: every input object, its result's counts, or why it has none.

The summary is computed from what is durable, the same way for S3 and for local files:
the input listing, and each result object's trailer (its last line). An input object
without a result, or whose result was scored by another model, is a failed shard; the
reason comes from Distributed Map's ResultWriter when it recorded one. Nothing depends on
the order shards finished in, so a rerun writes the same summary.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from runtime.archive.job import Job, ShardRefused
from runtime.archive.results import parse_trailer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SUMMARY_FORMAT = "sms-spam-archive-summary/1"
MAX_LISTED_FAILURES = 100  # the summary names this many failed shards, and counts all
TAIL_BYTES = 64 * 1024  # a trailer is one short line; this is far more than it needs


def summarise(
    job: Job,
    input_keys: Iterable[str],
    read_tail: Callable[[str], bytes | None],
    reasons: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Totals over ``input_keys``; ``read_tail(result_key)`` is None for a missing result."""
    totals = {"lines": 0, "scored": 0, "blank": 0, "malformed": 0}
    labels: dict[str, int] = {}
    objects = 0
    failed: list[dict[str, str]] = []
    failed_count = 0
    for key in sorted(input_keys):
        try:
            result_key = job.result_key(key)
        except ShardRefused:  # a folder marker: nothing to score
            continue
        tail = read_tail(result_key)
        counts = None if tail is None else parse_trailer(tail)
        reason = None
        if tail is None:
            reason = (reasons or {}).get(key, "no result object")
        elif counts is None:
            reason = "the result object has no summary line"
        elif counts.get("model_sha256") != job.model_sha256:
            reason = "the result object was scored by another model"
        if reason is not None or counts is None:
            failed_count += 1
            if len(failed) < MAX_LISTED_FAILURES:
                failed.append({"key": key, "reason": reason or "unreadable"})
            continue
        objects += 1
        for name in totals:
            totals[name] += int(counts.get(name, 0))
        for label, count in dict(counts.get("labels", {})).items():
            labels[label] = labels.get(label, 0) + int(count)
    return {
        "format": SUMMARY_FORMAT,
        "model_sha256": job.model_sha256,
        "job": job.reading(),
        "objects_scored": objects,
        "messages_scored": totals["scored"],
        "labels": dict(sorted(labels.items())),
        "lines": totals["lines"],
        "blank_lines": totals["blank"],
        "malformed_lines": totals["malformed"],
        "failed_shards": failed_count,
        "failed": failed,
    }


def summary_bytes(summary: Mapping[str, Any]) -> bytes:
    return (json.dumps(summary, sort_keys=True, indent=1) + "\n").encode()


def failure_reasons(result_files: Iterable[list[dict[str, Any]]]) -> dict[str, str]:
    """Input key -> error, from Distributed Map's ResultWriter FAILED files.

    Each entry is a child execution: its ``Input`` (a JSON string: our ``Items`` or one
    item) and its ``Error`` and ``Cause``. Only the error name and our own refusal message
    are kept: the cause is our ShardRefused text, never message content.
    """
    reasons: dict[str, str] = {}
    for entries in result_files:
        for entry in entries:
            try:
                child = json.loads(entry.get("Input") or "{}")
            except ValueError:
                continue
            items = child.get("Items") if isinstance(child, dict) else None
            items = items if isinstance(items, list) else [child.get("Item", child)]
            reason = _reason(entry)
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("Key"), str):
                    reasons[item["Key"]] = reason
    return reasons


def _reason(entry: Mapping[str, Any]) -> str:
    error = str(entry.get("Error") or "failed")
    try:
        cause = json.loads(entry.get("Cause") or "{}")
    except ValueError:
        cause = {}
    message = cause.get("errorMessage") if isinstance(cause, dict) else None
    return f"{error}: {str(message)[:300]}" if message else error
