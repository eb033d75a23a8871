"""The version is written once, in runtime/__init__.py; the other places read it or match it."""

from __future__ import annotations

import tomllib

import yaml

import runtime
from tests.conftest import PROJECT_ROOT


def test_pyproject_reads_the_runtime_s_version() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "runtime.__version__"}


def test_the_api_description_matches_it() -> None:
    """openapi.yaml is a static document and cannot import the version: it is compared."""
    spec = yaml.safe_load((PROJECT_ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    assert spec["info"]["version"] == runtime.__version__
