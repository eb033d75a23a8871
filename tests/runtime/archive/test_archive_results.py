"""Result lines carry every score exactly: any number of classes, non-finite as null.

The binary case has code of its own (the shard scorer's hot loop); it must write what
the general code writes, byte for byte.
"""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from runtime.archive import results
from runtime.archive.formats import Batch

NAMES = ['"ham"', '"spam"', '"other"', "3", '"x"']


def batch_of(rows: int) -> Batch:
    batch = Batch()
    for row in range(rows):
        batch.add(row * 2 + 1, "text", f',"id":{row}' if row % 2 else "")
    return batch


@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6)),
    st.randoms(use_true_random=False),
)
def test_every_score_reads_back_exactly(values: np.ndarray, random) -> None:
    rows = len(values)
    labels = [random.randrange(len(NAMES)) for _ in range(rows)]
    batch = batch_of(rows)
    lines = results._result_lines(NAMES, batch, labels, values)
    assert len(lines) == rows
    for line, number, label, row in zip(lines, batch.numbers, labels, values.tolist(), strict=True):
        record = json.loads(line)
        assert record["line"] == number
        assert record["label"] == json.loads(NAMES[label])
        want = [v if math.isfinite(v) else None for v in row]
        assert record["scores"] == want
        assert [math.copysign(1, v) for v in record["scores"] if v == 0] == [
            math.copysign(1, v) for v in want if v == 0
        ]


FINITE = st.floats(allow_nan=False, allow_infinity=False)


@given(hnp.arrays(np.float64, st.tuples(st.integers(0, 6), st.just(2)), elements=FINITE))
def test_the_binary_lines_are_the_general_lines(values: np.ndarray) -> None:
    labels = [row % 2 for row in range(len(values))]
    batch = batch_of(len(values))
    assert results._binary_lines(NAMES, batch, labels, values) == results._lines(
        NAMES, batch, labels, values, finite=True
    )
