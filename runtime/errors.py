"""Failures shared across the runtime's modules, each defined once.

``ModelUnavailable`` is raised by the loaders (file, S3) and the holder, and answered by
the API as a 503: it lives here so the loaders and the holder need not import each other.
"""

from __future__ import annotations


class ModelUnavailable(Exception):
    """No model to serve; ``retry_after`` is seconds until the next load attempt."""

    def __init__(
        self, message: str, retry_after: float | None = None, code: str = "model_unavailable"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.code = code
