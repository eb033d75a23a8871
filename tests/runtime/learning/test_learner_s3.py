"""The learner against S3 (the moto server, real boto3 over HTTP), end to end.

Reports in S3 -> learner handler -> a new model stored by its SHA-256 -> the pointer moved
to it, the old model kept as ``previous``; a second run changes nothing; a rollback and
a forget through exporter/learn.py's command line.
"""

from __future__ import annotations

import json

import pytest

from runtime import pointer as pointers
from runtime.learner_handler import handler
from runtime.learning.command import main
from runtime.learning.relearn import LearnableModel
from runtime.modelfile import sha256_hex
from runtime.reports import S3ReportStore, make_s3_client
from tests.learning import fitted, report
from tests.runtime.learning.test_learning_guards import campaign_text
from tests.s3server import moto_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def s3():
    with moto_server() as server:
        yield server


@pytest.fixture
def deployment(s3):
    """A bucket with the exported model, a pointer to it, and a report prefix."""
    bucket = s3.bucket()
    data = fitted("multinomial_hashing").data
    sha = sha256_hex(data)
    s3.client.put_object(Bucket=bucket, Key=f"models/{sha}.npz", Body=data)
    first = pointers.Pointer(pointers.ModelRef(f"s3://{bucket}/models/{sha}.npz", sha))
    s3.client.put_object(Bucket=bucket, Key="pointer.json", Body=pointers.render(first))
    env = {
        "REPORTS_S3_URI": f"s3://{bucket}/reports/",
        "MODEL_POINTER_S3_URI": f"s3://{bucket}/pointer.json",
        "MODELS_S3_URI": f"s3://{bucket}/models/",
        "MODEL_S3_ENDPOINT_URL": s3.endpoint_url,
    }
    store = S3ReportStore(bucket, "reports/", make_s3_client(s3.endpoint_url))
    return bucket, data, env, store


def read_pointer(s3, bucket: str) -> pointers.Pointer:
    body = s3.client.get_object(Bucket=bucket, Key="pointer.json")["Body"].read()
    return pointers.parse(body)


def test_reports_in_s3_become_a_new_model_and_pointer(s3, deployment, capsys) -> None:
    bucket, data, env, store = deployment
    reports = [report(campaign_text(i), "spam", f"user{i}") for i in range(8)]
    for r in reports:
        store.put(r)
    summary = handler({}, None, environ=env)
    assert summary["promoted"] is True, summary
    assert summary["learned"] == 8
    pointer = read_pointer(s3, bucket)
    assert pointer.sha256 == summary["model_sha256"]
    assert pointer.model_uri == f"s3://{bucket}/models/{pointer.sha256}.npz"
    assert pointer.previous[0].sha256 == sha256_hex(data)
    stored = s3.client.get_object(Bucket=bucket, Key=f"models/{pointer.sha256}.npz")["Body"].read()
    assert sha256_hex(stored) == pointer.sha256
    assert stored == LearnableModel(data).relearn(reports).data
    logged = capsys.readouterr().out
    assert '"msg":"learning_run"' in logged
    assert all(r.text not in logged for r in reports)  # no report text in the log

    # Nothing new: the next scheduled run leaves model and pointer alone.
    again = handler({}, None, environ=env)
    assert again["promoted"] is False
    assert again["reason"] == "nothing_to_learn"
    assert read_pointer(s3, bucket) == pointer

    # Roll back through the command line: the rolled-back reports are retired (copied to
    # retired/rolled_back/, deleted from reports/), so the next scheduled run does not
    # learn them again.
    assert (
        main(
            [
                "--pointer",
                env["MODEL_POINTER_S3_URI"],
                "--reports",
                env["REPORTS_S3_URI"],
                "--rollback",
                "--endpoint-url",
                s3.endpoint_url,
            ]
        )
        == 0
    )
    assert read_pointer(s3, bucket).sha256 == sha256_hex(data)
    rolled = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rolled["retired"] == {"rolled_back": 8}
    assert _keys(s3, bucket, "reports/") == set()
    retired = {f"retired/rolled_back/{r.report_id}.json" for r in reports}
    assert _keys(s3, bucket, "retired/") == retired
    after_rollback = handler({}, None, environ=env)
    assert after_rollback["reason"] == "nothing_to_learn", after_rollback
    assert read_pointer(s3, bucket).sha256 == sha256_hex(data)

    # An operator requeues them (a move back into reports/); the next run learns them.
    for key in retired:
        name = key.rsplit("/", 1)[1]
        s3.client.copy_object(
            Bucket=bucket, Key=f"reports/{name}", CopySource={"Bucket": bucket, "Key": key}
        )
        s3.client.delete_object(Bucket=bucket, Key=key)
    assert handler({}, None, environ=env)["model_sha256"] == pointer.sha256

    # Forget two reports through the command line: ungated, promoted, deleted.
    capsys.readouterr()
    forget = [reports[0].report_id, reports[3].report_id]
    code = main(
        [
            "--reports",
            env["REPORTS_S3_URI"],
            "--models",
            env["MODELS_S3_URI"],
            "--pointer",
            env["MODEL_POINTER_S3_URI"],
            "--endpoint-url",
            s3.endpoint_url,
            "--forget",
            *forget,
        ]
    )
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0, result
    kept = [r for r in reports if r.report_id not in forget]
    assert result["model_sha256"] == sha256_hex(LearnableModel(data).relearn(kept).data)
    assert result["forgotten"] == 2
    assert read_pointer(s3, bucket).sha256 == result["model_sha256"]
    assert _keys(s3, bucket, "reports/") == {f"reports/{r.report_id}.json" for r in kept}

    # Rolling back now would serve the forgotten reports again: refused, pointer kept.
    rollback = ["--pointer", env["MODEL_POINTER_S3_URI"], "--reports", env["REPORTS_S3_URI"]]
    assert main([*rollback, "--rollback", "--endpoint-url", s3.endpoint_url]) == 2
    refusal = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "forgotten since" in refusal["error"]
    assert read_pointer(s3, bucket).sha256 == result["model_sha256"]


