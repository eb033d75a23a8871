"""How big the scikit-learn stack is as a Lambda package, next to this project's zip.

Why: the project exists because scikit-learn + SciPy + NumPy fit Lambda badly. This measures
that for the exact versions pinned in requirements-dev.txt and the same target build_zip.py
builds for: the manylinux_2_28 wheels of the target Python and architecture, installed into
one tree, compiled to bytecode by a target-version interpreter (as a fast-starting package
must be) and zipped with build_zip's writer and compression level.

    python benchmarks/package_size.py                  # python3.13, x86_64
    python benchmarks/package_size.py --python 3.12 --arch arm64

Other benchmarks import `measure_stack` and `measure_ours`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import build_zip  # noqa: E402  (the repository root is not on sys.path when run as a script)
import interpreters  # noqa: E402
import lambda_zip  # noqa: E402
from build_zip import BuildError, BuildOptions, Target  # noqa: E402
from lambda_zip import MIB, Entry, ZipReport  # noqa: E402

# The tutorial's stack; pip adds whatever else these need (e.g. narwhals for scikit-learn).
STACK = ("scikit-learn", "scipy", "numpy", "joblib", "threadpoolctl")
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"
STACK_CACHE = "sklearn-stack"
# Top-level names in the installed tree whose distribution is named differently.
DISTRIBUTION_OF = {"sklearn": "scikit-learn", "scikit_learn": "scikit-learn"}


@dataclass(frozen=True)
class StackSize:
    """The scikit-learn stack as one Lambda package for `target`."""

    target: Target
    pins: dict[str, str]
    wheels: dict[str, int]  # wheel file name -> bytes downloaded
    zipped: int  # the zip of the installed tree, bytecode included
    zipped_without_bytecode: int
    unpacked: int  # installed tree without bytecode
    unpacked_with_bytecode: int
    per_component: dict[str, int]  # unpacked bytes with bytecode, by package

    @property
    def wheel_total(self) -> int:
        return sum(self.wheels.values())


def stack_pins(
    dev_requirements: Path = DEV_REQUIREMENTS, requirements: Path = build_zip.REQUIREMENTS
) -> dict[str, str]:
    """The tested versions: scikit-learn & co. from requirements-dev.txt, NumPy from the
    runtime requirements that requirements-dev.txt includes."""
    pins = {}
    for name in STACK:
        source = requirements if name == "numpy" else dev_requirements
        pins[name] = build_zip.read_pin(source, name)
    return pins


def _component(relative: Path) -> str:
    """Which distribution a file of the tree belongs to, by its top-level entry (package,
    module, .libs or .dist-info; a top-level module's bytecode by its own name)."""
    parts = relative.parts
    top = parts[1] if parts[0] == "__pycache__" and len(parts) > 1 else parts[0]
    stem = top.split("-")[0].split(".")[0]
    return DISTRIBUTION_OF.get(stem, stem)


def _wheel_sha256s(directory: Path) -> dict[str, str]:
    return {w.name: lambda_zip.sha256_file(w) for w in sorted(directory.glob("*.whl"))}


def download_stack(target: Target, pins: dict[str, str], cache_dir: Path) -> list[Path]:
    """Download (once) the stack's binary wheels, with dependencies, for `target`.

    A manifest of the pins and each wheel's SHA-256 is written last, so an interrupted or
    stale download is never mistaken for a complete one and is fetched again.
    """
    directory = cache_dir / STACK_CACHE / f"{target.abi}-{target.platform}"
    manifest = directory / "manifest.json"
    if manifest.is_file():
        recorded = json.loads(manifest.read_text())
        if recorded.get("pins") == pins and recorded.get("wheels") == _wheel_sha256s(directory):
            return sorted(directory.glob("*.whl"))
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".download-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--quiet"]
        command += ["--disable-pip-version-check", "--only-binary=:all:"]
        command += ["--platform", target.platform, "--python-version", target.python]
        command += ["--implementation", "cp", "--abi", target.abi, "--dest", tmp]
        command += [f"{name}=={version}" for name, version in pins.items()]
        if subprocess.run(command, check=False).returncode != 0:
            raise BuildError(f"pip could not download the scikit-learn stack for {target}")
        for old in directory.glob("*.whl"):
            old.unlink()
        for wheel in Path(tmp).glob("*.whl"):
            os.replace(wheel, directory / wheel.name)
    manifest.write_text(json.dumps({"pins": pins, "wheels": _wheel_sha256s(directory)}))
    return sorted(directory.glob("*.whl"))


def install_tree(wheels: Sequence[Path], dest: Path) -> None:
    """Unpack wheels the way `pip install --target` lays them out (purelib/platlib at the root)."""
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                path = PurePosixPath(info.filename)
                if info.is_dir() or ".." in path.parts or path.is_absolute():
                    continue
                if path.parts[0].endswith(".data"):
                    if len(path.parts) < 3 or path.parts[1] not in {"purelib", "platlib"}:
                        continue  # scripts and headers are not importable
                    path = PurePosixPath(*path.parts[2:])
                target = dest / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(info))


def _entries(tree: Path) -> list[Entry]:
    files = sorted(p for p in tree.rglob("*") if p.is_file())
    return [
        Entry(p.relative_to(tree).as_posix(), p, _component(p.relative_to(tree))) for p in files
    ]


