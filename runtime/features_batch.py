"""Text -> CSR rows for a batch, vectorised with NumPy; equal to ``Featurizer.row`` per text.

Worth it from a few dozen messages on: tokenising runs as ``map`` over C functions,
counting is one ``np.unique``, and the scaling steps are whole-array operations whose
sums (``np.bincount``) add in element order, as scikit-learn's row loops do.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from runtime.features import LOG_TABLE_SIZE, BlockRuntime, Featurizer, Rows


def transform(featurizer: Featurizer, texts: Sequence[str], tally: list[int] | None = None) -> Rows:
    """``tally`` ([known, all] vocabulary-block terms) is added to, as ``Featurizer.row`` does."""
    n_rows = len(texts)
    parts = [_block_rows(block, texts, tally) for block in featurizer.blocks]
    if len(parts) == 1:
        row_of, indices, values = parts[0]
    else:  # FeatureUnion: each row's columns block by block, as sparse.hstack lays them
        row_of = np.concatenate([p[0] for p in parts])
        order = np.argsort(row_of, kind="stable")
        row_of = row_of[order]
        indices = np.concatenate([p[1] for p in parts])[order]
        values = np.concatenate([p[2] for p in parts])[order]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=n_rows), out=indptr[1:])
    return Rows(indptr=indptr, indices=indices, data=values, n_features=featurizer.n_features)


def _block_rows(
    block: BlockRuntime, texts: Sequence[str], tally: list[int] | None
) -> tuple[np.ndarray, ...]:
    spec = block.block
    terms = block.analyze_all(texts)
    lengths = list(map(len, terms))
    total = sum(lengths)
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    n_features = spec.n_features
    if block.columns is not None:
        columns = np.fromiter(
            map(block.columns.__getitem__, chain.from_iterable(terms)), dtype=np.int64, count=total
        )
        known = columns >= 0
        if tally is not None:
            tally[0] += int(np.count_nonzero(known))
            tally[1] += total
        # One sort orders rows, orders columns within a row (as CSR.sort_indices does)
        # and counts repeated terms.
        keys, counts = np.unique(rows[known] * n_features + columns[known], return_counts=True)
        values = counts.astype(np.float64)
    else:
        hashed = np.array(list(map(block.hashed, chain.from_iterable(terms))), dtype=np.int64)
        hashed = hashed.reshape(total, 2)
        keys, inverse = np.unique(rows * n_features + hashed[:, 0], return_inverse=True)
        signs = hashed[:, 1] if spec.alternate_sign else np.ones(total, dtype=np.int64)
        # Signed sums of +-1 are exact integers whatever the order (sum_duplicates keeps zeros).
        values = np.bincount(inverse, weights=signs.astype(np.float64), minlength=len(keys))
        values = values.astype(np.float64, copy=False)  # bincount of nothing is int64
    row_of, indices = np.divmod(keys, n_features)
    if spec.binary:
        values.fill(1.0)
    integral = True
    for step in spec.steps:
        if step == "sublinear_tf":
            values = _sublinear(values, block, integral)
        elif step == "idf":
            assert block.idf is not None
            values *= np.frombuffer(block.idf, dtype=np.float64).take(indices)
        else:
            magnitudes = np.abs(values) if step == "l1" else values * values
            norms = np.bincount(row_of, weights=magnitudes, minlength=len(texts))
            if step == "l2":
                norms = np.sqrt(norms)
            norms[norms == 0.0] = 1.0
            values /= norms.take(row_of)
        integral = False
    return row_of, indices + block.offset, values


def _sublinear(values: np.ndarray, block: BlockRuntime, integral: bool) -> np.ndarray:
    """log(tf) + 1: from the exported table for small counts (as the plain path), else NumPy."""
    result: np.ndarray = np.log(values) + 1.0
    if integral and block.log_table is not None:
        table = np.frombuffer(block.log_table, dtype=np.float64)
        small = (values >= 1.0) & (values <= LOG_TABLE_SIZE)
        result[small] = table.take(values[small].astype(np.int64) - 1)
    return result
