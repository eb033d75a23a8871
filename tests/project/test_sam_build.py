"""`sam build` builds the functions with the project's own packager, build_zip.py.

template.yaml gives every function `CodeUri: .` and `Metadata: BuildMethod: makefile`, so
`sam build` runs the Makefile's build-<LogicalId> with ARTIFACTS_DIR set. These tests run
that target as SAM does and compare what it leaves with build_zip.py's zip; the last one runs
the real SAM CLI when it is on PATH (it is not a project requirement: its pins conflict with
boto3's; docs/deploy.md says how it was run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.project.test_template import load_template, serverless_functions

MAKEFILE = ROOT / "Makefile"


def make(target: str, cwd: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """make as SAM's makefile builder runs it: -f the Makefile, from another directory."""
    env = {k: v for k, v in os.environ.items() if k != "MAKEFLAGS"}
    return subprocess.run(
        [
            "make",
            f"--makefile={MAKEFILE}",
            target,
            f"PYTHON={sys.executable}",
            *(f"{name}={value}" for name, value in variables.items()),
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def files_of_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


def files_of_directory(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def reference_zip(
    small_model_path: Path, interpreter: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """`python build_zip.py` with the model bundled, as the Makefile's default build does."""
    out = tmp_path_factory.mktemp("reference")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "build_zip.py"),
            f"--model={small_model_path}",
            f"--out-dir={out}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (package,) = out.glob("lambda-*.zip")
    return package


def test_the_target_refuses_to_run_without_artifacts_dir(tmp_path: Path) -> None:
    result = make("build-SpamFunction", tmp_path)
    assert result.returncode != 0
    assert "ARTIFACTS_DIR is not set (sam build sets it)" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_make_target_unpacks_exactly_the_zip_build_zip_makes(
    small_model_path: Path, reference_zip: Path, tmp_path: Path
) -> None:
    artifacts = tmp_path / "SpamFunction"
    artifacts.mkdir()
    result = make(
        "build-SpamFunction",
        tmp_path,
        ARTIFACTS_DIR=str(artifacts),
        SPAM_BUILD_ZIP_ARGS=f"--model {small_model_path} --out-dir {tmp_path / 'dist'}",
    )
    assert result.returncode == 0, result.stderr
    expected = files_of_zip(reference_zip)
    assert {"runtime/handler.py", "artifacts/model.npz"} <= set(expected)
    assert files_of_directory(artifacts) == expected  # every file, byte for byte, no other
    # The build it unpacked is build_zip.py's, reproducible to the byte.
    (built,) = (tmp_path / "dist").glob("lambda-*.zip")
    assert built.read_bytes() == reference_zip.read_bytes()


@pytest.mark.slow
def test_sam_build_builds_every_function_with_the_package(
    small_model_path: Path, reference_zip: Path, tmp_path: Path
) -> None:
    sam = shutil.which("sam")
    if sam is None:
        pytest.skip("the SAM CLI is not on PATH (not a project requirement; see docs/deploy.md)")
    env = {
        **{k: v for k, v in os.environ.items() if k != "MAKEFLAGS"},
        "SAM_CLI_TELEMETRY": "0",
        "PYTHON": sys.executable,
        "SPAM_BUILD_ZIP_ARGS": f"--model {small_model_path} --out-dir {tmp_path / 'dist'}",
    }
    build_dir = tmp_path / "build"
    template = ROOT / "template.yaml"
    result = subprocess.run(
        [
            sam,
            "build",
            f"--template-file={template}",
            f"--build-dir={build_dir}",
            "--build-in-source",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Build Succeeded" in result.stdout
    functions = serverless_functions(load_template())
    built_template = load_template(build_dir / "template.yaml")
    expected = files_of_zip(reference_zip)
    for name in functions:
        assert built_template["Resources"][name]["Properties"]["CodeUri"] == name
        assert files_of_directory(build_dir / name) == expected, name
