"""Tests of localserver/ (see tests/__init__.py for the layout)."""
