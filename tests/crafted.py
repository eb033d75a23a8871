"""Hand-built model files for the loader's refusal tests: what an attacker could write.

``zipfile`` cannot write the interesting cases (entries sharing one deflate stream,
overlapping members, a central directory that lies about sizes), so this module lays
out local headers, central directory and end record itself. Large members are deflated
from a generator, so a 250 MB document costs the test a few hundred KB, as it would an
attacker.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from typing import Any, NamedTuple

from runtime.modelfile import CHECKSUM_KEY, read_model_file, render_model_file
from runtime.npz import npy_bytes, read_members

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_DEFLATED = 8

Arrays = dict[str, tuple[str, tuple[int, ...], bytes]]


class Member(NamedTuple):
    """One zip entry as the central directory describes it."""

    name: str
    offset: int  # of its local header
    crc: int
    compressed_size: int
    size: int
    method: int = _DEFLATED


class Deflated(NamedTuple):
    data: bytes
    crc: int
    size: int


def deflate(pieces: Iterable[bytes | tuple[bytes, int]]) -> Deflated:
    """A raw deflate stream of the pieces; ``(chunk, n)`` is ``chunk`` repeated n times.

    Each chunk is deflated on its own and flushed to a byte boundary, so a repeated chunk's
    compressed form is repeated as is: 250 MB of content costs a few ms and ~250 KB.
    """
    parts, crc, size = [], 0, 0
    for piece in pieces:
        chunk, times = piece if isinstance(piece, tuple) else (piece, 1)
        compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        block = compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
        parts.append(block * times)
        for _ in range(times):
            crc = zlib.crc32(chunk, crc)
        size += len(chunk) * times
    parts.append(b"\x03\x00")  # an empty final block ends the stream
    return Deflated(b"".join(parts), crc, size)


def npy_header(dtype: str, shape_text: str) -> bytes:
    """A ``.npy`` header with any shape text, e.g. ``"(True, 8211)"``, padded as numpy pads."""
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape_text}, }}"
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin-1")


def local_entry(name: str, payload: Deflated, method: int = _DEFLATED) -> bytes:
    raw_name = name.encode("ascii")
    header = _LOCAL.pack(
        b"PK\x03\x04", 20, 0, method, 0, 0x21, payload.crc, len(payload.data), payload.size,
        len(raw_name), 0,
    )  # fmt: skip
    return header + raw_name + payload.data


def archive(body: bytes, members: list[Member]) -> bytes:
    """``body`` (the local entries) followed by a central directory listing ``members``."""
    directory = b""
    for member in members:
        raw_name = member.name.encode("ascii")
        directory += (
            _CENTRAL.pack(
                b"PK\x01\x02",
                20,
                20,
                0,
                member.method,
                0,
                0x21,
                member.crc,
                member.compressed_size,
                member.size,
                len(raw_name),
                0,
                0,
                0,
                0,
                0o644 << 16,
                member.offset,
            )
            + raw_name
        )
    end = _END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0)
    return body + directory + end


def zip_of(entries: list[tuple[str, Deflated]]) -> bytes:
    """An honest zip of already-deflated members, in the given order."""
    body, members = b"", []
    for name, payload in entries:
        members.append(Member(name, len(body), payload.crc, len(payload.data), payload.size))
        body += local_entry(name, payload)
    return archive(body, members)


def npy_member(dtype: str, shape: tuple[int, ...], data: bytes) -> Deflated:
    return deflate([npy_bytes(dtype, shape, data)])


def metadata_member(document: bytes) -> Deflated:
    return npy_member("|u1", (len(document),), document)


def unpack(data: bytes) -> tuple[dict[str, Any], Arrays]:
    """A model file's metadata (unsealed) and arrays, ready to be edited and re-sealed."""
    model_file = read_model_file(data)
    metadata = {k: v for k, v in model_file.metadata.items() if k != CHECKSUM_KEY}
    arrays = {
        name: (array.dtype, array.shape, array.values.tobytes())
        for name, array in model_file._arrays.items()
    }
    return metadata, arrays


def reseal(metadata: dict[str, Any], arrays: Arrays) -> bytes:
    """As a tamperer would: the edited content with a checksum that matches it."""
    return render_model_file(metadata, arrays)


def with_members(data: bytes, replace: dict[str, Deflated | None]) -> bytes:
    """The file's own members, re-zipped, with some replaced (or removed: ``None``)."""
    members: dict[str, Deflated | None] = {
        name: deflate([raw]) for name, raw in read_members(data).items()
    }
    members.update(replace)
    return zip_of(sorted((name, m) for name, m in members.items() if m is not None))
