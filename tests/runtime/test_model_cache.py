"""The /tmp copy of the S3 model: verified before use, repaired when wrong, never left half-written.

Requests go through tests/s3proxy.py in "pass" mode only to count what moto is asked.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.config import Settings
from runtime.model_source import ModelHolder
from tests.paths import ROOT
from tests.s3proxy import s3_proxy
from tests.s3server import moto_server

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

PROJECT_ROOT = ROOT
KEY = "cache/model.npz"


@pytest.fixture(scope="module")
def s3():
    with moto_server() as server:
        yield server


@pytest.fixture
def model_bytes(small_model_path) -> bytes:
    return small_model_path.read_bytes()


@pytest.fixture
def digest(model_bytes) -> str:
    return hashlib.sha256(model_bytes).hexdigest()


@pytest.fixture
def bucket(s3, model_bytes, digest) -> str:
    name = s3.bucket(versioned=True)
    s3.client.put_object(Bucket=name, Key=KEY, Body=model_bytes, Metadata={"sha256": digest})
    return name


def environment(endpoint_url: str, bucket: str, cache_dir: Path, **env: str) -> dict[str, str]:
    return {
        "MODEL_S3_URI": f"s3://{bucket}/{KEY}",
        "MODEL_S3_ENDPOINT_URL": endpoint_url,
        "MODEL_CACHE_DIR": str(cache_dir),
        **env,
    }


def load(endpoint_url: str, bucket: str, cache_dir: Path, **env: str) -> str:
    """A cold start's load; the served model's id."""
    settings = Settings.from_env(environment(endpoint_url, bucket, cache_dir, **env))
    return ModelHolder.from_settings(settings).get().model_id


def the_copy(cache_dir: Path) -> Path:
    (copy,) = cache_dir.iterdir()
    return copy


def methods(proxy) -> list[str]:
    return [line.split()[0] for line in proxy.forwarded]


def tamper(path: Path) -> None:
    """Rewrite the copy as an attacker with /tmp access could: same size, other bytes."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("pin", ["sha256", "version", "none"])
def test_a_tampered_copy_is_not_served_and_is_repaired(
    s3, bucket, tmp_path, model_bytes, digest, pin
):
    with s3_proxy(s3.endpoint_url, "pass") as proxy:
        env = {}
        if pin == "sha256":
            env["MODEL_SHA256"] = digest
        elif pin == "version":
            head = s3.client.head_object(Bucket=bucket, Key=KEY)
            env["MODEL_S3_VERSION"] = head["VersionId"]
        assert load(proxy.endpoint_url, bucket, tmp_path, **env) == digest
        tamper(the_copy(tmp_path))
        proxy.forwarded.clear()

        assert load(proxy.endpoint_url, bucket, tmp_path, **env) == digest
        # Pinned: the copy is not the pin, so it is fetched at once; otherwise S3's
        # recorded sha256 (one HEAD) says the copy is wrong first.
        assert methods(proxy) == (["GET"] if pin == "sha256" else ["HEAD", "GET"])
        assert the_copy(tmp_path).read_bytes() == model_bytes  # repaired

        proxy.forwarded.clear()
        assert load(proxy.endpoint_url, bucket, tmp_path, **env) == digest
        assert methods(proxy) == ([] if pin == "sha256" else ["HEAD"])  # a hit again


def test_a_damaged_sidecar_of_the_old_cache_format_changes_nothing(s3, bucket, tmp_path, digest):
    """The cache used to trust a JSON sidecar ({"etag": 123} gave 503 forever): gone."""
    assert load(s3.endpoint_url, bucket, tmp_path) == digest
    copy = the_copy(tmp_path)
    copy.with_suffix(".json").write_text(json.dumps({"etag": 123}))
    assert load(s3.endpoint_url, bucket, tmp_path) == digest
    assert load(s3.endpoint_url, bucket, tmp_path, MODEL_SHA256=digest) == digest


def test_a_copy_over_model_max_bytes_is_a_miss(s3, bucket, tmp_path, model_bytes, digest):
    env = {"MODEL_SHA256": digest, "MODEL_MAX_BYTES": str(len(model_bytes) + 10)}
    with s3_proxy(s3.endpoint_url, "pass") as proxy:
        assert load(proxy.endpoint_url, bucket, tmp_path, **env) == digest
        the_copy(tmp_path).write_bytes(model_bytes + bytes(1000))
        proxy.forwarded.clear()
        assert load(proxy.endpoint_url, bucket, tmp_path, **env) == digest
        assert methods(proxy) == ["GET"]
    assert the_copy(tmp_path).read_bytes() == model_bytes


def test_a_directory_where_the_copy_belongs_costs_only_the_cache(s3, bucket, tmp_path, digest):
    assert load(s3.endpoint_url, bucket, tmp_path) == digest
    copy = the_copy(tmp_path)
    copy.unlink()
    copy.mkdir()
    assert load(s3.endpoint_url, bucket, tmp_path) == digest
    assert sorted(path.name for path in tmp_path.iterdir()) == [copy.name]  # no temp file


def test_an_unwritable_cache_directory_leaves_nothing_behind(s3, bucket, tmp_path, digest):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    assert load(s3.endpoint_url, bucket, blocker / "cache") == digest
    assert list(tmp_path.iterdir()) == [blocker]


FULL_DISK = """
import json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from runtime.config import Settings
from runtime.model_source import ModelHolder
print(json.dumps({"model": ModelHolder.from_settings(Settings.from_env()).get().model_id}))
"""


def test_a_full_disk_leaves_no_temporary_file_and_the_next_load_repairs(
    s3, bucket, tmp_path, model_bytes, digest
):
    """RLIMIT_FSIZE makes the write fail halfway, as a full /tmp would."""
    env = environment(s3.endpoint_url, bucket, tmp_path, MODEL_SHA256=digest)
    done = subprocess.run(
        [sys.executable, "-B", "-c", FULL_DISK, str(len(model_bytes) // 2)],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[-1] == {"model": digest}  # the function serves; only the cache failed
    (warning,) = [line for line in lines if line.get("msg") == "model_cache_unwritable"]
    assert "File too large" in warning["error"]
    assert list(tmp_path.iterdir()) == []  # the half-written temporary file is gone

    assert load(s3.endpoint_url, bucket, tmp_path, MODEL_SHA256=digest) == digest
    assert the_copy(tmp_path).read_bytes() == model_bytes


@pytest.mark.parametrize("pin", [True, False])
def test_a_fifo_at_the_entry_is_answered_within_the_load_deadline(
    s3, bucket, tmp_path, digest, pin
):
    """Issue 20: the cold start once blocked forever opening a FIFO left at the entry."""
    import threading
    import time

    from runtime.s3_loader import S3_LOAD_BUDGET, S3Loader

    env = {"MODEL_SHA256": digest} if pin else {}
    settings = Settings.from_env(environment(s3.endpoint_url, bucket, tmp_path, **env))
    entry = Path(S3Loader(settings)._cache.path)
    entry.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(entry)
    served: list[str] = []
    started = time.monotonic()
    loader = threading.Thread(
        target=lambda: served.append(ModelHolder.from_settings(settings).get().model_id),
        daemon=True,
    )
    loader.start()
    loader.join(S3_LOAD_BUDGET + 10)  # boto3's import and client come before the deadline
    assert not loader.is_alive(), "the load never ended"
    assert served == [digest], "the model is served from S3 instead"
    assert time.monotonic() - started < S3_LOAD_BUDGET + 10
