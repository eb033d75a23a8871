"""exporter/upload.py against a real moto S3 server: upload, then serve what was uploaded."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exporter.upload import UploadError, UploadResult, upload_model
from runtime.adapter import create_adapter
from runtime.config import Settings
from tests import events
from tests.corpus import SPAM_EXAMPLE
from tests.events import check_response
from tests.paths import ROOT
from tests.s3server import moto_server

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

PROJECT_ROOT = ROOT
KEY = "releases/model.npz"


@pytest.fixture(scope="module")
def s3():
    with moto_server() as server:
        yield server


def serve_from(result: UploadResult, s3, cache_dir: Path) -> dict:
    """Configure a function exactly as the upload told us to, and ask it something."""
    env = {**result.environment(), "MODEL_S3_ENDPOINT_URL": s3.endpoint_url}
    app = create_adapter(Settings.from_env({**env, "MODEL_CACHE_DIR": str(cache_dir)}))
    response = app(events.rest_v1(body=json.dumps({"text": SPAM_EXAMPLE})), None)
    return {"status": response["statusCode"], **check_response(response, payload_version="1.0")}


def test_upload_records_sha256_and_the_function_loads_it(s3, small_model_path, tmp_path):
    bucket = s3.bucket()
    data = small_model_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()

    result = upload_model(small_model_path, f"s3://{bucket}/{KEY}", endpoint_url=s3.endpoint_url)

    assert result == UploadResult(
        uri=f"s3://{bucket}/{KEY}", version_id=None, sha256=digest, size=len(data)
    )
    assert result.environment() == {"MODEL_S3_URI": f"s3://{bucket}/{KEY}", "MODEL_SHA256": digest}
    head = s3.client.head_object(Bucket=bucket, Key=KEY, ChecksumMode="ENABLED")
    assert head["Metadata"] == {"sha256": digest}
    assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(digest)).decode()
    assert s3.client.get_object(Bucket=bucket, Key=KEY)["Body"].read() == data

    answer = serve_from(result, s3, tmp_path)
    assert (answer["status"], answer["label"], answer["model"]) == (200, "spam", digest)


def test_versioned_bucket_pins_the_version(s3, small_model_path, tmp_path):
    bucket = s3.bucket(versioned=True)
    first = upload_model(small_model_path, f"s3://{bucket}/{KEY}", endpoint_url=s3.endpoint_url)
    assert first.version_id
    assert first.environment()["MODEL_S3_VERSION"] == first.version_id
    assert list(first.environment()) == ["MODEL_S3_URI", "MODEL_S3_VERSION", "MODEL_SHA256"]
    # A later upload to the same key does not change what the pinned function serves.
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=b"a newer, broken object")
    answer = serve_from(first, s3, tmp_path)
    assert (answer["status"], answer["model"]) == (200, first.sha256)


def test_an_invalid_model_is_not_uploaded(s3, tmp_path):
    bucket = s3.bucket()
    junk = tmp_path / "model.npz"
    junk.write_bytes(b"not a model")
    with pytest.raises(UploadError, match="not a valid model"):
        upload_model(junk, f"s3://{bucket}/{KEY}", endpoint_url=s3.endpoint_url)
    assert s3.client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("s3://bucket", "s3://bucket/key"),
        ("bucket/key", "s3://bucket/key"),
        ("s3://b/dir/", "one object"),
    ],
)
def test_bad_destination_is_refused(small_model_path, uri, fragment):
    with pytest.raises(UploadError, match=fragment):
        upload_model(small_model_path, uri)


def test_deploy_command_names_the_version_when_there_is_one():
    result = UploadResult(uri="s3://b-1/m.npz", version_id="v7", sha256="ab" * 32, size=1)
    assert result.deploy_command() == (
        "sam deploy --template-file dist/template-sms-spam-lambda.yaml "
        "--parameter-overrides ModelS3Uri=s3://b-1/m.npz ModelS3Version=v7 "
        f"ModelSha256={'ab' * 32}"
    )


def test_a_file_over_model_max_bytes_is_not_uploaded(s3, small_model_path):
    bucket = s3.bucket()
    size = small_model_path.stat().st_size
    with pytest.raises(UploadError, match=rf"is {size} bytes, more than the function's MODEL_MAX"):
        upload_model(
            small_model_path, f"s3://{bucket}/{KEY}", endpoint_url=s3.endpoint_url, max_bytes=100
        )
    assert s3.client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_cli_max_bytes_follows_the_function_setting(s3, small_model_path):
    bucket = s3.bucket()
    done = run_cli(
        str(small_model_path),
        f"s3://{bucket}/{KEY}",
        env={"MODEL_S3_ENDPOINT_URL": s3.endpoint_url, "MODEL_MAX_BYTES": "100"},
    )
    assert done.returncode == 1
    assert "MODEL_MAX_BYTES (100)" in done.stderr


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(UploadError, match="cannot read"):
        upload_model(tmp_path / "absent.npz", "s3://bucket/key")


def test_missing_bucket_is_an_upload_error(s3, small_model_path):
    with pytest.raises(UploadError, match="NoSuchBucket"):
        upload_model(
            small_model_path, "s3://no-such-bucket-xyz/m.npz", endpoint_url=s3.endpoint_url
        )


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "exporter/upload.py", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_as_a_script_prints_the_function_settings(s3, small_model_path, tmp_path):
    bucket = s3.bucket()
    done = run_cli(
        str(small_model_path),
        f"s3://{bucket}/{KEY}",
        env={"MODEL_S3_ENDPOINT_URL": s3.endpoint_url},
    )
    assert done.returncode == 0, done.stderr
    printed = dict(line.split("=", 1) for line in done.stdout.splitlines())
    digest = hashlib.sha256(small_model_path.read_bytes()).hexdigest()
    assert printed == {"MODEL_S3_URI": f"s3://{bucket}/{KEY}", "MODEL_SHA256": digest}
    # The pin leads: the deploy command comes first and sets it.
    deploy = (
        "sam deploy --template-file dist/template-sms-spam-lambda.yaml --parameter-overrides "
        f"ModelS3Uri=s3://{bucket}/{KEY} ModelSha256={digest}"
    )
    assert f"\n    {deploy}\n" in done.stderr
    assert done.stderr.index(deploy) < done.stderr.index("or configure the function with")

    # Round trip: the printed values configure a function that serves the model.
    env = {**printed, "MODEL_S3_ENDPOINT_URL": s3.endpoint_url, "MODEL_CACHE_DIR": str(tmp_path)}
    app = create_adapter(Settings.from_env(env))
    result = app(events.direct(SPAM_EXAMPLE), None)
    assert json.loads(result["body"])["model"] == digest


def test_cli_endpoint_option_and_failure_exit_code(s3, small_model_path):
    done = run_cli(
        str(small_model_path), "s3://no-such-bucket-cli/m.npz", "--endpoint-url", s3.endpoint_url
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: upload to s3://no-such-bucket-cli/m.npz failed")
    assert done.stdout == ""
