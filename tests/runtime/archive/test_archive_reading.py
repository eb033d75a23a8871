"""The archive scorer's readers: bounded line blocks, gzip, and each format's refusals."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from runtime.archive import lines
from runtime.archive.formats import PARSERS, Batch, decode_lines, format_for
from runtime.archive.job import Job, ShardRefused

SHA = "ab" * 32


def job(**fields: str) -> Job:
    return Job.parse(
        {"model_sha256": SHA, "input_prefix": "in/", "output_prefix": "out/", **fields}
    )


def all_lines(data: bytes, name: str = "x.txt") -> list[bytes | None]:
    return [
        line for block in lines.line_blocks(lines.blocks(io.BytesIO(data), name)) for line in block
    ]


class Trickle(io.BytesIO):
    """A stream that hands back a few bytes per read, as a slow socket may."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(min(7, size if size is not None and size >= 0 else 7))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30))
def test_lines_are_the_objects_lines_however_reads_split_them(parts: list[bytes]) -> None:
    data = b"\n".join(parts)
    assume(not data.startswith(lines.GZIP_MAGIC))  # that is gzip, by its magic bytes
    expected = data.split(b"\n") if data else []
    if expected and expected[-1] == b"" and data.endswith(b"\n"):
        expected.pop()
    got = [line for b in lines.line_blocks(lines.blocks(Trickle(data), "x")) for line in b]
    assert got == expected


def test_a_line_longer_than_the_limit_is_dropped_in_its_place_without_being_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 10)
    monkeypatch.setattr(lines, "READ_BYTES", 4)
    data = b"short\n" + b"x" * 50 + b"\nafter\n" + b"y" * 30
    assert all_lines(data) == [b"short", None, b"after", None]


def test_gzip_is_read_by_its_magic_bytes_and_concatenated_members_are_one_stream() -> None:
    data = gzip.compress(b"one\ntwo\n") + gzip.compress(b"three\n")
    assert all_lines(data, "no-suffix") == [b"one", b"two", b"three"]


def test_gzip_output_is_handed_out_a_block_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lines, "READ_BYTES", 1024)
    bomb = gzip.compress(b"a" * 1_000_000)  # ~1 KiB that inflates 1,000 times
    sizes = [len(b) for b in lines.blocks(io.BytesIO(bomb), "b.gz")]
    assert max(sizes) <= 1024
    assert sum(sizes) == 1_000_000


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (gzip.compress(b"one\ntwo\n")[:-12], "t.gz", "truncated"),
        (b"\x1f\x8b" + b"\x00" * 20, "t", "not valid gzip"),
        (b"plain text\n", "t.txt.gz", "does not start as gzip does"),
    ],
)
def test_a_broken_gzip_object_is_refused_with_its_reason(
    data: bytes, name: str, reason: str
) -> None:
    with pytest.raises(ShardRefused, match=reason):
        all_lines(data, name)


def parse(kind: str, text_lines: list[str], **fields: str) -> Batch:
    batch = Batch()
    raw: list[bytes | None] = [line.encode() for line in text_lines]
    decoded = decode_lines(raw, "utf-8", 1, batch)
    PARSERS[kind](job(**fields)).feed(1, decoded, batch)
    return batch


def test_json_lines_take_the_configured_fields_and_record_each_malformed_line() -> None:
    batch = parse(
        "jsonl",
        [
            '{"msg_id": 7, "body": "free prize"}',
            '{"body": "no id"}',
            "not json",
            "[1, 2]",
            '{"text": "wrong field"}',
            '{"msg_id": [1], "body": "x"}',
            "",
        ],
        text_field="body",
        id_field="msg_id",
    )
    assert batch.texts == ["free prize", "no id"]
    assert batch.ids == [',"id":7', ""]
    assert [n for n, _ in batch.errors] == [3, 4, 5, 6]
    reasons = [r for _, r in batch.errors]
    assert reasons[0].startswith("invalid JSON")
    assert reasons[1] == "not a JSON object"
    assert reasons[2] == 'no "body" field'
    assert "neither a string nor an integer" in reasons[3]
    assert batch.blank == 1
    assert not any("free" in r or "wrong" in r for r in reasons)  # no message text


@pytest.mark.parametrize("indent", ["", " "])  # the scanner's path and json.loads's
def test_a_json_line_nested_too_deeply_is_a_malformed_line_not_a_failed_shard(
    indent: str,
) -> None:
    """100 KB of brackets, well inside a line's bound, exhausts the JSON decoder's
    recursion: the line is malformed with its reason, and the lines around it are scored."""
    deep = indent + "[" * 100_000 + "]" * 100_000
    batch = parse("jsonl", ['{"text": "a"}', deep, '{"text": "b"}'])
    assert batch.texts == ["a", "b"]
    assert batch.errors == [(2, "invalid JSON: nested too deeply")]


