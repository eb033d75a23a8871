"""Build a small, reproducible AWS Lambda package: runtime code, model and a slimmed NumPy.

Why this exists: scikit-learn's stack does not fit Lambda's size limits, while the NumPy-only
runtime needs just NumPy's core. This script downloads the NumPy wheel for the *target* Lambda
runtime (not this machine's Python), leaves out everything the runtime never imports, ships
bytecode compiled by an interpreter of the target version (Lambda's /var/task is read-only, so
missing .pyc files are compiled again at every cold start) and writes byte-identical zips for
identical inputs.

    python build_zip.py                    # dist/lambda-python3.13-x86_64.zip
    python build_zip.py --arch arm64 --no-model
    python build_zip.py --layer            # also the NumPy layer and a code-only zip
    python build_zip.py --without-numpy    # code + model only, for the NumPy-free runtime
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from interpreters import InterpreterNotFound, find_interpreter, interpreter_facts
from lambda_zip import (
    Entry,
    PackageError,
    ZipReport,
    check_limits,
    format_report,
    sha256_file,
    write_zip,
)
from runtime.model import Model, ModelError, training_differences

ROOT = Path(__file__).resolve().parent
RUNTIME_DIR = ROOT / "runtime"
DEFAULT_MODEL = ROOT / "artifacts" / "model.npz"
MODEL_ARCNAME = "artifacts/model.npz"
REQUIREMENTS = ROOT / "requirements.txt"
DEFAULT_CACHE = ROOT / ".cache"
DEFAULT_OUT = ROOT / "dist"

# Lambda runtimes this script can target. python3.11 is past its Lambda deprecation date.
SUPPORTED_PYTHONS = ("3.12", "3.13")
DEFAULT_PYTHON = "3.13"
# Lambda architecture name -> wheel platform suffix.
ARCHES = {"x86_64": "x86_64", "arm64": "aarch64"}
DEFAULT_ARCH = "x86_64"
# The python3.12+ Lambda runtimes run on Amazon Linux 2023 (glibc 2.34). Ask for manylinux_2_28
# explicitly: "manylinux2014" silently resolves to old NumPy releases.
MANYLINUX = "manylinux_2_28"

# Names earlier versions of this script wrote whatever the target; removed so that no zip in
# dist/ can be mistaken for the output of the current build.
LEGACY_OUTPUTS = ("lambda.zip", "numpy-layer.zip", "lambda-code.zip")

# NumPy subpackages/modules that `import numpy` does not load and the runtime never uses.
# (`import numpy` 2.4 eagerly loads _core, _typing, _utils, lib, linalg and matrixlib: kept.)
NUMPY_DROPPED_PACKAGES = frozenset(
    {
        "_pyinstaller",
        "char",
        "core",  # compatibility shim for pickles made by NumPy 1.x
        "ctypeslib",
        "doc",
        "f2py",
        "fft",
        "ma",
        "polynomial",
        "random",
        "rec",
        "strings",
        "testing",
        "typing",
    }
)
# C headers, and static libraries with their pkg-config files: for building extensions only.
NUMPY_DROPPED_DIRS = frozenset({("_core", "include"), ("_core", "lib")})
# Modules nothing in the kept tree imports: public entry points of dropped features (matlib,
# recfunctions, user_array; char/strings' implementation), build/test helpers.
NUMPY_DROPPED_MODULES = frozenset(
    {
        "_configtool.py",
        "_core/cversions.py",
        "_core/defchararray.py",
        "_core/strings.py",
        "_typing/_add_docstring.py",
        "_typing/_extended_precision.py",
        "_utils/_pep440.py",
        "conftest.py",
        "lib/_user_array_impl.py",
        "lib/recfunctions.py",
        "lib/user_array.py",
        "matlib.py",
    }
)
# Extension modules that exist only for NumPy's own test suite.
NUMPY_TEST_EXTENSIONS = frozenset(
    {
        "_multiarray_tests",
        "_operand_flag_tests",
        "_rational_tests",
        "_simd",
        "_struct_ufunc_tests",
        "_umath_tests",
    }
)
# Typing stubs, Cython declarations, static libraries and C headers: build-time only.
NUMPY_DROPPED_SUFFIXES = (".pyi", ".pxd", ".a", ".h", ".c", ".cpp")
DIST_INFO_DROPPED = frozenset({"RECORD", "entry_points.txt", "INSTALLER", "REQUESTED"})

CODE_EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "test"})


class BuildError(Exception):
    """A build step failed; the message says what to do about it."""


@dataclass(frozen=True)
class Target:
    """The Lambda runtime the package is built for."""

    python: str
    arch: str

    @property
    def abi(self) -> str:
        return "cp" + self.python.replace(".", "")

    @property
    def platform(self) -> str:
        return f"{MANYLINUX}_{ARCHES[self.arch]}"

    @property
    def lambda_runtime(self) -> str:
        return f"python{self.python}"

    @property
    def label(self) -> str:
        """How file names say the target, e.g. python3.13-x86_64."""
        return f"{self.lambda_runtime}-{self.arch}"


@dataclass(frozen=True)
class Outputs:
    """The file names a build writes in dist/ for one target: each says what it is for."""

    full: str
    layer: str
    code: str
    without_numpy: str

    @classmethod
    def for_target(cls, target: Target) -> Outputs:
        return cls(
            full=f"lambda-{target.label}.zip",
            layer=f"numpy-layer-{target.label}.zip",
            code=f"lambda-code-{target.label}.zip",
            # Bytecode is per Python version; without NumPy nothing depends on the architecture.
            without_numpy=f"lambda-{target.lambda_runtime}-without-numpy.zip",
        )

    def all(self) -> tuple[str, ...]:
        return (self.full, self.layer, self.code, self.without_numpy)


# --- inputs -------------------------------------------------------------------------------


def read_pin(requirements: Path, name: str) -> str:
    """Return the `==` version pinned for `name`: the package must match the tested version."""
    pattern = re.compile(rf"^\s*{re.escape(name)}\s*==\s*([A-Za-z0-9.+!-]+)\s*(?:#.*)?$", re.I)
    for line in requirements.read_text().splitlines():
        match = pattern.match(line)
        if match:
            return match.group(1)
    raise BuildError(f"{requirements} has no '{name}==VERSION' pin")


def _wheel_matches(name: str, version: str, target: Target) -> bool:
    """Check a wheel file name is NumPy `version` for the target's ABI and architecture."""
    parts = name.removesuffix(".whl").split("-")
    if len(parts) != 5 or parts[0] != "numpy" or parts[1] != version:
        return False
    _, _, python_tag, abi_tag, platform_tag = parts
    return (
        python_tag == target.abi
        and abi_tag == target.abi
        and any(p.endswith("_" + ARCHES[target.arch]) for p in platform_tag.split("."))
        and "manylinux" in platform_tag
    )


