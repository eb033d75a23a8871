"""The project installs like any Python project, and its generic package name is guarded.

A fresh venv gets the project with pip (`--no-build-isolation --no-deps`: the backend and
the dependencies come from this test's own environment through a path file, so nothing is
downloaded and it takes seconds), then is used from a directory outside the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from tests.paths import ROOT

# Left out of the fast loop (`-m "not slow"`): venvs, pip and interpreters in subprocesses.
pytestmark = pytest.mark.slow

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
COMMANDS = PYPROJECT["project"]["scripts"]


def make_venv(path: Path) -> Path:
    """A venv without pip that sees this environment's packages (scikit-learn, setuptools)
    after its own: what pip installs into it comes first."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "zz-host-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def checkout_copy(dest: Path) -> Path:
    """What pip needs of a clone, copied: a build writes build/ and *.egg-info beside it."""
    dest.mkdir()
    modules = PYPROJECT["tool"]["setuptools"]["py-modules"]
    for name in (
        "pyproject.toml",
        *(f"{m}.py" for m in modules),
        *(p.name for p in ROOT.glob("requirements*")),
    ):
        shutil.copy2(ROOT / name, dest / name)
    for package in ("exporter", "runtime", "localserver"):
        shutil.copytree(
            ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return dest


def pip_install(python: Path, source: Path, *args: str) -> None:
    offline = ("--no-build-isolation", "--no-deps", "--no-index")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            *offline,
            *args,
            ".",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=source,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def run(python_or_command: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(python_or_command), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


IMPORTS = (
    "import exporter, runtime, localserver, build_zip, interpreters, lambda_zip, score_archive; "
    "from exporter import export_pipeline; "
    "print(exporter.__file__, runtime.__file__, build_zip.__file__, sep='\\n')"
)


@pytest.fixture(scope="module", params=["editable", "wheel"])
def installed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the project installed: `pip install -e .` or `pip install .`."""
    venv = tmp_path_factory.mktemp(f"venv-{request.param}")
    python = make_venv(venv / "env")
    editable = ["-e"] if request.param == "editable" else []
    pip_install(python, checkout_copy(venv / "clone"), *editable)
    return python


def test_export_pipeline_imports_from_any_directory(installed: Path, tmp_path: Path) -> None:
    result = run(installed, ["-c", IMPORTS], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    exporter_file, runtime_file, build_zip_file = result.stdout.split()
    assert Path(exporter_file).parent.parent == Path(runtime_file).parent.parent
    assert Path(build_zip_file).parent == Path(runtime_file).parent.parent


def test_every_command_runs(installed: Path, tmp_path: Path) -> None:
    every_entry_point = {
        "spam-export",
        "spam-serve",
        "spam-build-zip",  # issue 21
        "spam-learn",  # exporter/learn.py (learning from reports)
        "spam-evaluate",  # exporter/evaluate.py (grouped evaluation)
        "spam-score-archive",  # score_archive.py (archive scoring)
    }
    assert every_entry_point <= set(COMMANDS)
    assert all(name.startswith("spam-") for name in COMMANDS)
    for name in COMMANDS:
        result = run(installed.parent / name, ["--help"], cwd=tmp_path)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert result.stdout.startswith("usage:"), name


def test_the_build_writes_into_the_current_directory_not_site_packages(
    installed: Path, tmp_path: Path
) -> None:
    """Installed from a wheel there is no checkout: defaults are relative to the cwd."""
    result = run(installed.parent / "spam-build-zip", ["--show-outputs"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    kind, path = result.stdout.splitlines()[0].split()
    assert kind == "package"
    clone = installed.parent.parent.parent / "clone"
    expected_root = clone if "editable" in str(installed) else tmp_path
    assert Path(path).parent == expected_root / "dist"


def decoy(directory: Path) -> Path:
    package = directory / "runtime"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("SOMETHING_ELSE = True\n")
    return directory


def test_a_runtime_package_in_the_current_directory_is_refused_by_name(
    installed: Path, tmp_path: Path
) -> None:
    """`python -c`/`-m` put the current directory first: its `runtime` would win silently."""
    cwd = decoy(tmp_path / "project-of-someone-else")
    for args in (["-c", "import exporter"], ["-m", "localserver", "--help"]):
        result = run(installed, args, cwd=cwd)
        assert result.returncode != 0
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("ImportError: the package 'runtime' imported from"), last
        assert str(cwd / "runtime") in last
        assert "is not sms-spam-lambda's" in last
    # A console script starts from its own directory, not the current one: unaffected.
    result = run(installed.parent / "spam-serve", ["--help"], cwd=cwd)
    assert result.returncode == 0, result.stderr


def test_a_runtime_package_installed_first_is_refused_by_name(tmp_path: Path) -> None:
    """An editable install is found after site-packages: a `runtime` there shadows it."""
    python = make_venv(tmp_path / "env")
    pip_install(python, checkout_copy(tmp_path / "clone"), "-e")
    purelib = run(
        python, ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path
    ).stdout.strip()
    decoy(Path(purelib))
    result = run(python, ["-c", "from exporter import export_pipeline"], cwd=tmp_path)
    assert result.returncode != 0
    assert "is not sms-spam-lambda's" in result.stderr
    assert str(Path(purelib, "runtime")) in result.stderr


# The files the commands run, as the docs show them run with `python FILE`.
SCRIPT_FILES = {
    "spam-export": "exporter/export.py",
    "spam-build-zip": "build_zip.py",
    "spam-learn": "exporter/learn.py",
    "spam-evaluate": "exporter/evaluate.py",
    "spam-score-archive": "score_archive.py",
}


@pytest.mark.parametrize(("command", "script"), sorted(SCRIPT_FILES.items()))
def test_every_script_still_runs_as_a_file(command: str, script: str, tmp_path: Path) -> None:
    """`python exporter/learn.py` and the others keep working beside their command, with
    the same options (the command is the same main())."""
    target, function = COMMANDS[command].split(":")
    assert function == "main"
    assert Path(*target.split(".")).with_suffix(".py") == Path(script)
    result = run(Path(sys.executable), [str(ROOT / script), "--help"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:"), script


@pytest.mark.parametrize(
    "script", ["exporter/export.py", "exporter/learn.py", "exporter/evaluate.py"]
)
def test_scripts_run_as_files_need_the_install_and_say_so(script: str, tmp_path: Path) -> None:
    """No sys.path patching: without the install, one line says what to do."""
    env_python = tmp_path / "env" / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_python.parent.parent)])
    result = run(env_python, [str(ROOT / script), "--help"], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: the project is not installed: run `pip install -e .` in its directory"
    )


def test_no_project_file_patches_sys_path() -> None:
    patched = [
        str(path.relative_to(ROOT))
        for folder in ("exporter", "runtime", "localserver", "benchmarks", "scripts")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "sys.path.insert(0, str(" in path.read_text()
    ]
    patched += [
        f"{module}.py"
        for module in PYPROJECT["tool"]["setuptools"]["py-modules"]
        if "sys.path.insert" in (ROOT / f"{module}.py").read_text()
    ]
    assert patched == []


def test_extras_mirror_the_requirements_files() -> None:
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]
    assert dynamic["dependencies"]["file"] == ["requirements.txt"]
    extras = dynamic["optional-dependencies"]
    assert extras["train"]["file"] == ["requirements-train.txt"]
    assert extras["dev"]["file"] == ["requirements-train.txt", "requirements-dev.txt"]
    backend = PYPROJECT["build-system"]["requires"]
    assert backend == [f"setuptools=={setuptools_pin()}"]


def setuptools_pin() -> str:
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        if line.startswith("setuptools=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError("requirements-dev.txt pins no setuptools")
