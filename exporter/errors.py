"""Why an export refused: one home for the exporter's refusals."""

from __future__ import annotations


class UnsupportedModelError(ValueError):
    """The fitted model uses something the runtime cannot reproduce exactly."""


class ExportParityError(ValueError):
    """The runtime would not predict exactly as the fitted model; nothing was written."""
