"""build_zip.py: what it keeps, that its zips are reproducible, and that the package works
the way Lambda runs it: a fresh target-version interpreter with only the package and the
standard library on sys.path."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

import build_zip
import interpreters
import lambda_zip
from build_zip import BuildError, Target
from runtime.model import Model, training_differences
from tests import events as event_builders
from tests.corpus import HAM_EXAMPLE, SPAM_EXAMPLE, tutorial_model_bytes
from tests.crafted import reseal, unpack
from tests.paths import ROOT
from tests.project.test_template import handler_name

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

TARGET = Target(build_zip.DEFAULT_PYTHON, "x86_64")
NAMES = build_zip.Outputs.for_target(TARGET)
RESULT_MARK = "RESULT "

# --- selection rules ------------------------------------------------------------------------

KEPT = [
    "numpy/__init__.py",
    "numpy/_core/_multiarray_umath.cpython-313-x86_64-linux-gnu.so",
    "numpy/_core/numeric.py",
    "numpy/lib/_npyio_impl.py",
    "numpy/linalg/_umath_linalg.cpython-313-x86_64-linux-gnu.so",
    "numpy.libs/libscipy_openblas64_-32a4b2a6.so",
    "numpy.libs/libgfortran-040039e1-0352e75f.so.5.0.0",
    "numpy-2.4.6.dist-info/METADATA",
    "numpy-2.4.6.dist-info/licenses/LICENSE.txt",
]
DROPPED = [
    "numpy/_core/tests/test_numeric.py",
    "numpy/lib/tests/data/python3.npy",
    "numpy/random/_generator.cpython-313-x86_64-linux-gnu.so",
    "numpy/fft/_pocketfft_umath.cpython-313-x86_64-linux-gnu.so",
    "numpy/f2py/__init__.py",
    "numpy/typing/__init__.py",
    "numpy/testing/__init__.py",
    "numpy/__init__.pyi",
    "numpy/__init__.pxd",
    "numpy/py.typed",
    "numpy/conftest.py",
    "numpy/lib/recfunctions.py",
    "numpy/_core/include/numpy/ndarraytypes.h",
    "numpy/_core/lib/libnpymath.a",
    "numpy/_core/lib/pkgconfig/numpy.pc",
    "numpy/_core/_simd.cpython-313-x86_64-linux-gnu.so",
    "numpy/_core/_umath_tests.cpython-313-x86_64-linux-gnu.so",
    "numpy-2.4.6.dist-info/RECORD",
    "numpy-2.4.6.dist-info/entry_points.txt",
    "scripts/f2py",
]


@pytest.mark.parametrize("name", KEPT)
def test_keeps_what_import_numpy_needs(name: str) -> None:
    assert build_zip.keep_numpy_file(name)


@pytest.mark.parametrize("name", DROPPED)
def test_drops_tests_stubs_headers_and_unused_subpackages(name: str) -> None:
    assert not build_zip.keep_numpy_file(name)


def test_read_pin(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# runtime\nnumpy == 2.4.6  # pinned\nnumpyro==0.1\n")
    assert build_zip.read_pin(requirements, "numpy") == "2.4.6"
    with pytest.raises(BuildError, match="scipy"):
        build_zip.read_pin(requirements, "scipy")


def test_project_pins_numpy() -> None:
    assert build_zip.read_pin(build_zip.REQUIREMENTS, "numpy")


def test_missing_interpreter_names_the_version_needed(tmp_path: Path) -> None:
    with pytest.raises(interpreters.InterpreterNotFound, match=r"Python 3\.13 is needed.*--inter"):
        interpreters.find_interpreter("3.13", tmp_path / "python3.13")


def test_interpreter_of_another_version_is_refused() -> None:
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.13"
    with pytest.raises(interpreters.InterpreterNotFound, match=f"not a working Python {other}"):
        interpreters.find_interpreter(other, Path(sys.executable))


@pytest.mark.parametrize(
    ("name", "matches"),
    [
        ("numpy-2.4.6-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", True),
        ("numpy-2.4.6-cp313-cp313-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl", False),
        ("numpy-2.4.6-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", False),
        ("numpy-2.4.5-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", False),
        ("numpy-2.4.6-cp313-cp313-macosx_14_0_x86_64.whl", False),
    ],
)
def test_wheel_must_match_the_target(name: str, matches: bool) -> None:
    assert build_zip._wheel_matches(name, "2.4.6", TARGET) is matches


def test_cached_wheel_with_a_wrong_checksum_is_not_used(tmp_path: Path) -> None:
    name = "numpy-2.4.6-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    wheel = tmp_path / name
    wheel.write_bytes(b"wheel bytes")
    sidecar = tmp_path / (name + ".sha256")
    sidecar.write_text(hashlib.sha256(b"wheel bytes").hexdigest())
    assert build_zip._cached_wheel(tmp_path, "2.4.6", TARGET) == wheel
    wheel.write_bytes(b"truncated")
    assert build_zip._cached_wheel(tmp_path, "2.4.6", TARGET) is None


def git_package(tmp_path: Path, names: list[str]) -> Path:
    """A runtime package in a fresh git repository, every file in ``names`` tracked."""
    package = tmp_path / "runtime"
    for name in names:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "--", "runtime"], check=True)
    return package


def test_runtime_sources_leave_out_tests_and_caches(tmp_path: Path) -> None:
    package = git_package(
        tmp_path,
        [
            "__init__.py",
            "handler.py",
            "events/__init__.py",
            "events/rest_v1.py",
            "tests/test_handler.py",
            "test_api.py",
            "conftest.py",
            "notes.md",
        ],
    )
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "handler.cpython-313.pyc").write_text("")
    names = {p.relative_to(package).as_posix() for p in build_zip.runtime_sources(package)}
    assert names == {"__init__.py", "handler.py", "events/__init__.py", "events/rest_v1.py"}


def test_runtime_sources_are_the_tracked_files_only(tmp_path: Path) -> None:
    """Issue 20: every .py under runtime/ shipped, tracked or not."""
    package = git_package(tmp_path, ["__init__.py", "handler.py"])
    (package / "scratch.py").write_text("secret = 1\n")  # never added
    names = {p.relative_to(package).as_posix() for p in build_zip.runtime_sources(package)}
    assert names == {"__init__.py", "handler.py"}


def test_a_symlink_out_of_the_package_is_refused(tmp_path: Path) -> None:
    """Issue 20: a symlink shipped the content it points to outside the repository."""
    outside = tmp_path / "outside.py"
    outside.write_text("password = 'hunter2'\n")
    package = git_package(tmp_path, ["__init__.py"])
    (package / "settings.py").symlink_to(outside)
    subprocess.run(["git", "-C", str(tmp_path), "add", "--", "runtime"], check=True)
    with pytest.raises(build_zip.BuildError, match="symlink out of"):
        build_zip.runtime_sources(package)


def test_a_package_outside_git_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "runtime"
    package.mkdir()
    (package / "__init__.py").write_text("")
    with pytest.raises(build_zip.BuildError, match="tracked"):
        build_zip.runtime_sources(package)


# --- zip writer ---------------------------------------------------------------------------


def _entries(root: Path) -> list[lambda_zip.Entry]:
    return [
        lambda_zip.Entry(p.relative_to(root).as_posix(), p, "code")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    ]


def test_zip_is_byte_identical_whatever_the_file_dates_and_modes(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pkg" / "sub").mkdir(parents=True)
    (src / "pkg" / "b.py").write_text("b = 1\n")
    (src / "pkg" / "a.py").write_text("a = 1\n")
    (src / "pkg" / "sub" / "_ext.cpython-313-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    first = lambda_zip.write_zip(_entries(src), tmp_path / "one.zip")
    for i, path in enumerate(sorted(src.rglob("*.*"))):
        os.utime(path, (1_000_000_000 + i, 1_700_000_000 + i))
        path.chmod(0o600 if i % 2 else 0o777)
    second = lambda_zip.write_zip(list(reversed(_entries(src))), tmp_path / "two.zip")
    assert first.sha256 == second.sha256
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()

    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert "pkg/" in names
    assert "pkg/sub/" in names
    modes = {info.filename: info.external_attr >> 16 for info in infos}
    assert modes["pkg/a.py"] == 0o100644
    assert modes["pkg/sub/_ext.cpython-313-x86_64-linux-gnu.so"] == 0o100755
    assert modes["pkg/"] == 0o040755
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_size_limits_are_enforced(tmp_path: Path) -> None:
    def report(size: int, unpacked: int) -> lambda_zip.ZipReport:
        path = tmp_path / "x.zip"
        return lambda_zip.ZipReport(path, "0" * 64, size, {"numpy": unpacked}, {}, {})

    mib = lambda_zip.MIB
    assert lambda_zip.check_limits([report(12 * mib, 40 * mib)]) == []
    assert "50 MiB" in lambda_zip.check_limits([report(51 * mib, 40 * mib)])[0]
    assert "250 MiB" in lambda_zip.check_limits([report(10 * mib, 251 * mib)])[0]
    # A layer and its function zip count together against the unpacked limit.
    both = [report(10 * mib, 130 * mib), report(1 * mib, 130 * mib)]
    assert "250 MiB" in lambda_zip.check_limits(both)[0]


# --- the real build -----------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    out: Path
    stdout: str

    @property
    def full(self) -> Path:
        return self.out / NAMES.full


def run_build(out: Path, model: Path, interpreter: Path, *extra: str) -> Built:
    """`python build_zip.py` as a user runs it; the wheel cache is shared between runs."""
    command = [sys.executable, str(ROOT / "build_zip.py"), "--model", str(model)]
    command += ["--out-dir", str(out), "--interpreter", str(interpreter), *extra]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return Built(out, result.stdout)


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, small_model_path: Path, interpreter: Path
) -> Built:
    return run_build(tmp_path_factory.mktemp("dist"), small_model_path, interpreter, "--layer")


def unzip(archive: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    with zipfile.ZipFile(archive) as z:
        z.extractall(dest)
    return dest


def snapshot(tree: Path) -> dict[str, bytes]:
    return {p.relative_to(tree).as_posix(): p.read_bytes() for p in tree.rglob("*") if p.is_file()}


def rest_v1_event(text: str) -> dict[str, Any]:
    return event_builders.rest_v1(body=json.dumps({"text": text}))


def http_v2_event(text: str) -> dict[str, Any]:
    return event_builders.http_v2(body=json.dumps({"text": text}))


# Runs in the target interpreter with -I -S: no user site, no site-packages, no PYTHON* vars.
CHILD = f"""
import importlib, json, sys
handler, events, paths = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
sys.path[:0] = paths
module_name, _, attribute = handler.rpartition(".")
module = importlib.import_module(module_name)
answers = [getattr(module, attribute)(event, None) for event in events]
import numpy
print({RESULT_MARK!r} + json.dumps({{
    "answers": answers,
    "sys_path": sys.path,
    "files": {{name: sys.modules[name].__file__ for name in ("numpy", module_name)}},
    "numpy_modules": sorted(m for m in sys.modules if m.startswith("numpy")),
}}))
"""


class NumpyMissingInPackage(Exception):
    """A package's code imported NumPy where none is: it cannot work."""


