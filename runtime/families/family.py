"""What a classifier family is to the runtime: scores per row, then labels and probabilities.

``scores`` are the values scikit-learn's ``score_method`` returns for the family
(``predict_joint_log_proba`` for naive Bayes, ``decision_function`` for linear models,
``predict_proba`` for calibrated ones), one list per row; labels and probabilities are
derived from them exactly as scikit-learn derives them. Every family has a plain-Python
path for a few messages and a NumPy path for batches, and the two agree bit for bit.
"""

from __future__ import annotations

from runtime.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, Protocol

    import numpy as np

    from runtime.families.common import Rows

    # Hands a family its arrays from the model file, checked: (name, dtype, shape) -> values.
    Take = Callable[[str, str, tuple[int, ...]], memoryview[Any]]


class Contributions(NamedTuple):
    """A row's scores taken apart: ``base[k] + sum(t[k] for t in per_term)`` per output.

    Outputs are the family's decision columns (``decision_outputs``): one per class for
    naive Bayes, and for linear and calibrated models one for two classes (that of
    ``classes[1]``) or one per class. ``base`` is what a message with no known term
    scores (intercept, or log prior plus the empty message's likelihood); ``per_term``
    holds, for each of ``columns`` the family uses, its exact share of each output.
    ``contributions`` takes the outputs wanted, in order: an explanation compares two
    classes, and a 1,000-class model must not pay for the other 998.
    """

    base: list[float]
    columns: list[int]
    per_term: Iterable[list[float]]  # one list per column, in order; may be read only once


# The scorer's interface and its constructor's signature. Only type checkers need them: the
# registry in runtime/families/__init__.py names the classes, nothing checks them at run time.
if TYPE_CHECKING:

    class Family(Protocol):
        score_method: str  # the scikit-learn method whose output ``scores`` is
        has_proba: bool
        n_classes: int

        def scores(self, columns: list[int], values: list[float]) -> list[float]: ...

        def scores_batch(self, rows: Rows) -> np.ndarray: ...

        def label_index(self, scores: list[float]) -> int: ...

        def label_index_batch(self, scores: np.ndarray) -> np.ndarray: ...

        def proba(self, scores: list[float]) -> list[float] | None: ...

        def proba_batch(self, scores: np.ndarray) -> np.ndarray | None: ...

        def decision_outputs(self, columns: list[int], values: list[float]) -> list[float]: ...

        def contributions(
            self, columns: list[int], values: list[float], outputs: Sequence[int]
        ) -> Contributions: ...

    FamilyFactory = Callable[[dict[str, Any], Take, int, int], Family]
