"""Fixtures of the packaging tests (build_zip, deploy, sam build)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import build_zip
import interpreters


@pytest.fixture(scope="module")
def interpreter() -> Path:
    """A Python of the package's target version, which compiles its bytecode; CI must
    have one, elsewhere the test skips."""
    try:
        return interpreters.find_interpreter(build_zip.DEFAULT_PYTHON)
    except interpreters.InterpreterNotFound as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
