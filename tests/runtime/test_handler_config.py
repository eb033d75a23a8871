"""Environment settings, and what importing the handler (the cold start) does with them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from runtime.config import BUNDLED_MODEL_PATH, ConfigError, ModelSource, Settings
from runtime.npz import MAX_FILE_BYTES
from tests.paths import ROOT

PROJECT_ROOT = ROOT
SHA = "ab" * 32
S3 = {"MODEL_S3_URI": "s3://bucket/model.npz"}


def test_defaults():
    settings = Settings.from_env({})
    assert settings.source == ModelSource("bundled", BUNDLED_MODEL_PATH)
    assert str(PROJECT_ROOT / "artifacts" / "model.npz") == BUNDLED_MODEL_PATH
    assert settings.model_sha256 is None
    assert settings.max_batch_size == 1000
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.cors_origins == ()
    assert settings.s3_endpoint_url is None
    assert settings.cache_dir == "/tmp/sms-spam-model"
    assert settings.model_max_bytes == 32 * 1024 * 1024


def test_s3_source():
    settings = Settings.from_env(
        {
            "MODEL_S3_URI": "s3://my-bucket/models/v1/model.npz",
            "MODEL_S3_VERSION": "3HL4kqtJlcpXroDTDmJ",
            "MODEL_SHA256": SHA.upper(),
            "MODEL_S3_ENDPOINT_URL": "http://127.0.0.1:5000",
            "MODEL_CACHE_DIR": "/var/cache/x",
            "MODEL_MAX_BYTES": "1000000",
        }
    )
    source = settings.source
    assert (source.kind, source.bucket, source.key) == ("s3", "my-bucket", "models/v1/model.npz")
    assert source.version_id == "3HL4kqtJlcpXroDTDmJ"
    assert source.describe() == "s3://my-bucket/models/v1/model.npz?versionId=3HL4kqtJlcpXroDTDmJ"
    assert settings.model_sha256 == SHA
    assert settings.s3_endpoint_url == "http://127.0.0.1:5000"
    assert settings.cache_dir == "/var/cache/x"
    assert settings.model_max_bytes == 1_000_000


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:5000",
        "https://s3.eu-west-1.amazonaws.com",
        "http://[::1]:9000",
        "http://minio.internal:9000/",
    ],
)
def test_valid_endpoint_urls(endpoint):
    settings = Settings.from_env(
        {"MODEL_S3_URI": "s3://bucket/k", "MODEL_S3_ENDPOINT_URL": endpoint}
    )
    assert settings.s3_endpoint_url == endpoint


@pytest.mark.parametrize(
    "bucket", ["abc", "my-bucket.v1", "a" * 63, "ap-alias-1a2b3c-s3alias", "1.2.3.com"]
)
def test_valid_bucket_names(bucket):
    assert Settings.from_env({"MODEL_S3_URI": f"s3://{bucket}/k"}).source.bucket == bucket


def test_path_source_and_limits():
    settings = Settings.from_env(
        {
            "MODEL_PATH": "/opt/model.npz",
            "MAX_BATCH_SIZE": "50",
            "MAX_BODY_BYTES": "6000000",
            "CORS_ALLOW_ORIGIN": " https://a.example , https://b.example ",
            "TMPDIR": "/scratch",
        }
    )
    assert settings.source == ModelSource("path", "/opt/model.npz")
    assert (settings.max_batch_size, settings.max_body_bytes) == (50, 6_000_000)
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.cache_dir == "/scratch/sms-spam-model"


def test_blank_values_mean_unset():
    assert Settings.from_env({"MODEL_S3_URI": "  ", "MAX_BATCH_SIZE": ""}) == Settings.from_env({})


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"MODEL_S3_URI": "s3://b/k", "MODEL_PATH": "/m"}, "not both"),
        ({"MODEL_S3_VERSION": "v1"}, "needs MODEL_S3_URI"),
        ({"MODEL_S3_URI": "https://b/k"}, "MODEL_S3_URI"),
        ({"MODEL_S3_URI": "s3://bucket"}, "MODEL_S3_URI"),
        ({"MODEL_S3_URI": "s3://bucket/"}, "MODEL_S3_URI"),
        ({"MODEL_S3_URI": "s3://bucket/dir/"}, "MODEL_S3_URI"),
        ({"MODEL_S3_URI": "s3:///key"}, "MODEL_S3_URI"),
        ({"MODEL_SHA256": "abc"}, "MODEL_SHA256"),
        ({"MODEL_SHA256": "g" * 64}, "MODEL_SHA256"),
        ({"MAX_BATCH_SIZE": "many"}, "MAX_BATCH_SIZE must be an integer"),
        ({"MAX_BATCH_SIZE": "0"}, "at least 1"),
        ({"MAX_BODY_BYTES": "-5"}, "at least 1"),
        ({"MAX_BODY_BYTES": "6000001"}, "at most 6000000"),
        ({"MAX_BATCH_SIZE": "50001"}, "at most 50000"),
        ({"CORS_ALLOW_ORIGIN": "*, https://a.example"}, "CORS_ALLOW_ORIGIN"),
        ({"MODEL_MAX_BYTES": "0"}, "MODEL_MAX_BYTES must be at least 1"),
        ({"MODEL_MAX_BYTES": str(MAX_FILE_BYTES + 1)}, "MODEL_MAX_BYTES must be at most"),
        # Endpoints and bucket names: refused at cold start, not retried as outages.
        (S3 | {"MODEL_S3_ENDPOINT_URL": "not a url"}, "MODEL_S3_ENDPOINT_URL must be an http"),
        (S3 | {"MODEL_S3_ENDPOINT_URL": "ftp://host"}, "MODEL_S3_ENDPOINT_URL must be an http"),
        (S3 | {"MODEL_S3_ENDPOINT_URL": "http://h:99999"}, "MODEL_S3_ENDPOINT_URL is not a valid"),
        (S3 | {"MODEL_S3_ENDPOINT_URL": "http://h:port"}, "MODEL_S3_ENDPOINT_URL is not a valid"),
        (S3 | {"MODEL_S3_ENDPOINT_URL": "http://a b"}, "MODEL_S3_ENDPOINT_URL"),
        (S3 | {"MODEL_S3_ENDPOINT_URL": "http://x/?q=1"}, "MODEL_S3_ENDPOINT_URL must be a plain"),
        (S3 | {"MODEL_S3_ENDPOINT_URL": "http://bad_host"}, "invalid host name 'bad_host'"),
        (S3 | {"AWS_ENDPOINT_URL_S3": "localhost:9000"}, "AWS_ENDPOINT_URL_S3 must be an http"),
        (S3 | {"AWS_ENDPOINT_URL": "nonsense"}, "AWS_ENDPOINT_URL must be an http"),
        ({"MODEL_S3_URI": "s3://ab/k"}, "'ab' is not a valid S3 bucket name: it has 2 characters"),
        ({"MODEL_S3_URI": f"s3://{'a' * 64}/k"}, "S3 allows 3 to 63"),
        ({"MODEL_S3_URI": "s3://My_Bucket/k"}, "MODEL_S3_URI: 'My_Bucket' is not a valid S3"),
        ({"MODEL_S3_URI": "s3://-bucket/k"}, "begin and end with a letter or a digit"),
        ({"MODEL_S3_URI": "s3://my..bucket/k"}, "two adjacent dots"),
        ({"MODEL_S3_URI": "s3://192.168.5.4/k"}, "formatted as an IP address"),
        ({"MODEL_S3_URI": "s3://bucket/" + "k" * 1025}, "longer than S3's 1024 bytes"),
    ],
)
def test_invalid_settings_are_refused_with_the_variable_named(env, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("*", r"\*")):
        Settings.from_env(env)


def run_cold_start(env: dict[str, str], script: str) -> dict:
    """Import the handler in a fresh interpreter, as Lambda does, and report on it.

    Every line the process printed must be strict JSON: the log lines, then the report.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MODEL_", "OPENBLAS"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [json.loads(line, parse_constant=_refuse) for line in result.stdout.splitlines()]
    return {**lines[-1], "log": lines[:-1]}


