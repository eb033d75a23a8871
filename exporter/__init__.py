"""Training-side code: reads fitted scikit-learn pipelines and exports them for the runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exporter.pipeline import Exported

__all__ = ["export_pipeline"]


def export_pipeline(model: Any, path: Any = None, **kwargs: Any) -> Exported:
    """See ``exporter.pipeline.export_pipeline`` (imported lazily: it loads scikit-learn)."""
    from exporter.pipeline import export_pipeline as export

    return export(model, path, **kwargs)
