"""The request log line survives whatever goes wrong around it."""

from __future__ import annotations

import json
import time

import pytest

from runtime import logs


def test_a_failing_metrics_line_does_not_lose_the_request_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(latency_ms: float) -> str:
        raise RuntimeError("metrics bug")

    logs.request(
        request_id="r1",
        event_kind="rest_v1",
        route="POST /predict",
        status=200,
        texts=1,
        started=time.perf_counter(),
        model_id="m",
        error=None,
        metrics=broken,
    )
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert (record["msg"], record["status"], record["request_id"]) == ("request", 200, "r1")
