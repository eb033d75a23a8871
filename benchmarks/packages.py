"""The Lambda packages the cold start runs from: the default zip and a NumPy-free build.

The default package is whatever ``python build_zip.py`` writes, unzipped. The NumPy-free
build is a folder holding ``runtime/`` (with bytecode for the target interpreter) and
``artifacts/model.npz`` only, run under ``-I -S`` so nothing outside it and the standard
library can be imported; it stands in for ``build_zip.py --without-numpy``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.warm import Batch

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Package:
    """A package unpacked at ``root``; sizes of its zip (deflated) and of its files."""

    root: Path
    zipped: int
    unpacked: int


def build_default(model: Path, python: str, workdir: Path) -> Package:
    """Run ``build_zip.py`` into an empty folder and unpack the one zip it writes."""
    dist = workdir / "dist"
    dist.mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "build_zip.py"),
            "--python",
            python,
            "--model",
            str(model),
            "--out-dir",
            str(dist),
        ],
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (archive,) = dist.glob("*.zip")
    root = workdir / "lambda-package"
    with zipfile.ZipFile(archive) as z:
        z.extractall(root)
        unpacked = sum(info.file_size for info in z.infolist())
    return Package(root, archive.stat().st_size, unpacked)


def build_numpy_free(model: Path, interpreter: Path, root: Path) -> Package:
    """runtime/ compiled by the target interpreter, plus the model: nothing else."""
    shutil.copytree(
        PROJECT_ROOT / "runtime", root / "runtime", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run([str(interpreter), "-I", "-m", "compileall", "-q", str(root)], check=True)
    (root / "artifacts").mkdir()
    shutil.copyfile(model, root / "artifacts" / "model.npz")
    archive = root.with_suffix(".zip")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for path in files:
            z.write(path, path.relative_to(root))
    return Package(root, archive.stat().st_size, sum(p.stat().st_size for p in files))


# argv: package root, texts (JSON), repeats, "numpy" or "plain" (the path it must take).
PACKAGE_BATCH = """\
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
from runtime.model import Model

texts = json.loads(open(sys.argv[2], encoding="utf-8").read())
repeats = int(sys.argv[3])
model = Model.from_path(sys.argv[1] + "/artifacts/model.npz")
labels = model.predict(texts)
seconds = []
for _ in range(repeats):
    start = time.perf_counter()
    labels = model.predict(texts)
    seconds.append(time.perf_counter() - start)
if ("numpy" in sys.modules) != (sys.argv[4] == "numpy"):
    sys.exit("took the wrong path: NumPy loaded: " + str("numpy" in sys.modules))
print(json.dumps({"seconds": seconds, "labels": [str(label) for label in labels]}))
"""


def package_batch(
    package: Package,
    argv: list[str],
    label: str,
    texts: list[str],
    repeats: int,
    workdir: Path,
    *,
    numpy: bool,
) -> tuple[Batch, list[str]]:
    """Every message in one ``Model.predict`` call, in the package's own interpreter.

    ``argv`` is the interpreter and its flags; ``numpy`` says which path it must have taken.
    """
    script, data = workdir / "package_batch.py", workdir / "texts.json"
    script.write_text(PACKAGE_BATCH)
    data.write_text(json.dumps(texts), encoding="utf-8")
    path = "numpy" if numpy else "plain"
    done = subprocess.run(
        [*argv, str(script), str(package.root), str(data), str(repeats), path],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])  # after any log lines of the load
    return Batch(label, label, len(texts), result["seconds"]), result["labels"]
