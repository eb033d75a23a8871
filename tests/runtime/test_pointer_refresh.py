"""Following the model pointer on the moto server: live refresh, refusals and the GET budget."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from runtime import pointer
from runtime.adapter import LambdaAdapter, create_adapter
from runtime.config import Settings
from runtime.model_source import ModelHolder
from runtime.pointer import ModelRef, Pointer
from tests import events
from tests.corpus import tutorial_model_bytes
from tests.fakes import FakeClock
from tests.s3proxy import s3_proxy
from tests.s3server import moto_server

pytestmark = pytest.mark.slow

POINTER_KEY = "serving/pointer.json"


@pytest.fixture(scope="module")
def s3() -> Any:
    with moto_server() as server:
        yield server


@pytest.fixture(scope="module")
def model_files(small_model_path: Path) -> list[bytes]:
    return [small_model_path.read_bytes(), tutorial_model_bytes(sublinear_tf=False)]


class Models:
    """A bucket holding content-named models and the pointer, as the learner leaves them."""

    def __init__(self, s3: Any, files: list[bytes]) -> None:
        self.s3, self.bucket = s3, s3.bucket()
        self.refs = [self.upload(data) for data in files]
        self.point(Pointer(self.refs[0]))

    def upload(self, data: bytes) -> ModelRef:
        digest = hashlib.sha256(data).hexdigest()
        key = f"models/{digest}.npz"
        self.s3.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        return ModelRef(f"s3://{self.bucket}/{key}", digest)

    def point(self, value: Pointer) -> None:
        self.s3.client.put_object(Bucket=self.bucket, Key=POINTER_KEY, Body=pointer.render(value))

    def read_pointer(self) -> Pointer:
        body = self.s3.client.get_object(Bucket=self.bucket, Key=POINTER_KEY)["Body"].read()
        return pointer.parse(body)


@pytest.fixture
def models(s3: Any, model_files: list[bytes]) -> Models:
    return Models(s3, model_files)


def serving(
    models: Models, endpoint: str, cache: Path, clock: Any = time.monotonic, refresh_s: str = "30"
) -> LambdaAdapter:
    settings = Settings.from_env(
        {
            "MODEL_POINTER_S3_URI": f"s3://{models.bucket}/{POINTER_KEY}",
            "MODEL_S3_ENDPOINT_URL": endpoint,
            "MODEL_CACHE_DIR": str(cache),
            "MODEL_REFRESH_S": refresh_s,
        }
    )
    return create_adapter(settings, ModelHolder.from_settings(settings, clock=clock))


def served(app: LambdaAdapter) -> str:
    result = app(events.rest_v1("GET", "/health"), None)
    assert result["statusCode"] == 200, result["body"]
    return str(json.loads(result["body"])["model"])


def pointer_gets(proxy: Any) -> int:
    return sum(line.startswith("GET ") and f"/{POINTER_KEY}" in line for line in proxy.forwarded)


def test_a_running_handler_serves_the_new_model_within_model_refresh_s(
    models: Models, tmp_path: Path
) -> None:
    clock = FakeClock()
    app = serving(models, models.s3.endpoint_url, tmp_path, clock)
    assert served(app) == models.refs[0].sha256
    models.point(pointer.promoted(models.read_pointer(), models.refs[1]))
    clock.advance(29.9)
    assert served(app) == models.refs[0].sha256  # not due yet
    clock.advance(0.1)
    assert served(app) == models.refs[1].sha256  # no restart: the same adapter
    health = json.loads(app(events.rest_v1("GET", "/health"), None)["body"])
    assert health["source"] == {
        "kind": "pointer",
        "location": f"s3://{models.bucket}/{POINTER_KEY}",
    }


def test_the_real_clock_picks_the_new_model_up_within_one_interval(
    models: Models, tmp_path: Path
) -> None:
    app = serving(models, models.s3.endpoint_url, tmp_path, refresh_s="1")
    assert served(app) == models.refs[0].sha256
    models.point(pointer.promoted(models.read_pointer(), models.refs[1]))
    moved = time.monotonic()
    while served(app) != models.refs[1].sha256:
        assert time.monotonic() - moved < 1.0 + 0.5, "not refreshed within MODEL_REFRESH_S"
        time.sleep(0.05)


def test_a_rollback_is_followed_too(models: Models, tmp_path: Path) -> None:
    clock = FakeClock()
    app = serving(models, models.s3.endpoint_url, tmp_path, clock)
    models.point(pointer.promoted(models.read_pointer(), models.refs[1]))
    clock.advance(30)
    assert served(app) == models.refs[1].sha256
    models.point(pointer.rolled_back(models.read_pointer()))
    clock.advance(30)
    assert served(app) == models.refs[0].sha256


def test_a_new_model_with_the_wrong_sha256_never_serves(
    models: Models, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock()
    app = serving(models, models.s3.endpoint_url, tmp_path, clock)
    wrong = ModelRef(models.refs[1].model_uri, models.refs[0].sha256[::-1])
    models.point(Pointer(wrong, (models.refs[0],)))
    capsys.readouterr()
    clock.advance(30)
    assert served(app) == models.refs[0].sha256
    failure = next(
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if '"model_refresh_failed"' in line
    )
    assert f"model SHA-256 is {models.refs[1].sha256}, expected {wrong.sha256}" in failure["error"]
    assert failure["ModelRefreshFailed"] == 1
    models.point(pointer.promoted(Pointer(models.refs[0]), models.refs[1]))  # fixed
    clock.advance(30)
    assert served(app) == models.refs[1].sha256


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m.s3.client.put_object(Bucket=m.bucket, Key=POINTER_KEY, Body=b"{not json"),
        lambda m: m.s3.client.delete_object(Bucket=m.bucket, Key=POINTER_KEY),
        lambda m: m.point(Pointer(ModelRef(f"s3://{m.bucket}/models/missing.npz", "0" * 64))),
    ],
    ids=["garbled", "deleted", "names-a-missing-model"],
)
def test_a_broken_pointer_keeps_the_old_model_serving(
    models: Models, tmp_path: Path, damage: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock()
    app = serving(models, models.s3.endpoint_url, tmp_path, clock)
    damage(models)
    capsys.readouterr()
    clock.advance(30)
    assert served(app) == models.refs[0].sha256
    assert '"model_refresh_failed"' in capsys.readouterr().out


def test_pointer_gets_are_bounded_by_the_interval_and_answered_304(
    models: Models, tmp_path: Path
) -> None:
    clock = FakeClock()
    with s3_proxy(models.s3.endpoint_url, "pass") as proxy:
        app = serving(models, proxy.endpoint_url, tmp_path, clock)
        for _ in range(200):
            served(app)
        assert pointer_gets(proxy) == 1  # the cold start's
        for _ in range(5):
            clock.advance(30)
            for _ in range(100):
                served(app)
        assert pointer_gets(proxy) == 1 + 5
        assert proxy.gets() == pointer_gets(proxy) + 1  # plus the one model download


def test_an_s3_outage_during_a_check_keeps_the_old_model(models: Models, tmp_path: Path) -> None:
    clock = FakeClock()
    with s3_proxy(models.s3.endpoint_url, "pass", "pass", "error500") as proxy:
        app = serving(models, proxy.endpoint_url, tmp_path, clock)
        models.point(pointer.promoted(models.read_pointer(), models.refs[1]))
        clock.advance(30)
        assert served(app) == models.refs[0].sha256
        assert pointer_gets(proxy) == 2


def test_only_the_cold_start_reads_the_pointer_unconditionally(
    models: Models, tmp_path: Path
) -> None:
    clock = FakeClock()
    app = serving(models, models.s3.endpoint_url, tmp_path, clock)
    loader = app.api.holder._refresh.__self__  # type: ignore[union-attr]
    sent: list[dict[str, Any]] = []
    answers: list[int] = []
    client = loader._s3()
    client.meta.events.register(
        "provide-client-params.s3.GetObject", lambda params, **_: sent.append(dict(params))
    )
    client.meta.events.register(
        "after-call.s3.GetObject",
        lambda http_response, **_: answers.append(http_response.status_code),
    )
    etag = models.s3.client.head_object(Bucket=models.bucket, Key=POINTER_KEY)["ETag"]
    clock.advance(30)
    served(app)
    assert [(p["Key"], p.get("IfNoneMatch")) for p in sent] == [(POINTER_KEY, etag)]
    assert answers == [304]


def test_the_tmp_cache_holds_only_the_model_being_served(models: Models, tmp_path: Path) -> None:
    clock = FakeClock()
    app = serving(models, models.s3.endpoint_url, tmp_path, clock)
    for step in range(4):  # back and forth between the two models
        models.point(pointer.promoted(models.read_pointer(), models.refs[(step + 1) % 2]))
        clock.advance(30)
        served(app)
    cached = [path for path in tmp_path.iterdir() if path.suffix == ".npz"]
    assert len(cached) == 1
    assert hashlib.sha256(cached[0].read_bytes()).hexdigest() == served(app)
