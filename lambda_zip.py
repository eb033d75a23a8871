"""A Lambda package as a reproducible zip, its size table, and Lambda's limits on it.

The packager (build_zip.py) decides what goes in; this writes it: sorted names, fixed
dates, modes and compression level, so the same inputs give the same bytes (and SHA-256).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MIB = 1024 * 1024
# Lambda quotas: direct upload of a zip, and function + layers unpacked.
LAMBDA_ZIP_LIMIT = 50 * MIB
LAMBDA_UNZIPPED_LIMIT = 250 * MIB
# Reproducibility: the earliest date a zip can store, one compression level, fixed modes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 9
FILE_MODE = 0o644
EXEC_MODE = 0o755
DIR_MODE = 0o755
UNIX_SYSTEM = 3


class PackageError(Exception):
    """The package cannot be written as asked; the message says why."""


@dataclass(frozen=True)
class Entry:
    """One file of the package: its name in the zip, where it comes from, and its component."""

    arcname: str
    source: Path
    component: str


@dataclass(frozen=True)
class ZipReport:
    """What was written, for the size table."""

    path: Path
    sha256: str
    size: int
    unpacked: dict[str, int]
    zipped: dict[str, int]
    files: dict[str, int]

    @property
    def total_unpacked(self) -> int:
        return sum(self.unpacked.values())


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks (wheels and zips are tens of MiB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mode(arcname: str) -> int:
    """Shared libraries get 0o755 (as installers leave them); everything else 0o644."""
    name = PurePosixPath(arcname).name
    return EXEC_MODE if name.endswith(".so") or ".so." in name else FILE_MODE


def _directories(arcnames: Iterable[str]) -> set[str]:
    """All parent directories of the given names, as zip directory entries ("a/b/")."""
    dirs = set()
    for name in arcnames:
        for parent in PurePosixPath(name).parents:
            if str(parent) != ".":
                dirs.add(f"{parent}/")
    return dirs


def write_zip(entries: Sequence[Entry], dest: Path) -> ZipReport:
    """Write a reproducible zip: sorted names, fixed dates, modes and compression level."""
    by_name = {e.arcname: e for e in entries}
    if len(by_name) != len(entries):
        raise PackageError("duplicate names in the package")
    names = sorted(by_name.keys() | _directories(by_name))
    unpacked: dict[str, int] = {}
    zipped: dict[str, int] = {}
    files: dict[str, int] = {}
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.create_system = UNIX_SYSTEM
            if name.endswith("/"):
                info.external_attr = ((0o040000 | DIR_MODE) << 16) | 0x10
                archive.writestr(info, b"", compress_type=zipfile.ZIP_STORED)
                continue
            entry = by_name[name]
            info.external_attr = (0o100000 | _mode(name)) << 16
            data = entry.source.read_bytes()
            archive.writestr(
                info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL
            )
            written = archive.getinfo(name)
            unpacked[entry.component] = unpacked.get(entry.component, 0) + len(data)
            zipped[entry.component] = zipped.get(entry.component, 0) + written.compress_size
            files[entry.component] = files.get(entry.component, 0) + 1
    os.replace(partial, dest)
    return ZipReport(dest, sha256_file(dest), dest.stat().st_size, unpacked, zipped, files)


# --- report -------------------------------------------------------------------------------


def _mib(n: int) -> str:
    return f"{n / MIB:8.2f}"


def format_report(report: ZipReport) -> str:
    """A size table per component (zipped sizes exclude zip headers; the total includes them)."""
    rows = [
        f"{report.path}",
        f"  {'component':<10}{'files':>7}{'zipped MiB':>12}{'unpacked MiB':>14}",
    ]
    for component in sorted(report.unpacked):
        rows.append(
            f"  {component:<10}{report.files[component]:>7}"
            f"{_mib(report.zipped[component]):>12}{_mib(report.unpacked[component]):>14}"
        )
    rows.append(
        f"  {'total':<10}{sum(report.files.values()):>7}"
        f"{_mib(report.size):>12}{_mib(report.total_unpacked):>14}"
    )
    rows.append(f"  sha256 {report.sha256}")
    return "\n".join(rows)


def check_limits(reports: Sequence[ZipReport]) -> list[str]:
    """Lambda quota violations (each zip ≤ 50 MiB, all unpacked together ≤ 250 MiB)."""
    problems = [
        f"{r.path.name} is {r.size / MIB:.1f} MiB zipped, over Lambda's 50 MiB direct upload"
        for r in reports
        if r.size > LAMBDA_ZIP_LIMIT
    ]
    unpacked = sum(r.total_unpacked for r in reports)
    if unpacked > LAMBDA_UNZIPPED_LIMIT:
        problems.append(f"{unpacked / MIB:.1f} MiB unpacked, over Lambda's 250 MiB limit")
    return problems
