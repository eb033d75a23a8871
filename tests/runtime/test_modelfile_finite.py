"""runtime.modelfile.all_finite reads exponent bits; it must agree with math.isfinite exactly."""

from __future__ import annotations

import math
import struct
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.modelfile import ModelError, ModelFile, all_finite
from runtime.npz import RawArray


def from_bits(bits: int) -> float:
    value: float = struct.unpack("<d", bits.to_bytes(8, "little"))[0]
    return value


SPECIAL = [
    0.0,
    -0.0,
    5e-324,  # the smallest subnormal
    -2.2250738585072009e-308,  # the largest subnormal
    2.2250738585072014e-308,  # the smallest normal
    1.0,
    -2.0,
    2.0**1009,  # the first value whose top byte is 0x7F: the exact check runs
    1e308,
    -1.7976931348623157e308,  # the largest finite
    math.inf,
    -math.inf,
    math.nan,
    -math.nan,
    from_bits(0x7FF0000000000001),  # NaN payloads in the low bytes only
    from_bits(0xFFF8000000000000),
    from_bits(0x7FF7FFFFFFFFFFFF),  # a signalling NaN
    from_bits(0x7FEFFFFFFFFFFFFF),  # exponent one short of all ones: finite
    from_bits(0x7F7FFFFFFFFFFFFF),  # byte 6 without its top bits: finite
]

# Any bit pattern, or one of the special values above.
floats64 = st.one_of(
    st.sampled_from(SPECIAL),
    st.integers(0, 2**64 - 1).map(from_bits),
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
)


def view(values: list[float]) -> memoryview:
    return memoryview(array("d", values)).toreadonly()


@pytest.mark.slow  # 500 examples, ~0.5 s
@settings(max_examples=500, deadline=None)
@given(st.lists(floats64, max_size=40))
def test_agrees_with_math_isfinite(values: list[float]) -> None:
    assert all_finite(view(values)) == all(map(math.isfinite, values))


@pytest.mark.parametrize("value", SPECIAL, ids=[repr(v) for v in SPECIAL])
@pytest.mark.parametrize("position", [0, 1, 7, 8, 63])
def test_one_value_among_large_finite_ones(value: float, position: int) -> None:
    values = [1e308] * 64  # finite, and each one past the quick test
    values[position] = value
    assert all_finite(view(values)) == math.isfinite(value)


def test_empty_and_sums_past_the_float_range_are_finite() -> None:
    assert all_finite(view([]))
    assert all_finite(view([1.7976931348623157e308] * 3))  # sum() would overflow to inf


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_take_refuses_non_finite_arrays(bad: float) -> None:
    data = array("d", [0.5, bad, 2.0]).tobytes()
    values = memoryview(data).cast("d")
    file = ModelFile({}, {"w": RawArray("<f8", (3,), values, data)})
    with pytest.raises(ModelError, match=r"array 'w' contains NaN or infinite values"):
        file.take("w", "<f8", (3,))


@pytest.mark.parametrize("position", [0, (1 << 17) - 1, 1 << 17, (1 << 18) + 5])
def test_a_bad_value_in_any_piece_of_a_large_array_is_found(position: int) -> None:
    values = array("d", [1e308]) * ((1 << 18) + 10)  # read in pieces of 2**17 values
    assert all_finite(memoryview(values))
    values[position] = math.nan
    assert not all_finite(memoryview(values))
