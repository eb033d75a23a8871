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

from runtime.families.common import as_matrix, logsumexp_proba, logsumexp_proba_batch
from runtime.families.family import (
    ArraySpec,
    Contributions,
    Family,
    LinearScores,
    Link,
    take_declared,
)
from runtime.memo import Memo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import numpy as np

    from runtime.families.family import Take
    from runtime.features import Rows


# GaussianNB's per-column memo, all classes together: ~0.2 KiB an entry (3.2 MiB for the
# tutorial's 2 x 8,211), so at most ~6.5 MiB.
_MAX_TERMS_KEPT = 32_768


class Softmax(Link):
    """Joint log-likelihoods -> probabilities, as naive Bayes' ``predict_proba``."""

    def proba(self, scores: list[float]) -> list[float]:
        return logsumexp_proba(scores)

    def proba_batch(self, scores: np.ndarray) -> np.ndarray:
        return logsumexp_proba_batch(scores)


class _NaiveBayes(Family):
    """What every naive Bayes family shares: scores are joint log-likelihoods."""

    score_method = "predict_joint_log_proba"
    score_name = "joint_log_likelihood_difference"
    binary_columns = (1, 0)
    explained = "joint_log_likelihood"
    link = Softmax()


class DiscreteNB(_NaiveBayes):
    """MultinomialNB, ComplementNB and BernoulliNB: the linear layer, after binarisation.

    The exporter stores W and the offsets as scikit-learn's ``_joint_log_likelihood``
    computes them (``feature_log_prob_.T``; for Bernoulli ``(flp - neg_prob).T`` and
    ``class_log_prior_ + neg_prob.sum(axis=1)``), so the runtime only replays the product.
    Bernoulli first binarizes: values above ``binarize`` become 1, the rest are dropped.
    """

    arrays = LinearScores.declared()

    def __init__(self, spec: dict[str, Any], take: Take, n_features: int, n_classes: int) -> None:
        super().__init__(spec, take, n_features, n_classes)
        self._linear = LinearScores(take, n_features, n_classes)
        binarize = spec.get("binarize")
        if binarize is not None and not (
            isinstance(binarize, int | float) and not isinstance(binarize, bool) and binarize >= 0
        ):
            raise ValueError("classifier.binarize must be a non-negative number or null")
        self._binarize: float | None = None if binarize is None else float(binarize)

    def _binarized(self, columns: list[int], values: list[float]) -> tuple[list[int], list[float]]:
        if self._binarize is None:
            return columns, values
        threshold = self._binarize
        kept = [c for c, v in zip(columns, values, strict=True) if v > threshold]
        return kept, [1.0] * len(kept)

    def scores(self, columns: list[int], values: list[float]) -> list[float]:
        return self._linear.one(*self._binarized(columns, values))

    def contributions(self, columns: list[int], values: list[float]) -> Contributions:
        """x * log P(term | class) per term (Bernoulli: presence against absence)."""
        return self._linear.contributions(*self._binarized(columns, values))

    def scores_batch(self, rows: Rows) -> np.ndarray:
        if self._binarize is not None:
            import numpy as np

            from runtime.features import Rows

            keep = rows.data > self._binarize
            n_rows = len(rows.indptr) - 1
            indptr = np.zeros_like(rows.indptr)
            np.cumsum(np.bincount(rows.row_of()[keep], minlength=n_rows), out=indptr[1:])
            rows = Rows(indptr, rows.indices[keep], np.ones(int(keep.sum())), rows.n_features)
        return self._linear.batch(rows)