def measure_stack(
    target: Target | None = None,
    cache_dir: Path = build_zip.DEFAULT_CACHE,
    interpreter: Path | None = None,
    pins: dict[str, str] | None = None,
) -> StackSize:
    """Download, install, compile and zip the scikit-learn stack; return its sizes."""
    target = target or Target(build_zip.DEFAULT_PYTHON, build_zip.DEFAULT_ARCH)
    pins = pins or stack_pins()
    python = interpreters.find_interpreter(target.python, interpreter)
    wheels = download_stack(target, pins, cache_dir)
    with tempfile.TemporaryDirectory(prefix="sklearn-stack-") as tmp:
        tree = Path(tmp) / "package"
        install_tree(wheels, tree)
        plain = lambda_zip.write_zip(_entries(tree), Path(tmp) / "without-bytecode.zip")
        build_zip.compile_code(python, tree, ".")
        report = lambda_zip.write_zip(_entries(tree), Path(tmp) / "sklearn-stack.zip")
    return StackSize(
        target=target,
        pins=pins,
        wheels={w.name: w.stat().st_size for w in wheels},
        zipped=report.size,
        zipped_without_bytecode=plain.size,
        unpacked=plain.total_unpacked,
        unpacked_with_bytecode=report.total_unpacked,
        per_component=dict(sorted(report.unpacked.items())),
    )


def measure_ours(
    target: Target | None = None,
    model: Path | None = None,
    cache_dir: Path = build_zip.DEFAULT_CACHE,
    interpreter: Path | None = None,
) -> ZipReport:
    """Build this project's zip for `target` in a temporary directory; return its report.

    The model defaults to artifacts/model.npz when it exists (else none is bundled).
    """
    target = target or Target(build_zip.DEFAULT_PYTHON, build_zip.DEFAULT_ARCH)
    if model is None and build_zip.DEFAULT_MODEL.is_file():
        model = build_zip.DEFAULT_MODEL
    with tempfile.TemporaryDirectory(prefix="lambda-zip-") as tmp:
        options = BuildOptions(
            target=target,
            model=model,
            out_dir=Path(tmp),
            cache_dir=cache_dir,
            interpreter=interpreter,
        )
        (report,) = build_zip.build(options)
    return report


def format_comparison(ours: ZipReport, stack: StackSize) -> str:
    """A Markdown table: our zip per component, the stack per package, and Lambda's limits."""

    def row(label: str, zipped: int | None, unpacked: int | None) -> str:
        z = f"{zipped / MIB:.2f}" if zipped is not None else ""
        u = f"{unpacked / MIB:.2f}" if unpacked is not None else ""
        return f"| {label} | {z} | {u} |"

    target = stack.target
    lines = [
        f"Lambda package for {target.lambda_runtime} {target.arch} ({target.platform})",
        "",
        "| package | zipped MiB | unpacked MiB |",
        "|---|---:|---:|",
        row(f"**this project** (`dist/{ours.path.name}`)", ours.size, ours.total_unpacked),
    ]
    for component in sorted(ours.unpacked):
        lines.append(row(f"  {component}", ours.zipped[component], ours.unpacked[component]))
    versions = ", ".join(f"{name} {version}" for name, version in stack.pins.items())
    lines.append(row(f"**scikit-learn stack** ({versions})", None, None))
    lines.append(row("  with bytecode", stack.zipped, stack.unpacked_with_bytecode))
    lines.append(row("  without bytecode", stack.zipped_without_bytecode, stack.unpacked))
    for component, size in stack.per_component.items():
        lines.append(row(f"  {component} (with bytecode)", None, size))
    lines.append(row("  the wheels as downloaded", stack.wheel_total, None))
    lines.append(row("Lambda limit (direct upload / unpacked)", 50 * MIB, 250 * MIB))
    lines.append("")
    lines.append(
        f"The stack is {stack.zipped / ours.size:.1f}x our zip zipped and "
        f"{stack.unpacked_with_bytecode / ours.total_unpacked:.1f}x unpacked; "
        f"wheels: {', '.join(sorted(stack.wheels))}"
    )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line, every option with its meaning and default in --help."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=build_zip.HelpWithDefaults
    )
    parser.add_argument(
        "--python",
        choices=build_zip.SUPPORTED_PYTHONS,
        default=build_zip.DEFAULT_PYTHON,
        help="Lambda Python runtime both packages are built for",
    )
    parser.add_argument(
        "--arch",
        choices=sorted(build_zip.ARCHES),
        default=build_zip.DEFAULT_ARCH,
        help="Lambda architecture both packages are built for",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=build_zip.DEFAULT_CACHE,
        help="where downloaded wheels are kept (shared with build_zip.py)",
    )
    parser.add_argument(
        "--interpreter",
        type=Path,
        help="Python of the target version that compiles the bytecode "
        "(default: found under pyenv or on PATH)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    target = Target(args.python, args.arch)
    try:
        ours = measure_ours(target, cache_dir=args.cache_dir, interpreter=args.interpreter)
        stack = measure_stack(target, args.cache_dir, args.interpreter)
    except (BuildError, interpreters.InterpreterNotFound) as error:
        print(f"package_size: error: {error}", file=sys.stderr)
        return 2
    print(format_comparison(ours, stack))
    return 0


if __name__ == "__main__":
    sys.exit(main())