def _refuse(constant: str) -> None:
    raise ValueError(f"not strict JSON: {constant}")


COLD_START = """
import json, os, sys
import runtime
numpy_before = "numpy" in sys.modules
import runtime.handler as h
out = h.lambda_handler({"body": "WINNER!! claim your free prize now"}, None)
numpy_after_one = "numpy" in sys.modules
batch = h.lambda_handler({"body": {"texts": ["free prize"] * 64}}, None)  # vectorised
numpy_after_batch = "numpy" in sys.modules
from threadpoolctl import threadpool_info
print(json.dumps({
    "numpy_before": numpy_before,
    "numpy_after_one": numpy_after_one,
    "numpy_after_batch": numpy_after_batch,
    "batch_status": batch["statusCode"],
    "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    "blas_threads": [
        i["num_threads"] for i in threadpool_info() if i["internal_api"] == "openblas"
    ],
    "boto3": "boto3" in sys.modules,
    "status": out["statusCode"],
    "retry_after": out["headers"].get("Retry-After"),
    "body": json.loads(out["body"]),
}))
"""


@pytest.mark.slow
def test_cold_start_from_a_path_sets_threads_and_never_imports_boto3(small_model_path):
    report = run_cold_start({"MODEL_PATH": str(small_model_path)}, COLD_START)
    assert report["numpy_before"] is False
    assert report["numpy_after_one"] is False  # one message is scored without NumPy
    assert (report["numpy_after_batch"], report["batch_status"]) == (True, 200)
    assert report["threads"] == "1"
    assert report["blas_threads"] == [1]  # OpenBLAS really started with one thread
    assert report["boto3"] is False
    assert report["status"] == 200
    assert report["body"]["label"] == "spam"


