"""Smoke runs of benchmarks/ (see tests/__init__.py for the layout)."""