class GaussianNB(_NaiveBayes):
    """GaussianNB as an empty-document constant plus one correction per nonzero term."""

    dense_input = True  # scikit-learn needs dense rows; the runtime never builds them
    # The reordered sum: within 1e-12 of the magnitude of the summed terms (parity_scale).
    scores_rtol = 1e-12
    arrays = (
        ArraySpec("theta", ("n_classes", "n_features")),
        ArraySpec("var", ("n_classes", "n_features")),
        ArraySpec("log_prior", ("n_classes",)),
        ArraySpec("log_norm", ("n_classes",)),
        ArraySpec("zero_doc_distance", ("n_classes",)),
    )

    def __init__(self, spec: dict[str, Any], take: Take, n_features: int, n_classes: int) -> None:
        super().__init__(spec, take, n_features, n_classes)
        sizes = {"n_classes": n_classes, "n_features": n_features}
        self._theta, self._var, *constants = (
            take_declared(take, spec, sizes) for spec in self.arrays
        )
        if min(self._var) <= 0.0:
            raise ValueError("classifier.var must be strictly positive")
        self._constants = list(zip(*(c.tolist() for c in constants), strict=True))
        # The largest term the runtime's sum holds: the empty message's distance (~1e10 on
        # TF-IDF, where var_smoothing makes some variances tiny), the log prior and norm.
        self._summed_magnitude = max(
            abs(log_prior) + abs(log_norm) + 0.5 * zero_doc_distance
            for log_prior, log_norm, zero_doc_distance in self._constants
        )
        self._n_features = n_features
        self._matrices: tuple[np.ndarray, ...] | None = None
        # Per class, column -> (theta, var, theta^2 / var) of the columns messages used:
        # a dict item is read faster than two memoryview items, and the quotient is kept.
        # Bounded whatever clients send: the classes share _MAX_TERMS_KEPT entries.
        limit = max(1, _MAX_TERMS_KEPT // n_classes)
        self._terms: list[Memo[int, tuple[float, float, float]]] = [
            Memo(limit, clear_when_full=True) for _ in range(n_classes)
        ]

    def parity_scale(self, scores: np.ndarray) -> np.ndarray:
        """The magnitude of the summed terms, not only of the result.

        The runtime adds each message's corrections to the empty message's distance
        instead of summing a dense row: when a message holds columns whose theta^2 / var
        is huge (a feature constant within a class has the var_smoothing floor as its
        variance), the two cancel, and the result keeps the error of the large terms
        (e.g. 4e-7 on a log-likelihood of 125 beside a distance of 4e9).
        """
        import numpy as np

        scale: np.ndarray = np.maximum(super().parity_scale(scores), self._summed_magnitude)
        return scale

    def proba_atol(self, scores: np.ndarray) -> float:
        """Probabilities inherit the log-likelihoods' error, which grows with those terms.

        With log-likelihoods near 1e10 the reordered sum differs by ~1e-5, and near-tied
        classes' probabilities are ill-conditioned in scikit-learn itself (they need not
        even sum to 1): the bound is the propagated error, 4e-12 * the summed magnitude.
        """
        largest = float(self.parity_scale(scores).max(initial=0.0))
        return max(super().proba_atol(scores), 4e-12 * largest)

    def scores(self, columns: list[int], values: list[float]) -> list[float]:
        jll = []
        theta, var, n_features = self._theta, self._var, self._n_features
        for k, (log_prior, log_norm, zero_doc_distance) in enumerate(self._constants):
            terms, base = self._terms[k], k * n_features
            correction = 0.0  # summed in column order, as np.bincount does in the batch path
            for column, x in zip(columns, values, strict=True):
                term = terms.get(column)
                if term is None:
                    t, v = theta[base + column], var[base + column]
                    term = terms.keep(column, (t, v, t * t / v))
                t, v, zero_term = term
                d = x - t
                # (x - theta)^2 / var replaces the empty document's theta^2 / var.
                correction += d * d / v - zero_term
            jll.append(log_prior + (log_norm - 0.5 * (zero_doc_distance + correction)))
        return jll

    def contributions(self, columns: list[int], values: list[float]) -> Contributions:
        """-(x - theta)^2 / 2 var + theta^2 / 2 var per term: its move from the empty message."""
        theta, var, n_features = self._theta, self._var, self._n_features
        base = [
            log_prior + (log_norm - 0.5 * zero_doc_distance)
            for log_prior, log_norm, zero_doc_distance in self._constants
        ]
        per_term = []
        for column, x in zip(columns, values, strict=True):
            shares = []
            for k in range(self.n_classes):
                t, v = theta[k * n_features + column], var[k * n_features + column]
                d = x - t
                shares.append(-0.5 * (d * d / v - t * t / v))
            per_term.append(shares)
        return Contributions(base, list(columns), per_term)

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
