"""scikit-learn's naive Bayes classifiers, scored per nonzero term.

Multinomial, complement and Bernoulli NB are a sparse product plus a per-class constant
(``safe_sparse_dot(X, W) + c``), replayed in SciPy's order, so their joint
log-likelihoods are bit-identical. GaussianNB sums over every feature of a dense row;
the runtime never builds one: the exporter precomputes with NumPy, as scikit-learn
sums it, the empty document's value per class, and the runtime adds a correction per
nonzero term. That
reorders a sum of ~8,000 terms, so its log-likelihoods agree to ~1e-15 relative, not
bit for bit; labels and probabilities follow from them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from runtime.families.common import (
    ArgmaxLabels,
    Rows,
    as_matrix,
    dot_batch,
    dot_one,
    logsumexp_proba,
    logsumexp_proba_batch,
)
from runtime.families.family import Contributions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import numpy as np

    from runtime.families.family import Take


# GaussianNB's per-column memo, all classes together: ~0.2 KiB an entry (3.2 MiB for the
# tutorial's 2 x 8,211), so at most ~6.5 MiB.
_MAX_TERMS_KEPT = 32_768


class _NaiveBayes(ArgmaxLabels):
    """What every naive Bayes family shares: scores are joint log-likelihoods."""

    score_method = "predict_joint_log_proba"
    has_proba = True

    def __init__(self, n_classes: int) -> None:
        self.n_classes = n_classes

    def proba(self, scores: list[float]) -> list[float]:
        return logsumexp_proba(scores)

    def proba_batch(self, scores: np.ndarray) -> np.ndarray:
        return logsumexp_proba_batch(scores)

    def decision_outputs(self, columns: list[int], values: list[float]) -> list[float]:
        scores: list[float] = self.scores(columns, values)  # type: ignore[attr-defined]
        return scores


class DiscreteNB(_NaiveBayes):
    """MultinomialNB, ComplementNB and BernoulliNB: ``X @ W + offsets``.

    The exporter stores W and the offsets as scikit-learn's ``_joint_log_likelihood``
    computes them (``feature_log_prob_.T``; for Bernoulli ``(flp - neg_prob).T`` and
    ``class_log_prior_ + neg_prob.sum(axis=1)``), so the runtime only replays the product.
    Bernoulli first binarizes: values above ``binarize`` become 1, the rest are dropped.
    """

    def __init__(self, spec: dict[str, Any], take: Take, n_features: int, n_classes: int) -> None:
        super().__init__(n_classes)
        self._weights = take("classifier.weights", "<f8", (n_features, n_classes))
        self._offsets = list(take("classifier.offsets", "<f8", (n_classes,)))
        self._n_features = n_features
        binarize = spec.get("binarize")
        if binarize is not None and not (
            isinstance(binarize, int | float) and not isinstance(binarize, bool) and binarize >= 0
        ):
            raise ValueError("classifier.binarize must be a non-negative number or null")
        self._binarize: float | None = None if binarize is None else float(binarize)
        self._matrix: np.ndarray | None = None

    def _binarized(self, columns: list[int], values: list[float]) -> tuple[list[int], list[float]]:
        if self._binarize is None:
            return columns, values
        threshold = self._binarize
        kept = [c for c, v in zip(columns, values, strict=True) if v > threshold]
        return kept, [1.0] * len(kept)

    def scores(self, columns: list[int], values: list[float]) -> list[float]:
        columns, values = self._binarized(columns, values)
        totals = dot_one(columns, values, self._weights, self.n_classes)
        return [t + o for t, o in zip(totals, self._offsets, strict=True)]

    def contributions(
        self, columns: list[int], values: list[float], outputs: Sequence[int]
    ) -> Contributions:
        """x * log P(term | class) per term (Bernoulli: presence against absence)."""
        columns, values = self._binarized(columns, values)
        weights, n = self._weights, self.n_classes
        per_term = (
            [v * weights[c * n + k] for k in outputs] for c, v in zip(columns, values, strict=True)
        )
        return Contributions([self._offsets[k] for k in outputs], columns, per_term)

    def scores_batch(self, rows: Rows) -> np.ndarray:
        import numpy as np

        if self._matrix is None:
            self._matrix = as_matrix(self._weights, self._n_features, self.n_classes)
        if self._binarize is not None:
            keep = rows.data > self._binarize
            n_rows = len(rows.indptr) - 1
            indptr = np.zeros_like(rows.indptr)
            np.cumsum(np.bincount(rows.row_of()[keep], minlength=n_rows), out=indptr[1:])
            rows = Rows(indptr, rows.indices[keep], np.ones(int(keep.sum())), rows.n_features)
        scores: np.ndarray = dot_batch(rows, self._matrix) + np.array(self._offsets)
        return scores


class GaussianNB(_NaiveBayes):
    """GaussianNB as an empty-document constant plus one correction per nonzero term."""

    def __init__(self, spec: dict[str, Any], take: Take, n_features: int, n_classes: int) -> None:
        super().__init__(n_classes)
        shape = (n_classes, n_features)
        self._theta = take("classifier.theta", "<f8", shape)
        self._var = take("classifier.var", "<f8", shape)
        if min(self._var) <= 0.0:
            raise ValueError("classifier.var must be strictly positive")
        self._constants = list(
            zip(
                take("classifier.log_prior", "<f8", (n_classes,)).tolist(),
                take("classifier.log_norm", "<f8", (n_classes,)).tolist(),
                take("classifier.zero_doc_distance", "<f8", (n_classes,)).tolist(),
                strict=True,
            )
        )
        self._n_features = n_features
        self._matrices: tuple[np.ndarray, ...] | None = None
        # Per class, column -> (theta, var, theta^2 / var) of the columns messages used:
        # a dict item is read faster than two memoryview items, and the quotient is kept.
        self._terms: list[dict[int, tuple[float, float, float]]] = [{} for _ in range(n_classes)]

    def scores(self, columns: list[int], values: list[float]) -> list[float]:
        jll = []
        theta, var, n_features = self._theta, self._var, self._n_features
        adding = len(columns) * self.n_classes  # at most; bounded whatever clients send
        keep = adding <= _MAX_TERMS_KEPT  # a longer message reads the arrays, keeps nothing
        if keep and sum(map(len, self._terms)) + adding > _MAX_TERMS_KEPT:
            self._terms = [{} for _ in self._terms]
        for k, (log_prior, log_norm, zero_doc_distance) in enumerate(self._constants):
            terms, base = self._terms[k], k * n_features
            correction = 0.0  # summed in column order, as np.bincount does in the batch path
            for column, x in zip(columns, values, strict=True):
                term = terms.get(column)
                if term is None:
                    t, v = theta[base + column], var[base + column]
                    term = (t, v, t * t / v)
                    if keep:
                        terms[column] = term
                t, v, zero_term = term
                d = x - t
                # (x - theta)^2 / var replaces the empty document's theta^2 / var.
                correction += d * d / v - zero_term
            jll.append(log_prior + (log_norm - 0.5 * (zero_doc_distance + correction)))
        return jll

    def contributions(
        self, columns: list[int], values: list[float], outputs: Sequence[int]
    ) -> Contributions:
        """-(x - theta)^2 / 2 var + theta^2 / 2 var per term: its move from the empty message."""
        theta, var, n_features = self._theta, self._var, self._n_features
        base = []
        for k in outputs:
            log_prior, log_norm, zero_doc_distance = self._constants[k]
            base.append(log_prior + (log_norm - 0.5 * zero_doc_distance))

        def per_term() -> Iterator[list[float]]:
            for column, x in zip(columns, values, strict=True):
                shares = []
                for k in outputs:
                    t, v = theta[k * n_features + column], var[k * n_features + column]
                    d = x - t
                    shares.append(-0.5 * (d * d / v - t * t / v))
                yield shares

        return Contributions(base, list(columns), per_term())

    def scores_batch(self, rows: Rows) -> np.ndarray:
        import numpy as np

        if self._matrices is None:
            shape = (self.n_classes, self._n_features)
            theta, var = (as_matrix(view, *shape) for view in (self._theta, self._var))
            self._matrices = (theta, var, theta**2 / var)
        theta, var, zero_term = self._matrices
        n_rows = len(rows.indptr) - 1
        row_of = rows.row_of()
        x, column = rows.data, rows.indices
        distance = np.empty((n_rows, self.n_classes))
        log_prior, log_norm, zero_doc = (np.array(c) for c in zip(*self._constants, strict=True))
        for k in range(self.n_classes):
            # take() gathers ~2.5x faster than fancy indexing here.
            correction = (x - theta[k].take(column)) ** 2 / var[k].take(column) - zero_term[k].take(
                column
            )
            distance[:, k] = zero_doc[k] + np.bincount(row_of, weights=correction, minlength=n_rows)
        return log_prior + (log_norm - 0.5 * distance)
