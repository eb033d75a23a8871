"""The family contract: what a classifier family declares, and what is derived from it.

In the manner of scikit-learn's ``_BaseNB`` and ``LinearClassifierMixin``, a family
implements only its scoring layer (``scores``: one message; ``scores_batch``: CSR rows;
``decision_outputs`` and ``contributions`` for explanations) and declares the rest as
class attributes. ``Family`` derives labels, probabilities and the binary decision score,
one row or a batch, from the declared ``link``. ``runtime/decision.py``,
``runtime/explain.py`` and the exporter read these declarations; none of them switches on a
family's or a score's name.

``scores`` are the values scikit-learn's ``score_method`` returns for the family
(``predict_joint_log_proba`` for naive Bayes, ``decision_function`` for linear models,
``predict_proba`` for calibrated ones), one list per row. Every family has a plain-Python
path for a few messages and a NumPy path for batches, and the two agree bit for bit.
"""

from __future__ import annotations

from runtime.families.common import PROBA_ATOL, argmax, as_matrix, dot_batch, dot_one
from runtime.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar

    import numpy as np

    from runtime.features import Rows

    # Hands a family its arrays from the model file, checked: (name, dtype, shape) -> values.
    Take = Callable[[str, str, tuple[int, ...]], memoryview[Any]]


class Contributions(NamedTuple):
    """A row's scores taken apart: ``base[k] + sum(t[k] for t in per_term)`` per output.

    Outputs are the family's decision columns (``decision_outputs``): one per class for
    naive Bayes, and for linear and calibrated models one for two classes (that of
    ``classes[1]``) or one per class. ``base`` is what a message with no known term
    scores (intercept, or log prior plus the empty message's likelihood); ``per_term``
    holds, for each of ``columns`` the family uses, its exact share of each output.
    """

    base: list[float]
    columns: list[int]
    per_term: list[list[float]]


class ArraySpec:
    """One array a family reads from the model file, named under ``classifier.``.

    ``shape`` entries are sizes or the names of the sizes the family is loaded with
    (``n_features``, ``n_classes``, ``n_outputs``, ...); ``name`` may hold ``{member}``
    (``0.``, ``1.``, ...) or ``{target}`` (``0``, ``1``, ...) for arrays repeated per
    ensemble member or per calibrated class. The exporter checks what its extractor
    wrote against these; the runtime takes them. A plain class: a namedtuple's creation
    would cost every cold start more than this one.
    """

    __slots__ = ("dtype", "name", "shape")

    def __init__(self, name: str, shape: tuple[int | str, ...], dtype: str = "<f8") -> None:
        self.name, self.shape, self.dtype = name, shape, dtype

    def __repr__(self) -> str:
        return f"ArraySpec({self.name!r}, {self.shape!r}, {self.dtype!r})"

    def named(self, member: str = "", target: int | None = None) -> ArraySpec:
        """This array of one ensemble ``member`` (``"0."``) and calibrated ``target``."""
        name = self.name.replace("{member}", member)
        if target is not None:
            name = name.replace("{target}", str(target))
        return ArraySpec(name, self.shape, self.dtype)


def take_declared(take: Take, spec: ArraySpec, sizes: dict[str, int]) -> memoryview[Any]:
    """``spec``'s array, checked against its declared dtype and shape (-1: any length)."""
    shape = tuple(d if isinstance(d, int) else sizes[d] for d in spec.shape)
    return take("classifier." + spec.name, spec.dtype, shape)


WEIGHTS = ArraySpec("{member}weights", ("n_features", "n_outputs"))
OFFSETS = ArraySpec("{member}offsets", ("n_outputs",))


class LinearScores:
    """The linear scoring layer: ``X @ W + b``, W (n_features, n_outputs) feature-major.

    Linear models, naive Bayes' discrete models and each calibrated member score with it:
    one message, a batch, and per-term contributions (weight x value; the offsets are
    the base).
    """

    def __init__(self, take: Take, n_features: int, n_outputs: int, member: str = "") -> None:
        sizes = {"n_features": n_features, "n_outputs": n_outputs}
        self.n_outputs = n_outputs
        self._n_features = n_features
        self._weights = take_declared(take, WEIGHTS.named(member), sizes)
        self._offsets = list(take_declared(take, OFFSETS.named(member), sizes))
        self._matrix: np.ndarray | None = None

    @staticmethod
    def declared(member: str = "") -> tuple[ArraySpec, ...]:
        """The layer's arrays: ``weights`` (n_features, n_outputs) and ``offsets``."""
        return WEIGHTS.named(member), OFFSETS.named(member)

    def one(self, columns: list[int], values: list[float]) -> list[float]:
        totals = dot_one(columns, values, self._weights, self.n_outputs)
        return [t + o for t, o in zip(totals, self._offsets, strict=True)]

    def contributions(self, columns: list[int], values: list[float]) -> Contributions:
        """weight x feature value per term and output; the offsets are the base."""
        weights, n = self._weights, self.n_outputs
        per_term = [
            [v * weights[c * n + k] for k in range(n)] for c, v in zip(columns, values, strict=True)
        ]
        return Contributions(list(self._offsets), list(columns), per_term)

    def batch(self, rows: Rows) -> np.ndarray:
        import numpy as np

        if self._matrix is None:
            self._matrix = as_matrix(self._weights, self._n_features, self.n_outputs)
        scores: np.ndarray = dot_batch(rows, self._matrix) + np.array(self._offsets)
        return scores


