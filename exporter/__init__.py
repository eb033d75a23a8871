"""Training-side code: reads fitted scikit-learn pipelines and exports them for the runtime."""

from __future__ import annotations

from exporter.pipeline import Exported, export_pipeline

__all__ = ["Exported", "export_pipeline"]
