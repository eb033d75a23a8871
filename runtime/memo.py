"""Memo dicts whose size clients cannot grow: one home for the bound and what happens at it.

A memo keyed by request content (a Content-Type, a route, a term) must stay bounded
whatever clients send. ``Memo`` is a ``dict`` (lookups stay ``dict.get``, C speed) whose
``keep`` stores at most ``limit`` entries: past it, a memo of a small fixed set stops
adding (its first entries are the common ones), and a memo of an open set
(``clear_when_full``) starts again, so the terms of current traffic come back.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    K = TypeVar("K")
    V = TypeVar("V")
else:
    K = V = object  # dict[object, object] is plain dict at run time: no typing import


class Memo(dict[K, V]):
    """At most ``limit`` entries, kept by ``keep``."""

    __slots__ = ("clear_when_full", "limit")

    def __init__(self, limit: int, *, clear_when_full: bool = False) -> None:
        super().__init__()
        self.limit = limit
        self.clear_when_full = clear_when_full

    def keep(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key`` if there is room (or after clearing); return it."""
        if len(self) >= self.limit:
            if not self.clear_when_full:
                return value
            self.clear()
        self[key] = value
        return value