def _keys(s3, bucket: str, prefix: str) -> set[str]:
    listed = s3.client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"] for o in listed}


def test_a_missing_setting_is_named(s3, deployment) -> None:
    _, _, env, _ = deployment
    summary = handler({}, None, environ={k: v for k, v in env.items() if k != "MODELS_S3_URI"})
    assert summary == {"promoted": False, "error": "the learner needs MODELS_S3_URI"}


def test_a_pointer_changed_during_the_run_is_not_overwritten(s3, deployment, monkeypatch) -> None:
    bucket, _data, env, store = deployment
    for i in range(6):
        store.put(report(campaign_text(i), "spam", f"user{i}"))
    from runtime.learning import run as run_module

    real_learn = run_module.learn

    def learn_while_someone_promotes(*args, **kwargs):
        outcome = real_learn(*args, **kwargs)
        other = pointers.Pointer(
            pointers.ModelRef(f"s3://{bucket}/models/{'c' * 64}.npz", "c" * 64)
        )
        s3.client.put_object(Bucket=bucket, Key="pointer.json", Body=pointers.render(other))
        return outcome

    monkeypatch.setattr(run_module, "learn", learn_while_someone_promotes)
    summary = handler({}, None, environ=env)
    assert "changed while this run was learning" in summary["error"]
    assert read_pointer(s3, bucket).sha256 == "c" * 64


def test_a_model_that_could_not_be_stored_is_never_pointed_at(s3, deployment) -> None:
    bucket, _data, env, store = deployment
    for i in range(6):
        store.put(report(campaign_text(i), "spam", f"user{i}"))
    before = read_pointer(s3, bucket)
    broken = {**env, "MODELS_S3_URI": "s3://no-such-bucket-for-models/models/"}
    summary = handler({}, None, environ=broken)
    assert summary["promoted"] is False
    assert "cannot write s3://no-such-bucket-for-models/models/" in summary["error"]
    assert read_pointer(s3, bucket) == before
    # The reports are still there: the next run learns them.
    assert handler({}, None, environ=env)["learned"] == 6


def test_promote_seeds_a_pointer_in_s3_and_refuses_a_file_that_cannot_serve(
    s3, tmp_path, capsys
) -> None:
    bucket = s3.bucket()
    model = tmp_path / "model.npz"
    model.write_bytes(fitted("multinomial_hashing").data)
    sha = sha256_hex(model.read_bytes())
    places = ["--pointer", f"s3://{bucket}/pointer.json", "--models", f"s3://{bucket}/models/"]
    endpoint = ["--endpoint-url", s3.endpoint_url]
    assert main([*places, *endpoint, "--promote", str(model)]) == 0
    assert read_pointer(s3, bucket) == pointers.Pointer(
        pointers.ModelRef(f"s3://{bucket}/models/{sha}.npz", sha)
    )
    stored = s3.client.get_object(Bucket=bucket, Key=f"models/{sha}.npz")["Body"].read()
    assert stored == model.read_bytes()
    model.write_bytes(b"not a model")  # refused before anything is written
    assert main([*places, *endpoint, "--promote", str(model)]) == 2
    assert "error" in json.loads(capsys.readouterr().out.splitlines()[-1])
    assert read_pointer(s3, bucket).sha256 == sha
