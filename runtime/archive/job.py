"""What one shard is asked to do, checked before any object is read.

The state machine hands every child the same job (Distributed Map's ``BatchInput``), taken
from the execution's input: where results go, which model the execution was started with
and how the input lines are laid out. Anything wrong is a ``ShardRefused`` that names it.
"""

from __future__ import annotations

from collections.abc import Mapping

from runtime.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("auto", "jsonl", "csv", "text")
ENCODINGS = ("utf-8", "latin-1")
_HEX = frozenset("0123456789abcdef")
_FIELD_MAX = 64
READING_FIELDS = (
    "format",
    "text_field",
    "id_field",
    "encoding",
)  # a field name is a short JSON key or CSV header, never a payload


class ShardRefused(Exception):
    """The shard cannot be scored as asked; the message says why (no message text in it).

    Raised out of the Lambda handler, it fails the child execution: Distributed Map counts
    the shard as failed and the summary lists it with this reason.
    """


class Job(NamedTuple):
    """The checked job: every field is one a shard's result depends on."""

    model_sha256: str
    input_prefix: str
    output_prefix: str
    input_bucket: str = ""
    output_bucket: str = ""
    format: str = "auto"
    text_field: str = "text"
    id_field: str = "id"
    encoding: str = "utf-8"

    @classmethod
    def parse(cls, raw: object) -> Job:
        if not isinstance(raw, Mapping):
            raise ShardRefused("the job (BatchInput) must be a JSON object")
        unknown = set(raw) - set(cls._fields)
        if unknown:
            raise ShardRefused(f"unknown job fields: {', '.join(sorted(map(str, unknown)))}")
        sha = raw.get("model_sha256")
        if not isinstance(sha, str) or len(sha) != 64 or not set(sha.lower()) <= _HEX:
            raise ShardRefused(
                "the job must name the model it was started with: model_sha256, 64 hex digits"
            )
        values: dict[str, Any] = {"model_sha256": sha.lower()}
        for name in ("input_prefix", "output_prefix", "input_bucket", "output_bucket"):
            value = raw.get(name, "")
            if not isinstance(value, str) or len(value.encode()) > 1024:
                raise ShardRefused(f"{name} must be a string of at most 1024 bytes")
            values[name] = value
        same_bucket = values["input_bucket"] == values["output_bucket"]
        inputs, outputs = values["input_prefix"], values["output_prefix"]
        if (
            values["input_bucket"]
            and same_bucket
            and (outputs.startswith(inputs) or inputs.startswith(outputs))
        ):
            raise ShardRefused(
                "output_prefix and input_prefix overlap: a rerun would score the results"
            )
        for name, allowed in (("format", FORMATS), ("encoding", ENCODINGS)):
            value = raw.get(name, cls._field_defaults[name])
            if value not in allowed:
                raise ShardRefused(f"{name} must be one of {', '.join(allowed)}")
            values[name] = value
        for name in ("text_field", "id_field"):
            value = raw.get(name, cls._field_defaults[name])
            if not isinstance(value, str) or not 0 < len(value) <= _FIELD_MAX:
                raise ShardRefused(f"{name} must be a non-empty string of at most {_FIELD_MAX}")
            values[name] = value
        return cls(**values)

    def relative_key(self, key: str) -> str:
        """The object's key below the input prefix: its result's key below the output one."""
        if not key.startswith(self.input_prefix):
            raise ShardRefused("the object's key is not under the job's input_prefix")
        relative = key[len(self.input_prefix) :]
        if relative == "" or relative.endswith("/"):
            raise ShardRefused("the object's key names a folder, not an object")
        return relative

    def result_key(self, key: str) -> str:
        return f"{self.output_prefix}results/{self.relative_key(key)}.result.jsonl"

    def reading(self) -> dict[str, Any]:
        """The fields a result depends on besides the object and the model: its header."""
        return {name: getattr(self, name) for name in READING_FIELDS}
