"""Tests of runtime/archive/ (see tests/__init__.py for the layout)."""
