"""The S3 load against a moto server behind a slow, huge or faulty network (tests/s3proxy.py).

The only time-related assertions are generous upper bounds on a deadline (seconds of
slack on a 1 s budget where the unbounded behaviour would take minutes): they check
that the deadline exists, not how fast anything is.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from runtime.config import Settings
from runtime.errors import ModelUnavailable
from runtime.model_source import ModelHolder
from runtime.s3_loader import S3_MAX_ATTEMPTS, S3Loader
from tests.s3proxy import HUGE_LENGTH, s3_proxy
from tests.s3server import moto_server

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

KEY = "models/model.npz"
SLACK = 3.0  # seconds past a deadline that still count as "stopped at the deadline"


@pytest.fixture(scope="module")
def s3():
    with moto_server() as server:
        yield server


@pytest.fixture
def bucket(s3, small_model_path) -> str:
    name = s3.bucket()
    digest = hashlib.sha256(small_model_path.read_bytes()).hexdigest()
    s3.client.put_object(
        Bucket=name, Key=KEY, Body=small_model_path.read_bytes(), Metadata={"sha256": digest}
    )
    return name


def holder_for(
    endpoint_url: str, bucket: str, cache_dir: Path, *, budget: float = 5.0, **env: str
) -> ModelHolder:
    settings = Settings.from_env(
        {
            "MODEL_S3_URI": f"s3://{bucket}/{KEY}",
            "MODEL_S3_ENDPOINT_URL": endpoint_url,
            "MODEL_CACHE_DIR": str(cache_dir),
            **env,
        }
    )
    return ModelHolder(S3Loader(settings, budget=budget), settings.source)


def failure(holder: ModelHolder) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as info:
        holder.get()
    return info.value.message, time.monotonic() - started


def test_a_dripping_body_is_cut_off_at_the_load_deadline(s3, bucket, tmp_path, small_model_path):
    with s3_proxy(s3.endpoint_url, "drip") as proxy:
        message, elapsed = failure(holder_for(proxy.endpoint_url, bucket, tmp_path, budget=1.0))
        assert "no complete answer within the 1 s load deadline" in message
        assert elapsed < 1.0 + SLACK  # the drip alone would take over 8 minutes
        assert proxy.wait_until_idle(SLACK)  # the reading thread hung up too
        assert proxy.bytes_sent < small_model_path.stat().st_size
    assert list(tmp_path.iterdir()) == []


def test_stalled_response_headers_are_cut_off_at_the_load_deadline(s3, bucket, tmp_path):
    with s3_proxy(s3.endpoint_url, "stall") as proxy:
        message, elapsed = failure(holder_for(proxy.endpoint_url, bucket, tmp_path, budget=1.0))
        assert "load deadline" in message
        assert elapsed < 1.0 + SLACK
        assert proxy.gets() == 1


def test_an_object_over_model_max_bytes_is_refused_before_its_body_is_read(s3, bucket, tmp_path):
    with s3_proxy(s3.endpoint_url, "huge") as proxy:
        message, _ = failure(holder_for(proxy.endpoint_url, bucket, tmp_path))
        assert message == (
            f"model refused: s3://{bucket}/{KEY} is {HUGE_LENGTH} bytes, "
            f"more than MODEL_MAX_BYTES ({32 * 1024 * 1024})"
        )
        assert proxy.wait_until_idle(SLACK)  # the connection was dropped, not drained
        assert proxy.bytes_sent < HUGE_LENGTH // 10  # what the socket buffers took, at most
        assert proxy.gets() == 1  # a refusal is not retried


def test_model_max_bytes_is_checked_against_the_real_object(s3, bucket, tmp_path):
    holder = holder_for(s3.endpoint_url, bucket, tmp_path, MODEL_MAX_BYTES="1000")
    message, _ = failure(holder)
    assert message.startswith("model refused:")
    assert "more than MODEL_MAX_BYTES (1000)" in message


def test_a_failing_s3_sees_exactly_s3_max_attempts_gets(s3, bucket, tmp_path):
    with s3_proxy(s3.endpoint_url, "error500") as proxy:
        message, _ = failure(holder_for(proxy.endpoint_url, bucket, tmp_path))
        assert proxy.gets() == S3_MAX_ATTEMPTS == 3
        assert message == (
            f"cannot read s3://{bucket}/{KEY}: InternalError "
            "(We encountered an internal error. Please try again.) (GET, attempt 3)"
        )


def test_retries_stop_when_the_deadline_leaves_no_time_for_them(s3, bucket, tmp_path):
    with s3_proxy(s3.endpoint_url, "error500") as proxy:
        failure(holder_for(proxy.endpoint_url, bucket, tmp_path, budget=0.3))
        # 0.2 s of backoff fits once in 0.3 s; the 0.4 s before a third attempt does not.
        assert proxy.gets() == 2


@pytest.mark.parametrize("fault", ["reset", "error500"])
def test_a_transient_fault_is_retried_and_the_model_served(
    s3, bucket, tmp_path, small_model_path, fault
):
    with s3_proxy(s3.endpoint_url, fault, "pass") as proxy:
        model = holder_for(proxy.endpoint_url, bucket, tmp_path).get()
        assert model.model_id == hashlib.sha256(small_model_path.read_bytes()).hexdigest()
        assert proxy.gets() == 2


def test_a_body_cut_short_is_never_served_or_cached(s3, bucket, tmp_path):
    with s3_proxy(s3.endpoint_url, "reset") as proxy:
        message, _ = failure(holder_for(proxy.endpoint_url, bucket, tmp_path))
        assert message.startswith(f"cannot read s3://{bucket}/{KEY}:")
        assert message.endswith("(GET, attempt 3)")
        assert proxy.gets() == 3
    assert list(tmp_path.iterdir()) == []


def test_a_pinned_intact_copy_is_served_without_any_request(s3, bucket, tmp_path, small_model_path):
    digest = hashlib.sha256(small_model_path.read_bytes()).hexdigest()
    with s3_proxy(s3.endpoint_url, "pass", "error500") as proxy:
        first = holder_for(proxy.endpoint_url, bucket, tmp_path, MODEL_SHA256=digest).get()
        assert proxy.gets() == 1
        # A new container in the same execution environment: the copy in /tmp is the
        # pinned file, so S3 is not asked at all (it would answer 500 now).
        second = holder_for(proxy.endpoint_url, bucket, tmp_path, MODEL_SHA256=digest).get()
        assert len(proxy.forwarded) == 1
    assert first.model_id == second.model_id == digest


def test_an_unpinned_copy_costs_one_head_and_no_get(s3, bucket, tmp_path):
    with s3_proxy(s3.endpoint_url, "pass") as proxy:
        holder_for(proxy.endpoint_url, bucket, tmp_path).get()
        holder_for(proxy.endpoint_url, bucket, tmp_path).get()
        assert [line.split()[0] for line in proxy.forwarded] == ["GET", "HEAD"]
