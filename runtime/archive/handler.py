"""The Lambda entry points of the archive state machine (template.yaml, ScoreArchive).

``shard_handler``: a Distributed Map child. Its event is ItemBatcher's
``{"Items": [...], "BatchInput": job}`` (or ``{"Item": {...}, "BatchInput": job}`` for one
object), each item as the S3 ItemReader lists it (``Key``, ``Size``, ``Etag``). It scores
every object into its result and returns their counts. ``summary_handler`` then writes
``summary.json`` under the output prefix and returns it.

The function serves the model its environment names (MODEL_S3_URI or the bundled one,
as the API function does) and refuses to score with any model other than the one the
execution was started with: the job's ``model_sha256``. A refusal raises ShardRefused, so
the child fails with that reason and the shard is counted as failed.
"""

from __future__ import annotations

import os

# Before NumPy is imported: shards are scored one at a time per function.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from runtime import logs
from runtime.archive import s3 as s3_io
from runtime.archive.job import Job, ShardRefused
from runtime.archive.shard import score_stream
from runtime.archive.summary import TAIL_BYTES, failure_reasons, summarise, summary_bytes
from runtime.config import ConfigError, Settings
from runtime.model import Model, ModelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_ITEMS = 1000  # objects per child; ItemBatcher's batches are far smaller
_state: dict[str, Any] = {}


def shard_handler(event: Any, context: Any = None) -> dict[str, Any]:
    items, job = parse_event(event)
    if not job.input_bucket or not job.output_bucket or not job.output_prefix:
        raise ShardRefused("the job needs input_bucket, output_bucket and output_prefix")
    model = checked_model(job)
    client = _client()
    results = [score_s3_object(client, model, job, item) for item in items]
    scored = sum(r.get("scored", 0) for r in results)
    logs.emit({"level": "INFO", "msg": "shard_scored", "objects": len(results), "scored": scored})
    return {"objects": results}


def summary_handler(event: Any, context: Any = None) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise ShardRefused("the summary event must be a JSON object")
    job = Job.parse(event.get("BatchInput"))
    client = _client()
    reasons = failure_reasons(_failed_files(client, event.get("ResultWriterDetails")))
    keys = _list_keys(client, job)
    tails = _read_tails(client, job, keys)
    summary = summarise(job, keys, tails.get, reasons)
    client.put_object(
        Bucket=job.output_bucket,
        Key=f"{job.output_prefix}summary.json",
        Body=summary_bytes(summary),
        ContentType="application/json",
    )
    return summary


def parse_event(event: Any) -> tuple[list[dict[str, Any]], Job]:
    if not isinstance(event, dict):
        raise ShardRefused("the event must be a JSON object")
    job = Job.parse(event.get("BatchInput"))
    items = event.get("Items")
    if items is None and "Item" in event:
        items = [event["Item"]]
    if not isinstance(items, list) or not 0 < len(items) <= MAX_ITEMS:
        raise ShardRefused(f"the event needs Items: a list of 1 to {MAX_ITEMS} objects")
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("Key"), str):
            raise ShardRefused("every item needs a Key, as the S3 ItemReader lists it")
    return items, job


def checked_model(job: Job) -> Model:
    """The function's model, loaded once per container, if it is the execution's."""
    model = _state.get("model")
    if model is None:
        try:
            settings = Settings.from_env()
            from runtime.model_source import make_loader

            model = make_loader(settings)()
        except (ConfigError, ModelError) as exc:
            raise ShardRefused(f"the function cannot load its model: {exc}") from None
        _state["model"] = model
    if model.model_id != job.model_sha256:
        raise ShardRefused(
            f"the function serves model {model.model_id}, but the execution was started "
            f"for {job.model_sha256}: redeploy or restart with the right model_sha256"
        )
    return model


def score_s3_object(client: Any, model: Model, job: Job, item: dict[str, Any]) -> dict[str, Any]:
    key = item["Key"]
    if key.endswith("/"):  # a folder marker in the listing
        return {"key": key, "skipped": "folder"}
    result_key = job.result_key(key)
    etag = item.get("Etag") or item.get("ETag")
    reader = s3_io.ObjectReader(
        client, job.input_bucket, key, etag if isinstance(etag, str) else None
    )
    source = {"bucket": job.input_bucket, "key": key, "etag": etag, "size": item.get("Size")}
    sink = s3_io.MultipartSink(client, job.output_bucket, result_key)
    counts = score_stream(reader, key, source, model, job, sink)
    return {"key": key, "result_key": result_key, **counts.as_json()}


def _client() -> Any:
    client = _state.get("client")
    if client is None:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        client = _state["client"] = s3_io.client(endpoint)
    return client


def _list_keys(client: Any, job: Job) -> list[str]:
    keys: list[str] = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=job.input_bucket, Prefix=job.input_prefix):
        keys.extend(entry["Key"] for entry in page.get("Contents", []))
    return keys


TAIL_READERS = 16  # concurrent ranged GETs: one per result, thousands in a large run


def _read_tails(client: Any, job: Job, keys: list[str]) -> dict[str, bytes]:
    """The last TAIL_BYTES of each input object's result that exists, by result key."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import ClientError

    def read_tail(result_key: str) -> tuple[str, bytes | None]:
        try:
            response = client.get_object(
                Bucket=job.output_bucket, Key=result_key, Range=f"bytes=-{TAIL_BYTES}"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return result_key, None
            raise
        data: bytes = response["Body"].read(TAIL_BYTES + 1)
        return result_key, data

    result_keys = []
    for key in keys:
        try:
            result_keys.append(job.result_key(key))
        except ShardRefused:  # a folder marker
            continue
    with ThreadPoolExecutor(TAIL_READERS) as pool:
        return {k: v for k, v in pool.map(read_tail, result_keys) if v is not None}


def _failed_files(client: Any, details: Any) -> list[list[dict[str, Any]]]:
    """The FAILED result files Distributed Map's ResultWriter listed in its manifest."""
    import json

    if not isinstance(details, dict) or not details.get("Key"):
        return []
    bucket, key = details.get("Bucket"), details["Key"]
    manifest = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read(TAIL_BYTES))
    files = []
    for entry in manifest.get("ResultFiles", {}).get("FAILED", []):
        body = client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
        files.append(json.loads(body))
    return files
