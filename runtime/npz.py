"""A small, strict reader for ``.npz`` archives that does not import ``zipfile``.

``np.load`` imports zipfile, which brings shutil, pathlib, bz2 and lzma with it: about
5.5 ms of a Lambda cold start that is otherwise ~90 ms. An ``.npz`` is a plain zip of
``.npy`` members, stored or deflated, so the central directory, the local headers, zlib
and CRC-32 are all it takes. Anything outside that (encryption, other compression
methods, multi-disk or ZIP64 archives, sizes that do not add up) is refused.
"""

from __future__ import annotations

import io
import math
import struct
import zlib

import numpy as np

_END = struct.Struct("<4s4H2LH")  # end of central directory record
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # central directory file header
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header
_END_SIGNATURE = b"PK\x05\x06"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_LOCAL_SIGNATURE = b"PK\x03\x04"
_STORED, _DEFLATED = 0, 8
_MAX_MEMBERS = 64
_MAX_TOTAL_BYTES = 256 * 1024 * 1024  # far above any model; a bound against zip bombs


class NpzError(ValueError):
    """The bytes are not an ``.npz`` this reader accepts; the message says why."""


def load_arrays(data: bytes) -> dict[str, np.ndarray]:
    """Every ``name.npy`` member as a read-only array over its bytes; nothing is unpickled."""
    arrays = {}
    for name, raw in read_members(data).items():
        if not name.endswith(".npy"):
            raise NpzError(f"unexpected member {name!r} (only .npy arrays belong in an .npz)")
        arrays[name[: -len(".npy")]] = _array(raw, name)
    return arrays


def _array(raw: bytes, name: str) -> np.ndarray:
    """Parse one ``.npy``, refusing object dtypes and shapes its bytes do not back.

    ``np.lib.format.read_array`` would allocate whatever shape the header declares
    before reading (a few bytes can ask for petabytes), so the header is checked first.
    """
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise NpzError(f"member {name!r} uses .npy format version {version}")
    except (ValueError, TypeError, SyntaxError) as exc:
        raise NpzError(f"member {name!r} has a bad .npy header: {exc}") from None
    if dtype.hasobject:
        raise NpzError(f"member {name!r} holds Python objects, which are never unpickled")
    count = math.prod(shape)
    if count * dtype.itemsize != len(raw) - stream.tell():
        raise NpzError(f"member {name!r} declares shape {shape} but holds other data")
    flat = np.frombuffer(raw, dtype=dtype, count=count, offset=stream.tell())
    return flat.reshape(shape, order="F" if fortran_order else "C")


def read_members(data: bytes) -> dict[str, bytes]:
    """Member name -> uncompressed bytes, with sizes and CRC-32 checked."""
    end = data.rfind(_END_SIGNATURE, max(0, len(data) - _END.size - 0xFFFF))
    if end < 0 or end + _END.size > len(data):
        raise NpzError("no zip end-of-central-directory record (truncated?)")
    _, disk, directory_disk, count_on_disk, count, size, offset, _ = _END.unpack_from(data, end)
    if disk or directory_disk or count_on_disk != count:
        raise NpzError("multi-disk zip archives are not supported")
    if count == 0xFFFF or offset == 0xFFFFFFFF:
        raise NpzError("ZIP64 archives are not supported")
    if count > _MAX_MEMBERS or offset + size > end:
        raise NpzError("zip central directory is out of bounds")

    members: dict[str, bytes] = {}
    budget = _MAX_TOTAL_BYTES
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
        # ASCII first: decoding cp437 would load a codec at cold start for nothing.
        ascii_name = name_bytes.isascii()
        name = name_bytes.decode("ascii" if ascii_name else "utf-8" if flags & 0x800 else "cp437")
        position += _CENTRAL.size + name_length + extra_length + comment_length
        if flags & 0x1:
            raise NpzError(f"member {name!r} is encrypted")
        if name in members:
            raise NpzError(f"member {name!r} appears twice")
        if size > budget:
            raise NpzError(f"archive inflates to more than {_MAX_TOTAL_BYTES} bytes")
        budget -= size
        raw = _member_data(data, local_offset, compressed_size, offset, name)
        members[name] = _inflate(raw, method, size, crc, name)
    return members


def _member_data(data: bytes, offset: int, compressed_size: int, limit: int, name: str) -> bytes:
    if offset + _LOCAL.size > limit:
        raise NpzError(f"member {name!r} starts outside the archive")
    header = _LOCAL.unpack_from(data, offset)
    if header[0] != _LOCAL_SIGNATURE:
        raise NpzError(f"member {name!r} has a bad local header")
    start = offset + _LOCAL.size + header[9] + header[10]
    if start + compressed_size > limit:
        raise NpzError(f"member {name!r} is truncated")
    return data[start : start + compressed_size]


def _inflate(raw: bytes, method: int, size: int, crc: int, name: str) -> bytes:
    if method == _STORED:
        content = raw
    elif method == _DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            content = inflater.decompress(raw, size + 1)
        except zlib.error as exc:
            raise NpzError(f"member {name!r} is corrupt: {exc}") from None
        if not inflater.eof:
            raise NpzError(f"member {name!r} is corrupt: incomplete deflate stream")
    else:
        raise NpzError(f"member {name!r} uses unsupported compression method {method}")
    if len(content) != size or zlib.crc32(content) != crc:
        raise NpzError(f"member {name!r} fails its size or CRC-32 check")
    return content
