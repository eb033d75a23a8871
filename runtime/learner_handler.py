"""The learner Lambda, ``runtime.learner_handler.handler``, run on a schedule (EventBridge).

It learns the reports under ``REPORTS_S3_URI`` into the model ``MODEL_POINTER_S3_URI``
names, stores the new model under ``MODELS_S3_URI`` by its SHA-256, and only then moves
the pointer (a conditional write). The guard rails and the gate decide; the run logs one
JSON summary, counts and figures only, never a report's text. Same package as serving,
without scikit-learn: the learner needs NumPy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from runtime import logs
from runtime.config import ConfigError, parse_s3_prefix, parse_s3_uri
from runtime.learning.objects import ObjectError, Objects
from runtime.learning.run import RunOptions, run
from runtime.modelfile import ModelError
from runtime.pointer import PointerError
from runtime.reports import ReportError, StorageError

REQUIRED = ("REPORTS_S3_URI", "MODEL_POINTER_S3_URI", "MODELS_S3_URI")


def options_from_env(environ: Mapping[str, str]) -> RunOptions:
    missing = [name for name in REQUIRED if not environ.get(name)]
    if missing:
        raise ConfigError(f"the learner needs {', '.join(missing)}")
    parse_s3_prefix(environ["REPORTS_S3_URI"])
    parse_s3_uri(environ["MODEL_POINTER_S3_URI"])
    parse_s3_prefix(environ["MODELS_S3_URI"])
    return RunOptions(
        reports=environ["REPORTS_S3_URI"],
        pointer=environ["MODEL_POINTER_S3_URI"],
        models=environ["MODELS_S3_URI"],
        endpoint_url=environ.get("MODEL_S3_ENDPOINT_URL") or None,
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
