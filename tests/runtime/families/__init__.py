"""Tests of runtime/families/ (see tests/__init__.py for the layout)."""
