"""The shard scorer over local files: one process per core, the same results and summary.

``IN_DIR``'s files are the input objects (their paths below it are the keys), results go
to ``OUT_DIR/results/<key>.result.jsonl`` and the summary to ``OUT_DIR/summary.json``,
exactly as the S3 run lays them out below its output prefix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from runtime.archive.job import Job, ShardRefused
from runtime.archive.results import LocalSink
from runtime.archive.shard import score_stream
from runtime.archive.summary import TAIL_BYTES, summarise, summary_bytes
from runtime.model import Model, ModelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_worker: dict[str, Any] = {}


def input_keys(in_dir: str) -> list[str]:
    """Every regular file below ``in_dir``, as a '/'-separated relative key, sorted."""
    keys = []
    for root, dirs, files in os.walk(in_dir):
        dirs.sort()
        for name in files:
            path = os.path.join(root, name)
            if os.path.isfile(path) and not name.startswith("."):
                keys.append(os.path.relpath(path, in_dir).replace(os.sep, "/"))
    return sorted(keys)


def score_file(in_dir: str, out_dir: str, key: str, model: Model, job: Job) -> dict[str, Any]:
    path = os.path.join(in_dir, *key.split("/"))
    result_key = job.result_key(key)
    with open(path, "rb") as file:
        source = {"key": key, "size": os.fstat(file.fileno()).st_size}
        sink = LocalSink(os.path.join(out_dir, *result_key.split("/")))
        counts = score_stream(file, key, source, model, job, sink)
    return {"key": key, "result_key": result_key, **counts.as_json()}


def _init_worker(model_path: str, expected_sha256: str) -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _worker["model"] = Model.from_path(model_path, expected_sha256=expected_sha256)


def _score_in_worker(in_dir: str, out_dir: str, key: str, job: Job) -> dict[str, Any]:
    try:
        return score_file(in_dir, out_dir, key, _worker["model"], job)
    except ShardRefused as exc:
        return {"key": key, "error": str(exc)}
    except OSError as exc:
        return {"key": key, "error": f"cannot read or write: {exc.strerror or exc}"}


def run_local(
    in_dir: str,
    out_dir: str,
    model_path: str,
    *,
    workers: int | None = None,
    reading: dict[str, str] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Score every file of ``in_dir`` into ``out_dir``; return (and write) the summary."""
    try:
        model = Model.from_path(model_path)
    except ModelError as exc:
        raise ShardRefused(f"cannot load the model: {exc}") from None
    # realpath: a link must not hide that one folder holds the other.
    in_dir, out_dir = os.path.realpath(in_dir), os.path.realpath(out_dir)
    if (
        out_dir == in_dir
        or out_dir.startswith(in_dir + os.sep)
        or in_dir.startswith(out_dir + os.sep)
    ):
        raise ShardRefused("the output and input folders overlap: one is inside the other")
    job = Job.parse({"model_sha256": model.model_id, "input_prefix": "", "output_prefix": ""})
    job = job._replace(**(reading or {}))
    Job.parse(job._asdict())  # the reading fields checked as the S3 run checks them
    keys = input_keys(in_dir)
    reasons: dict[str, str] = {}
    for outcome in _outcomes(in_dir, out_dir, keys, model_path, model.model_id, job, workers):
        if "error" in outcome:
            reasons[outcome["key"]] = outcome["error"]
        if progress is not None:
            progress(outcome)

    def read_tail(result_key: str) -> bytes | None:
        try:
            with open(os.path.join(out_dir, *result_key.split("/")), "rb") as file:
                file.seek(max(0, os.fstat(file.fileno()).st_size - TAIL_BYTES))
                return file.read(TAIL_BYTES)
        except FileNotFoundError:
            return None

    summary = summarise(job, keys, read_tail, reasons)
    with open(os.path.join(out_dir, "summary.json"), "wb") as file:
        file.write(summary_bytes(summary))
    return summary


def _outcomes(
    in_dir: str,
    out_dir: str,
    keys: list[str],
    model_path: str,
    sha256: str,
    job: Job,
    workers: int | None,
) -> Iterator[dict[str, Any]]:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    workers = max(1, min(workers or os.cpu_count() or 1, len(keys) or 1))
    with ProcessPoolExecutor(
        workers, initializer=_init_worker, initargs=(model_path, sha256)
    ) as pool:
        futures = [pool.submit(_score_in_worker, in_dir, out_dir, key, job) for key in keys]
        for future in as_completed(futures):
            yield future.result()
