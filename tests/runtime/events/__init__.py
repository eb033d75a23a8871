"""Tests of runtime/events/ (see tests/__init__.py for the layout)."""
