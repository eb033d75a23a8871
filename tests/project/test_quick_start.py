"""The README's quick start: CI runs its test command verbatim, and the venv it makes uses
the Python the Lambda package targets when one is installed, else python3."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import build_zip
import interpreters
from tests.paths import ROOT

# Left out of the fast loop (`-m "not slow"`): interpreters started in subprocesses.
pytestmark = pytest.mark.slow

# The part of both quick-start commands that picks the venv's interpreter.
PICK = re.compile(r"^(PY=\$\(.*?\)) && ")


def quick_start_commands() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    train, test = quick_start_commands()
    assert test.endswith(".venv/bin/python -m pytest")
    assert train.endswith(".venv/bin/spam-export --recipe best --data ../shared/data/spam.csv")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci


def test_both_commands_pick_the_interpreter_the_same_way() -> None:
    picks = {PICK.match(command).group(1) for command in quick_start_commands()}
    assert len(picks) == 1


def pick_interpreter(env: dict[str, str]) -> str:
    (pick,) = {PICK.match(command).group(1) for command in quick_start_commands()}
    result = subprocess.run(
        ["bash", "-c", f'{pick} && echo "$PY"'],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_the_venv_is_made_with_the_target_python_when_there_is_one() -> None:
    try:
        target = interpreters.find_interpreter(build_zip.DEFAULT_PYTHON)
    except interpreters.InterpreterNotFound as exc:
        pytest.skip(str(exc))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin"}
    picked = Path(pick_interpreter(env))
    assert interpreters._version_of(picked) == build_zip.DEFAULT_PYTHON
    assert picked == target or picked.resolve() == target.resolve()


def _at_least_311(version: str) -> bool:
    """build_zip.py itself needs 3.11 (the quick start runs it with `python3`)."""
    return tuple(int(part) for part in version.split(".")) >= (3, 11)


def other_python() -> Path | None:
    """A Python that is not the target version, to play a machine's only `python3`."""
    candidates = [Path(sys.executable), Path("/usr/bin/python3"), Path("/usr/local/bin/python3")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(pyenv.glob("3.1[12].*/bin/python3"))
    for candidate in candidates:
        version = interpreters._version_of(candidate) if candidate.exists() else None
        if version and version != build_zip.DEFAULT_PYTHON and _at_least_311(version):
            return candidate
    return None


def test_without_the_target_python_the_venv_is_made_with_python3(tmp_path: Path) -> None:
    python3 = other_python()
    if python3 is None:
        pytest.skip("every Python here is the target version: nothing to fall back from")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(python3)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),  # no versions installed there
        "HOME": str(tmp_path),
    }
    for prefix in ("/usr/local/bin", "/usr/bin"):
        if Path(prefix, f"python{build_zip.DEFAULT_PYTHON}").exists():
            pytest.skip(f"python{build_zip.DEFAULT_PYTHON} is installed system-wide")
    assert pick_interpreter(env) == str(bin_dir / "python3")
