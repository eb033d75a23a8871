"""One CloudWatch Embedded Metric Format (EMF) line per request: what an operator alarms on.

Lambda ships each stdout line to CloudWatch Logs, which turns a JSON line with an
``_aws`` member into metrics (no agent, no library, no API call). Per request:

- ``Messages`` (Count) and ``Predicted_<label>`` (Count, one per class, zeros included)
  so that ``Predicted_spam / Messages`` over any period is the spam rate and a drift in
  it can raise an alarm;
- ``Latency`` (Milliseconds), as the handler measured it;
- ``OutOfVocabularyShare`` (Percent): terms the vocabulary does not know, of all terms;
  a rising share means the messages no longer look like the training data;
- ``ScoreBucket_<b>`` (Count): two-class models only, how many messages fell in each
  tenth of P(classes[1]) (``P0`` .. ``P9``), or, for models without probabilities, each
  band of the decision score (``Dneg2`` < -1 <= ``Dneg1`` < 0 <= ``Dpos1`` < 1 <= ``Dpos2``).

Dimensions: ``Service`` only, so the metric count stays fixed; the model id is a plain
member, searchable with Logs Insights but not a metric dimension. Message text never
enters the line: the builder takes labels, scores and counts, not texts.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

NAMESPACE = "SmsSpamClassifier"
DIMENSION = "Service"
MAX_METRICS = 100  # the EMF specification's limit per MetricDirective
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")
SCORE_BANDS = ("Dneg2", "Dneg1", "Dpos1", "Dpos2")
PROBABILITY_BUCKETS = tuple(f"P{i}" for i in range(10))


def metric_name(prefix: str, label: object) -> str:
    """``<prefix>_<label>`` with characters CloudWatch consoles mangle replaced by ``_``."""
    return f"{prefix}_{_UNSAFE.sub('_', str(label))}"[:255]


def score_bucket(prediction: Mapping[str, Any], classes: Sequence[object]) -> str | None:
    """The bucket of one ``Model.classify`` answer, or None (multi-class, or no score)."""
    if len(classes) != 2:
        return None
    probabilities = prediction.get("probabilities")
    if probabilities is not None:
        p = probabilities.get(classes[1])
        if p is None or not math.isfinite(p):
            return None
        return PROBABILITY_BUCKETS[min(int(p * 10), 9)]
    score = prediction.get("score")
    if score is None or not math.isfinite(score):
        return None
    if score < 0:
        return SCORE_BANDS[0] if score < -1 else SCORE_BANDS[1]
    return SCORE_BANDS[2] if score < 1 else SCORE_BANDS[3]


def emf_line(
    *,
    classes: Sequence[object],
    predictions: Sequence[Mapping[str, Any]],
    latency_ms: float,
    vocabulary_coverage: tuple[int, int] | None,
    service: str,
    model_id: str | None = None,
    namespace: str = NAMESPACE,
    timestamp_ms: int | None = None,
) -> str:
    """The EMF JSON line for one request's predictions (``Model.classify``'s answers).

    ``vocabulary_coverage`` is ``Model.vocabulary_coverage(texts)``: (known, all) terms.
    """
    values: dict[str, float] = {"Messages": len(predictions), "Latency": round(latency_ms, 3)}
    units = {"Messages": "Count", "Latency": "Milliseconds"}
    for label in classes:
        values[metric_name("Predicted", label)] = 0
    for prediction in predictions:
        name = metric_name("Predicted", prediction["label"])
        values[name] = values.get(name, 0) + 1
    for name in values:
        units.setdefault(name, "Count")
    if vocabulary_coverage is not None and vocabulary_coverage[1] > 0:
        known, total = vocabulary_coverage
        values["OutOfVocabularyShare"] = round(100.0 * (total - known) / total, 3)
        units["OutOfVocabularyShare"] = "Percent"
    if len(classes) == 2:
        has_proba = any("probabilities" in p for p in predictions)
        for bucket in PROBABILITY_BUCKETS if has_proba else SCORE_BANDS:
            values[metric_name("ScoreBucket", bucket)] = 0
            units[metric_name("ScoreBucket", bucket)] = "Count"
        for prediction in predictions:
            found = score_bucket(prediction, classes)
            if found is not None:
                values[metric_name("ScoreBucket", found)] += 1
    names = list(values)[:MAX_METRICS]
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [[DIMENSION]],
                    "Metrics": [{"Name": name, "Unit": units[name]} for name in names],
                }
            ],
        },
        DIMENSION: service,
        "msg": "metrics",
        "model": model_id,
        **{name: values[name] for name in names},
    }
    return json.dumps(document, separators=(",", ":"), allow_nan=False)
