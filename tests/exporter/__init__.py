"""Tests of exporter/ (see tests/__init__.py for the layout)."""
