"""ModelHolder's refresh schedule with a stand-in check and an injected clock."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from runtime.model import ModelError
from runtime.model_source import ModelHolder, ModelUnavailable
from tests.fakes import FAKE_SOURCE, FakeClock, FakeModel


class Other(FakeModel):
    model_id = "e" * 64


class Check:
    """A refresh check that answers from a script: None, a model or an exception."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, current: Any) -> Any:
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def holder_with(check: Check, clock: FakeClock, refresh_s: float = 30.0) -> ModelHolder:
    holder = ModelHolder(
        FakeModel, FAKE_SOURCE, clock=clock, refresh=check, refresh_s=refresh_s, service="svc"
    )
    holder.get()
    return holder


def test_at_most_one_check_per_interval_whatever_the_request_rate() -> None:
    clock, check = FakeClock(), Check(None)
    holder = holder_with(check, clock)
    for _ in range(1000):
        holder.get()
    assert check.calls == 0
    clock.advance(29.999)
    holder.get()
    assert check.calls == 0
    clock.advance(0.001)
    for _ in range(1000):
        holder.get()
    assert check.calls == 1
    for step in range(10):  # ten intervals, many requests each: ten checks
        clock.advance(30.0)
        for _ in range(50):
            holder.get()
        assert check.calls == step + 2


def test_a_new_model_serves_from_the_request_that_found_it() -> None:
    clock, new = FakeClock(), Other()
    holder = holder_with(Check(new), clock)
    assert holder.get().model_id == FakeModel.model_id
    clock.advance(30)
    assert holder.get() is new
    assert holder.model is new


@pytest.mark.parametrize(
    "failure",
    [
        ModelError("model SHA-256 is aa..., expected bb..."),
        ModelUnavailable("cannot read the pointer s3://b/p.json: InternalError"),
        RuntimeError("a bug"),
    ],
)
def test_a_failed_refresh_keeps_the_old_model_with_a_log_line_that_is_a_metric(
    failure: Exception, capsys: pytest.CaptureFixture[str]
) -> None:
    clock, check = FakeClock(), Check(failure)
    holder = holder_with(check, clock)
    old = holder.get()
    capsys.readouterr()
    clock.advance(30)
    assert holder.get() is old
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["msg"] == "model_refresh_failed"
    assert line["serving"] == FakeModel.model_id
    assert str(failure) in line["error"]
    assert line["ModelRefreshFailed"] == 1
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Metrics"] == [{"Name": "ModelRefreshFailed", "Unit": "Count"}]
    assert line[directive["Dimensions"][0][0]] == "svc"
    holder.get()
    assert check.calls == 1  # not retried before the next interval
    clock.advance(30)
    holder.get()
    assert check.calls == 2


def test_a_successful_refresh_is_logged_and_counted(capsys: pytest.CaptureFixture[str]) -> None:
    clock = FakeClock()
    holder = holder_with(Check(Other()), clock)
    capsys.readouterr()
    clock.advance(30)
    holder.get()
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["msg"], line["model"], line["previous"]) == (
        "model_refreshed",
        Other.model_id,
        FakeModel.model_id,
    )
    assert line["ModelRefreshed"] == 1


def test_requests_during_a_slow_check_are_served_the_loaded_model() -> None:
    clock, started, release = FakeClock(), threading.Event(), threading.Event()
    new = Other()

    def slow(current: Any) -> Any:
        started.set()
        assert release.wait(5)
        return new

    holder = ModelHolder(FakeModel, FAKE_SOURCE, clock=clock, refresh=slow, refresh_s=30)
    old = holder.get()
    clock.advance(30)
    checking = threading.Thread(target=holder.get)
    checking.start()
    assert started.wait(5)
    assert holder.get() is old  # not blocked behind the check
    release.set()
    checking.join(5)
    assert holder.get() is new


def test_without_a_refresh_the_holder_never_checks() -> None:
    clock = FakeClock()
    holder = ModelHolder(FakeModel, FAKE_SOURCE, clock=clock)
    model = holder.get()
    clock.advance(1e9)
    assert holder.get() is model
