"""Find the CPython a build targets, and ask it what its text analysis depends on.

The packager (build_zip.py) compiles bytecode with an interpreter of the Lambda
runtime's version, and warns when the model was trained with other Unicode tables; the
benchmarks and tests find the same interpreters. Finding them is this module's job.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class InterpreterNotFound(Exception):
    """No working CPython of the version asked for; the message says how to get one."""


@dataclass(frozen=True)
class InterpreterFacts:
    """What an interpreter's text analysis depends on: its version and its Unicode tables."""

    python: str  # e.g. "3.13.0"
    unicode: str  # unicodedata.unidata_version, e.g. "15.1.0"

    @property
    def minor(self) -> str:
        return ".".join(self.python.split(".")[:2])


_FACTS_CODE = (
    "import sys, unicodedata; print('%d.%d.%d' % sys.version_info[:3], unicodedata.unidata_version)"
)


def interpreter_facts(interpreter: Path) -> InterpreterFacts | None:
    """Ask an interpreter for its version and Unicode version; None if it does not run."""
    try:
        out = subprocess.run(
            [str(interpreter), "-I", "-S", "-c", _FACTS_CODE],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        python, unicode = out.stdout.split()
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return InterpreterFacts(python, unicode)


def _version_of(interpreter: Path) -> str | None:
    """Ask an interpreter for its major.minor; None if it does not run."""
    facts = interpreter_facts(interpreter)
    return facts.minor if facts else None


def _candidate_interpreters(python: str) -> Iterator[Path]:
    """Likely places for a CPython of the target version: this one, pyenv, then PATH."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == python:
        yield Path(sys.executable)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    exact = re.compile(rf"^{re.escape(python)}\.(\d+)$")  # skips e.g. 3.13.0t (free-threaded)
    versions = [
        (int(m.group(1)), d)
        for d in (pyenv_root / "versions").glob(f"{python}.*")
        if (m := exact.match(d.name))
    ]
    for _, d in sorted(versions, reverse=True):
        yield d / "bin" / f"python{python}"
    for prefix in ("/usr/local/bin", "/usr/bin"):
        yield Path(prefix) / f"python{python}"
    found = shutil.which(f"python{python}")
    if found:
        yield Path(found)


def find_interpreter(python: str, explicit: Path | None = None) -> Path:
    """Find a CPython `python` (e.g. "3.13") to compile bytecode the target runtime will use."""
    candidates = [explicit] if explicit else _candidate_interpreters(python)
    for candidate in candidates:
        if candidate.exists() and _version_of(candidate) == python:
            return candidate
    where = f"{explicit} is not a working Python {python}" if explicit else "none was found"
    raise InterpreterNotFound(
        f"Python {python} is needed to compile bytecode for the python{python} Lambda runtime, "
        f"but {where}. Install python{python} (e.g. `pyenv install {python}`) or pass "
        f"--interpreter /path/to/python{python}, or choose another --python."
    )