def _cached_wheel(directory: Path, version: str, target: Target) -> Path | None:
    """Return a cached wheel whose recorded SHA-256 still matches, else None."""
    for wheel in sorted(directory.glob(f"numpy-{version}-*.whl")):
        sidecar = wheel.with_name(wheel.name + ".sha256")
        if (
            _wheel_matches(wheel.name, version, target)
            and sidecar.exists()
            and sidecar.read_text().strip() == sha256_file(wheel)
        ):
            return wheel
    return None


def fetch_numpy_wheel(version: str, target: Target, cache_dir: Path) -> Path:
    """Download (once) the NumPy wheel for the target runtime into the cache.

    pip verifies the download against the index's hash; we record that file's SHA-256 beside it
    so a truncated or altered cache entry is detected and fetched again. The download goes to a
    temporary directory in the cache and is moved in atomically, so an interrupted or
    concurrent build never sees a partial wheel.
    """
    directory = cache_dir / "wheels" / f"{target.abi}-{target.platform}"
    cached = _cached_wheel(directory, version, target)
    if cached:
        return cached
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".download-") as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            target.platform,
            "--python-version",
            target.python,
            "--implementation",
            "cp",
            "--abi",
            target.abi,
            "--dest",
            tmp,
            f"numpy=={version}",
        ]
        result = subprocess.run(command, check=False)
        if result.returncode != 0:
            raise BuildError(f"pip could not download numpy=={version} for {target}")
        wheels = [p for p in Path(tmp).glob("*.whl") if _wheel_matches(p.name, version, target)]
        if len(wheels) != 1:
            raise BuildError(f"expected one NumPy wheel for {target}, pip gave {wheels}")
        wheel = wheels[0]
        with zipfile.ZipFile(wheel) as archive:
            if archive.testzip() is not None:
                raise BuildError(f"downloaded wheel {wheel.name} is corrupt")
        sidecar = Path(tmp) / (wheel.name + ".sha256")
        sidecar.write_text(sha256_file(wheel) + "\n")
        # Sidecar first: a wheel in the cache always has its checksum beside it.
        os.replace(sidecar, directory / sidecar.name)
        os.replace(wheel, directory / wheel.name)
    return directory / wheel.name


# --- selection ----------------------------------------------------------------------------


