"""One CloudWatch Embedded Metric Format (EMF) line per request: what an operator alarms on.

Lambda ships each stdout line to CloudWatch Logs, which turns a JSON line with an
``_aws`` member into metrics (no agent, no library, no API call). Per request:

- ``Messages`` (Count) and ``Predicted_<label>`` (Count, one per class, zeros included)
  so that ``Predicted_spam / Messages`` over any period is the spam rate and a drift in
  it can raise an alarm; a model with more classes than the directive has room for
  counts the rest as ``Predicted_other``, so the counts always add up to ``Messages``;
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

import functools
import json
import math
import re
import time
from collections.abc import Mapping, Sequence

from runtime.memo import Memo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAMESPACE = "SmsSpamClassifier"  # config.DEFAULT_METRICS_NAMESPACE; Powertools' variable wins
DIMENSION = "Service"
MAX_METRICS = 100  # the EMF specification's limit per MetricDirective
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")
SCORE_BANDS = ("Dneg2", "Dneg1", "Dpos1", "Dpos2")
PROBABILITY_BUCKETS = tuple(f"P{i}" for i in range(10))


@functools.lru_cache(maxsize=1024)  # a model's few labels and buckets, on every request
def metric_name(prefix: str, label: object) -> str:
    """``<prefix>_<label>`` with characters CloudWatch consoles mangle replaced by ``_``."""
    return f"{prefix}_{_UNSAFE.sub('_', str(label))}"[:255]


OTHER = "Predicted_other"  # the labels past the directive's room, counted together


def label_names(classes: Sequence[object]) -> list[str]:
    """One distinct metric name per label: a label whose safe name another label (or
    ``Predicted_other``) also has gets its class index appended (``spam!`` and ``spam?``
    become ``Predicted_spam__0`` and ``Predicted_spam__1``)."""
    names = [metric_name("Predicted", label) for label in classes]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    taken = {OTHER}
    clashes = {name for name, count in seen.items() if count > 1 or name in taken}
    unique = []
    for index, name in enumerate(names):
        if name in clashes:
            suffix = f"_{index}"
            name = name[: 255 - len(suffix)] + suffix
            while name in taken or name in seen:
                suffix += "_"
                name = name[: 255 - len(suffix)] + suffix
        taken.add(name)
        unique.append(name)
    return unique


@functools.lru_cache(maxsize=64)
def _directive(namespace: str, metrics: tuple[tuple[str, str], ...]) -> str:
    """The ``CloudWatchMetrics`` JSON, the same for every request of a container."""
    return json.dumps(
        [
            {
                "Namespace": namespace,
                "Dimensions": [[DIMENSION]],
                "Metrics": [{"Name": name, "Unit": unit} for name, unit in metrics],
            }
        ],
        separators=(",", ":"),
    )


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


class _Layout:
    """Everything about a request's metrics line that depends only on the model: the
    metric names in order, their units as the EMF directive, and the zeros to count from.

    Names are ``Messages``, ``Latency``, the per-label and per-bucket counts, then
    ``OutOfVocabularyShare``, at most ``MAX_METRICS`` in all: past that, the labels
    after the first ones are counted together as ``Predicted_other``, so the counts
    always add up to ``Messages``. Two labels never share a name (see ``label_names``).
    The counts' JSON of a one-message request (one label, one bucket) is built once per
    outcome and kept.
    """

    def __init__(self, namespace: str, classes: tuple[object, ...], buckets: tuple[str, ...]):
        self.classes = classes
        room = MAX_METRICS - 3 - len(buckets)  # Messages, Latency, OutOfVocabularyShare
        shown = classes if len(classes) <= room else classes[: room - 1]
        self.predicted = dict(zip(shown, label_names(shown), strict=True))
        self.other = OTHER if len(shown) < len(classes) else None
        self.bucket = {bucket: metric_name("ScoreBucket", bucket) for bucket in buckets}
        self.zeros: dict[str, int] = dict.fromkeys(
            [*self.predicted.values(), *([OTHER] if self.other else []), *self.bucket.values()],
            0,
        )
        self.counted = ("Messages", "Latency", *self.zeros)
        self.directives = {
            coverage: _directive(
                namespace,
                tuple((name, UNITS.get(name, "Count")) for name in self.metric_names(coverage)),
            )
            for coverage in (False, True)
        }
        self.count_names = list(self.zeros)
        # Labels x buckets x coverage: a small set, bounded all the same.
        self._single: Memo[tuple[object, str | None, bool], str] = Memo(_SINGLE_KEPT)

    def metric_names(self, coverage: bool) -> list[str]:
        return [*self.counted, *(["OutOfVocabularyShare"] if coverage else [])]

    def counts_json(self, predictions: Sequence[Mapping[str, Any]], coverage: bool) -> str:
        """``"Predicted_ham":1,"Predicted_spam":0,...``: every count member, in order."""
        if len(predictions) != 1:
            return self._counts_json(predictions, coverage)
        prediction = predictions[0]
        key = (prediction["label"], score_bucket(prediction, self.classes), coverage)
        found = self._single.get(key)
        if found is None:
            found = self._single.keep(key, self._counts_json(predictions, coverage))
        return found

    def _counts_json(self, predictions: Sequence[Mapping[str, Any]], coverage: bool) -> str:
        values = dict(self.zeros)
        other = self.other
        for prediction in predictions:
            name = self.predicted.get(prediction["label"], other)
            if name is not None:
                values[name] += 1
        if self.bucket:
            for prediction in predictions:
                found = score_bucket(prediction, self.classes)
                if found is not None:
                    values[self.bucket[found]] += 1
        # Metric names are sanitised ASCII: no escaping needed.
        return ",".join([f'"{name}":{values[name]}' for name in self.count_names])


UNITS = {"Latency": "Milliseconds", "OutOfVocabularyShare": "Percent"}
_SINGLE_KEPT = 1024


@functools.lru_cache(maxsize=64)
def _layout(namespace: str, classes: tuple[object, ...], buckets: tuple[str, ...]) -> _Layout:
    return _Layout(namespace, classes, buckets)


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

    ``vocabulary_coverage`` is (known, all) vocabulary terms, as ``Model.classify`` counts them.
    It runs on every classified request, so what depends only on the model is built once.
    """
    buckets: tuple[str, ...] = ()
    if len(classes) == 2:
        has_proba = any("probabilities" in p for p in predictions)
        buckets = PROBABILITY_BUCKETS if has_proba else SCORE_BANDS
    layout = _layout(namespace, tuple(classes), buckets)
    coverage = vocabulary_coverage is not None and vocabulary_coverage[1] > 0
    members = f'"Messages":{len(predictions)},"Latency":{round(latency_ms, 3)!r}'
    counts = layout.counts_json(predictions, coverage)
    if counts:
        members += "," + counts
    if coverage:
        known, total = vocabulary_coverage  # type: ignore[misc]
        members += f',"OutOfVocabularyShare":{round(100.0 * (total - known) / total, 3)!r}'
    timestamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    return (
        f'{{"_aws":{{"Timestamp":{int(timestamp)},"CloudWatchMetrics":'
        f"{layout.directives[coverage]}}},"
        f'"{DIMENSION}":{_quote(service)},"msg":"metrics","model":{_quote(model_id)},{members}}}'
    )