def n_outputs_for(n_classes: int) -> int:
    """Two classes have one decision column (for ``classes_[1]``); more have one each."""
    return 1 if n_classes == 2 else n_classes


# The links: scores -> label index and probabilities, one row (list) or a batch (2-D).


class Link:
    """The label is the class with the highest score; the scores are the probabilities.

    Families declare their own (naive Bayes: softmax of the joint log-likelihoods; linear
    models: the sign of the decision, and expit, softmax or none; calibrated: this one).
    """

    has_proba = True

    def label_index(self, scores: list[float]) -> int:
        return argmax(scores)

    def label_index_batch(self, scores: np.ndarray) -> np.ndarray:
        import numpy as np

        labels: np.ndarray = np.argmax(scores, axis=1)
        return labels

    def proba(self, scores: list[float]) -> list[float] | None:
        return scores

    def proba_batch(self, scores: np.ndarray) -> np.ndarray | None:
        return scores


class Family:
    """A loaded classifier: declarations, a scoring layer, and what derives from them."""

    # Declarations, read by decision.py, explain.py and the exporter.
    score_method: ClassVar[str]  # the scikit-learn method whose values ``scores`` are
    score_name: ClassVar[str]  # the binary score a threshold cuts (runtime/decision.py)
    default_cut: ClassVar[float] = 0.0  # where that score gives scikit-learn's ``predict``
    cut_range: ClassVar[tuple[float, float] | None] = None  # a threshold's allowed values
    # The binary score is scores[positive] - scores[negative] (negative None: no subtraction).
    binary_columns: ClassVar[tuple[int, int | None]]
    explained: ClassVar[str]  # what an explanation's ``decision`` is (runtime/explain.py)
    dense_input: ClassVar[bool] = False  # scikit-learn scores dense rows (GaussianNB)
    # Parity: 0 = bit for bit, else relative to each row's ``parity_scale``.
    scores_rtol: ClassVar[float] = 0.0
    arrays: ClassVar[tuple[ArraySpec, ...]]  # the file's arrays this family reads

    # Set by each family's constructor.
    link: Link
    n_classes: int
    n_score_columns: int  # columns of ``scores``: 1 for a binary decision_function

    def __init__(self, spec: dict[str, Any], take: Take, n_features: int, n_classes: int) -> None:
        """Subclasses read ``spec`` (the file's ``classifier`` section) and take their arrays."""
        self.n_classes = self.n_score_columns = n_classes

    def parity_scale(self, scores: np.ndarray) -> np.ndarray:
        """Per row, the magnitude ``scores_rtol`` is relative to: here the largest |score|."""
        import numpy as np

        largest: np.ndarray = np.abs(scores.reshape(len(scores), -1)).max(axis=1, initial=1.0)
        return largest

    def proba_atol(self, scores: np.ndarray) -> float:
        """Parity of probabilities given these scores: exp and log may differ in the last bit."""
        return PROBA_ATOL

    # The scoring layer, per family.

    def scores(self, columns: list[int], values: list[float]) -> list[float]:
        raise NotImplementedError

    def scores_batch(self, rows: Rows) -> np.ndarray:
        raise NotImplementedError

    def decision_outputs(self, columns: list[int], values: list[float]) -> list[float]:
        """The values explanations take apart; by default the scores themselves."""
        return self.scores(columns, values)

    def contributions(self, columns: list[int], values: list[float]) -> Contributions:
        raise NotImplementedError

    # Derived.

    @property
    def has_proba(self) -> bool:
        return self.link.has_proba

    def label_index(self, scores: list[float]) -> int:
        return self.link.label_index(scores)

    def label_index_batch(self, scores: np.ndarray) -> np.ndarray:
        return self.link.label_index_batch(scores)

    def proba(self, scores: list[float]) -> list[float] | None:
        return self.link.proba(scores)

    def proba_batch(self, scores: np.ndarray) -> np.ndarray | None:
        return self.link.proba_batch(scores)

    @classmethod
    def binary_score(cls, scores: list[float]) -> float:
        """The one number a binary model decides with (runtime/decision.py), one row."""
        positive, negative = cls.binary_columns
        return scores[positive] if negative is None else scores[positive] - scores[negative]

    @classmethod
    def binary_score_batch(cls, scores: np.ndarray) -> np.ndarray:
        """The same per row of a batch; ``scores`` as scikit-learn's method returns them."""
        if scores.ndim == 1:  # a binary decision_function
            return scores
        positive, negative = cls.binary_columns
        column: np.ndarray = scores[:, positive]
        return column if negative is None else column - scores[:, negative]

    def check_cut(self, cut: float) -> None:
        """ValueError unless ``cut`` is a threshold this family's score can take."""
        if self.cut_range is not None and not self.cut_range[0] <= cut <= self.cut_range[1]:
            low, high = self.cut_range
            raise ValueError(f"must be a {self.score_name} from {low:g} to {high:g}")

    def empty_scores(self) -> np.ndarray:
        import numpy as np

        return np.empty((0, self.n_score_columns))
