"""Training-side code: reads fitted scikit-learn pipelines and exports them for the runtime."""

from __future__ import annotations

import runtime as _runtime

if getattr(_runtime, "DISTRIBUTION", None) != "sms-spam-lambda":  # the sentinel: see runtime/
    raise ImportError(
        f"the package 'runtime' imported from {list(getattr(_runtime, '__path__', []))} is not "
        "sms-spam-lambda's: another package of that name comes first on sys.path (the current "
        "directory, or site-packages). Rename or remove it, or run from another directory."
    )

from exporter.pipeline import Exported, export_pipeline

__all__ = ["Exported", "export_pipeline"]
