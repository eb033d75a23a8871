"""A small, strict ``.npz`` reader on the standard library alone, bounded whatever the bytes.

``np.load`` imports zipfile (and with it shutil, pathlib, bz2, lzma) and NumPy itself,
most of a cold start that needs neither. An ``.npz`` is a plain zip of ``.npy`` members,
stored or deflated, so the central directory, the local headers, zlib and CRC-32 are all
it takes. Everything a crafted file could use to exhaust memory or time is refused
before it costs anything: too many members, members that overlap (one deflate stream
shared by many entries), more inflated bytes than the cap, ``.npy`` headers that are not
exactly what ``numpy.save`` writes, shapes the bytes do not back.
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Mapping

from runtime.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    # A member's bytes: a view into the file when stored, its own buffer when deflated.
    Member: TypeAlias = "bytes | bytearray | memoryview[Any]"

_END = struct.Struct("<4s4H2LH")  # end of central directory record
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # central directory file header
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header
_END_SIGNATURE = b"PK\x05\x06"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_LOCAL_SIGNATURE = b"PK\x03\x04"
_STORED, _DEFLATED = 0, 8

MAX_MEMBERS = 256
MAX_INFLATED_BYTES = 64 * 1024 * 1024  # all members together; the largest recipe is ~5 MB
_MAX_NAME_BYTES = 128
# The largest archive that can hold MAX_INFLATED_BYTES: every member stored, plus its
# headers and the end record's comment. Anything larger is refused before it is read.
MAX_FILE_BYTES = MAX_INFLATED_BYTES + MAX_MEMBERS * (30 + 46 + 2 * _MAX_NAME_BYTES) + 0x10000
_MAX_DIMENSIONS = 32
_INFLATE_PIECE = 1 << 20

# The element types a model file may hold: UTF-8 text and float64, little-endian.
DTYPES = {"|u1": ("B", 1), "<f8": ("d", 8)}
_NPY_MAGIC = b"\x93NUMPY"
# Exactly the header numpy.save writes: C order, a dtype above, a tuple of ints, then
# spaces up to a newline. Parsed by hand: compiling the equivalent regex took ~0.2 ms
# (a million instructions) of every cold start.
_HEADER_START = "{'descr': '"
_HEADER_ORDER = "', 'fortran_order': False, 'shape': ("
_HEADER_END = "), }"
_DTYPE_CHARS = 3  # both DTYPES keys
_MAX_DIGITS = 10
_DIGITS = frozenset("0123456789")


class NpzError(ValueError):
    """The bytes are not an ``.npz`` this reader accepts; the message says why."""


class RawArray(NamedTuple):
    """One ``.npy`` member: its element type, shape, and a zero-copy typed view."""

    dtype: str  # a key of DTYPES
    shape: tuple[int, ...]
    values: memoryview[Any]  # read-only, cast to "B" or "d", flat, C order
    member: Member  # the whole .npy member (header and data), e.g. to hash it


def load_arrays(data: bytes, limits: Mapping[str, int] | None = None) -> dict[str, RawArray]:
    """Every ``name.npy`` member as a read-only typed view over its bytes; nothing unpickled.

    ``limits`` caps the size of named arrays (e.g. a metadata document) below the archive's
    cap: checked against the sizes the zip declares, before anything is inflated.
    """
    if sys.byteorder != "little":  # pragma: no cover - every Lambda architecture is little-endian
        raise NpzError("this reader needs a little-endian machine")
    member_limits = {f"{name}.npy": limit for name, limit in (limits or {}).items()}
    arrays = {}
    for name, raw in read_members(data, member_limits).items():
        if not name.endswith(".npy"):
            raise NpzError(f"unexpected member {name!r} (only .npy arrays belong in an .npz)")
        arrays[name[: -len(".npy")]] = parse_npy(raw, name)
    return arrays


def parse_npy(raw: Member, name: str) -> RawArray:
    """Parse one ``.npy`` (format 1.0), refusing any header ``numpy.save`` would not write."""
    if raw[:8] != _NPY_MAGIC + b"\x01\x00" or len(raw) < 10:
        raise NpzError(f"member {name!r} is not a version 1.0 .npy array")
    (header_length,) = struct.unpack_from("<H", raw, 8)
    start = 10 + header_length
    if len(raw) < start:
        raise NpzError(f"member {name!r} has a .npy header longer than the member")
    dtype, shape = _parse_header(bytes(raw[10:start]).decode("latin-1"), name)
    if len(shape) > _MAX_DIMENSIONS:
        raise NpzError(f"member {name!r} has {len(shape)} dimensions; at most {_MAX_DIMENSIONS}")
    code, itemsize = DTYPES[dtype]
    count = 1
    for dimension in shape:
        count *= dimension
    if count * itemsize != len(raw) - start:
        raise NpzError(f"member {name!r} declares shape {shape} but holds other data")
    view = memoryview(raw).toreadonly()[start:]
    return RawArray(dtype, shape, view.cast("d") if code == "d" else view, raw)


def _parse_header(header: str, name: str) -> tuple[str, tuple[int, ...]]:
    """(dtype, shape) from a header exactly as ``numpy.save`` writes it; NpzError otherwise.

    ``{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }``, spaces, a newline.
    The shape is ``()``, ``(n,)`` or ``(n, m, ...)`` of non-negative integers without
    leading zeros (so Python's own literal syntax, which ``np.load`` also requires).
    """
    refused = f"member {name!r} has a .npy header this reader does not accept"
    body = header[:-1].rstrip(" ") if header.endswith("\n") else ""
    order_at = len(_HEADER_START) + _DTYPE_CHARS
    shape_at = order_at + len(_HEADER_ORDER)
    dtype = body[len(_HEADER_START) : order_at]
    if not (
        body.startswith(_HEADER_START)
        and dtype in DTYPES
        and body.startswith(_HEADER_ORDER, order_at)
        and len(body) >= shape_at + len(_HEADER_END)
        and body.endswith(_HEADER_END)
    ):
        raise NpzError(f"{refused} (only C-ordered uint8 or little-endian float64 arrays)")
    text = body[shape_at : -len(_HEADER_END)]
    if not text:
        return dtype, ()
    if text.endswith(","):  # one dimension: "(n,)"
        parts = [text[:-1]]
    else:  # "(n, m, ...)"; "(n)" is a number, not a tuple
        parts = text.split(", ")
        if len(parts) < 2:
            parts = []
    if not parts or not all(
        0 < len(part) <= _MAX_DIGITS
        and _DIGITS.issuperset(part)
        and (part[0] != "0" or part == "0")
        for part in parts
    ):
        raise NpzError(
            f"{refused} (its shape must be a tuple of integers of at most {_MAX_DIGITS} "
            "digits, written as numpy.save writes it)"
        )
    return dtype, tuple(map(int, parts))


def read_members(data: bytes, limits: Mapping[str, int] | None = None) -> dict[str, Member]:
    """Member name -> uncompressed bytes, with sizes, layout and CRC-32 checked.

    Every size is checked against the central directory's declarations before anything
    is inflated, and inflating stops at the declared size: memory stays within the
    file's size plus MAX_INFLATED_BYTES whatever the archive claims.
    """
    if len(data) > MAX_FILE_BYTES:
        raise NpzError(f"archive has {len(data)} bytes; at most {MAX_FILE_BYTES} are accepted")
    limits = limits or {}
    end = data.rfind(_END_SIGNATURE, max(0, len(data) - _END.size - 0xFFFF))
    if end < 0 or end + _END.size > len(data):
        raise NpzError("no zip end-of-central-directory record (truncated?)")
    _, disk, directory_disk, count_on_disk, count, size, offset, _ = _END.unpack_from(data, end)
    if disk or directory_disk or count_on_disk != count:
        raise NpzError("multi-disk zip archives are not supported")
    if count == 0xFFFF or offset == 0xFFFFFFFF:
        raise NpzError("ZIP64 archives are not supported")
    if count > MAX_MEMBERS:
        raise NpzError(f"archive has {count} members; at most {MAX_MEMBERS} are accepted")
    if offset + size > end:
        raise NpzError("zip central directory is out of bounds")

    entries = []
    declared_total = 0
    position = offset
    for _ in range(count):
        if position + _CENTRAL.size > end:
            raise NpzError("zip central directory is truncated")
        header = _CENTRAL.unpack_from(data, position)
        signature, flags, method, crc = header[0], header[3], header[4], header[7]
        compressed_size, size, name_length, extra_length, comment_length = header[8:13]
        local_offset = header[16]
        if signature != _CENTRAL_SIGNATURE:
            raise NpzError("bad zip central directory entry")
        name_bytes = data[position + _CENTRAL.size : position + _CENTRAL.size + name_length]
        if len(name_bytes) > _MAX_NAME_BYTES or not name_bytes.isascii():
            raise NpzError("zip member names must be short ASCII")
        name = name_bytes.decode("ascii")
        position += _CENTRAL.size + name_length + extra_length + comment_length
        if flags & 0x1:
            raise NpzError(f"member {name!r} is encrypted")
        if method not in (_STORED, _DEFLATED):
            raise NpzError(f"member {name!r} uses unsupported compression method {method}")
        limit = limits.get(name)
        if limit is not None and size > limit:
            raise NpzError(f"member {name!r} inflates to {size} bytes; at most {limit} accepted")
        declared_total += size
        if declared_total > MAX_INFLATED_BYTES:
            raise NpzError(f"archive inflates to more than {MAX_INFLATED_BYTES} bytes")
        entries.append((local_offset, name, method, crc, compressed_size, size))

    members: dict[str, Member] = {}
    previous_end = 0
    for local_offset, name, method, crc, compressed_size, size in sorted(entries):
        if name in members:
            raise NpzError(f"member {name!r} appears twice")
        if local_offset < previous_end:
            raise NpzError(f"member {name!r} overlaps another member")
        raw, previous_end = _member_data(data, local_offset, compressed_size, offset, name)
        members[name] = _inflate(raw, method, size, crc, name)
    return members


def _member_data(
    data: bytes, offset: int, compressed_size: int, limit: int, name: str
) -> tuple[memoryview[Any], int]:
    if offset + _LOCAL.size > limit:
        raise NpzError(f"member {name!r} starts outside the archive")
    header = _LOCAL.unpack_from(data, offset)
    if header[0] != _LOCAL_SIGNATURE:
        raise NpzError(f"member {name!r} has a bad local header")
    start = offset + _LOCAL.size + header[9] + header[10]
    stop = start + compressed_size
    if stop > limit:
        raise NpzError(f"member {name!r} is truncated")
    return memoryview(data)[start:stop], stop  # a view: the file is never copied


def _inflate(raw: memoryview[Any], method: int, size: int, crc: int, name: str) -> Member:
    if method == _STORED:
        content: Member = raw
    else:
        content = _inflate_into(bytearray(size), raw, name)
    if len(content) != size or zlib.crc32(content) != crc:
        raise NpzError(f"member {name!r} fails its size or CRC-32 check")
    return content


def _inflate_into(content: bytearray, raw: memoryview[Any], name: str) -> bytearray:
    """Inflate into a buffer of the declared size, a bounded piece at a time.

    One ``decompress`` call would build its output in blocks and then join them: twice
    the member's size at the peak. Pieces of at most ``_INFLATE_PIECE`` keep it at once.
    """
    size, filled = len(content), 0
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for start in range(0, len(raw), _INFLATE_PIECE):
            pending: bytes | memoryview[Any] = raw[start : start + _INFLATE_PIECE]
            while True:
                room = min(size - filled + 1, _INFLATE_PIECE)  # +1 to tell a longer stream
                piece = inflater.decompress(pending, room)
                if filled + len(piece) > size:
                    raise NpzError(f"member {name!r} inflates past its declared {size} bytes")
                content[filled : filled + len(piece)] = piece
                filled += len(piece)
                pending = inflater.unconsumed_tail
                if not pending and len(piece) < room:  # input used up, no output held back
                    break
            if inflater.eof:
                break
    except zlib.error as exc:
        raise NpzError(f"member {name!r} is corrupt: {exc}") from None
    if not inflater.eof:
        raise NpzError(f"member {name!r} is corrupt: incomplete deflate stream")
    if filled != size:
        raise NpzError(f"member {name!r} fails its size or CRC-32 check")
    return content


# The writer, for the exporter and tests: the inverse of the reader above.


def npy_bytes(dtype: str, shape: tuple[int, ...], data: bytes) -> bytes:
    """A ``.npy`` (format 1.0) exactly as ``numpy.save`` writes it."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}")
    shape_text = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape_text}, }}"
    padding = 64 - (10 + len(header) + 1) % 64
    header += " " * padding + "\n"
    return (
        b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin-1") + data
    )


def write_npz(members: Mapping[str, bytes]) -> bytes:
    """``name.npy`` members, deflated, in name order with a fixed timestamp: the same
    bytes for the same arrays (``np.savez`` would stamp the current time)."""
    import io
    import zipfile  # the writer runs at export only; the reader never imports zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue()
