"""One line of input to a message (and its id), or the reason it is not one.

JSON Lines (``{"id": ..., "text": ...}``, field names from the job), CSV (``text`` or
``label,text``, with or without a header naming the text column) and plain text (the line
is the message). A parser never raises on a line: a malformed one is a reason, recorded in
the result, and the shard goes on. Reasons name the problem, never the line's content.
"""

from __future__ import annotations

import csv
import json
from json.encoder import encode_basestring_ascii  # json.dumps's own, for a str
from json.scanner import make_scanner

from runtime.archive.job import Job
from runtime.archive.lines import MAX_LINE_BYTES
from runtime.errors import json_problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}
TOO_LONG = f"line longer than {MAX_LINE_BYTES} bytes"


class Batch:
    """Parsed lines of one block: scored ones in order, malformed ones with their reason.

    ``ids`` holds each scored line's id as the JSON text of a result field (``,"id":7``)
    or "" when the line number is the id.
    """

    def __init__(self) -> None:
        self.numbers: list[int] = []
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.errors: list[tuple[int, str]] = []
        self.blank = 0

    def add(self, number: int, text: str, id_json: str = "") -> None:
        self.numbers.append(number)
        self.ids.append(id_json)
        self.texts.append(text)


def format_for(key: str, job: Job) -> str:
    """The job's format, or for "auto" the one the key's suffix names (text otherwise)."""
    if job.format != "auto":
        return job.format
    name = key.rsplit("/", 1)[-1].lower().removesuffix(".gz")
    dot = name.rfind(".")
    return SUFFIXES.get(name[dot:], "text") if dot >= 0 else "text"


class Parser:
    """Feeds decoded lines into a Batch; one instance per object (CSV keeps its header)."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def feed(self, first_number: int, lines: list[str | None], batch: Batch) -> None:
        raise NotImplementedError


class TextParser(Parser):
    def feed(self, first_number: int, lines: list[str | None], batch: Batch) -> None:
        number = first_number - 1
        for line in lines:
            number += 1
            if line is None:
                continue  # the caller recorded why
            if line.endswith("\r"):
                line = line[:-1]
            if line and not line.isspace():
                batch.add(number, line)
            else:
                batch.blank += 1


class JsonLinesParser(Parser):
    def feed(self, first_number: int, lines: list[str | None], batch: Batch) -> None:
        # The hot loop of a JSON Lines shard: locals and bound methods, no call per line
        # beyond the JSON scanner's (a million lines a shard; benchmarks/archive.py).
        text_field, id_field = self.job.text_field, self.job.id_field
        scan = _SCAN  # raw_decode without its Python frame (-0.2 us a line)
        numbers, ids, texts = batch.numbers, batch.ids, batch.texts
        errors = batch.errors
        number = first_number - 1
        for line in lines:
            number += 1
            if line is None:
                continue  # the caller recorded why
            try:
                record: Any
                record, end = scan(line, 0)
                if end != len(line) and not line[end:].isspace():
                    raise ValueError("extra data after the JSON value")
            # StopIteration: no value at the start; RecursionError: a line of brackets, which
            # would otherwise fail the whole shard.
            except (StopIteration, ValueError, RecursionError):
                if not line or line.isspace():
                    batch.blank += 1
                    continue
                try:  # the scanner refuses leading whitespace, which JSON allows
                    record = json.loads(line)
                except ValueError as problem:  # its message quotes no input
                    errors.append((number, f"invalid JSON: {json_problem(problem)}"))
                    continue
                except RecursionError:
                    errors.append((number, "invalid JSON: nested too deeply"))
                    continue
            if type(record) is not dict:
                errors.append((number, "not a JSON object"))
                continue
            text = record.get(text_field)
            if type(text) is not str:
                reason = "no" if text is None else "a non-string"
                errors.append((number, f"{reason} {json.dumps(text_field)} field"))
                continue
            identifier = record.get(id_field)
            if identifier is None:
                id_json = ""
            elif type(identifier) is int:
                id_json = f',"id":{identifier}'
            elif type(identifier) is str:
                id_json = ',"id":' + encode_basestring_ascii(identifier)
            else:
                errors.append(
                    (number, f"{json.dumps(id_field)} is neither a string nor an integer")
                )
                continue
            numbers.append(number)
            ids.append(id_json)
            texts.append(text)


# What JSONDecoder.raw_decode calls: ``(value, end)`` from the start of a line.
_SCAN: Callable[[str, int], tuple[Any, int]]
_SCAN = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed misnames it


class CsvParser(Parser):
    """``text`` or ``label,text`` rows, one per line; a first row naming the text column
    (the job's text_field) is a header, and then columns are found by name."""

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self.first = True
        self.text_column = -1  # from the header; -1: by position
        self.width = 0
        # The csv module refuses a field over 131,072 characters; a line is already bounded
        # by MAX_LINE_BYTES, so a quoted message may be as long as an unquoted one. The limit
        # is the process's: it is only ever raised here, never lowered.
        if csv.field_size_limit() < MAX_LINE_BYTES:
            csv.field_size_limit(MAX_LINE_BYTES)

    def feed(self, first_number: int, lines: list[str | None], batch: Batch) -> None:
        number = first_number - 1
        for line in lines:
            number += 1
            if line is None:
                continue
            if line.endswith("\r"):
                line = line[:-1]
            if not line or line.isspace():
                batch.blank += 1
                continue
            if '"' in line:
                try:
                    cells = next(csv.reader((line,), strict=True))
                except csv.Error as exc:
                    batch.errors.append((number, f"invalid CSV: {exc}"))
                    continue
            else:
                cells = line.split(",")
            if self.first:
                self.first = False
                if self._header(cells):
                    continue
            self._row(number, cells, batch)

    def _header(self, cells: list[str]) -> bool:
        names = [cell.strip() for cell in cells]
        if self.job.text_field not in names:
            return False
        self.text_column = names.index(self.job.text_field)
        self.width = len(names)
        return True

    def _row(self, number: int, cells: list[str], batch: Batch) -> None:
        if self.text_column >= 0:
            if len(cells) != self.width:
                batch.errors.append((number, f"{len(cells)} columns, the header has {self.width}"))
            else:
                batch.add(number, cells[self.text_column])
            return
        while len(cells) > 2 and cells[-1] == "":  # trailing empty columns, as in spam.csv
            cells.pop()
        if len(cells) > 2:
            batch.errors.append(
                (number, f"{len(cells)} columns, expected text or label,text (quote commas)")
            )
        else:
            batch.add(number, cells[-1])


PARSERS: dict[str, type[Parser]] = {
    "jsonl": JsonLinesParser,
    "csv": CsvParser,
    "text": TextParser,
}


def decode_lines(
    raw: list[bytes | None], encoding: str, first_number: int, batch: Batch
) -> list[str | None]:
    """Decode a block's lines; one that is too long or not in ``encoding`` becomes None,
    its reason recorded in ``batch``."""
    try:
        return [line.decode(encoding) for line in raw]  # type: ignore[union-attr]
    except (UnicodeDecodeError, AttributeError):
        pass
    decoded: list[str | None] = []
    for number, line in enumerate(raw, first_number):
        if line is None:
            batch.errors.append((number, TOO_LONG))
            decoded.append(None)
            continue
        try:
            decoded.append(line.decode(encoding))
        except UnicodeDecodeError as exc:
            batch.errors.append((number, f"not valid {encoding} at byte {exc.start}"))
            decoded.append(None)
    return decoded
