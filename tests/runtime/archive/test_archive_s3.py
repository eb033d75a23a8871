"""The archive scorer against a moto S3 server, through real boto3: a prefix of shards.

Shards: JSON Lines with malformed lines, gzip plain text, a CSV, and a folder marker. The
union of the results equals the model's own predictions on every valid line, a malformed
line is a result line with its reason, and scoring again writes the same bytes.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.archive import handler
from runtime.archive.job import ShardRefused
from runtime.model import Model
from tests.corpus import make_corpus
from tests.s3proxy import s3_proxy
from tests.s3server import MotoS3, moto_server

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

TEXTS, _ = make_corpus(n=400, seed=11)


@pytest.fixture(scope="module")
def s3() -> Iterator[MotoS3]:
    with moto_server() as server:
        yield server


@pytest.fixture
def model(small_model_path: Path, monkeypatch: pytest.MonkeyPatch, s3: MotoS3) -> Model:
    monkeypatch.setenv("MODEL_PATH", str(small_model_path))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint_url)
    monkeypatch.setattr(handler, "_state", {})
    return Model.from_path(small_model_path)


def shards() -> dict[str, bytes]:
    jsonl = [json.dumps({"id": f"m{i}", "text": t}) for i, t in enumerate(TEXTS[:150])]
    jsonl[10:10] = ["{broken", '{"id": 1}', "", '"just a string"']
    text = "\n".join(t.replace("\n", " ") for t in TEXTS[150:300]) + "\n"
    csv = "label,text\n" + "".join(f'ham,"{t}"\n' for t in TEXTS[300:])
    return {
        "archive/in/2026-11/a.jsonl": ("\n".join(jsonl) + "\n").encode(),
        "archive/in/2026-11/b.txt.gz": gzip.compress(text.encode(), mtime=0),
        "archive/in/c.csv": csv.encode(),
        "archive/in/empty-folder/": b"",
    }


def upload(s3: MotoS3) -> tuple[str, list[dict[str, Any]]]:
    bucket = s3.bucket()
    for key, body in shards().items():
        s3.client.put_object(Bucket=bucket, Key=key, Body=body)
    listed = s3.client.list_objects_v2(Bucket=bucket, Prefix="archive/in/")["Contents"]
    # What the S3 ItemReader hands a child: Key, Size and Etag per object.
    items = [{"Key": o["Key"], "Size": o["Size"], "Etag": o["ETag"]} for o in listed]
    return bucket, items


def job(bucket: str, model: Model, **fields: str) -> dict[str, str]:
    return {
        "model_sha256": model.model_id,
        "input_bucket": bucket,
        "input_prefix": "archive/in/",
        "output_bucket": bucket,
        "output_prefix": "archive/out/",
        **fields,
    }


def result_lines(s3: MotoS3, bucket: str, key: str) -> list[dict[str, Any]]:
    body = s3.client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return [json.loads(line) for line in body.splitlines()]


def test_a_prefix_of_shards_is_scored_exactly_and_a_rerun_writes_the_same_bytes(
    s3: MotoS3, model: Model
) -> None:
    bucket, items = upload(s3)
    event = {"Items": items, "BatchInput": job(bucket, model)}
    returned = handler.shard_handler(event, None)["objects"]
    assert {"key": "archive/in/empty-folder/", "skipped": "folder"} in returned

    scored: dict[str, list[str]] = {}
    malformed: list[tuple[str, int, str]] = []
    for entry in returned:
        if "skipped" in entry:
            continue
        lines = result_lines(s3, bucket, entry["result_key"])
        header, records, trailer = lines[0], lines[1:-1], lines[-1]["summary"]
        assert header["model_sha256"] == model.model_id == trailer["model_sha256"]
        assert header["input"]["key"] == entry["key"]
        assert header["classes"] == list(model.classes)
        scored[entry["key"]] = [r["label"] for r in records if "label" in r]
        malformed += [(entry["key"], r["line"], r["error"]) for r in records if "error" in r]
        assert trailer["scored"] == entry["scored"] == len(scored[entry["key"]])
        probabilities = [r["scores"] for r in records if "scores" in r]
        texts = expected_texts(entry["key"])
        assert probabilities == model.predict_proba(texts).tolist()

    for key in scored:
        assert scored[key] == list(model.predict(expected_texts(key)))
    assert sum(map(len, scored.values())) == len(TEXTS)
    jsonl = "archive/in/2026-11/a.jsonl"
    assert [(line, reason.split(":")[0]) for key, line, reason in malformed if key == jsonl] == [
        (11, "invalid JSON"),
        (12, 'no "text" field'),
        (14, "not a JSON object"),
    ]

    before = {
        e["result_key"]: body(s3, bucket, e["result_key"]) for e in returned if "result_key" in e
    }
    handler.shard_handler(event, None)
    assert {k: body(s3, bucket, k) for k in before} == before

    summary = handler.summary_handler({"BatchInput": job(bucket, model)}, None)
    assert summary["messages_scored"] == len(TEXTS)
    assert summary["malformed_lines"] == 3
    assert summary["failed_shards"] == 0
    assert summary["labels"] == {str(c): list(model.predict(TEXTS)).count(c) for c in model.classes}
    stored = json.loads(body(s3, bucket, "archive/out/summary.json"))
    assert stored == summary


def expected_texts(key: str) -> list[str]:
    if key.endswith("a.jsonl"):
        return TEXTS[:150]
    if key.endswith(".gz"):
        return [t.replace("\n", " ") for t in TEXTS[150:300]]
    return TEXTS[300:]


def body(s3: MotoS3, bucket: str, key: str) -> bytes:
    data: bytes = s3.client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def test_a_model_other_than_the_executions_is_refused_with_both_digests(
    s3: MotoS3, model: Model
) -> None:
    bucket, items = upload(s3)
    event = {"Items": items[:1], "BatchInput": job(bucket, model, model_sha256="cd" * 32)}
    with pytest.raises(ShardRefused, match=f"serves model {model.model_id}.*for {'cd' * 32}"):
        handler.shard_handler(event, None)
    listed = s3.client.list_objects_v2(Bucket=bucket, Prefix="archive/out/")
    assert listed.get("KeyCount") == 0  # nothing written


def test_an_object_changed_since_it_was_listed_is_refused_and_leaves_no_result(
    s3: MotoS3, model: Model
) -> None:
    bucket, items = upload(s3)
    (item,) = [i for i in items if i["Key"].endswith("c.csv")]
    s3.client.put_object(Bucket=bucket, Key=item["Key"], Body=b"label,text\nham,changed\n")
    with pytest.raises(ShardRefused, match="changed after it was listed"):
        handler.shard_handler({"Item": item, "BatchInput": job(bucket, model)}, None)
    summary = handler.summary_handler({"BatchInput": job(bucket, model)}, None)
    assert summary["failed_shards"] == 3  # nothing was scored in this bucket
    assert {"key": item["Key"], "reason": "no result object"} in summary["failed"]


def test_the_local_command_writes_the_s3_runs_results_and_summary(
    s3: MotoS3, model: Model, small_model_path: Path, tmp_path: Path
) -> None:
    import score_archive

    bucket, items = upload(s3)
    handler.shard_handler({"Items": items, "BatchInput": job(bucket, model)}, None)
    s3_summary = handler.summary_handler({"BatchInput": job(bucket, model)}, None)
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    for key, data in shards().items():
        if not key.endswith("/"):
            path = in_dir / key.removeprefix("archive/in/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    argv = ["--local", str(in_dir), "--output", str(out_dir), "--model", str(small_model_path)]
    assert score_archive.main([*argv, "--workers", "2"]) == 0
    for key in shards():
        if key.endswith("/"):
            continue
        relative = key.removeprefix("archive/in/")
        local = (out_dir / "results" / f"{relative}.result.jsonl").read_bytes().splitlines()
        remote = body(s3, bucket, f"archive/out/results/{relative}.result.jsonl").splitlines()
        assert local[1:] == remote[1:]  # the header names where the input was
    local_summary = json.loads((out_dir / "summary.json").read_text())
    assert local_summary == s3_summary


def test_a_read_broken_mid_object_resumes_where_it_stopped_and_writes_the_same_result(
    s3: MotoS3, model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket, items = upload(s3)
    (item,) = [i for i in items if i["Key"].endswith("a.jsonl")]
    event = {"Item": item, "BatchInput": job(bucket, model)}
    (clean,) = handler.shard_handler(event, None)["objects"]
    expected = body(s3, bucket, clean["result_key"])
    s3.client.delete_object(Bucket=bucket, Key=clean["result_key"])
    # The first GET's body is cut by a TCP reset half way; everything after passes.
    with s3_proxy(s3.endpoint_url, "reset", "pass") as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.endpoint_url)
        monkeypatch.setattr(handler, "_state", {"model": model})
        handler.shard_handler(event, None)
        gets = [line for line in proxy.forwarded if line.startswith("GET ")]
    assert len(gets) == 2  # the object again, from where the first read stopped
    assert body(s3, bucket, clean["result_key"]) == expected