def keep_numpy_file(name: str) -> bool:
    """Decide whether a wheel member is needed at run time (see NUMPY_DROPPED_*).

    Everything in numpy.libs (OpenBLAS, gfortran, quadmath) is kept: NumPy's extension
    modules link against those exact files, and stripping or dropping them breaks import.
    """
    path = PurePosixPath(name)
    top = path.parts[0]
    if top.endswith(".dist-info"):
        return path.name not in DIST_INFO_DROPPED
    if top != "numpy":
        return top == "numpy.libs"
    inner = path.parts[1:]
    if not inner or inner[0] in NUMPY_DROPPED_PACKAGES:
        return False
    if "/".join(inner) in NUMPY_DROPPED_MODULES:
        return False
    if "tests" in inner[:-1] or "__pycache__" in inner[:-1]:
        return False
    if inner[:2] in NUMPY_DROPPED_DIRS:
        return False
    if path.suffix in NUMPY_DROPPED_SUFFIXES or path.name == "py.typed":
        return False
    return path.name.split(".")[0] not in NUMPY_TEST_EXTENSIONS or path.suffix != ".so"


def _safe_member(name: str) -> bool:
    """Refuse absolute paths and `..` in archive members (zip-slip)."""
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


def extract_numpy(wheel: Path, dest: Path) -> list[str]:
    """Unpack the kept members of the wheel into `dest`; return their names."""
    kept = []
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir() or not keep_numpy_file(info.filename):
                continue
            if not _safe_member(info.filename):
                raise BuildError(f"unsafe path in {wheel.name}: {info.filename}")
            target = dest / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out)
            kept.append(info.filename)
    return kept


def runtime_sources(runtime_dir: Path) -> list[Path]:
    """The runtime package's Python files, without tests or caches: everything else in
    runtime/ ships (local tools live outside it, e.g. localserver/)."""
    if not (runtime_dir / "__init__.py").is_file():
        raise BuildError(f"{runtime_dir} is not a Python package (no __init__.py)")
    files = []
    for path in sorted(runtime_dir.rglob("*.py")):
        rel = path.relative_to(runtime_dir)
        if any(part in CODE_EXCLUDED_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        if path.name.startswith("test_") or path.name.endswith("_test.py"):
            continue
        if path.name == "conftest.py":
            continue
        files.append(path)
    return files


# --- bytecode -----------------------------------------------------------------------------


def _compileall(interpreter: Path, root: Path, package: str, *flags: str) -> None:
    """Run the target interpreter's compileall on `package` (relative to `root`).

    unchecked-hash: Lambda's code is immutable, and timestamp-based .pyc would embed each
    build's file mtimes (not reproducible) and look stale against the zip's 1980 dates, so
    Python would compile them again in memory at every cold start. Relative paths and a fixed
    hash seed (frozenset constants) keep the bytecode byte-identical between builds.
    """
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    command = [str(interpreter), "-I", "-m", "compileall", "-q", "-j", "0"]
    command += ["--invalidation-mode", "unchecked-hash", *flags, package]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"compileall {package} failed:\n{result.stdout}{result.stderr}")


def compile_code(interpreter: Path, root: Path, package: str = "runtime") -> None:
    """Our code: __pycache__/*.pyc beside the sources, which stay for readable tracebacks."""
    _compileall(interpreter, root, package)


def compile_sourceless(interpreter: Path, root: Path, package: str = "numpy") -> None:
    """NumPy: replace each .py with its .pyc (sourceless import).

    Sources and bytecode together are 2 MiB of the unpacked size; Python imports a lone
    `module.pyc` without ever looking for the source. The cost is NumPy tracebacks without
    source lines; a .pyc of another Python version fails loudly (bad magic number).
    """
    _compileall(interpreter, root, package, "-b")
    for source in (root / package).rglob("*.py"):
        if not source.with_suffix(".pyc").is_file():
            raise BuildError(f"no bytecode was written for {source}")
        source.unlink()


def write_record(root: Path, dist_info: str) -> None:
    """Rewrite the dist-info RECORD to list the files actually shipped.

    The wheel's RECORD names files this build leaves out; a RECORD that matches the package
    keeps `importlib.metadata` and any installer-style tooling truthful.
    """
    record = f"{dist_info}/RECORD"
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel == record or not rel.startswith(("numpy/", "numpy.libs/", dist_info + "/")):
            continue
        data = path.read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{rel},sha256={digest},{len(data)}")
    lines.append(f"{record},,")
    (root / record).write_text("\n".join(lines) + "\n")


# --- training vs target ------------------------------------------------------------------


