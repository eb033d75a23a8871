"""Why a message got its label: each term's exact share of the model's decision value.

What is explained (``explained`` in the answer) is a difference of two classes' scores
in the model's own units, written ``positive`` minus ``negative``:

- two classes: ``classes[1]`` minus ``classes[0]`` - the joint log-likelihood
  difference for naive Bayes, ``decision_function`` for linear models;
- more classes: the predicted class minus the runner-up (the next highest score);
- ``CalibratedClassifierCV``: the same, on its members' mean decision value; its
  probabilities are each member's calibrator of its own value, averaged, so they rise
  with that value but are not a sum over terms.

``baseline`` (the intercept, or the log prior plus the empty message's likelihood) plus
every term's ``contribution`` is the decision value, ``decision``; the answer lists the
``top`` terms by size (each with its feature ``value``, e.g. its TF-IDF) and sums the
others into ``others``, so the parts still add up. Terms are the vocabulary's; for a
hashing block, the message's own terms that hash to the column.
With several feature blocks (FeatureUnion) ``block`` says which one. Explanations
contain the message's words: like the text, they must never be logged.
"""

from __future__ import annotations

import math

from runtime.errors import short as _short
from runtime.families.common import argmax

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from runtime.families.family import Family
    from runtime.features import BlockRuntime, Featurizer

DEFAULT_TOP = 10
MAX_TOP = 50


def check_top(top: object) -> int:
    """``top`` as an int from 1 to MAX_TOP; ValueError names the bound."""
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise ValueError(f"top must be an integer from 1 to {MAX_TOP}, got {_short(top)}")
    return top


class Explainer:
    """Per-term explanations for one model; the vocabulary's inverse is built once.

    It needs what scores a message (``featurizer``, ``family``), the model's ``classes``
    and ``decide``, which gives the label ``classify`` answers (threshold applied).
    """

    def __init__(
        self,
        featurizer: Featurizer,
        family: Family,
        classes: tuple[str | int, ...],
        decide: Callable[[list[float]], int],
    ) -> None:
        self._featurizer, self._family, self._classes = featurizer, family, classes
        self._decide = decide
        self._terms: dict[int, list[str]] = {}  # block index -> column -> term

    def explain(self, text: str, top: int = DEFAULT_TOP) -> dict[str, Any]:
        family, classes = self._family, self._classes
        columns, values = self._featurizer.row(text)
        scores = family.scores(columns, values)
        label = self._decide(scores)
        parts = family.contributions(columns, values)
        decision = family.decision_outputs(columns, values)
        if len(decision) == 1:  # one decision column: that of classes[1]
            positive, negative = 1, 0

            def pick(shares: list[float]) -> float:
                return shares[0]
        else:
            if len(classes) == 2:
                positive, negative = 1, 0
            else:
                positive = label
                negative = argmax([s if i != label else -math.inf for i, s in enumerate(scores)])

            def pick(shares: list[float]) -> float:
                return shares[positive] - shares[negative]

        value = pick(decision)
        row = dict(zip(columns, values, strict=True))
        terms = [
            (pick(shares), column)
            for column, shares in zip(parts.columns, parts.per_term, strict=True)
        ]
        terms.sort(key=lambda item: (-abs(item[0]), item[1]))
        shown, rest = terms[:top], terms[top:]
        others = 0.0
        for contribution, _ in rest:
            others += contribution
        hashed = self._hashed_terms(text)
        return {
            "label": classes[label],
            "explained": family.explained
            if len(decision) == 1
            else family.explained + "_difference",
            "positive": classes[positive],
            "negative": classes[negative],
            "decision": _finite(value),
            "baseline": _finite(pick(parts.base)),
            "terms": [
                {**self._describe(column, hashed), "value": row[column], "contribution": _finite(c)}
                for c, column in shown
            ],
            "others": _finite(others),
            "n_terms": len(terms),
        }

    def _describe(self, column: int, hashed: dict[int, list[str]]) -> dict[str, Any]:
        blocks = self._featurizer.blocks
        for index, block in enumerate(blocks):
            if block.offset <= column < block.offset + block.block.n_features:
                local = column - block.offset
                if block.columns is not None:
                    terms = [self._vocabulary(index, block)[local]]
                else:
                    terms = hashed.get(column, [])
                return {"terms": terms, "block": index}
        raise AssertionError(f"column {column} is in no block")  # pragma: no cover

    def _vocabulary(self, index: int, block: BlockRuntime) -> list[str]:
        terms = self._terms.get(index)
        if terms is None:
            assert block.columns is not None
            terms = [""] * block.block.n_features
            for term, column in block.columns.items():
                terms[column] = term
            self._terms[index] = terms
        return terms

    def _hashed_terms(self, text: str) -> dict[int, list[str]]:
        """Column -> the message's distinct terms hashing there, for hashing blocks only."""
        found: dict[int, set[str]] = {}
        for block in self._featurizer.blocks:
            if block.columns is None:
                for term in block.analyze(text):
                    column, _ = block.hashed(term)
                    found.setdefault(column + block.offset, set()).add(term)
        return {column: sorted(terms) for column, terms in found.items()}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
