"""runtime/npz.py reads what NumPy writes (uint8 and float64), and refuses everything else."""

from __future__ import annotations

import contextlib
import io
import re
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import runtime.npz
from runtime.model import Model, ModelError
from runtime.npz import NpzError, RawArray, load_arrays, parse_npy, read_members
from tests.corpus import tutorial_model_bytes
from tests.crafted import deflate, npy_header, zip_of

arrays_strategy = st.dictionaries(
    st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    hnp.arrays(
        st.sampled_from([np.dtype("<f8"), np.dtype("u1")]),
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
    ),
    max_size=5,
)


def savez(arrays: dict[str, np.ndarray], *, compressed: bool) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def as_numpy(array: RawArray) -> np.ndarray:
    return np.frombuffer(array.values, dtype=array.dtype).reshape(array.shape)


@settings(max_examples=60, deadline=None)
@given(arrays=arrays_strategy, compressed=st.booleans())
def test_reads_what_numpy_writes(arrays: dict[str, np.ndarray], compressed: bool) -> None:
    data = savez(arrays, compressed=compressed)
    loaded = load_arrays(data)
    with np.load(io.BytesIO(data), allow_pickle=False) as expected:
        assert sorted(loaded) == sorted(expected.files)
        for name in expected.files:
            got = as_numpy(loaded[name])
            assert got.dtype == expected[name].dtype
            np.testing.assert_array_equal(got, expected[name])


def test_views_are_read_only() -> None:
    loaded = load_arrays(savez({"a": np.arange(3.0)}, compressed=True))
    assert loaded["a"].values.readonly
    assert loaded["a"].values.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    "array",
    [
        np.arange(3, dtype=np.int64),
        np.arange(3, dtype=np.float32),
        np.arange(3, dtype=">f8"),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.array(["a", "b"]),
    ],
    ids=["int64", "float32", "big-endian", "fortran", "unicode"],
)
def test_other_dtypes_and_layouts_are_refused(array: np.ndarray) -> None:
    with pytest.raises(NpzError, match="header this reader does not accept"):
        load_arrays(savez({"a": array}, compressed=False))


def test_object_arrays_are_refused_without_unpickling() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=True, a=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(NpzError, match="header this reader does not accept"):
        load_arrays(buffer.getvalue())


# The reader's header pattern before it was parsed by hand (runtime/npz.py): the parser must
# accept no header this refused, and refuse only the shapes numpy.save never writes.
FORMER_HEADER = re.compile(
    r"\{'descr': '(\|u1|<f8)', 'fortran_order': False, "
    r"'shape': \(((?:\d{1,10}, )*\d{1,10},?)?\), \} *\n"
)


def npy_member(header: str, data: bytes = b"") -> bytes:
    raw = header.encode("latin-1")
    return b"\x93NUMPY\x01\x00" + len(raw).to_bytes(2, "little") + raw + data


def numpy_shape_text(shape: tuple[int, ...]) -> str:
    """How numpy.save writes a shape (Python's repr of a tuple of ints)."""
    return repr(tuple(shape))


@pytest.mark.parametrize(
    ("dtype", "shape"),
    [
        ("<f8", ()),
        ("<f8", (0,)),
        ("|u1", (5,)),
        ("<f8", (2, 3)),
        ("|u1", (1, 0, 2)),
        ("<f8", (1,) * 32),
    ],
)
@pytest.mark.parametrize("padding", [0, 1, 63])
def test_headers_as_numpy_writes_them(dtype: str, shape: tuple[int, ...], padding: int) -> None:
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {numpy_shape_text(shape)}, }}"
    count = 1
    for dimension in shape:
        count *= dimension
    data = bytes(count * (8 if dtype == "<f8" else 1))
    array = parse_npy(npy_member(header + " " * padding + "\n", data), "a.npy")
    assert (array.dtype, array.shape, len(array.values)) == (dtype, shape, count)


def test_the_largest_dimension_numpy_can_write_here() -> None:
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (9999999999, 0), }\n"
    assert parse_npy(npy_member(header), "a.npy").shape == (9999999999, 0)


START = "{'descr': '<f8', 'fortran_order': False, 'shape': "


