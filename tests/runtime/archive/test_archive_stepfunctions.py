"""template.yaml's ScoreArchive definition executed by moto's Step Functions interpreter.

The server (tests/sfn_server.py) interprets the ASL; its Lambda tasks call the archive
handlers in the server process; S3 is moto's. What moto's interpreter lacks is changed,
and only that: it has no ItemBatcher, so each item becomes a one-object batch through an
ItemSelector of the same shape ({"Items": [...], "BatchInput": {"job": ...}}), and its
ResultWriter writes a manifest that lists no result files.
"""

from __future__ import annotations

import copy
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from runtime.model import Model
from tests.project.test_template import load_template
from tests.runtime.archive.test_archive_s3 import TEXTS, shards
from tests.s3server import MotoS3, moto_server

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(small_model_path: Path) -> Iterator[MotoS3]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MODEL_PATH", str(small_model_path))  # the functions' model
        with moto_server("tests.sfn_server") as started:
            yield started


def definition(shard_arn: str, summary_arn: str, **limits: int) -> str:
    machine = load_template()["Resources"]["ArchiveStateMachine"]["Properties"]
    states = copy.deepcopy(machine["Definition"])
    scoring = states["States"]["ScoreShards"]
    batcher = scoring.pop("ItemBatcher")  # moto's interpreter does not know ItemBatcher
    scoring["ItemSelector"] = {
        "Items.$": "States.Array($$.Map.Item.Value)",
        "BatchInput": batcher["BatchInput"],
    }
    text = json.dumps(states)
    values = {"ShardFunctionArn": shard_arn, "SummaryFunctionArn": summary_arn, **limits}
    for name in machine["DefinitionSubstitutions"]:
        text = text.replace("${" + name + "}", str(values[name]))
    return text


def function(client: Any, name: str, handler: str, role: str) -> str:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("placeholder.py", "")  # the server runs the handler from runtime/
    created = client.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler=handler,
        Code={"ZipFile": archive.getvalue()},
    )
    arn: str = created["FunctionArn"]
    return arn


def deploy(server: MotoS3, extra: dict[str, bytes], tolerated: int) -> tuple[str, str]:
    """The functions, the machine and a bucket of shards: (state machine ARN, bucket)."""
    endpoint = server.endpoint_url
    name = f"score-archive-{uuid.uuid4().hex[:8]}"
    iam = boto3.client("iam", endpoint_url=endpoint)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    role = f"arn:aws:iam::123456789012:role/{name}"
    lambdas = boto3.client("lambda", endpoint_url=endpoint)
    template = load_template()["Resources"]
    handlers = [
        template[f"Archive{k}Function"]["Properties"]["Handler"] for k in ("Shard", "Summary")
    ]
    shard = function(lambdas, f"{name}-shard", handlers[0], role)
    summary = function(lambdas, f"{name}-summary", handlers[1], role)
    bucket = server.bucket()
    for key, body in {**shards(), **extra}.items():
        server.client.put_object(Bucket=bucket, Key=key, Body=body)
    sfn = boto3.client("stepfunctions", endpoint_url=endpoint)
    limits = {"BatchSize": 1, "MaxConcurrency": 2, "ToleratedFailurePercentage": tolerated}
    machine: str = sfn.create_state_machine(
        name=name, definition=definition(shard, summary, **limits), roleArn=role
    )["stateMachineArn"]
    return machine, bucket


def run(
    server: MotoS3, model: Model, extra: dict[str, bytes], tolerated: int
) -> tuple[str, dict[str, Any], Any]:
    """Deploy, start an execution as score_archive.py does, wait: (bucket, result, client)."""
    machine, bucket = deploy(server, extra, tolerated)
    sfn = boto3.client("stepfunctions", endpoint_url=server.endpoint_url)
    job = {
        "model_sha256": model.model_id,
        "input_bucket": bucket,
        "input_prefix": "archive/in/",
        "output_bucket": bucket,
        "output_prefix": "archive/out/",
    }
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(job))
    return bucket, wait(sfn, execution["executionArn"]), sfn


def test_the_command_starts_an_execution_shows_progress_and_prints_the_summary(
    server: MotoS3, small_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import score_archive

    model = Model.from_path(small_model_path)
    machine, bucket = deploy(server, {}, tolerated=0)
    argv = [
        *("--input", f"s3://{bucket}/archive/in/", "--output", f"s3://{bucket}/archive/out/"),
        *("--state-machine", machine, "--model-sha256", model.model_id),
        *("--endpoint-url", server.endpoint_url),
    ]
    assert score_archive.main(argv) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["messages_scored"] == len(TEXTS)
    assert summary["objects_scored"] == 3
    assert "shards 3/3" in captured.err  # the progress line, once every result is there
    assert "msg/s" in captured.err


def test_the_state_machine_scores_a_prefix_and_writes_the_summary(
    server: MotoS3, small_model_path: Path
) -> None:
    model = Model.from_path(small_model_path)
    bucket, described, sfn = run(server, model, {}, tolerated=0)
    assert described["status"] == "SUCCEEDED", failure(sfn, described)
    output = json.loads(described["output"])
    assert output["messages_scored"] == len(TEXTS)
    assert output["malformed_lines"] == 3
    assert output["failed_shards"] == 0
    stored = server.client.get_object(Bucket=bucket, Key="archive/out/summary.json")
    assert json.loads(stored["Body"].read()) == output
    results = server.client.list_objects_v2(Bucket=bucket, Prefix="archive/out/results/")
    assert len(results["Contents"]) == 3


def test_a_failed_shard_is_counted_in_the_summary_and_the_rest_are_scored(
    server: MotoS3, small_model_path: Path
) -> None:
    """Within ToleratedFailurePercentage the run succeeds and names the failed shard.

    (moto's interpreter does not fail the Map at 0% either: enforcing the percentage is
    Step Functions' part and is not exercised here.)
    """
    model = Model.from_path(small_model_path)
    broken = {"archive/in/broken.txt.gz": b"\x1f\x8b" + b"\x00" * 40}
    _, described, sfn = run(server, model, broken, tolerated=50)
    assert described["status"] == "SUCCEEDED", failure(sfn, described)
    output = json.loads(described["output"])
    assert output["messages_scored"] == len(TEXTS)
    assert output["failed_shards"] == 1
    assert output["failed"] == [{"key": "archive/in/broken.txt.gz", "reason": "no result object"}]


def failure(sfn: Any, described: dict[str, Any]) -> str:
    history = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    failed = [e for e in history if "Failed" in e["type"]]
    return f"{described.get('error')}: {described.get('cause')}\n{failed[-3:]}"


def wait(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.2)
    raise AssertionError("the execution did not finish within 60 s")