@pytest.mark.slow
def test_cold_start_keeps_an_explicit_thread_setting(small_model_path):
    env = {"MODEL_PATH": str(small_model_path), "OPENBLAS_NUM_THREADS": "3"}
    assert run_cold_start(env, COLD_START)["threads"] == "3"


@pytest.mark.slow
def test_cold_start_with_invalid_configuration_answers_503_not_a_crash():
    report = run_cold_start({"MAX_BATCH_SIZE": "lots"}, COLD_START)
    assert report["status"] == 503
    assert report["body"]["error"]["code"] == "misconfigured"
    assert "MAX_BATCH_SIZE" in report["body"]["error"]["message"]
    assert report["retry_after"] is None  # retrying cannot fix the environment
    logged = [record["msg"] for record in report["log"]]
    # The ColdStart metric with the first request; the probe sends two requests.
    assert logged == ["misconfigured", "metrics", "request", "request"]


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        (S3 | {"MODEL_S3_ENDPOINT_URL": "not a url"}, "MODEL_S3_ENDPOINT_URL"),
        ({"MODEL_S3_URI": "s3://Not A Bucket/model.npz"}, "MODEL_S3_URI"),
    ],
)
def test_cold_start_with_a_bad_endpoint_or_bucket_answers_misconfigured(env, variable):
    """Not model_unavailable retried for ever: nothing but a new configuration can help."""
    report = run_cold_start(env, COLD_START)
    assert report["status"] == 503
    assert report["body"]["error"]["code"] == "misconfigured"
    assert variable in report["body"]["error"]["message"]
    assert report["retry_after"] is None
    assert report["boto3"] is False  # refused before any S3 client exists


@pytest.mark.slow
def test_cold_start_with_a_missing_model_file_answers_503(tmp_path):
    report = run_cold_start({"MODEL_PATH": str(tmp_path / "absent.npz")}, COLD_START)
    assert report["status"] == 503
    assert report["body"]["error"]["code"] == "model_unavailable"
    assert "absent.npz" in report["body"]["error"]["message"]


@pytest.mark.slow
def test_largest_batch_response_fits_lambdas_6_mb_limit(small_model_path):
    """LAMBDA_MAX_BATCH_SIZE is derived from a response size; check the derivation holds."""
    from runtime.adapter import create_adapter
    from runtime.config import LAMBDA_MAX_BATCH_SIZE, LAMBDA_MAX_BODY_BYTES
    from tests import events

    settings = Settings.from_env(
        {"MODEL_PATH": str(small_model_path), "MAX_BATCH_SIZE": str(LAMBDA_MAX_BATCH_SIZE)}
    )
    texts = ["WINNER free prize", "see you at lunch", ""] * (LAMBDA_MAX_BATCH_SIZE // 3 + 1)
    body = json.dumps({"texts": texts[:LAMBDA_MAX_BATCH_SIZE]})
    response = create_adapter(settings)(events.rest_v1(body=body), None)
    assert response["statusCode"] == 200
    assert len(json.dumps(response).encode()) < LAMBDA_MAX_BODY_BYTES


POINTER = {"MODEL_POINTER_S3_URI": "s3://models-bucket/serving/pointer.json"}


def test_a_pointer_is_the_model_source_with_a_refresh_interval():
    settings = Settings.from_env({**POINTER, "MODEL_REFRESH_S": "15"})
    assert settings.source == ModelSource(
        "pointer",
        "s3://models-bucket/serving/pointer.json",
        "models-bucket",
        "serving/pointer.json",
    )
    assert settings.model_refresh_s == 15
    assert Settings.from_env(POINTER).model_refresh_s == 60


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**POINTER, **S3}, "MODEL_POINTER_S3_URI or MODEL_S3_URI / MODEL_PATH, not both"),
        ({**POINTER, "MODEL_PATH": "m.npz"}, "not both"),
        ({**POINTER, "MODEL_SHA256": SHA}, "MODEL_SHA256 pins one file"),
        ({"MODEL_POINTER_S3_URI": "s3://models-bucket/"}, "MODEL_POINTER_S3_URI: expected"),
        ({**POINTER, "MODEL_REFRESH_S": "0"}, "MODEL_REFRESH_S must be at least 1"),
        ({**POINTER, "MODEL_REFRESH_S": "soon"}, "MODEL_REFRESH_S must be an integer"),
        ({"REPORTS_S3_URI": "s3://Reports/x"}, "REPORTS_S3_URI: 'Reports' is not a valid"),
        ({"REPORTS_S3_URI": "/var/reports"}, "REPORTS_S3_URI: expected s3://bucket/prefix/"),
    ],
)
def test_learning_settings_are_checked_at_cold_start(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Settings.from_env(env)


def test_reports_s3_uri_is_normalised_to_a_prefix():
    assert Settings.from_env({}).reports_s3_uri is None
    settings = Settings.from_env({"REPORTS_S3_URI": "s3://reports-bucket/incoming"})
    assert settings.reports_s3_uri == "s3://reports-bucket/incoming/"
