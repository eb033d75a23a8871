"""runtime/npz.py reads what NumPy writes, and refuses everything else cleanly."""

from __future__ import annotations

import contextlib
import io
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exporter.emit import render_model
from runtime.model import Model, ModelError
from runtime.npz import NpzError, load_arrays, read_members
from tests.corpus import fit_parts

arrays_strategy = st.dictionaries(
    st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    hnp.arrays(
        st.sampled_from([np.float64, np.int64, np.uint8, np.float32]),
        hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
    ),
    max_size=5,
)


def savez(arrays: dict[str, np.ndarray], *, compressed: bool) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


@settings(max_examples=60, deadline=None)
@given(arrays=arrays_strategy, compressed=st.booleans())
def test_reads_what_numpy_writes(arrays: dict[str, np.ndarray], compressed: bool) -> None:
    data = savez(arrays, compressed=compressed)
    loaded = load_arrays(data)
    with np.load(io.BytesIO(data), allow_pickle=False) as expected:
        assert sorted(loaded) == sorted(expected.files)
        for name in expected.files:
            np.testing.assert_array_equal(loaded[name], expected[name])
            assert loaded[name].dtype == expected[name].dtype


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


NPY = savez({"a": np.arange(3)}, compressed=False)
A_NPY = read_members(NPY)["a.npy"]


def test_other_compression_methods_are_refused() -> None:
    with pytest.raises(NpzError, match="compression method 12"):
        read_members(zip_of({"a.npy": A_NPY}, zipfile.ZIP_BZIP2))


def test_members_that_are_not_arrays_are_refused() -> None:
    with pytest.raises(NpzError, match=r"unexpected member 'notes\.txt'"):
        load_arrays(zip_of({"a.npy": A_NPY, "notes.txt": b"hi"}))


def test_duplicate_members_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.npy", A_NPY)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("a.npy", A_NPY)
    data = buffer.getvalue()
    with pytest.raises(NpzError, match="twice"):
        read_members(data)


def patched(data: bytes, signature: bytes, offset: int, fmt: str, value: int) -> bytes:
    position = data.rfind(signature) + offset
    return data[:position] + struct.pack(fmt, value) + data[position + struct.calcsize(fmt) :]


def test_encrypted_members_are_refused() -> None:
    data = patched(zip_of({"a.npy": A_NPY}), b"PK\x01\x02", 8, "<H", 0x1)
    with pytest.raises(NpzError, match="encrypted"):
        read_members(data)


def test_zip64_and_multi_disk_are_refused() -> None:
    data = zip_of({"a.npy": A_NPY})
    with pytest.raises(NpzError, match="ZIP64"):
        read_members(
            patched(patched(data, b"PK\x05\x06", 8, "<H", 0xFFFF), b"PK\x05\x06", 10, "<H", 0xFFFF)
        )
    with pytest.raises(NpzError, match="multi-disk"):
        read_members(patched(data, b"PK\x05\x06", 4, "<H", 1))


def test_wrong_crc_is_refused() -> None:
    data = patched(zip_of({"a.npy": A_NPY}), b"PK\x01\x02", 16, "<L", 12345)
    with pytest.raises(NpzError, match="CRC-32"):
        read_members(data)


def test_declared_size_smaller_than_content_is_refused() -> None:
    data = patched(zip_of({"a.npy": A_NPY}), b"PK\x01\x02", 24, "<L", 10)
    with pytest.raises(NpzError, match=r"corrupt|size"):
        read_members(data)


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return render_model(fit_parts()[2], {})


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


def npy_with_header(shape: tuple[int, ...], payload: bytes) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + payload


def test_a_shape_its_bytes_do_not_back_is_refused_before_allocating() -> None:
    # Without the check, read_array would try to allocate 8 PB for this 100-byte member.
    data = zip_of({"a.npy": npy_with_header((10**15,), b"\0" * 16)})
    with pytest.raises(NpzError, match="declares shape"):
        load_arrays(data)


def test_fortran_order_arrays_keep_their_layout() -> None:
    array = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(load_arrays(savez({"a": array}, compressed=True))["a"], array)


def test_total_inflated_size_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import runtime.npz

    monkeypatch.setattr(runtime.npz, "_MAX_TOTAL_BYTES", 2 * len(A_NPY) - 1)
    with pytest.raises(NpzError, match="inflates to more than"):
        read_members(zip_of({"a.npy": A_NPY, "b.npy": A_NPY}))
    assert read_members(zip_of({"a.npy": A_NPY}))  # one member still fits
