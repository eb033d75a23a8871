"""Loading the model from S3 (a real moto server over HTTP) or a path, and recovering."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from pathlib import Path

import pytest

from runtime.adapter import create_adapter
from runtime.config import ModelSource, Settings
from runtime.errors import ModelUnavailable
from runtime.model import Model
from runtime.model_source import ModelHolder
from tests import events
from tests.corpus import SPAM_EXAMPLE, tutorial_model_bytes
from tests.events import check_response
from tests.fakes import FakeClock, FakeModel
from tests.s3server import closed_port_endpoint, moto_server

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

KEY = "models/spam/model.npz"


@pytest.fixture(scope="module")
def s3():
    with moto_server() as server:
        yield server


@pytest.fixture(scope="module")
def other_model_path(tmp_path_factory) -> Path:
    """A second valid model with a different id, to tell the two apart."""
    path = tmp_path_factory.mktemp("other") / "model.npz"
    path.write_bytes(tutorial_model_bytes(sublinear_tf=False))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def s3_settings(s3, bucket: str, cache_dir: Path, **env: str) -> Settings:
    return Settings.from_env(
        {
            "MODEL_S3_URI": f"s3://{bucket}/{KEY}",
            "MODEL_S3_ENDPOINT_URL": s3.endpoint_url,
            "MODEL_CACHE_DIR": str(cache_dir),
            **env,
        }
    )


def predict(app) -> tuple[int, dict, dict]:
    result = app(events.rest_v1(body=json.dumps({"text": SPAM_EXAMPLE})), None)
    return result["statusCode"], result["headers"], check_response(result, payload_version="1.0")


def health(app) -> dict:
    return check_response(app(events.http_v2("GET", "/health"), None), payload_version="2.0")


def test_loads_from_s3_and_serves(s3, small_model_path, tmp_path):
    bucket = s3.bucket()
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=small_model_path.read_bytes())
    app = create_adapter(s3_settings(s3, bucket, tmp_path))
    status, _, body = predict(app)
    assert (status, body["label"]) == (200, "spam")
    assert body["model"] == sha256_of(small_model_path)
    assert health(app)["source"] == {"kind": "s3", "location": f"s3://{bucket}/{KEY}"}


def test_pinned_sha256_that_matches_is_served(s3, small_model_path, tmp_path):
    bucket = s3.bucket()
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=small_model_path.read_bytes())
    settings = s3_settings(s3, bucket, tmp_path, MODEL_SHA256=sha256_of(small_model_path))
    assert predict(create_adapter(settings))[0] == 200


def test_sha256_mismatch_is_refused(s3, small_model_path, other_model_path, tmp_path):
    bucket = s3.bucket()
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=other_model_path.read_bytes())
    pinned = sha256_of(small_model_path)
    app = create_adapter(s3_settings(s3, bucket, tmp_path, MODEL_SHA256=pinned))
    status, _, body = predict(app)
    assert status == 503
    message = body["error"]["message"]
    assert message.startswith("model refused:")
    assert pinned in message
    assert sha256_of(other_model_path) in message
    assert health(app)["status"] == "unavailable"


def test_object_whose_metadata_digest_disagrees_is_refused(s3, small_model_path, tmp_path):
    bucket = s3.bucket()
    s3.client.put_object(
        Bucket=bucket, Key=KEY, Body=small_model_path.read_bytes(), Metadata={"sha256": "0" * 64}
    )
    status, _, body = predict(create_adapter(s3_settings(s3, bucket, tmp_path)))
    assert status == 503
    assert "metadata" in body["error"]["message"]


def test_object_that_fails_s3_checksum_is_refused(s3, small_model_path, tmp_path):
    bucket = s3.bucket()
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    s3.client.put_object(
        Bucket=bucket,
        Key=KEY,
        Body=small_model_path.read_bytes(),
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=wrong,  # moto stores it unchecked, as if the object rotted after upload
    )
    status, _, body = predict(create_adapter(s3_settings(s3, bucket, tmp_path)))
    assert status == 503
    assert "checksum" in body["error"]["message"].lower()


def test_object_that_is_not_a_model_is_refused(s3, tmp_path):
    bucket = s3.bucket()
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=b"PK\x03\x04 definitely not a model")
    status, _, body = predict(create_adapter(s3_settings(s3, bucket, tmp_path)))
    assert status == 503
    assert body["error"]["message"].startswith("model refused:")


def test_missing_object_at_cold_start_is_503_then_recovers_with_backoff(
    s3, small_model_path, tmp_path
):
    bucket = s3.bucket()
    clock = FakeClock()
    settings = s3_settings(s3, bucket, tmp_path)
    holder = ModelHolder.from_settings(settings, clock=clock)
    app = create_adapter(settings, holder)  # the cold start: the load fails, nothing raises
    assert holder.attempts == 1

    status, headers, body = predict(app)
    assert status == 503
    assert body["error"]["code"] == "model_unavailable"
    assert f"s3://{bucket}/{KEY}" in body["error"]["message"]
    assert "NoSuchKey" in body["error"]["message"]
    assert headers["Retry-After"] == "1"
    assert holder.attempts == 1  # within the backoff: S3 is not asked again

    clock.advance(1)
    assert predict(app)[1]["Retry-After"] == "2"  # retried, failed, waits longer
    clock.advance(2)
    assert predict(app)[1]["Retry-After"] == "4"
    assert holder.attempts == 3

    s3.client.put_object(Bucket=bucket, Key=KEY, Body=small_model_path.read_bytes())
    assert predict(app)[0] == 503  # still backing off
    clock.advance(4)
    status, _, body = predict(app)
    assert (status, body["label"]) == (200, "spam")
    assert holder.attempts == 4
    assert predict(app)[0] == 200
    assert holder.attempts == 4  # loaded once, then cached in the container


def test_missing_bucket_is_503(s3, tmp_path):
    settings = s3_settings(s3, "no-such-bucket-here", tmp_path)
    status, _, body = predict(create_adapter(settings))
    assert status == 503
    assert "NoSuchBucket" in body["error"]["message"]


def test_unreachable_s3_is_503_not_a_crash(tmp_path):
    settings = Settings.from_env(
        {
            "MODEL_S3_URI": f"s3://bucket/{KEY}",
            "MODEL_S3_ENDPOINT_URL": closed_port_endpoint(),
            "MODEL_CACHE_DIR": str(tmp_path),
        }
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        status, _, body = predict(create_adapter(settings))
    assert status == 503
    assert body["error"]["message"].startswith(f"cannot read s3://bucket/{KEY}:")


def test_standard_aws_endpoint_variable_is_honoured(s3, small_model_path, tmp_path, monkeypatch):
    bucket = s3.bucket()
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=small_model_path.read_bytes())
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint_url)
    settings = Settings.from_env(
        {"MODEL_S3_URI": f"s3://{bucket}/{KEY}", "MODEL_CACHE_DIR": str(tmp_path)}
    )
    assert settings.s3_endpoint_url is None
    assert predict(create_adapter(settings))[0] == 200


def test_pinned_version_alone_does_not_make_the_tmp_copy_trusted(s3, small_model_path, tmp_path):
    """/tmp can be rewritten: a version id says which object, not that the copy is it."""
    bucket = s3.bucket(versioned=True)
    data = small_model_path.read_bytes()
    version = s3.client.put_object(
        Bucket=bucket, Key=KEY, Body=data, Metadata={"sha256": sha256_of(small_model_path)}
    )["VersionId"]
    settings = s3_settings(s3, bucket, tmp_path, MODEL_S3_VERSION=version)
    assert predict(create_adapter(settings))[0] == 200
    assert [path.read_bytes() for path in tmp_path.iterdir()] == [data]  # the cached copy
    s3.client.delete_object(Bucket=bucket, Key=KEY, VersionId=version)
    # A new container finds the copy in /tmp, but nothing can vouch for it any more.
    status, _, body = predict(create_adapter(settings))
    assert status == 503
    assert "NoSuchVersion" in body["error"]["message"] or "404" in body["error"]["message"]


def test_pinned_sha256_is_served_from_the_tmp_cache_without_s3(s3, small_model_path, tmp_path):
    bucket = s3.bucket()
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=small_model_path.read_bytes())
    settings = s3_settings(s3, bucket, tmp_path, MODEL_SHA256=sha256_of(small_model_path))
    assert predict(create_adapter(settings))[0] == 200
    s3.client.delete_object(Bucket=bucket, Key=KEY)
    assert predict(create_adapter(settings))[0] == 200


def put_recorded(s3, bucket: str, path: Path) -> None:
    """Upload as exporter/upload.py does: the SHA-256 recorded as object metadata."""
    s3.client.put_object(
        Bucket=bucket, Key=KEY, Body=path.read_bytes(), Metadata={"sha256": sha256_of(path)}
    )


def test_copy_the_recorded_sha256_vouches_for_is_used_without_downloading(
    s3, small_model_path, tmp_path
):
    bucket = s3.bucket()
    put_recorded(s3, bucket, small_model_path)
    settings = s3_settings(s3, bucket, tmp_path)
    assert predict(create_adapter(settings))[0] == 200
    (cached,) = tmp_path.glob("*.npz")
    inode = cached.stat().st_ino
    assert predict(create_adapter(settings))[0] == 200
    assert cached.stat().st_ino == inode  # HEAD said the copy is the object: not rewritten


def test_object_without_a_recorded_sha256_is_not_cached(s3, small_model_path, tmp_path):
    """Unpinned and unrecorded, a copy could never be verified, so none is kept."""
    bucket = s3.bucket()
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=small_model_path.read_bytes())
    assert predict(create_adapter(s3_settings(s3, bucket, tmp_path)))[0] == 200
    assert list(tmp_path.iterdir()) == []


def test_replaced_object_is_not_served_stale_from_the_cache(
    s3, small_model_path, other_model_path, tmp_path
):
    bucket = s3.bucket()
    put_recorded(s3, bucket, small_model_path)
    settings = s3_settings(s3, bucket, tmp_path)
    assert predict(create_adapter(settings))[2]["model"] == sha256_of(small_model_path)
    put_recorded(s3, bucket, other_model_path)
    assert predict(create_adapter(settings))[2]["model"] == sha256_of(other_model_path)
    (cached,) = tmp_path.glob("*.npz")
    assert cached.read_bytes() == other_model_path.read_bytes()  # the copy follows


def test_damaged_cache_is_ignored(s3, small_model_path, tmp_path):
    bucket = s3.bucket()
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=small_model_path.read_bytes())
    settings = s3_settings(s3, bucket, tmp_path, MODEL_SHA256=sha256_of(small_model_path))
    assert predict(create_adapter(settings))[0] == 200
    (cached,) = tmp_path.glob("*.npz")
    cached.write_bytes(b"garbage")
    status, _, body = predict(create_adapter(settings))
    assert (status, body["model"]) == (200, sha256_of(small_model_path))


def test_unwritable_cache_only_costs_the_cache(s3, small_model_path, tmp_path):
    bucket = s3.bucket()
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=small_model_path.read_bytes())
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    settings = s3_settings(s3, bucket, blocker / "cache")
    assert predict(create_adapter(settings))[0] == 200


# Path sources and the holder itself


def test_path_source(small_model_path):
    settings = Settings(source=ModelSource("path", str(small_model_path)))
    assert predict(create_adapter(settings))[2]["label"] == "spam"


def test_path_source_with_wrong_sha256_is_refused(small_model_path):
    settings = Settings(source=ModelSource("path", str(small_model_path)), model_sha256="0" * 64)
    status, _, body = predict(create_adapter(settings))
    assert status == 503
    assert "expected " + "0" * 64 in body["error"]["message"]


def test_missing_path_recovers_once_the_file_appears(small_model_path, tmp_path):
    target = tmp_path / "model.npz"
    clock = FakeClock()
    settings = Settings(source=ModelSource("path", str(target)))
    app = create_adapter(settings, ModelHolder.from_settings(settings, clock=clock))
    assert predict(app)[0] == 503
    target.write_bytes(small_model_path.read_bytes())
    clock.advance(1)
    assert predict(app)[0] == 200


def test_backoff_doubles_up_to_the_cap():
    clock = FakeClock()
    calls = []

    def fail():
        calls.append(clock())
        raise ModelUnavailable("down")

    holder = ModelHolder(fail, ModelSource("path", "/x"), clock=clock, max_delay=10)
    waits = []
    for _ in range(7):
        with pytest.raises(ModelUnavailable) as info:
            holder.get()
        waits.append(info.value.retry_after)
        clock.advance(info.value.retry_after)
    assert waits == [1, 2, 4, 8, 10, 10, 10]
    assert len(calls) == 7


def test_unexpected_loader_exceptions_become_unavailable(capsys):
    def broken():
        raise KeyError("internal detail")

    holder = ModelHolder(broken, ModelSource("path", "/x"))
    with pytest.raises(ModelUnavailable, match="could not be loaded") as info:
        holder.get()
    assert "internal detail" not in info.value.message  # clients see no internals...
    assert info.value.code == "model_unavailable"
    assert "KeyError: 'internal detail'" in capsys.readouterr().out  # ...the log has them


def test_error_code_follows_the_latest_failure():
    failures = iter([ModelUnavailable("bad env", code="misconfigured"), OSError("disk")])

    def flaky():
        raise next(failures)

    clock = FakeClock()
    holder = ModelHolder(flaky, ModelSource("path", "/x"), clock=clock)
    with pytest.raises(ModelUnavailable) as first:
        holder.get()
    clock.advance(first.value.retry_after)
    with pytest.raises(ModelUnavailable) as second:
        holder.get()
    assert (first.value.code, second.value.code) == ("misconfigured", "model_unavailable")


def test_concurrent_first_requests_load_once():
    loads = []

    def slow_load():
        loads.append(1)
        time.sleep(0.05)  # widen the window in which other threads arrive
        return FakeModel()

    holder = ModelHolder(slow_load, ModelSource("path", "/x"))
    barrier = threading.Barrier(8)
    results = []

    def worker():
        barrier.wait()
        results.append(holder.get())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len(results) == 8
    assert len({id(model) for model in results}) == 1


def test_model_from_s3_equals_model_from_path(s3, small_model_path, tmp_path):
    bucket = s3.bucket()
    s3.client.put_object(Bucket=bucket, Key=KEY, Body=small_model_path.read_bytes())
    holder = ModelHolder.from_settings(s3_settings(s3, bucket, tmp_path))
    from_s3 = holder.get()
    from_path = Model.from_path(small_model_path)
    texts = [SPAM_EXAMPLE, "see you at lunch", ""]
    assert from_s3.predict(texts) == from_path.predict(texts)
    assert from_s3.model_id == from_path.model_id
