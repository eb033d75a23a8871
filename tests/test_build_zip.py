"""build_zip.py: what it keeps, that its zips are reproducible, and that the package works
the way Lambda runs it: a fresh target-version interpreter with only the package and the
standard library on sys.path."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

import build_zip
from build_zip import BuildError, Target
from tests import events as event_builders
from tests.corpus import HAM_EXAMPLE, SPAM_EXAMPLE
from tests.test_template import handler_name

ROOT = Path(__file__).resolve().parent.parent
TARGET = Target(build_zip.DEFAULT_PYTHON, "x86_64")
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
    with pytest.raises(BuildError, match=r"Python 3\.13 is needed.*--interpreter"):
        build_zip.find_interpreter("3.13", tmp_path / "python3.13")


def test_interpreter_of_another_version_is_refused() -> None:
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.13"
    with pytest.raises(BuildError, match=f"not a working Python {other}"):
        build_zip.find_interpreter(other, Path(sys.executable))


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


def test_runtime_sources_leave_out_tests_and_caches(tmp_path: Path) -> None:
    package = tmp_path / "runtime"
    for name in [
        "__init__.py",
        "handler.py",
        "events/__init__.py",
        "events/rest_v1.py",
        "__pycache__/handler.cpython-313.pyc",
        "tests/test_handler.py",
        "test_api.py",
        "conftest.py",
        "notes.md",
    ]:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("")
    names = {p.relative_to(package).as_posix() for p in build_zip.runtime_sources(package)}
    assert names == {"__init__.py", "handler.py", "events/__init__.py", "events/rest_v1.py"}


# --- zip writer ---------------------------------------------------------------------------


def _entries(root: Path) -> list[build_zip.Entry]:
    return [
        build_zip.Entry(p.relative_to(root).as_posix(), p, "code")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    ]


def test_zip_is_byte_identical_whatever_the_file_dates_and_modes(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pkg" / "sub").mkdir(parents=True)
    (src / "pkg" / "b.py").write_text("b = 1\n")
    (src / "pkg" / "a.py").write_text("a = 1\n")
    (src / "pkg" / "sub" / "_ext.cpython-313-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    first = build_zip.write_zip(_entries(src), tmp_path / "one.zip")
    for i, path in enumerate(sorted(src.rglob("*.*"))):
        os.utime(path, (1_000_000_000 + i, 1_700_000_000 + i))
        path.chmod(0o600 if i % 2 else 0o777)
    second = build_zip.write_zip(list(reversed(_entries(src))), tmp_path / "two.zip")
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
    def report(size: int, unpacked: int) -> build_zip.ZipReport:
        path = tmp_path / "x.zip"
        return build_zip.ZipReport(path, "0" * 64, size, {"numpy": unpacked}, {}, {})

    mib = build_zip.MIB
    assert build_zip.check_limits([report(12 * mib, 40 * mib)]) == []
    assert "50 MiB" in build_zip.check_limits([report(51 * mib, 40 * mib)])[0]
    assert "250 MiB" in build_zip.check_limits([report(10 * mib, 251 * mib)])[0]
    # A layer and its function zip count together against the unpacked limit.
    both = [report(10 * mib, 130 * mib), report(1 * mib, 130 * mib)]
    assert "250 MiB" in build_zip.check_limits(both)[0]


# --- the real build -----------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    out: Path
    stdout: str

    @property
    def full(self) -> Path:
        return self.out / "lambda.zip"


@pytest.fixture(scope="module")
def interpreter() -> Path:
    """A Python of the default target version; CI must have one, elsewhere it may skip."""
    try:
        return build_zip.find_interpreter(build_zip.DEFAULT_PYTHON)
    except BuildError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


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


def run_isolated(
    interpreter: Path, paths: list[Path], events: list[dict[str, Any]]
) -> dict[str, Any]:
    """Answer events with the handler the template names, in a fresh isolated interpreter."""
    command = [str(interpreter), "-I", "-S", "-c", CHILD, handler_name(), json.dumps(events)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    result = subprocess.run(
        [*command, *map(str, paths)], capture_output=True, text=True, env=env, check=False
    )
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
    assert dates == {build_zip.ZIP_DATE}
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
    with zipfile.ZipFile(built.out / "numpy-layer.zip") as layer:
        assert all(n.startswith("python/") for n in layer.namelist())
    with zipfile.ZipFile(built.out / "lambda-code.zip") as code:
        assert {PurePosixPath(n).parts[0] for n in code.namelist()} == {"runtime", "artifacts"}
    opt = unzip(built.out / "numpy-layer.zip", tmp_path / "opt")
    task = unzip(built.out / "lambda-code.zip", tmp_path / "task")
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
    assert not (tmp_path / "lambda.zip").exists()


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
