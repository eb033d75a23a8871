"""The learner Lambda's guard rails and gate, set from its environment, checked and bounded."""

from __future__ import annotations

import json

import pytest

from runtime import learner_handler
from runtime.config import ConfigError
from runtime.learner_handler import RAILS, options_from_env, rails_from_env
from runtime.learning.gate import GateSettings
from runtime.learning.guards import GuardSettings

PLACES = {
    "REPORTS_S3_URI": "s3://bucket/reports/",
    "MODEL_POINTER_S3_URI": "s3://bucket/serving/pointer.json",
    "MODELS_S3_URI": "s3://bucket/models/",
}


def test_without_overrides_the_defaults_hold() -> None:
    options = options_from_env(PLACES)
    assert (options.guards, options.gate) == (GuardSettings(), GateSettings())


def test_every_override_reaches_its_rail() -> None:
    values = {
        "LEARN_MIN_REPORTS": "3",
        "LEARN_REPORTER_CAP": "2",
        "LEARN_REPORTER_WINDOW_S": "3600",
        "LEARN_CONFIDENT": "0.99",
        "LEARN_MAX_PRIOR_SHIFT": "0.01",
        "LEARN_MAX_LEARNED_SHARE": "0.1",
        "LEARN_GATE_MAX_HAM_FLAGGED_RISE": "0",
        "LEARN_GATE_MAX_SPAM_RECALL_FALL": "0.02",
    }
    assert set(values) == {rail.variable for rail in RAILS}
    options = options_from_env({**PLACES, **values})
    assert options.guards == GuardSettings(
        min_new_reports=3,
        reporter_cap=2,
        reporter_window_s=3600,
        confident=0.99,
        max_prior_shift=0.01,
        max_learned_share=0.1,
    )
    assert options.gate == GateSettings(max_ham_flagged_rise=0.0, max_spam_recall_fall=0.02)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LEARN_MIN_REPORTS", "0"),
        ("LEARN_MIN_REPORTS", "2.5"),
        ("LEARN_MIN_REPORTS", "10001"),
        ("LEARN_REPORTER_CAP", "-1"),
        ("LEARN_REPORTER_WINDOW_S", "59"),
        ("LEARN_CONFIDENT", "0.4"),
        ("LEARN_CONFIDENT", "nan"),
        ("LEARN_MAX_PRIOR_SHIFT", "inf"),
        ("LEARN_MAX_LEARNED_SHARE", "1.5"),
        ("LEARN_GATE_MAX_HAM_FLAGGED_RISE", "-0.1"),
        ("LEARN_GATE_MAX_SPAM_RECALL_FALL", "a lot"),
    ],
)
def test_a_value_out_of_bounds_is_refused_by_name(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{variable} must be"):
        rails_from_env({variable: value})


def test_the_handler_refuses_before_reading_anything(capsys: pytest.CaptureFixture[str]) -> None:
    summary = learner_handler.handler({}, None, {**PLACES, "LEARN_REPORTER_CAP": "1e9"})
    assert summary["promoted"] is False
    assert summary["error"].startswith("LEARN_REPORTER_CAP must be an integer from 1 to 10000")
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["msg"] == "learning_run"
