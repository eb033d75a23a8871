"""The learner Lambda, ``runtime.learner_handler.handler``, run on a schedule (EventBridge).

It learns the reports under ``REPORTS_S3_URI`` into the model ``MODEL_POINTER_S3_URI``
names, stores the new model under ``MODELS_S3_URI`` by its SHA-256, and only then moves
the pointer (a conditional write). The guard rails and the gate decide; the run logs one
JSON summary, counts and figures only, never a report's text. Same package as serving,
without scikit-learn: the learner needs NumPy.

The guard rails and the gate take their defaults (runtime/learning/guards.py, gate.py)
unless an environment variable of ``RAILS`` overrides one; each is checked against its
bounds, and a refusal names the variable.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from runtime import logs
from runtime.config import ConfigError, parse_s3_prefix, parse_s3_uri
from runtime.learning.gate import GateSettings
from runtime.learning.guards import GuardSettings
from runtime.learning.learner import MAX_NEW_PER_RUN
from runtime.learning.objects import ObjectError, Objects
from runtime.learning.run import RunOptions, run
from runtime.modelfile import ModelError
from runtime.pointer import PointerError
from runtime.reports import ReportError, StorageError

REQUIRED = ("REPORTS_S3_URI", "MODEL_POINTER_S3_URI", "MODELS_S3_URI")


class Rail(NamedTuple):
    """One environment override: the settings field it sets, its type and bounds."""

    variable: str
    field: str
    kind: type[int] | type[float]
    low: float
    high: float


RAILS = (
    Rail("LEARN_MIN_REPORTS", "min_new_reports", int, 1, MAX_NEW_PER_RUN),
    Rail("LEARN_REPORTER_CAP", "reporter_cap", int, 1, MAX_NEW_PER_RUN),
    Rail("LEARN_REPORTER_WINDOW_S", "reporter_window_s", int, 60, 31 * 24 * 3600),
    Rail("LEARN_CONFIDENT", "confident", float, 0.5, 1.0),
    Rail("LEARN_MAX_PRIOR_SHIFT", "max_prior_shift", float, 0.0, 1.0),
    Rail("LEARN_MAX_LEARNED_SHARE", "max_learned_share", float, 0.0, 1.0),
    Rail("LEARN_GATE_MAX_HAM_FLAGGED_RISE", "max_ham_flagged_rise", float, 0.0, 1.0),
    Rail("LEARN_GATE_MAX_SPAM_RECALL_FALL", "max_spam_recall_fall", float, 0.0, 1.0),
)
_GUARD_FIELDS = {f.name for f in dataclasses.fields(GuardSettings)}


def rails_from_env(environ: Mapping[str, str]) -> tuple[GuardSettings, GateSettings]:
    """The guard rails and gate with the environment's overrides, each checked."""
    guards: dict[str, Any] = {}
    gate: dict[str, Any] = {}
    for rail in RAILS:
        raw = environ.get(rail.variable, "").strip()
        if not raw:
            continue
        value = _number(rail, raw)
        (guards if rail.field in _GUARD_FIELDS else gate)[rail.field] = value
    return GuardSettings(**guards), GateSettings(**gate)


def _number(rail: Rail, raw: str) -> int | float:
    what = "an integer" if rail.kind is int else "a number"
    bounds = f"{rail.kind(rail.low)} to {rail.kind(rail.high)}"
    try:
        value = rail.kind(raw)
    except ValueError:
        raise ConfigError(
            f"{rail.variable} must be {what} from {bounds}, got {raw[:40]!r}"
        ) from None
    if not (math.isfinite(value) and rail.low <= value <= rail.high):
        raise ConfigError(f"{rail.variable} must be {what} from {bounds}, got {raw[:40]!r}")
    return value


def options_from_env(environ: Mapping[str, str]) -> RunOptions:
    missing = [name for name in REQUIRED if not environ.get(name)]
    if missing:
        raise ConfigError(f"the learner needs {', '.join(missing)}")
    parse_s3_prefix(environ["REPORTS_S3_URI"])
    parse_s3_uri(environ["MODEL_POINTER_S3_URI"])
    parse_s3_prefix(environ["MODELS_S3_URI"])
    guards, gate = rails_from_env(environ)
    return RunOptions(
        reports=environ["REPORTS_S3_URI"],
        pointer=environ["MODEL_POINTER_S3_URI"],
        models=environ["MODELS_S3_URI"],
        endpoint_url=environ.get("MODEL_S3_ENDPOINT_URL") or None,
        guards=guards,
        gate=gate,
    )


def handler(event: Any, context: Any, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One learning run; returns (and logs) its summary, or an error that says why."""
    try:
        options = options_from_env(os.environ if environ is None else environ)
        code, summary = run(options, Objects(options.endpoint_url))
        summary["exit_code"] = code
        level = "INFO" if code == 0 else "WARNING"
    except (ConfigError, ObjectError, ModelError, PointerError, ReportError, StorageError) as exc:
        summary = {"promoted": False, "error": str(exc)[:500]}
        level = "ERROR"
    logs.emit({"level": level, "msg": "learning_run", **summary})
    return summary