def mismatch_warning(trained_with: dict[str, Any], target: dict[str, Any], minor: str) -> str:
    """What the runtime's comparison (runtime.model.training_differences) found, as advice."""
    problems = [
        f"{'Python' if key == 'python' else 'Unicode'} {trained_with[key]} (target: {target[key]})"
        for key in trained_with
    ]
    return (
        f"the model was trained with {' and '.join(problems)}; messages with characters whose "
        f"Unicode data differs between the two may be tokenised differently than at training. "
        f"Train with python{minor} (see the README's quick start) to match the target."
    )


# --- build --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build depends on."""

    target: Target
    model: Path | None
    out_dir: Path = DEFAULT_OUT
    cache_dir: Path = DEFAULT_CACHE
    interpreter: Path | None = None
    layer: bool = False
    without_numpy: bool = False
    # With model=None: the model the function will load from S3, checked but not bundled.
    check_model: Path | None = None
    runtime_dir: Path = RUNTIME_DIR
    requirements: Path = REQUIREMENTS

    @property
    def outputs(self) -> Outputs:
        return Outputs.for_target(self.target)

    def planned(self) -> dict[str, Path]:
        """What this build writes, by kind: package, or layer + code, or without-numpy."""
        names = self.outputs
        if self.without_numpy:
            return {"without-numpy": self.out_dir / names.without_numpy}
        planned = {"package": self.out_dir / names.full}
        if self.layer:
            planned |= {"layer": self.out_dir / names.layer, "code": self.out_dir / names.code}
        return planned


def stage(options: BuildOptions, staging: Path) -> list[Entry]:
    """Lay out code, model and (unless without_numpy) NumPy in `staging` with bytecode."""
    served = options.model or options.check_model
    # Before the slow steps: a bad model fails in a second.
    model = check_model(served) if served is not None else None
    interpreter = find_interpreter(options.target.python, options.interpreter)
    if model is not None:
        warn_if_trained_elsewhere(model, interpreter)

    code_root = staging / "runtime"
    for source in runtime_sources(options.runtime_dir):
        target = code_root / source.relative_to(options.runtime_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    compile_code(interpreter, staging)
    if not options.without_numpy:
        version = read_pin(options.requirements, "numpy")
        wheel = fetch_numpy_wheel(version, options.target, options.cache_dir)
        numpy_names = extract_numpy(wheel, staging)
        dist_info = next(
            n.split("/")[0] for n in numpy_names if n.split("/")[0].endswith(".dist-info")
        )
        compile_sourceless(interpreter, staging)
        write_record(staging, dist_info)

    entries = []
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        rel = path.relative_to(staging).as_posix()
        entries.append(Entry(rel, path, "code" if rel.startswith("runtime/") else "numpy"))
    if options.model is not None:
        entries.append(Entry(MODEL_ARCNAME, options.model, "model"))
    return entries


def warn_if_trained_elsewhere(model: Model, interpreter: Path) -> None:
    """Warn (not fail) when the model's training Python or Unicode differ from the target's.

    The comparison is the runtime's own, made for the target interpreter's versions.
    """
    facts = interpreter_facts(interpreter)
    if facts is None:
        return
    trained_with, target = training_differences(
        model.metadata.get("created_by"), facts.python, facts.unicode
    )
    if trained_with:
        warning = mismatch_warning(trained_with, target, facts.minor)
        print(f"build_zip: warning: {warning}", file=sys.stderr)


def check_model(path: Path) -> Model:
    """Refuse to package a model the function would refuse at its first cold start."""
    if not path.is_file():
        raise BuildError(
            f"model {path} not found: run `python exporter/export.py` first, "
            "pass --model PATH, or --no-model if the function loads it from S3"
        )
    try:
        return Model.from_path(path)
    except ModelError as exc:
        raise BuildError(f"model {path} is not one the runtime accepts: {exc}") from None


def build(options: BuildOptions) -> list[ZipReport]:
    """Write the zips `options.planned()` names; return their reports in that order."""
    planned = options.planned()
    with tempfile.TemporaryDirectory(prefix="build-zip-") as tmp:
        entries = stage(options, Path(tmp))
        if options.without_numpy:
            return [write_zip(entries, planned["without-numpy"])]
        reports = [write_zip(entries, planned["package"])]
        if options.layer:
            layer = [
                Entry(f"python/{e.arcname}", e.source, e.component)
                for e in entries
                if e.component == "numpy"
            ]
            code = [e for e in entries if e.component != "numpy"]
            reports.append(write_zip(layer, planned["layer"]))
            reports.append(write_zip(code, planned["code"]))
    return reports


def remove_stale_outputs(options: BuildOptions) -> list[Path]:
    """Delete zips an earlier build left that could pass for this one's: the layer and
    code-only zips of this target after a build without --layer (they would no longer match
    the full zip), and zips under the old target-less names. Return what went."""
    stale = [options.out_dir / name for name in LEGACY_OUTPUTS]
    if not options.without_numpy and not options.layer:
        stale += [options.out_dir / options.outputs.layer, options.out_dir / options.outputs.code]
    removed = []
    for path in stale:
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


class HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each option's default; paths inside the repository relative to it, and no
    default for flags (off) or options whose help already says what happens without them."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or action.help is None:
            return action.help
        if isinstance(action.default, Path) and action.default.is_relative_to(ROOT):
            return f"{action.help} (default: {action.default.relative_to(ROOT)})"
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The command line, every option with its meaning and default in --help."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=HelpWithDefaults,
    )
    parser.add_argument(
        "--python",
        choices=SUPPORTED_PYTHONS,
        default=DEFAULT_PYTHON,
        help="target Lambda Python runtime; deploy with the template's PythonVersion set to it",
    )
    parser.add_argument(
        "--arch",
        choices=sorted(ARCHES),
        default=DEFAULT_ARCH,
        help="target Lambda architecture; deploy with the template's Architecture set to it",
    )
    model = parser.add_mutually_exclusive_group()
    model.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        help="model file to bundle as artifacts/model.npz",
    )
    model.add_argument(
        "--no-model",
        action="store_true",
        help="bundle no model: the function reads it from S3 (MODEL_S3_URI)",
    )
    parser.add_argument(
        "--check-model",
        type=Path,
        help="with --no-model: the model the function will load from S3, checked as a bundled "
        "one would be (valid; trained with the target's Python and Unicode) but not bundled "
        "(default: none)",
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument(
        "--layer",
        action="store_true",
        help="also write NumPy as a Lambda layer (python/ prefix) and a code-only zip",
    )
    shape.add_argument(
        "--without-numpy",
        action="store_true",
        help="write only code + model, for the runtime that needs no NumPy",
    )
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where zips go")
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE, help="where downloaded wheels are kept"
    )
    parser.add_argument(
        "--interpreter",
        type=Path,
        help="Python of the target version that compiles the bytecode "
        "(default: found under pyenv or on PATH)",
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--show-outputs",
        action="store_true",
        help="print KIND PATH for each zip these options write, then exit without building",
    )
    only.add_argument(
        "--find-interpreter",
        action="store_true",
        help="print the path of the target-version Python the build would use, then exit "
        "(2 if there is none); the quick start makes its venv with it",
    )
    return parser