def test_a_quoted_csv_message_may_be_as_long_as_an_unquoted_one() -> None:
    """The csv module's own field limit (131,072 characters) would refuse a quoted message
    that the line bound allows."""
    long = "x" * 200_000
    batch = parse("csv", [f'spam,"{long}, quoted"', f"ham,{long}"])
    assert batch.errors == []
    assert batch.texts == [long + ", quoted", long]


def test_csv_with_a_header_finds_the_text_column_by_name() -> None:
    batch = parse(
        "csv", ["v1,v2,,,", 'ham,"hello, you",,,', "spam,win", "a,b,c,d,e"], text_field="v2"
    )
    assert batch.texts == ["hello, you", "b"]
    assert batch.numbers == [2, 4]
    assert batch.errors == [(3, "2 columns, the header has 5")]


def test_csv_without_a_header_is_text_or_label_text() -> None:
    batch = parse("csv", ["just text", 'ham,"a, b"', "ham,text,,", "a,b,c", 'x,"open'])
    assert batch.texts == ["just text", "a, b", "text"]
    assert [n for n, _ in batch.errors] == [4, 5]
    assert "quote commas" in batch.errors[0][1]
    assert batch.errors[1][1].startswith("invalid CSV")


def test_undecodable_lines_are_malformed_and_the_others_are_kept() -> None:
    batch = Batch()
    decoded = decode_lines([b"ok", b"\xff bad", None], "utf-8", 10, batch)
    assert decoded == ["ok", None, None]
    assert batch.errors == [(11, "not valid utf-8 at byte 0"), (12, lines_too_long())]


def lines_too_long() -> str:
    return f"line longer than {lines.MAX_LINE_BYTES} bytes"


def test_format_comes_from_the_job_or_the_key_suffix() -> None:
    assert format_for("in/a.JSONL.gz", job()) == "jsonl"
    assert format_for("in/a.csv", job()) == "csv"
    assert format_for("in/a.log", job()) == "text"
    assert format_for("in/a.csv", job(format="text")) == "text"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"model_sha256": "nope"}, "model_sha256"),
        ({"format": "xml"}, "format must be one of"),
        ({"colour": "red"}, "unknown job fields: colour"),
        ({"input_bucket": "b", "output_bucket": "b", "output_prefix": "in/out/"}, "overlap"),
        ({"input_bucket": "b", "output_bucket": "b", "input_prefix": "out/in/"}, "overlap"),
        ({"text_field": ""}, "text_field"),
    ],
)
def test_a_job_that_cannot_be_done_is_refused_with_its_reason(
    fields: dict[str, str], reason: str
) -> None:
    raw = {"model_sha256": SHA, "input_prefix": "in/", "output_prefix": "out/", **fields}
    with pytest.raises(ShardRefused, match=reason):
        Job.parse(raw)


def test_result_keys_mirror_input_keys_below_the_output_prefix() -> None:
    assert job().result_key("in/2026/a.csv.gz") == "out/results/2026/a.csv.gz.result.jsonl"
    with pytest.raises(ShardRefused, match="not under"):
        job().result_key("elsewhere/a.csv")
    with pytest.raises(ShardRefused, match="folder"):
        job().result_key("in/sub/")


class OneByte(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        return super().read(1)


def test_gzip_is_recognised_when_reads_hand_back_one_byte_at_a_time() -> None:
    data = gzip.compress(b"one\ntwo\n")
    got = [line for b in lines.line_blocks(lines.blocks(OneByte(data), "x")) for line in b]
    assert got == [b"one", b"two"]


@pytest.mark.parametrize("layout", ["output-through-a-link", "input-inside-output"])
def test_local_folders_that_overlap_are_refused(
    small_model_path: Path, tmp_path: Path, layout: str
) -> None:
    from runtime.archive.local import run_local

    if layout == "output-through-a-link":
        in_dir = tmp_path / "in"
        in_dir.mkdir()
        (tmp_path / "link").symlink_to(in_dir)
        out_dir = tmp_path / "link" / "results"
    else:
        out_dir = tmp_path / "out"
        in_dir = out_dir / "in"
        in_dir.mkdir(parents=True)
    (in_dir / "a.txt").write_text("hello\n")
    with pytest.raises(ShardRefused, match="overlap"):
        run_local(str(in_dir), str(out_dir), str(small_model_path))
