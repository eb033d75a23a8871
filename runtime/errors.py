"""Failures shared across the runtime's modules, and how a refusal quotes what it refuses.

``ModelUnavailable`` is raised by the loaders (file, S3) and the holder, and answered by
the API as a 503: it lives here so the loaders and the holder need not import each other.
``short`` and ``json_problem`` are what every "must be ..., got ..." message and every
JSON refusal use: short, and never the input's own text.
"""

from __future__ import annotations

import json


class ModelUnavailable(Exception):
    """No model to serve; ``retry_after`` is seconds until the next load attempt."""

    def __init__(
        self, message: str, retry_after: float | None = None, code: str = "model_unavailable"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.code = code


def short(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a refusal never echoes a whole input."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_problem(exc: ValueError, *, own_data: bool = False) -> str:
    """Why JSON failed to parse. JSONDecodeError's message quotes no input, only a
    position, so it is always safe; other errors (a NaN refused by a hook, a bad
    encoding) may quote the document, so only ``own_data`` (a model file's) shows them."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc)[:120] if own_data else "cannot decode"