def cold_start_line(
    *, service: str, namespace: str = NAMESPACE, timestamp_ms: int | None = None
) -> str:
    """The ``ColdStart`` metric (Count 1), written once per container at its first
    invocation, as Powertools' ``capture_cold_start_metric`` does."""
    timestamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    directive = _directive(namespace, (("ColdStart", "Count"),))
    return (
        f'{{"_aws":{{"Timestamp":{int(timestamp)},"CloudWatchMetrics":{directive}}},'
        f'"{DIMENSION}":{_quote(service)},"msg":"metrics","ColdStart":1}}'
    )


def with_count(
    record: dict[str, Any],
    metric: str,
    *,
    service: str,
    namespace: str = NAMESPACE,
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """``record`` (a log line's fields) that also counts 1 of ``metric``, in EMF.

    For events that are rare but alarm-worthy, such as a model refresh that failed:
    the one line is both the log entry and the metric.
    """
    timestamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    directive = {
        "Namespace": namespace,
        "Dimensions": [[DIMENSION]],
        "Metrics": [{"Name": metric, "Unit": "Count"}],
    }
    aws = {"Timestamp": timestamp, "CloudWatchMetrics": [directive]}
    return {"_aws": aws, DIMENSION: service, **record, metric: 1}


def _quote(value: str | None) -> str:
    return "null" if value is None else json.encoder.encode_basestring_ascii(value)
