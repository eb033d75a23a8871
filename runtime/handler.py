"""The Lambda entry point, ``runtime.handler.lambda_handler``.

Importing this module is the cold start: it reads the settings and loads the model once
for the container. Nothing a client sends makes the handler raise or answer 5xx; a
missing model is a 503 that says why, retried with backoff on later requests.
"""

from __future__ import annotations

import os

# Before anything imports NumPy: one BLAS thread roughly halves cold-start CPU on a
# fraction of a vCPU, and a single-message predict has nothing to parallelise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from runtime.adapter import adapter_from_environment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ADAPTER = adapter_from_environment()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return ADAPTER(event, context)