def parse_args(argv: Sequence[str] | None) -> tuple[BuildOptions, str]:
    """Command line -> (BuildOptions, what to do: build, show-outputs or find-interpreter)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.check_model and not args.no_model:
        parser.error("--check-model goes with --no-model (a bundled model is checked anyway)")
    options = BuildOptions(
        target=Target(args.python, args.arch),
        model=None if args.no_model else args.model,
        out_dir=args.out_dir,
        cache_dir=args.cache_dir,
        interpreter=args.interpreter,
        layer=args.layer,
        without_numpy=args.without_numpy,
        check_model=args.check_model,
    )
    action = (
        "show-outputs"
        if args.show_outputs
        else "find-interpreter"
        if args.find_interpreter
        else "build"
    )
    return options, action


def main(argv: Sequence[str] | None = None) -> int:
    """Build, print the size table and SHA-256, and fail past Lambda's limits."""
    options, action = parse_args(argv)
    try:
        if action == "show-outputs":
            for kind, path in options.planned().items():
                print(f"{kind} {path}")
            return 0
        if action == "find-interpreter":
            print(find_interpreter(options.target.python, options.interpreter))
            return 0
        reports = build(options)
    except (BuildError, InterpreterNotFound, PackageError) as error:
        print(f"build_zip: error: {error}", file=sys.stderr)
        return 2
    for stale in remove_stale_outputs(options):
        print(f"removed {stale} (an earlier build's output for this target)")
    target = options.target
    numpy_note = ", without NumPy" if options.without_numpy else f" ({target.platform})"
    print(f"target: {target.lambda_runtime} {target.arch}{numpy_note}")
    for report in reports:
        print(format_report(report))
    # The full zip on its own; a layer and its code-only zip together (their unpacked sizes add).
    problems = check_limits(reports[:1]) + (check_limits(reports[1:]) if options.layer else [])
    for problem in problems:
        print(f"build_zip: error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
