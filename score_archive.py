"""Score an archive of messages: on AWS with the ScoreArchive state machine, or locally.

    python score_archive.py --input s3://bucket/archive/in/ --output s3://bucket/archive/out/ \\
        --state-machine ARN --model-sha256 HEX
    python score_archive.py --local IN_DIR --output OUT_DIR --model model.npz

Both write one result per input object and summary.json (docs/archive.md). This is a thin
command over runtime/archive/: the S3 run starts an execution and watches the results
appear; the local run uses the same shard scorer in a process pool.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from runtime.archive.job import FORMATS, Job, ShardRefused
from runtime.archive.summary import TAIL_BYTES

POLL_SECONDS = 2.0


def parse_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise SystemExit(f"not an s3://bucket/prefix/ URI: {uri}")
    bucket, _, prefix = uri[5:].partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def reading(args: argparse.Namespace) -> dict[str, str]:
    return {
        "format": args.format,
        "text_field": args.text_field,
        "id_field": args.id_field,
        "encoding": args.encoding,
    }


def run_local(args: argparse.Namespace) -> dict[str, Any]:
    from runtime.archive.local import input_keys
    from runtime.archive.local import run_local as score

    total = len(input_keys(args.local))
    started, done, messages = time.monotonic(), 0, 0

    def progress(outcome: dict[str, Any]) -> None:
        nonlocal done, messages
        done += 1
        messages += int(outcome.get("scored", 0))
        show(done, total, messages, time.monotonic() - started)

    return score(
        args.local,
        args.output,
        args.model,
        workers=args.workers,
        reading=reading(args),
        progress=progress,
    )


def run_s3(args: argparse.Namespace) -> dict[str, Any]:
    import boto3

    if not args.state_machine or not args.model_sha256:
        raise SystemExit("--input needs --state-machine ARN and --model-sha256 HEX")
    in_bucket, in_prefix = parse_s3_uri(args.input)
    out_bucket, out_prefix = parse_s3_uri(args.output)
    job = {
        "model_sha256": args.model_sha256,
        "input_bucket": in_bucket,
        "input_prefix": in_prefix,
        "output_bucket": out_bucket,
        "output_prefix": out_prefix,
        **reading(args),
    }
    checked = Job.parse(job)  # refused here, before anything runs, if it would be there
    s3 = boto3.client("s3", endpoint_url=args.endpoint_url)
    sfn = boto3.client("stepfunctions", endpoint_url=args.endpoint_url)
    keys = [k for k in list_keys(s3, in_bucket, in_prefix) if not k.endswith("/")]
    execution = sfn.start_execution(stateMachineArn=args.state_machine, input=json.dumps(job))
    arn = execution["executionArn"]
    print(f"started {arn}: {len(keys)} objects", file=sys.stderr)
    started, seen = time.monotonic(), {}  # result key -> messages scored
    while True:
        status = sfn.describe_execution(executionArn=arn)
        for key in keys:
            result_key = checked.result_key(key)
            if result_key not in seen:
                counts = read_counts(s3, out_bucket, result_key)
                if counts is not None:
                    seen[result_key] = int(counts.get("scored", 0))
        show(len(seen), len(keys), sum(seen.values()), time.monotonic() - started)
        if status["status"] != "RUNNING":
            break
        time.sleep(POLL_SECONDS)
    print(file=sys.stderr)
    if status["status"] != "SUCCEEDED":
        raise SystemExit(
            f"execution {status['status']}: {status.get('error', '')} "
            f"{status.get('cause', '')}".strip()
        )
    body = s3.get_object(Bucket=out_bucket, Key=f"{out_prefix}summary.json")["Body"]
    summary: dict[str, Any] = json.loads(body.read())
    return summary


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [entry["Key"] for entry in page.get("Contents", [])]
    return keys


def read_counts(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    from runtime.archive.results import parse_trailer

    try:
        tail = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=-{TAIL_BYTES}")["Body"].read()
    except ClientError:
        return None
    return parse_trailer(tail)


def show(done: int, total: int, messages: int, elapsed: float) -> None:
    rate = messages / elapsed if elapsed > 0 else 0.0
    print(
        f"\rshards {done}/{total}  messages {messages:,}  {rate:,.0f} msg/s",
        end="",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", help="s3://bucket/prefix/ of the objects to score")
    source.add_argument("--local", metavar="IN_DIR", help="score the files of this folder")
    parser.add_argument("--output", required=True, help="s3://bucket/prefix/ or OUT_DIR")
    parser.add_argument("--model", help="model file (--local)")
    parser.add_argument("--workers", type=int, help="processes (--local; default: cores)")
    parser.add_argument("--state-machine", help="ScoreArchive's ARN (the stack's output)")
    parser.add_argument("--model-sha256", help="the model the function must serve")
    parser.add_argument("--endpoint-url", help="AWS endpoint (tests, local emulators)")
    parser.add_argument("--format", choices=FORMATS, default="auto")
    parser.add_argument("--text-field", default="text", help="JSONL field or CSV header")
    parser.add_argument("--id-field", default="id", help="JSONL id field")
    parser.add_argument("--encoding", choices=("utf-8", "latin-1"), default="utf-8")
    args = parser.parse_args(argv)
    try:
        if args.local:
            if not args.model:
                parser.error("--local needs --model")
            summary = run_local(args)
            print(file=sys.stderr)
        else:
            summary = run_s3(args)
    except ShardRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=1, sort_keys=True))
    return 1 if summary["failed_shards"] else 0


if __name__ == "__main__":
    sys.exit(main())
