"""Reading the SMS Spam Collection in either published form, or fetching it.

Two formats exist in the wild: Kaggle's ``spam.csv`` (latin-1, columns ``v1``/``v2`` plus
empty junk columns) and UCI's ``SMSSpamCollection`` (``label<TAB>text``, also shipped in
a zip). Both are accepted so the recipe gives the same model wherever the data came from,
and so is any ``label,text`` CSV or ``label<TAB>text`` file (with or without a header): the
format is told from the content, never from the file name. Labels: see ``spam_labels``.

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
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

UCI_URL = "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip"
UCI_MEMBER = "SMSSpamCollection"
DOWNLOAD_MIN_ROWS = 5000  # the collection has 5,574 (UCI) or 5,572 (Kaggle) rows
DOWNLOAD_TIMEOUT_S = 30
# Two-label files whose labels are one of these pairs (any case) become spam/ham.
BINARY_SPELLINGS = (("spam", "ham"), ("1", "0"), ("true", "false"))
ACCEPTED = (
    "labels spam/ham, 1/0 or true/false (any case), any two labels with --positive-label "
    "naming the spam one, or three or more classes"
)
MAX_CLASSES = 50  # past this the label column is more likely text than classes


class DatasetError(Exception):
    """The data could not be read or fetched; the message tells the user what to do."""


@dataclass(frozen=True)
class Dataset:
    texts: list[str]
    labels: list[str]
    sha256: str  # fingerprint of the exact bytes the model was trained on
    source: str


class Row(NamedTuple):
    line: int  # where the row starts in the file, counting every line (the header too) from 1
    label: str
    text: str


def load_dataset(path: Path, *, min_rows: int = 2, positive_label: str | None = None) -> Dataset:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {str(path)!r}: {exc.strerror}") from None
    return parse_dataset(data, source=str(path), min_rows=min_rows, positive_label=positive_label)


def parse_dataset(
    data: bytes, *, source: str, min_rows: int = 2, positive_label: str | None = None
) -> Dataset:
    """Detect the format from the bytes (zip, Kaggle CSV or UCI TSV) and validate it."""
    sha256 = hashlib.sha256(data).hexdigest()
    if data.startswith(b"PK\x03\x04"):
        data = _member_of_zip(data, source)
    if data.startswith((b"v1,v2", b"\xef\xbb\xbfv1,v2")):
        rows = _kaggle_rows(data)
    else:
        text = _decode(data)
        read_rows = _uci_rows if _looks_tab_separated(text) else _csv_rows
        rows = _without_header(read_rows(text, source))
    labels = spam_labels(rows, source, positive_label)
    if len(rows) < min_rows:
        raise DatasetError(f"{source}: {len(rows)} rows; expected at least {min_rows}")
    return Dataset(texts=[row.text for row in rows], labels=labels, sha256=sha256, source=source)


def spam_labels(rows: list[Row], source: str, positive_label: str | None = None) -> list[str]:
    """The rows' labels as the model learns them: two labels become spam/ham (a known pair,
    or ``positive_label`` and the other), three or more are classes of their own. Labels
    are compared without case or surrounding blanks. Refusals name a line, never a label's
    text: a mis-read file may have messages in the label column."""
    labels = [row.label.strip().lower() for row in rows]
    empty = next((row.line for row, label in zip(rows, labels, strict=True) if not label), None)
    if empty is not None:
        raise DatasetError(f"{source}: line {empty} has an empty label; expected {ACCEPTED}")
    distinct = sorted(set(labels))
    if positive_label is not None:
        positive = positive_label.strip().lower()
        if positive not in distinct:
            raise DatasetError(
                f"{source}: no row has the label given with --positive-label (compared "
                f"without case); expected the label of the spam rows"
            )
        if len(distinct) != 2:
            other = next(
                row.line for row, label in zip(rows, labels, strict=True) if label != positive
            )
            raise DatasetError(
                f"{source}: --positive-label needs exactly two labels, the file has "
                f"{len(distinct)} (line {other} has another); leave it out to train "
                "one class per label"
            )
        return ["spam" if label == positive else "ham" for label in labels]
    if len(distinct) == 1:
        raise DatasetError(f"{source}: every row has the same label; expected {ACCEPTED}")
    if len(distinct) == 2:
        for spam, ham in BINARY_SPELLINGS:
            if set(distinct) == {spam, ham}:
                return ["spam" if label == spam else "ham" for label in labels]
        known = {spelling for pair in BINARY_SPELLINGS for spelling in pair}
        first = next(
            row.line for row, label in zip(rows, labels, strict=True) if label not in known
        )
        raise DatasetError(
            f"{source}: line {first}: two labels, but not spam/ham, 1/0 or true/false; "
            "pass --positive-label with the one that means spam"
        )
    counts = Counter(labels)
    if len(distinct) > MAX_CLASSES:
        raise DatasetError(
            f"{source}: {len(distinct)} different labels, more than {MAX_CLASSES}: is the "
            f"label column text? Expected {ACCEPTED}"
        )
    if min(counts.values()) < 2:
        known = {spelling for pair in BINARY_SPELLINGS for spelling in pair}
        lonely = min(  # the first row of a label on one row only, an unknown one first
            (counts[label] >= 2, label in known, row.line)
            for row, label in zip(rows, labels, strict=True)
        )[2]
        raise DatasetError(
            f"{source}: {len(distinct)} different labels, and line {lonely} is the only row "
            f"with its label: is the label column text? Expected {ACCEPTED} (each on two "
            "rows or more)"
        )
    return labels


def _member_of_zip(data: bytes, source: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if Path(n).name == UCI_MEMBER]
            if not names:
                raise DatasetError(f"{source}: zip has no {UCI_MEMBER} file")
            return archive.read(names[0])
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"{source}: corrupt zip: {exc}") from None


def _kaggle_rows(data: bytes) -> list[Row]:
    text = data.decode("latin-1").removeprefix("\xef\xbb\xbf")
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)  # header: v1,v2,,,
    rows, line = [], reader.line_num + 1
    for row in reader:
        if len(row) >= 2:
            rows.append(Row(line, row[0], row[1]))
        line = reader.line_num + 1
    return rows


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


def _without_header(rows: list[Row]) -> list[Row]:
    """The same rule for CSV and TSV: a first row whose label is no spam/ham spelling and
    that no other row has (``label``, ``class``, ``v1``) is a header, not data."""
    if len(rows) > 1:
        first = rows[0].label.strip().lower()
        known = any(first in pair for pair in BINARY_SPELLINGS)
        if not known and all(row.label.strip().lower() != first for row in rows[1:]):
            return rows[1:]
    return rows


def _uci_rows(text: str, source: str) -> list[Row]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            label, sep, message = line.partition("\t")
            if not sep:
                raise DatasetError(
                    f"{source}: line {number} has no tab; a tab-separated file needs "
                    "label<TAB>text on every line"
                )
            rows.append(Row(number, label, message))
    return rows


def _csv_rows(text: str, source: str) -> list[Row]:
    """label,text rows (the header, if any, is told apart later)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    line = 1
    try:
        for row in reader:
            if any(field.strip() for field in row):
                if len(row) < 2:
                    raise DatasetError(
                        f"{source}: line {line} is neither label<TAB>text nor "
                        "label,text (no separator found)"
                    )
                rows.append(Row(line, row[0], row[1]))
            line = reader.line_num + 1
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
