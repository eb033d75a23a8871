"""The run summary: the input listing, the results' trailers, ResultWriter's FAILED files."""

from __future__ import annotations

import json

from runtime.archive.job import Job
from runtime.archive.summary import MAX_LISTED_FAILURES, failure_reasons, summarise

SHA = "ab" * 32
JOB = Job.parse({"model_sha256": SHA, "input_prefix": "in/", "output_prefix": "out/"})


def trailer(scored: int, labels: dict[str, int], sha: str = SHA) -> bytes:
    counts = {"lines": scored + 1, "scored": scored, "blank": 0, "malformed": 1}
    return (
        b'{"line":1}\n'
        + json.dumps({"summary": {**counts, "labels": labels, "model_sha256": sha}}).encode()
        + b"\n"
    )


def test_failed_children_in_result_writer_files_name_each_of_their_objects() -> None:
    # One FAILED file entry as ResultWriter writes it: the child's input is a JSON string.
    entry = {
        "Input": json.dumps({"Items": [{"Key": "in/a"}, {"Key": "in/b"}], "BatchInput": {}}),
        "Status": "FAILED",
        "Error": "ShardRefused",
        "Cause": json.dumps({"errorMessage": "the object changed after it was listed (ETag)"}),
    }
    reasons = failure_reasons([[entry, {"Input": "not json", "Error": "X"}]])
    assert reasons == {
        "in/a": "ShardRefused: the object changed after it was listed (ETag)",
        "in/b": "ShardRefused: the object changed after it was listed (ETag)",
    }


def test_the_summary_counts_results_and_names_what_has_none_or_another_model() -> None:
    tails = {
        "out/results/a.result.jsonl": trailer(3, {"ham": 2, "spam": 1}),
        "out/results/b.result.jsonl": trailer(2, {"ham": 2}),
        "out/results/c.result.jsonl": trailer(5, {"spam": 5}, sha="cd" * 32),
        "out/results/d.result.jsonl": b"truncated",
    }
    keys = ["in/e", "in/d", "in/c", "in/b", "in/a", "in/folder/"]
    summary = summarise(JOB, keys, tails.get, {"in/e": "ShardRefused: reason"})
    assert summary["messages_scored"] == 5
    assert summary["labels"] == {"ham": 4, "spam": 1}
    assert summary["malformed_lines"] == 2
    assert summary["objects_scored"] == 2
    assert summary["failed_shards"] == 3
    assert summary["failed"] == [
        {"key": "in/c", "reason": "the result object was scored by another model"},
        {"key": "in/d", "reason": "the result object has no summary line"},
        {"key": "in/e", "reason": "ShardRefused: reason"},
    ]
    assert summarise(JOB, reversed(keys), tails.get, {"in/e": "ShardRefused: reason"}) == summary


def test_the_summary_names_at_most_a_bounded_number_of_failed_shards() -> None:
    keys = [f"in/{i:05d}" for i in range(MAX_LISTED_FAILURES + 5)]
    summary = summarise(JOB, keys, lambda _: None)
    assert summary["failed_shards"] == MAX_LISTED_FAILURES + 5
    assert len(summary["failed"]) == MAX_LISTED_FAILURES