@pytest.mark.parametrize(
    "header",
    [
        START + "(1,), }",  # no newline
        START + "(1,), } \r\n",
        START + "(1,), }\t\n",
        START + "(1,), }\n ",
        START + "(1,), }\n\n",
        START + "(1,) }\n",
        START + "(1,)}\n",
        START + "[1], }\n",
        START + "(1,), 'extra': 1, }\n",
        "{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }\n",
        "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }\n",
        "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }\n",
        "{'descr': '<f8','fortran_order': False, 'shape': (1,), }\n",
        "{'fortran_order': False, 'descr': '<f8', 'shape': (1,), }\n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
        "{'descr': '<f8', 'fortran_order': False, }\n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': ), }\n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (), }"[:-3] + "\n",
        "\n",
        "",
    ],
)
def test_other_header_layouts_are_refused(header: str) -> None:
    with pytest.raises(NpzError, match="header this reader does not accept"):
        parse_npy(npy_member(header, bytes(8)), "a.npy")
    assert FORMER_HEADER.fullmatch(header) is None


def test_a_header_longer_than_its_member_is_refused() -> None:
    member = npy_member(START + "(0,), }\n")
    with pytest.raises(NpzError, match=r"a \.npy header longer than the member"):
        parse_npy(member[:-1], "a.npy")


@pytest.mark.parametrize(
    ("shape", "former"),
    [
        ("(5)", True),  # a number, not a tuple: np.load refuses it too
        ("(1, 2,)", True),  # a tuple, but numpy.save writes no trailing comma there
        ("(007,)", True),  # leading zeros are not Python syntax: np.load refuses them
        ("(00, 1)", True),
        ("(12345678901,)", False),
        ("( 5,)", False),
        ("(5 ,)", False),
        ("(5,  6)", False),
        ("(5,6)", False),
        ("(-1,)", False),
        ("(+1,)", False),
        ("(1_000,)", False),
        ("(\xb2,)", False),  # superscript two: str.isdigit() says yes
        ("(5L,)", False),
        ("(True, 8211)", False),
        ("(,)", False),
        ("(, )", False),
        ("(1, , 2)", False),
    ],
)
def test_shapes_numpy_save_would_not_write_are_refused(shape: str, former: bool) -> None:
    header = f"{START}{shape}, }}\n"
    with pytest.raises(NpzError, match=r"header this reader does not accept \(its shape must be"):
        parse_npy(npy_member(header, bytes(8)), "a.npy")
    assert (FORMER_HEADER.fullmatch(header) is not None) is former


@settings(max_examples=400, deadline=None)
@given(
    dtype=st.sampled_from(["<f8", "|u1", "<f4"]),
    pieces=st.lists(
        st.sampled_from(["0", "1", "7", "00", "07", "10", "9999999999", "12345678901", ",", ", "]),
        max_size=8,
    ),
    padding=st.sampled_from(["", " ", "  ", "\t", " \n"]),
)
def test_the_parser_accepts_what_numpy_writes_of_what_the_pattern_accepted(
    dtype: str, pieces: list[str], padding: str
) -> None:
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({''.join(pieces)}), }}"
    header += padding + "\n"
    former = FORMER_HEADER.fullmatch(header)
    try:
        array = parse_npy(npy_member(header), "a.npy")
    except NpzError as exc:
        # "declares shape": the header was accepted, then the (missing) data compared.
        accepted = "declares shape" in str(exc)
    else:
        accepted = True
        assert former is not None, header
        assert array.dtype == former.group(1)
    if former is None:
        assert not accepted, header
        return
    shape = tuple(int(part) for part in (former.group(2) or "").replace(",", " ").split())
    assert accepted == (f"({''.join(pieces)})" == numpy_shape_text(shape)), header


