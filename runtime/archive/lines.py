"""A byte stream to blocks of lines, gunzipped when it is gzip, in bounded memory.

Every read asks for at most READ_BYTES, decompression hands back at most READ_BYTES at a
time (a gzip bomb is read a block at a time like anything else), and a line longer than
MAX_LINE_BYTES is dropped as it streams by, reported as ``None`` in its place. So what is
held at once is one block plus at most one line's start, whatever the object's size.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from runtime.archive.job import ShardRefused

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class Readable(Protocol):
        def read(self, size: int) -> bytes: ...


READ_BYTES = 1 << 20  # one read, and one block of decompressed lines: 1 MiB
# The API takes a 1 MB body; a message line longer than that is not a message.
MAX_LINE_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(first_bytes: bytes, name: str) -> bool:
    """gzip by its magic bytes; a name ending .gz whose bytes are not gzip is refused."""
    if first_bytes[:2] == GZIP_MAGIC:
        return True
    if name.endswith(".gz") and first_bytes:
        raise ShardRefused("the object's name ends .gz but it does not start as gzip does")
    return False


def blocks(stream: Readable, name: str) -> Iterator[bytes]:
    """The stream's content in blocks of at most READ_BYTES, decompressed if gzip."""
    first = stream.read(READ_BYTES)
    while 0 < len(first) < len(GZIP_MAGIC):  # a short read: the magic needs both bytes
        more = stream.read(READ_BYTES)
        if not more:
            break
        first += more
    if not is_gzip(first, name):
        data = first
        while data:
            yield data
            data = stream.read(READ_BYTES)
        return
    yield from _gunzip(stream, first)


def _gunzip(stream: Readable, data: bytes) -> Iterator[bytes]:
    decompressor = zlib.decompressobj(wbits=31)
    try:
        while True:
            while data:
                out = decompressor.decompress(data, READ_BYTES)
                if out:
                    yield out
                data = decompressor.unconsumed_tail
                if decompressor.eof:  # a member ended; concatenated members may follow
                    data = data or decompressor.unused_data
                    if data.strip(b"\0") == b"":  # trailing padding, not another member
                        data = b""
                    if data:
                        decompressor = zlib.decompressobj(wbits=31)
            data = stream.read(READ_BYTES)
            if not data:
                break
            if decompressor.eof:  # the next read starts another member
                decompressor = zlib.decompressobj(wbits=31)
    except zlib.error as exc:
        raise ShardRefused(f"the object is not valid gzip: {exc}") from None
    if not decompressor.eof:
        raise ShardRefused("the gzip stream ends before its end marker: truncated object")


def line_blocks(chunks: Iterator[bytes]) -> Iterator[list[bytes | None]]:
    """Consecutive lines, a block at a time, without their b"\\n"; ``None`` for a line
    longer than MAX_LINE_BYTES. Numbering is the caller's: lines arrive in order, none
    skipped. A last line without a newline is a line; an empty object has none."""
    carry = b""
    skipping = False  # inside a line already known to be too long
    for chunk in chunks:
        parts: list[bytes | None] = list(chunk.split(b"\n"))
        if skipping:
            if len(parts) == 1:
                continue
            parts[0] = None  # the long line ends in this chunk
            skipping = False
        else:
            parts[0] = carry + parts[0]  # type: ignore[operator]
        tail = parts.pop()
        assert tail is not None
        carry = tail
        if len(carry) > MAX_LINE_BYTES:
            carry, skipping = b"", True
        first = parts[0] if parts else None
        if first is not None and len(first) > MAX_LINE_BYTES:  # only it can hold a carry
            parts[0] = None
        if len(chunk) > MAX_LINE_BYTES:  # a chunk larger than a read: check every line
            parts = [p if p is None or len(p) <= MAX_LINE_BYTES else None for p in parts]
        if parts:
            yield parts
    if skipping:
        yield [None]
    elif carry:
        yield [carry]
