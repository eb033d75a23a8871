"""Tests of the repository root and of all packages at once (layout: tests/__init__.py)."""
