"""A learning run end to end: read the serving model, learn, write the model, then the pointer.

Both front ends call ``run``: ``exporter/learn.py`` with its options and the learner
Lambda (runtime/learner_handler.py) with its environment. The model object is written
(and answered) before the pointer names it; ``rollback`` moves the pointer back one step
and retires the reports it unlearns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runtime import pointer as pointers
from runtime.learning.gate import GateSettings
from runtime.learning.guards import GuardSettings
from runtime.learning.learner import EXIT_WROTE, learn
from runtime.learning.objects import ObjectError, Objects, is_s3
from runtime.learning.relearn import LearnableModel
from runtime.model import Model
from runtime.modelfile import sha256_hex
from runtime.reports import DirectoryReportStore, ReportError, ReportStore, S3ReportStore


@dataclass
class RunOptions:
    reports: str  # a directory or an s3:// prefix
    model: str | None = None  # the serving model: a path or s3:// URI (else the pointer's)
    pointer: str | None = None  # s3:// URI of the pointer object, or a pointer file's path
    output: str | None = None  # a path for the new model file
    models: str | None = None  # s3:// prefix or directory the new model is stored in by hash
    forget: list[str] = field(default_factory=list)
    endpoint_url: str | None = None
    guards: GuardSettings = field(default_factory=GuardSettings)
    gate: GateSettings = field(default_factory=GateSettings)


def open_store(location: str, objects: Objects) -> ReportStore:
    if is_s3(location):
        from runtime.config import parse_s3_prefix

        bucket, prefix = parse_s3_prefix(location)
        return S3ReportStore(bucket, prefix, objects.client)
    return DirectoryReportStore(location)


def run(options: RunOptions, objects: Objects | None = None) -> tuple[int, dict[str, Any]]:
    """(exit code, summary). Raises ObjectError, ModelError, PointerError, StorageError."""
    objects = objects or Objects(options.endpoint_url)
    check_places(options.pointer, options.models)
    current, etag = (None, None)
    if options.pointer:
        current, etag = objects.read_pointer(options.pointer)
    if options.model:
        serving = objects.read_model(options.model)
    elif current is not None:
        serving = objects.read_model(current.model_uri, current.sha256)
    else:
        raise ObjectError("no serving model: give --model, or a pointer that names one")
    store = open_store(options.reports, objects)
    for report_id in options.forget:  # deleted first: a learner never relearns them
        objects.delete_report(store, report_id)
    # With --forget the run only forgets (ungated); new reports wait for the next run.
    outcome = learn(serving, store, forget=options.forget, guards=options.guards, gate=options.gate)
    summary = outcome.summary
    if outcome.data is None or outcome.sha256 is None:
        summary["promoted"] = False
        return outcome.exit_code, summary
    written = []
    if options.output:
        written.append(objects.write_model(outcome.data, outcome.sha256, options.output))
    if options.models:
        uri = objects.store_model(outcome.data, outcome.sha256, options.models)
        written.append(uri)
        if options.pointer:
            promoted = pointers.promoted(current, pointers.ModelRef(uri, outcome.sha256))
            objects.write_pointer(options.pointer, promoted, etag)
            summary["pointer"] = options.pointer
    if not written:
        raise ObjectError("nowhere to write the model: give --output or --models")
    summary["written"] = written
    return EXIT_WROTE, summary


def check_places(pointer: str | None, models: str | None) -> None:
    """A pointer in S3 names models in S3, a pointer file names model files: refuse a mix."""
    if pointer and models and is_s3(pointer) != is_s3(models):
        raise ObjectError(
            "--pointer and --models are both s3:// or both local: a pointer in S3 names "
            "models in S3, a pointer file names model files"
        )


def promote(
    model: str, pointer_uri: str, models: str, objects: Objects
) -> tuple[int, dict[str, Any]]:
    """Store a model file by its hash and point at it (seeding a pointer, or replacing it)."""
    check_places(pointer_uri, models)
    current, etag = objects.read_pointer(pointer_uri)
    data = objects.read_model(model)
    sha256 = sha256_hex(data)
    Model.from_bytes(data, expected_sha256=sha256)  # a file that cannot serve is not promoted
    uri = objects.store_model(data, sha256, models)
    objects.write_pointer(
        pointer_uri, pointers.promoted(current, pointers.ModelRef(uri, sha256)), etag
    )
    serving = None if current is None else current.sha256
    return EXIT_WROTE, {
        "promoted": True,
        "model_sha256": sha256,
        "model_uri": uri,
        "serving_sha256": serving,
        "pointer": pointer_uri,
    }


def rollback(pointer_uri: str, objects: Objects, reports: str) -> dict[str, Any]:
    """Point back at the previous model (checked to exist with its SHA-256 first).

    The reports the current model learned and the previous one did not are retired
    (``rolled_back``) before the pointer moves, so the next scheduled run does not
    learn them again. A rollback that would serve again a report forgotten since (no
    longer in the store) is refused: a forget must stay in effect.
    """
    current, etag = objects.read_pointer(pointer_uri)
    if current is None:
        raise ObjectError(f"no pointer at {pointer_uri}")
    back = pointers.rolled_back(current)
    back_ids = LearnableModel(objects.read_model(back.model_uri, back.sha256)).report_ids
    from_ids = LearnableModel(objects.read_model(current.model_uri, current.sha256)).report_ids
    store = open_store(reports, objects)
    dropped = set(from_ids) - set(back_ids)
    restored = [i for i in back_ids if i not in set(from_ids)]
    gone = [i for i in restored if not _stored(store, i)]
    if gone:
        raise ObjectError(
            f"the previous model learned {len(gone)} report(s) forgotten since "
            f"(first {gone[0]}); rolling back would serve them again"
        )
    retired = store.retire_many(sorted(dropped), "rolled_back")
    objects.write_pointer(pointer_uri, back, etag)
    return {
        "rolled_back": True,
        "from_sha256": current.sha256,
        "model_sha256": back.sha256,
        "model_uri": back.model_uri,
        "retired": {"rolled_back": retired} if retired else {},
    }


def _stored(store: ReportStore, report_id: str) -> bool:
    try:
        store.read(report_id)
    except ReportError as exc:
        return not str(exc).startswith("no report")  # invalid, but there
    return True
