"""How refusals quote what they refuse: short, and never the input's own text.

One home for the helpers every "must be ..., got ..." message and every JSON refusal use.
"""

from __future__ import annotations

import json


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
