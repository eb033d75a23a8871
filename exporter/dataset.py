"""Reading the SMS Spam Collection in either published form, or fetching it.

Two formats exist in the wild: Kaggle's ``spam.csv`` (latin-1, columns ``v1``/``v2`` plus
empty junk columns) and UCI's ``SMSSpamCollection`` (``label<TAB>text``, also shipped in
a zip). Both are accepted so the recipe gives the same model wherever the data came from,
and so is any ``label,text`` CSV (with or without a header): the format is told from the
content, never from the file name.

The messages are personal data: no error message quotes them (or a label column that may
hold them), only line numbers and counts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

LABELS = frozenset({"ham", "spam"})
UCI_URL = "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"
UCI_MEMBER = "SMSSpamCollection"
DOWNLOAD_MIN_ROWS = 5000  # the collection has 5,574 (UCI) or 5,572 (Kaggle) rows
DOWNLOAD_TIMEOUT_S = 30


class DatasetError(Exception):
    """The data could not be read or fetched; the message tells the user what to do."""


@dataclass(frozen=True)
class Dataset:
    texts: list[str]
    labels: list[str]
    sha256: str  # fingerprint of the exact bytes the model was trained on
    source: str


def load_dataset(path: Path, *, min_rows: int = 2) -> Dataset:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {str(path)!r}: {exc.strerror}") from None
    return parse_dataset(data, source=str(path), min_rows=min_rows)


def parse_dataset(data: bytes, *, source: str, min_rows: int = 2) -> Dataset:
    """Detect the format from the bytes (zip, Kaggle CSV or UCI TSV) and validate it."""
    sha256 = hashlib.sha256(data).hexdigest()
    if data.startswith(b"PK\x03\x04"):
        data = _member_of_zip(data, source)
    if data.startswith((b"v1,v2", b"\xef\xbb\xbfv1,v2")):
        rows = _kaggle_rows(data)
    else:
        text = _decode(data)
        read_rows = _uci_rows if _looks_tab_separated(text) else _csv_rows
        rows = read_rows(text, source)
    rows = [(label.strip(), text) for label, text in rows]
    bad_lines = [number for number, (label, _) in enumerate(rows, 1) if label not in LABELS]
    if bad_lines:
        raise DatasetError(
            f"{source}: {len(bad_lines)} rows have a label other than ham or spam (the first "
            f"is data row {bad_lines[0]}); expected label<TAB>text or label,text rows"
        )
    if len(rows) < min_rows or {label for label, _ in rows} != LABELS:
        raise DatasetError(
            f"{source}: {len(rows)} rows; expected at least {min_rows} with both ham and spam"
        )
    return Dataset(
        texts=[text for _, text in rows],
        labels=[label for label, _ in rows],
        sha256=sha256,
        source=source,
    )


def _member_of_zip(data: bytes, source: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if Path(n).name == UCI_MEMBER]
            if not names:
                raise DatasetError(f"{source}: zip has no {UCI_MEMBER} file")
            return archive.read(names[0])
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"{source}: corrupt zip: {exc}") from None


def _kaggle_rows(data: bytes) -> list[tuple[str, str]]:
    text = data.decode("latin-1").removeprefix("\xef\xbb\xbf")
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)  # header: v1,v2,,,
    return [(row[0], row[1]) for row in reader if len(row) >= 2]


def _decode(data: bytes) -> str:
    """UTF-8 (UCI's file), else latin-1 (which decodes any bytes)."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _looks_tab_separated(text: str) -> bool:
    """UCI's form: the first non-blank line is label<TAB>text. A CSV whose first line has no
    tab is read as CSV, even if some message further down contains one."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return "\t" in first


def _uci_rows(text: str, source: str) -> list[tuple[str, str]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            label, sep, message = line.partition("\t")
            if not sep:
                raise DatasetError(
                    f"{source}: line {number} has no tab; a tab-separated file needs "
                    "label<TAB>text on every line"
                )
            rows.append((label, message))
    return rows


def _csv_rows(text: str, source: str) -> list[tuple[str, str]]:
    """label,text rows; a first row whose label is not ham/spam is taken as a header."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    first = True
    try:
        for row in reader:
            if not any(field.strip() for field in row):
                continue
            if len(row) < 2:
                raise DatasetError(
                    f"{source}: line {reader.line_num} is neither label<TAB>text nor "
                    "label,text (no separator found)"
                )
            is_header = first and row[0].strip() not in LABELS  # e.g. label,text
            first = False
            if not is_header:
                rows.append((row[0], row[1]))
    except csv.Error:
        raise DatasetError(
            f"{source}: line {reader.line_num} is not valid CSV (an unclosed quote?)"
        ) from None
    return rows


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sms-spam-lambda"


def fetch_dataset(url: str, cache_dir: Path, *, min_rows: int = DOWNLOAD_MIN_ROWS) -> Dataset:
    """Download the public collection once, validate it, and keep it in ``cache_dir``."""
    cached = cache_dir / (hashlib.sha256(url.encode()).hexdigest()[:16] + "-" + Path(url).name)
    if cached.is_file():
        try:
            return load_dataset(cached, min_rows=min_rows)
        except DatasetError:
            cached.unlink(missing_ok=True)  # a bad cache entry is fetched again
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DatasetError(
            f"could not download the SMS Spam Collection from {url} ({reason}). "
            "Pass --data PATH (or set SPAM_DATA) to a local spam.csv or SMSSpamCollection file."
        ) from None
    dataset = parse_dataset(data, source=url, min_rows=min_rows)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False) as tmp:
        tmp.write(data)
    Path(tmp.name).replace(cached)
    return dataset