def zip_with(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


A_NPY = bytes(read_members(savez({"a": np.arange(3.0)}, compressed=False))["a.npy"])


def test_other_compression_methods_are_refused() -> None:
    with pytest.raises(NpzError, match="compression method 12"):
        read_members(zip_with({"a.npy": A_NPY}, zipfile.ZIP_BZIP2))


def test_members_that_are_not_arrays_are_refused() -> None:
    with pytest.raises(NpzError, match=r"unexpected member 'notes\.txt'"):
        load_arrays(zip_with({"a.npy": A_NPY, "notes.txt": b"hi"}))


def test_duplicate_members_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.npy", A_NPY)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("a.npy", A_NPY)
    with pytest.raises(NpzError, match="twice"):
        read_members(buffer.getvalue())


def patched(data: bytes, signature: bytes, offset: int, fmt: str, value: int) -> bytes:
    position = data.rfind(signature) + offset
    return data[:position] + struct.pack(fmt, value) + data[position + struct.calcsize(fmt) :]


def test_encrypted_members_are_refused() -> None:
    data = patched(zip_with({"a.npy": A_NPY}), b"PK\x01\x02", 8, "<H", 0x1)
    with pytest.raises(NpzError, match="encrypted"):
        read_members(data)


def test_zip64_and_multi_disk_are_refused() -> None:
    data = zip_with({"a.npy": A_NPY})
    with pytest.raises(NpzError, match="ZIP64"):
        read_members(
            patched(patched(data, b"PK\x05\x06", 8, "<H", 0xFFFF), b"PK\x05\x06", 10, "<H", 0xFFFF)
        )
    with pytest.raises(NpzError, match="multi-disk"):
        read_members(patched(data, b"PK\x05\x06", 4, "<H", 1))


def test_too_many_members_are_refused() -> None:
    members = [(f"a{i}.npy", deflate([A_NPY])) for i in range(runtime.npz.MAX_MEMBERS + 1)]
    with pytest.raises(NpzError, match=rf"{runtime.npz.MAX_MEMBERS + 1} members; at most"):
        read_members(zip_of(members))


def test_wrong_crc_is_refused() -> None:
    data = patched(zip_with({"a.npy": A_NPY}), b"PK\x01\x02", 16, "<L", 12345)
    with pytest.raises(NpzError, match="CRC-32"):
        read_members(data)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_declared_size_smaller_than_content_is_refused(method: int) -> None:
    data = patched(zip_with({"a.npy": A_NPY}, method), b"PK\x01\x02", 24, "<L", 10)
    with pytest.raises(NpzError, match=r"inflates past its declared 10 bytes|size or CRC-32"):
        read_members(data)


def test_declared_size_larger_than_content_is_refused() -> None:
    data = patched(zip_with({"a.npy": A_NPY}), b"PK\x01\x02", 24, "<L", len(A_NPY) + 5)
    with pytest.raises(NpzError, match="size or CRC-32"):
        read_members(data)


def test_truncated_deflate_stream_is_refused() -> None:
    payload = deflate([A_NPY])
    cut = payload._replace(data=payload.data[:-4])
    with pytest.raises(NpzError, match=r"corrupt"):
        read_members(zip_of([("a.npy", cut)]))


def test_members_larger_than_pieces_inflate_exactly() -> None:
    """Members span several inflate pieces (1 MiB) and several input chunks."""
    values = np.random.default_rng(0).random(300_000)  # 2.4 MB, barely compressible
    loaded = load_arrays(savez({"a": values}, compressed=True))
    np.testing.assert_array_equal(as_numpy(loaded["a"]), values)
    zeros = np.zeros(1_000_000)  # 8 MB deflating to a few KB: many pieces per input chunk
    np.testing.assert_array_equal(
        as_numpy(load_arrays(savez({"z": zeros}, compressed=True))["z"]), zeros
    )


def test_a_shape_its_bytes_do_not_back_is_refused_before_allocating() -> None:
    data = zip_of([("a.npy", deflate([npy_header("<f8", "(9999999999, 9999999999)"), bytes(16)]))])
    with pytest.raises(NpzError, match="declares shape"):
        load_arrays(data)


def test_too_many_dimensions_are_refused() -> None:
    shape = "(" + "1, " * 40 + "1)"
    with pytest.raises(NpzError, match="41 dimensions; at most 32"):
        load_arrays(zip_of([("a.npy", deflate([npy_header("<f8", shape), bytes(8)]))]))


def test_total_inflated_size_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.npz, "MAX_INFLATED_BYTES", 2 * len(A_NPY) - 1)
    with pytest.raises(NpzError, match="inflates to more than"):
        read_members(zip_with({"a.npy": A_NPY, "b.npy": A_NPY}))
    assert read_members(zip_with({"a.npy": A_NPY}))  # one member still fits


def test_a_named_member_has_its_own_limit() -> None:
    data = zip_with({"a.npy": A_NPY, "b.npy": A_NPY})
    with pytest.raises(NpzError, match=rf"member 'a.npy' inflates to {len(A_NPY)} bytes"):
        load_arrays(data, {"a": len(A_NPY) - 1})
    assert set(load_arrays(data, {"a": len(A_NPY)})) == {"a", "b"}


def test_files_past_the_size_cap_are_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.npz, "MAX_FILE_BYTES", 100)
    with pytest.raises(NpzError, match="at most 100 are accepted"):
        read_members(zip_with({"a.npy": A_NPY}))


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return tutorial_model_bytes()


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_damage_is_a_model_error(model_bytes: bytes, data: st.DataObject) -> None:
    damaged = bytearray(model_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(damaged)))
    candidate = bytes(damaged[:cut]) if data.draw(st.booleans()) else bytes(damaged)
    with contextlib.suppress(ModelError):  # anything else escaping fails the test
        Model.from_bytes(candidate)