def run_isolated(
    interpreter: Path, paths: list[Path], events: list[dict[str, Any]], child: str = CHILD
) -> dict[str, Any]:
    """Answer events with the handler the template names, in a fresh isolated interpreter."""
    command = [str(interpreter), "-I", "-S", "-c", child, handler_name(), json.dumps(events)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    result = subprocess.run(
        [*command, *map(str, paths)], capture_output=True, text=True, env=env, check=False
    )
    if "No module named 'numpy'" in result.stderr:
        raise NumpyMissingInPackage(result.stderr.strip().splitlines()[-1])
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(RESULT_MARK)]
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0][len(RESULT_MARK) :])


def assert_labels(result: dict[str, Any], expected: list[str], model: Path) -> None:
    model_id = hashlib.sha256(model.read_bytes()).hexdigest()
    for answer, label in zip(result["answers"], expected, strict=True):
        assert answer["statusCode"] == 200, answer
        body = json.loads(answer["body"])
        assert body["label"] == label, body
        assert body["model"] == model_id  # the bundled model, not another one


def test_build_prints_sizes_and_sha256(built: Built) -> None:
    digest = hashlib.sha256(built.full.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in built.stdout
    for component in ("code", "model", "numpy", "total"):
        assert f"  {component} " in built.stdout
    assert f"python{build_zip.DEFAULT_PYTHON} x86_64" in built.stdout


def test_same_inputs_give_a_byte_identical_zip(
    built: Built, tmp_path: Path, small_model_path: Path, interpreter: Path
) -> None:
    again = run_build(tmp_path / "again", small_model_path, interpreter)
    assert again.full.read_bytes() == built.full.read_bytes()


def test_zip_holds_runtime_model_and_slim_numpy(built: Built, small_model_path: Path) -> None:
    with zipfile.ZipFile(built.full) as archive:
        names = archive.namelist()
        model = archive.read(build_zip.MODEL_ARCNAME)
        dates = {info.date_time for info in archive.infolist()}
    assert names == sorted(names)
    assert dates == {lambda_zip.ZIP_DATE}
    assert model == small_model_path.read_bytes()
    tops = {PurePosixPath(n).parts[0] for n in names}
    assert tops == {"runtime", "artifacts", "numpy", "numpy.libs", "numpy-2.4.6.dist-info"}
    for name in (n for n in names if not n.endswith("/")):
        path = PurePosixPath(name)
        assert "tests" not in path.parts
        assert path.suffix not in {".pyi", ".pxd", ".h", ".a"}
        if path.parts[0] == "numpy":
            assert path.suffix != ".py", f"{name}: NumPy ships as bytecode only"
            assert path.parts[1] not in build_zip.NUMPY_DROPPED_PACKAGES
    # Every runtime module has bytecode for the target Python beside its source.
    tag = "cpython-" + build_zip.DEFAULT_PYTHON.replace(".", "")
    for name in names:
        path = PurePosixPath(name)
        if path.parts[0] == "runtime" and path.suffix == ".py":
            assert str(path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc") in names


def test_package_answers_rest_and_http_events_in_an_isolated_interpreter(
    built: Built, tmp_path: Path, interpreter: Path, small_model_path: Path
) -> None:
    task = unzip(built.full, tmp_path / "task")
    before = snapshot(task)
    events = [rest_v1_event(SPAM_EXAMPLE), http_v2_event(HAM_EXAMPLE)]
    result = run_isolated(interpreter, [task], events)

    assert_labels(result, ["spam", "ham"], small_model_path)
    assert all("site-packages" not in p for p in result["sys_path"]), result["sys_path"]
    for file in result["files"].values():
        assert Path(file).is_relative_to(task), file
    # Nothing was compiled and written: the shipped bytecode was used as it is.
    assert snapshot(task) == before
    dropped = {m.split(".")[1] for m in result["numpy_modules"] if "." in m}
    assert dropped.isdisjoint(build_zip.NUMPY_DROPPED_PACKAGES)


def test_runtime_bytecode_is_used_without_checking_the_source(
    built: Built, tmp_path: Path, interpreter: Path, small_model_path: Path
) -> None:
    """unchecked-hash .pyc: Lambda never recompiles them, even when a source looks newer."""
    task = unzip(built.full, tmp_path / "task")
    handler = task / "runtime" / "handler.py"
    handler.write_text("raise RuntimeError('compiled from source')\n")
    result = run_isolated(interpreter, [task], [rest_v1_event(SPAM_EXAMPLE)])
    assert_labels(result, ["spam"], small_model_path)


def test_layer_and_code_zip_work_together(
    built: Built, tmp_path: Path, interpreter: Path, small_model_path: Path
) -> None:
    with zipfile.ZipFile(built.out / NAMES.layer) as layer:
        assert all(n.startswith("python/") for n in layer.namelist())
    with zipfile.ZipFile(built.out / NAMES.code) as code:
        assert {PurePosixPath(n).parts[0] for n in code.namelist()} == {"runtime", "artifacts"}
    opt = unzip(built.out / NAMES.layer, tmp_path / "opt")
    task = unzip(built.out / NAMES.code, tmp_path / "task")
    # Lambda puts the function before the layers' /opt/python on sys.path.
    result = run_isolated(interpreter, [task, opt / "python"], [http_v2_event(SPAM_EXAMPLE)])
    assert_labels(result, ["spam"], small_model_path)
    assert Path(result["files"]["numpy"]).is_relative_to(opt)


def test_build_fails_clearly_without_the_model(tmp_path: Path) -> None:
    missing = tmp_path / "missing.npz"
    command = [sys.executable, str(ROOT / "build_zip.py"), "--model", str(missing)]
    result = subprocess.run(
        [*command, "--out-dir", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "--no-model" in result.stderr
    assert not list(tmp_path.glob("*.zip"))


def test_build_refuses_a_model_the_runtime_would_refuse(tmp_path: Path) -> None:
    broken = tmp_path / "model.npz"
    broken.write_bytes(b"PK\x03\x04 not really a model")
    with pytest.raises(BuildError, match="not one the runtime accepts"):
        build_zip.check_model(broken)


def test_record_lists_exactly_the_shipped_numpy_files(built: Built, tmp_path: Path) -> None:
    task = unzip(built.full, tmp_path / "task")
    record = task / "numpy-2.4.6.dist-info" / "RECORD"
    listed = {line.split(",")[0] for line in record.read_text().splitlines()}
    shipped = {
        p.relative_to(task).as_posix()
        for p in task.rglob("*")
        if p.is_file() and p.relative_to(task).parts[0].startswith("numpy")
    }
    assert listed == shipped


# --- target-named outputs -----------------------------------------------------------------


def test_output_names_say_the_target() -> None:
    arm = build_zip.Outputs.for_target(Target("3.12", "arm64"))
    assert arm.full == "lambda-python3.12-arm64.zip"
    assert arm.layer == "numpy-layer-python3.12-arm64.zip"
    assert arm.code == "lambda-code-python3.12-arm64.zip"
    assert arm.without_numpy == "lambda-python3.12-without-numpy.zip"
    assert set(arm.all()).isdisjoint(NAMES.all())  # builds for two targets never collide


def test_show_outputs_names_the_zips_without_building(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "build_zip.py"), "--out-dir", str(tmp_path)]
    result = subprocess.run(
        [*command, "--arch", "arm64", "--layer", "--show-outputs"],
        capture_output=True,
        text=True,
        check=True,
    )
    arm = build_zip.Outputs.for_target(Target(build_zip.DEFAULT_PYTHON, "arm64"))
    assert result.stdout.splitlines() == [
        f"package {tmp_path / arm.full}",
        f"layer {tmp_path / arm.layer}",
        f"code {tmp_path / arm.code}",
    ]
    assert not list(tmp_path.iterdir())


def test_a_build_without_a_model_has_a_name_of_its_own() -> None:
    """--no-model must not silently replace the zip that bundles the model, nor the reverse."""
    with_model = build_zip.BuildOptions(target=TARGET, model=Path("m.npz"), layer=True)
    without = build_zip.BuildOptions(target=TARGET, model=None, layer=True)
    assert without.planned()["package"].name == "lambda-python3.13-x86_64-no-model.zip"
    assert without.planned()["layer"] == with_model.planned()["layer"]  # NumPy alone: the same
    assert without.planned()["package"] != with_model.planned()["package"]
    assert without.planned()["code"] != with_model.planned()["code"]
    assert len(set(NAMES.all())) == len(NAMES.all())


def test_stale_outputs_of_the_same_target_and_old_names_are_removed(tmp_path: Path) -> None:
    other = build_zip.Outputs.for_target(Target("3.12", "arm64"))
    kept = {NAMES.full, NAMES.without_numpy, other.full, other.layer}
    for name in (*kept, NAMES.layer, NAMES.code, *build_zip.LEGACY_OUTPUTS):
        (tmp_path / name).write_bytes(b"zip")
    model = tmp_path / "model.npz"
    options = build_zip.BuildOptions(target=TARGET, model=model, out_dir=tmp_path)
    removed = build_zip.remove_stale_outputs(options)
    assert {p.name for p in removed} == {NAMES.layer, NAMES.code, *build_zip.LEGACY_OUTPUTS}
    # This build's zip stays, and so do zips whose names say they are for something else.
    assert {p.name for p in tmp_path.iterdir()} == kept
    layered = build_zip.BuildOptions(target=TARGET, model=model, out_dir=tmp_path, layer=True)
    assert build_zip.remove_stale_outputs(layered) == []


def test_build_speaks_only_of_lambdas_limits(built: Built) -> None:
    assert "targets:" not in built.stdout
    assert "OVER" not in built.stdout


# --- training Python / Unicode vs the target ------------------------------------------------


def test_interpreter_facts_are_the_target_interpreters_own(interpreter: Path) -> None:
    facts = interpreters.interpreter_facts(interpreter)
    assert facts is not None
    code = "import sys, unicodedata; print(sys.version.split()[0], unicodedata.unidata_version)"
    out = subprocess.run([str(interpreter), "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == [facts.python, facts.unicode]
    assert facts.minor == build_zip.DEFAULT_PYTHON


@pytest.mark.parametrize(
    ("created_by", "mentions"),
    [
        ({"python": "3.13.5", "unicode": "15.1.0"}, []),
        ({"python": "3.11.7", "unicode": "15.1.0"}, ["Python 3.11 (target: 3.13)"]),
        # One minor version has one set of tables: as the runtime, a record saying
        # otherwise is not read.
        ({"python": "3.13.1", "unicode": "16.0.0"}, []),
        (
            {"python": "3.11.7", "unicode": "15.0.0"},
            ["Python 3.11 (target: 3.13)", "Unicode 15.0.0 (target: 15.1.0)"],
        ),
    ],
)
def test_the_warning_names_what_the_runtime_s_comparison_found(
    created_by: dict[str, str], mentions: list[str]
) -> None:
    trained_with, target = training_differences(created_by, "3.13.0", "15.1.0")
    if not mentions:
        assert trained_with == target == {}
        return
    warning = build_zip.mismatch_warning(trained_with, target, "3.13")
    for mention in mentions:
        assert mention in warning
    assert "python3.13" in warning  # what to do about it


def _model_trained_with(path: Path, created_by: dict[str, str]) -> Model:
    """The small real model, re-sealed with another training record."""
    metadata, arrays = unpack(tutorial_model_bytes())
    path.write_bytes(reseal({**metadata, "created_by": created_by}, arrays))
    return build_zip.check_model(path)


def test_build_warns_when_the_model_was_trained_on_another_python(
    tmp_path: Path, interpreter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = interpreters.interpreter_facts(interpreter)
    assert facts is not None
    other = "3.11.7" if facts.minor != "3.11" else "3.12.1"
    model = _model_trained_with(tmp_path / "m.npz", {"python": other, "unicode": facts.unicode})
    capsys.readouterr()  # loading on this interpreter may log its own comparison
    build_zip.warn_if_trained_elsewhere(model, interpreter)
    warning = capsys.readouterr().err
    assert f"build_zip: warning: the model was trained with Python {other[:4]}" in warning
    same = _model_trained_with(
        tmp_path / "same.npz", {"python": facts.python, "unicode": facts.unicode}
    )
    capsys.readouterr()
    build_zip.warn_if_trained_elsewhere(same, interpreter)
    assert capsys.readouterr().err == ""


# --- the NumPy-free package -----------------------------------------------------------------

NO_NUMPY_CHILD = f"""
import importlib, json, sys
handler, events, paths = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
sys.path[:0] = paths
module_name, _, attribute = handler.rpartition(".")
module = importlib.import_module(module_name)
answers = [getattr(module, attribute)(event, None) for event in events]
print({RESULT_MARK!r} + json.dumps({{
    "answers": answers,
    "numpy_loaded": any(m == "numpy" or m.startswith("numpy.") for m in sys.modules),
}}))
"""


def answer_without_numpy(
    interpreter: Path, task: Path, events: list[dict[str, Any]]
) -> dict[str, Any]:
    return run_isolated(interpreter, [task], events, NO_NUMPY_CHILD)


def labels_of(answers: list[dict[str, Any]]) -> list[list[str]]:
    """Each answer's labels: one for a single message, one per message for a batch."""
    labels = []
    for answer in answers:
        assert answer["statusCode"] == 200, answer
        body = json.loads(answer["body"])
        labels.append(
            [p["label"] for p in body["predictions"]] if "predictions" in body else [body["label"]]
        )
    return labels


@pytest.fixture(scope="module")
def built_without_numpy(
    tmp_path_factory: pytest.TempPathFactory, small_model_path: Path, interpreter: Path
) -> Built:
    return run_build(
        tmp_path_factory.mktemp("dist"), small_model_path, interpreter, "--without-numpy"
    )


def test_without_numpy_zip_holds_only_code_and_model(built_without_numpy: Built) -> None:
    (zip_path,) = built_without_numpy.out.glob("*.zip")
    assert zip_path.name == NAMES.without_numpy
    assert zip_path.stat().st_size <= lambda_zip.MIB // 2
    with zipfile.ZipFile(zip_path) as archive:
        tops = {PurePosixPath(n).parts[0] for n in archive.namelist()}
    assert tops == {"runtime", "artifacts"}
    assert "without NumPy" in built_without_numpy.stdout


BATCH = [SPAM_EXAMPLE, HAM_EXAMPLE, "free prize txt now", "lunch tomorrow?"]


def test_without_numpy_package_answers_like_the_numpy_package(
    built: Built, built_without_numpy: Built, tmp_path: Path, interpreter: Path
) -> None:
    events = [
        rest_v1_event(SPAM_EXAMPLE),
        event_builders.rest_v1(body=json.dumps({"texts": BATCH})),
    ]
    with_numpy = run_isolated(interpreter, [unzip(built.full, tmp_path / "numpy")], events)
    task = unzip(built_without_numpy.out / NAMES.without_numpy, tmp_path / "plain")
    without = answer_without_numpy(interpreter, task, events)
    assert not without["numpy_loaded"]
    assert labels_of(without["answers"]) == labels_of(with_numpy["answers"])
    assert labels_of(without["answers"])[0] == ["spam"]
    assert labels_of(without["answers"])[1][:2] == ["spam", "ham"]


# --- --help ---------------------------------------------------------------------------------


def _package_size_parser() -> argparse.ArgumentParser:
    from benchmarks import package_size

    return package_size.build_parser()


@pytest.mark.parametrize(
    "make_parser", [build_zip.build_parser, _package_size_parser], ids=["build_zip", "package_size"]
)
def test_help_gives_each_options_meaning_and_default(
    make_parser: Callable[[], argparse.ArgumentParser],
) -> None:
    parser = make_parser()
    text = " ".join(parser.format_help().split())
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{action.option_strings} has no help"
        if action.default not in (None, False):
            shown = action.default
            if isinstance(shown, Path):
                shown = shown.relative_to(build_zip.ROOT)
            assert f"(default: {shown})" in text, action.option_strings
        elif action.default is None:
            assert "default" in action.help, f"{action.option_strings}: say what happens unset"


def test_find_interpreter_prints_the_python_the_build_compiles_with(interpreter: Path) -> None:
    command = [sys.executable, str(ROOT / "build_zip.py"), "--find-interpreter"]
    found = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    assert interpreters._version_of(Path(found)) == build_zip.DEFAULT_PYTHON
    missing = subprocess.run(
        [*command, "--interpreter", "/nonexistent/python3.13"], capture_output=True, text=True
    )
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert "Python 3.13 is needed" in missing.stderr


def test_no_model_build_checks_the_model_it_will_serve_without_bundling_it(
    tmp_path: Path, interpreter: Path
) -> None:
    """What deploy.sh does: the S3 model is checked against the target, the zip has none."""
    from exporter.pipeline import export_pipeline
    from tests.corpus import fit_tutorial, make_corpus

    facts = interpreters.interpreter_facts(interpreter)
    assert facts is not None
    other = "3.11.7" if facts.minor != "3.11" else "3.12.1"
    model = tmp_path / "model.npz"
    texts, _ = make_corpus()
    created_by = {"python": other, "unicode": facts.unicode}
    export_pipeline(fit_tutorial(), model, texts=texts, metadata={"created_by": created_by})
    command = [sys.executable, str(ROOT / "build_zip.py"), "--no-model", "--check-model"]
    command += [str(model), "--out-dir", str(tmp_path / "dist"), "--interpreter", str(interpreter)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert f"warning: the model was trained with Python {other[:4]}" in result.stderr
    with zipfile.ZipFile(tmp_path / "dist" / NAMES.full_no_model) as archive:
        assert build_zip.MODEL_ARCNAME not in archive.namelist()
    assert not (tmp_path / "dist" / NAMES.full).exists()  # a zip with a model keeps its name

    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not a model")
    refused = subprocess.run(
        [*command[:4], str(broken), *command[5:]], capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "not one the runtime accepts" in refused.stderr
