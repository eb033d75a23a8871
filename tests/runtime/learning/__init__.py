"""Tests of runtime/learning/ (see tests/__init__.py for the layout)."""
