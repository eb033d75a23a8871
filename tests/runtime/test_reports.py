"""The report format and the local directory store: round trips, refusals, durability."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime import reports
from runtime.config import ConfigError, parse_s3_prefix
from runtime.reports import DirectoryReportStore, Report, ReportError, StorageError

SHA = "ab" * 32
NOW = 1_796_000_000.0  # 2026-11-30


def make(text: str = "WIN a prize now", label: str = "spam", reporter: str = "key-1") -> Report:
    return reports.new_report(text=text, label=label, reporter=reporter, model_sha256=SHA, now=NOW)


printable = st.text(min_size=1, max_size=200).filter(lambda value: value.strip() != "")


@given(text=printable, label=printable, reporter=printable)
def test_render_and_parse_round_trip_any_unicode(text: str, label: str, reporter: str) -> None:
    report = make(text, label, reporter)
    data = reports.render(report)
    assert data.isascii()
    assert reports.parse(data) == report


@given(a=st.tuples(printable, printable, printable), b=st.tuples(printable, printable, printable))
def test_report_ids_differ_whenever_reporter_label_or_text_differ(a, b) -> None:
    assert (reports.report_id(*a) == reports.report_id(*b)) == (a == b)


def test_the_id_is_a_content_hash_of_reporter_label_and_text_only() -> None:
    first = make()
    later = reports.new_report(
        text=first.text, label="spam", reporter="key-1", model_sha256="cd" * 32, now=NOW + 99
    )
    assert later.report_id == first.report_id
    assert make(reporter="key-2").report_id != first.report_id  # two users: two reports
    assert make(label="ham").report_id != first.report_id


def test_the_rendered_document_has_exactly_the_documented_fields() -> None:
    document = json.loads(reports.render(make()))
    assert document == {
        "schema": 1,
        "report_id": make().report_id,
        "text": "WIN a prize now",
        "label": "spam",
        "received_at": "2026-11-30T00:53:20Z",
        "model_sha256": SHA,
        "reporter": "key-1",
    }


def test_the_longest_text_renders_within_the_bound() -> None:
    worst = "\U0001f600" * reports.MAX_TEXT_CHARS  # escaped as two \\u escapes each
    assert len(reports.render(make(text=worst))) <= reports.MAX_REPORT_BYTES


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(report_id="00" * 32), "does not match"),
        (lambda d: d.update(schema=2), "schema 2 is not 1"),
        (lambda d: d.update(schema=True), "schema True is not 1"),
        (lambda d: d.pop("reporter"), "missing ['reporter']"),
        (lambda d: d.update(extra=1), "unknown ['extra']"),
        (lambda d: d.update(text=5), "text must be a string, not int"),
        (lambda d: d.update(label=" "), "label must not be empty"),
        (lambda d: d.update(text="x" * (reports.MAX_TEXT_CHARS + 1)), "at most 32768"),
        (lambda d: d.update(received_at="yesterday"), "received_at must be"),
        (lambda d: d.update(model_sha256="AB" * 32), "model_sha256 must be 64 lowercase"),
    ],
)
def test_parse_refuses_a_broken_report_naming_the_problem(change, reason) -> None:
    document = json.loads(reports.render(make()))
    change(document)
    with pytest.raises(ReportError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        reports.parse(json.dumps(document).encode())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[1]", "JSON object, not list"),
        (b"{", "JSON document"),
        (b"\xff", "JSON document"),
        (b"[" * 100_000, "JSON document"),
        (b" " * (reports.MAX_REPORT_BYTES + 1), "at most 524288 bytes"),
    ],
)
def test_parse_refuses_what_is_not_a_report(data: bytes, reason: str) -> None:
    with pytest.raises(ReportError, match=reason):
        reports.parse(data)


def test_new_report_refuses_oversized_or_empty_parts() -> None:
    with pytest.raises(ReportError, match="text has 32769 characters"):
        make(text="x" * 32_769)
    with pytest.raises(ReportError, match="reporter must not be empty"):
        make(reporter="")
    with pytest.raises(ReportError, match="label has 257 characters"):
        make(label="l" * 257)


# The directory store


def test_a_stored_report_reads_back_and_is_listed(tmp_path: Path) -> None:
    store = DirectoryReportStore(str(tmp_path))
    report = make()
    assert store.put(report) is True
    assert store.read(report.report_id) == report
    assert store.list_ids() == [report.report_id]
    assert os.listdir(tmp_path) == [report.report_id + ".json"]  # no temporary left


def test_a_retried_report_is_stored_once_and_never_overwritten(tmp_path: Path) -> None:
    store = DirectoryReportStore(str(tmp_path))
    first = make()
    store.put(first)
    retry = reports.new_report(
        text=first.text, label="spam", reporter="key-1", model_sha256="cd" * 32, now=NOW + 60
    )
    assert store.put(retry) is False
    assert store.read(first.report_id) == first  # the first copy is kept as it was
    assert len(os.listdir(tmp_path)) == 1


def test_put_syncs_the_file_before_linking_it_and_the_directory_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        calls.append("fsync-dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync-file")
        real_fsync(fd)

    def link(source: str, target: str) -> None:
        calls.append("link")
        real_link(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    DirectoryReportStore(str(tmp_path)).put(make())
    assert calls == ["fsync-file", "link", "fsync-dir"]
    calls.clear()
    assert DirectoryReportStore(str(tmp_path)).put(make()) is False  # a retry
    assert calls == ["fsync-dir"]  # its name made durable before it is acknowledged


def test_a_failed_sync_is_a_storage_error_and_leaves_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    store = DirectoryReportStore(str(tmp_path))
    with pytest.raises(StorageError, match="Input/output error"):
        store.put(make())
    assert os.listdir(tmp_path) == []


def test_a_missing_directory_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot store the report"):
        DirectoryReportStore(str(tmp_path / "absent")).put(make())


def test_listing_pages_in_order_and_skips_foreign_files(tmp_path: Path) -> None:
    store = DirectoryReportStore(str(tmp_path))
    made = [make(text=f"message {n}") for n in range(7)]
    for report in made:
        store.put(report)
    ids = sorted(report.report_id for report in made)
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / ".partial.tmp").write_text("")
    assert store.list_ids(limit=3) == ids[:3]
    assert store.list_ids(start_after=ids[2], limit=3) == ids[3:6]
    assert list(reports.all_ids(store, page=3)) == ids


def test_reading_refuses_a_file_whose_content_is_another_report(tmp_path: Path) -> None:
    store = DirectoryReportStore(str(tmp_path))
    one, other = make(text="one"), make(text="other")
    (tmp_path / f"{one.report_id}.json").write_bytes(reports.render(other))
    with pytest.raises(ReportError, match=f"holds report {other.report_id}"):
        store.read(one.report_id)
    with pytest.raises(ReportError, match="not a report id"):
        store.read("../etc/passwd")
    with pytest.raises(ReportError, match="no report"):
        store.read("00" * 32)


def test_reading_is_bounded(tmp_path: Path) -> None:
    store = DirectoryReportStore(str(tmp_path))
    report_id = "11" * 32
    (tmp_path / f"{report_id}.json").write_bytes(b" " * (reports.MAX_REPORT_BYTES + 10))
    # refused from its size, before a byte is read
    with pytest.raises(ReportError, match="has 524298 bytes; a report has at most 524288"):
        store.read(report_id)


def test_a_fifo_in_the_inbox_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    store = DirectoryReportStore(str(tmp_path))
    report_id = "22" * 32
    os.mkfifo(tmp_path / f"{report_id}.json")  # nobody will ever write to it
    with pytest.raises(ReportError, match="is not a regular file"):
        store.read(report_id)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://reports-bucket", ("reports-bucket", "")),
        ("s3://reports-bucket/", ("reports-bucket", "")),
        ("s3://reports-bucket/reports", ("reports-bucket", "reports/")),
        ("s3://reports-bucket/a/b/", ("reports-bucket", "a/b/")),
    ],
)
def test_a_reports_uri_names_a_bucket_and_a_prefix(uri: str, expected: tuple[str, str]) -> None:
    assert parse_s3_prefix(uri) == expected


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("reports-bucket/x", "expected s3://bucket/prefix/"),
        ("s3://Reports/x", "not a valid S3 bucket name"),
        ("s3://reports-bucket/a//b", "empty path segment"),
        ("s3://reports-bucket/" + "p" * 1000, "longer than 944 bytes"),
    ],
)
def test_a_bad_reports_uri_is_refused_naming_the_problem(uri: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        parse_s3_prefix(uri)
