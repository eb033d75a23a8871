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
hashing block, the message's own terms that hash to the column (at most
``MAX_TERMS_PER_COLUMN``, the first the message uses, sorted).
With several feature blocks (FeatureUnion) ``block`` says which one. Explanations
contain the message's words: like the text, they must never be logged.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left

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
# A hashing column shows at most this many of the message's terms that hash there.
MAX_TERMS_PER_COLUMN = 8


def check_top(top: object) -> int:
    """``top`` as an int from 1 to MAX_TOP; ValueError names the bound."""
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise ValueError(f"top must be an integer from 1 to {MAX_TOP}, got {_short(top)}")
    return top


class Explainer:
    """Per-term explanations for one model; the vocabulary's inverse is built once.

    It needs what scores a message (``featurizer``, ``family``), the model's ``classes``
    and ``decide``, which gives the label ``classify`` answers (threshold applied).
    What one explanation costs is bounded whatever the message: contributions are
    computed for the two compared outputs only, and a hashing block's terms are looked
    up for the shown columns only, at most ``MAX_TERMS_PER_COLUMN`` each.
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
        records = self.new_records()
        columns, values = self._featurizer.row(text, records=records)
        scores = self._family.scores(columns, values)
        return self.explain_row(text, columns, values, scores, top, records)

    def new_records(self) -> list[array[int]]:
        """Empty arrays for ``Featurizer.row`` to note the hashing blocks' columns in."""
        return [array("i") for _ in self._featurizer.blocks]

    def explain_row(
        self,
        text: str,
        columns: list[int],
        values: list[float],
        scores: list[float],
        top: int,
        records: list[array[int]] | None = None,
    ) -> dict[str, Any]:
        """The explanation of ``text`` from its feature row and scores, already computed;
        ``records``, from the same ``Featurizer.row``, spares hashing its terms again."""
        family, classes = self._family, self._classes
        label = self._decide(scores)  # the label classify answers, threshold applied
        # What is taken apart: the scores themselves, or (calibrated) the members' mean
        # decision values; the family says which.
        decision = family.decision_from(scores, columns, values)
        if len(decision) == 1:  # one decision column: that of classes[1]
            positive, negative, outputs = 1, 0, [0]
        else:
            if len(classes) == 2:
                positive, negative = 1, 0
            else:
                positive = label
                negative = argmax([s if i != label else -math.inf for i, s in enumerate(scores)])
            outputs = [positive, negative]

        def pick(shares: list[float]) -> float:
            return shares[0] if len(shares) == 1 else shares[0] - shares[1]

        value = pick([decision[k] for k in outputs])
        parts = family.contributions(columns, values, outputs)
        # One 8-byte number per term, not a tuple: a long message has ~10^5 to 10^6 terms.
        shares = array("d", map(pick, parts.per_term))
        term_columns = parts.columns
        shown = heapq.nsmallest(
            top, range(len(shares)), key=lambda i: (-abs(shares[i]), term_columns[i])
        )
        listed = set(shown)
        others = 0.0
        for i, contribution in enumerate(shares):
            if i not in listed:
                others += contribution
        hashed = self._hashed_terms(text, {term_columns[i] for i in shown}, records)
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
                {
                    **self._describe(term_columns[i], hashed),
                    "value": _finite(values[bisect_left(columns, term_columns[i])]),
                    "contribution": _finite(shares[i]),
                }
                for i in shown
            ],
            "others": _finite(others),
            "n_terms": len(shares),
        }

    def _describe(self, column: int, hashed: dict[int, list[str]]) -> dict[str, Any]:
        block, index = self._block_of(column)
        if block.columns is not None:
            terms = [self._vocabulary(index, block)[column - block.offset]]
        else:
            terms = hashed.get(column, [])
        return {"terms": terms, "block": index}

    def _block_of(self, column: int) -> tuple[BlockRuntime, int]:
        for index, block in enumerate(self._featurizer.blocks):
            if block.offset <= column < block.offset + block.block.n_features:
                return block, index
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

    def _hashed_terms(
        self, text: str, shown: set[int], records: list[array[int]] | None
    ) -> dict[int, list[str]]:
        """Shown hashing column -> the message's distinct terms there, at most
        ``MAX_TERMS_PER_COLUMN`` each (the first met); nothing else is kept."""
        found: dict[int, dict[str, None]] = {}
        for index, block in enumerate(self._featurizer.blocks):
            if block.columns is not None:
                continue
            offset = block.offset
            wanted = {c - offset for c in shown if offset <= c < offset + block.block.n_features}
            if not wanted:
                continue
            record = array("i") if records is None else records[index]
            recorded = len(record)
            for position, term in enumerate(block.analyze(text)):
                column = record[position] if position < recorded else block.hashed(term)[0]
                if column in wanted:
                    terms = found.setdefault(column + offset, {})
                    terms[term] = None
                    if len(terms) >= MAX_TERMS_PER_COLUMN:
                        wanted.discard(column)
                        if not wanted:
                            break
        return {column: sorted(terms) for column, terms in found.items()}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
