"""The repository's root, computed in one place so a test's own folder depth never matters."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
