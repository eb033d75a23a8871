"""The per-request metrics line is valid CloudWatch Embedded Metric Format and holds no text.

``EMF_SCHEMA`` is the JSON schema AWS publishes with the specification ("Specification:
Embedded metric format", CloudWatch User Guide, section "Embedded metric format example
and JSON schema"). The rules the schema cannot express (every reference names a root
member; metric targets are numbers or arrays of at most 100; dimension targets are
strings; at most 100 metrics per directive) are checked beside it.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from runtime.metrics import emf_line, metric_name, score_bucket
from tests.corpus import HAM_WORDS, SPAM_WORDS
from tests.families import fitted

UNITS = (
    "Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|"
    "Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes\\/Second|Kilobytes\\/Second|"
    "Megabytes\\/Second|Gigabytes\\/Second|Terabytes\\/Second|Bits\\/Second|Kilobits\\/Second|"
    "Megabits\\/Second|Gigabits\\/Second|Terabits\\/Second|Count\\/Second|None"
)
NAME = {"type": "string", "pattern": "^(.*)$", "minLength": 1, "maxLength": 255}
EMF_SCHEMA = {
    "type": "object",
    "title": "Root Node",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "title": "Metadata",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer"},
                "CloudWatchMetrics": {
                    "type": "array",
                    "title": "MetricDirectives",
                    "items": {
                        "type": "object",
                        "title": "MetricDirective",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "properties": {
                            "Namespace": NAME,
                            "Dimensions": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "array",
                                    "title": "DimensionSet",
                                    "minItems": 0,
                                    "maxItems": 9,
                                    "items": NAME,
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "title": "MetricDefinitions",
                                "items": {
                                    "type": "object",
                                    "title": "MetricDefinition",
                                    "required": ["Name"],
                                    "properties": {
                                        "Name": NAME,
                                        "Unit": {"type": "string", "pattern": f"^({UNITS})$"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def assert_valid_emf(line: str) -> dict:
    assert "\n" not in line  # one CloudWatch Logs event
    document = json.loads(line)
    Draft7Validator.check_schema(EMF_SCHEMA)
    Draft7Validator(EMF_SCHEMA).validate(document)
    for directive in document["_aws"]["CloudWatchMetrics"]:
        assert len(directive["Metrics"]) <= 100
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                assert isinstance(document[key], str), key
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]
            values = value if isinstance(value, list) else [value]
            assert len(values) <= 100
            for v in values:
                assert isinstance(v, int | float), metric
                assert not isinstance(v, bool), metric
                assert math.isfinite(v)
    return document


secret_words = st.sampled_from(["SECRETalpha", "SECRETbeta", "SECRETgamma"])
texts_strategy = st.lists(
    st.lists(
        st.one_of(st.sampled_from(SPAM_WORDS + HAM_WORDS), secret_words), min_size=1, max_size=12
    ).map(" ".join),
    min_size=1,
    max_size=20,
)


@pytest.mark.parametrize(
    ("name", "labeling"),
    [
        ("gaussian_nb", "binary"),  # probabilities
        ("linear_svc", "binary"),  # a decision score, no probabilities
        ("calibrated_sigmoid", "binary"),
        ("sgd_hashing", "binary"),  # no vocabulary: no out-of-vocabulary share
        ("logistic_regression", "three_classes"),
        ("ridge", "int_labels"),
    ],
)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=texts_strategy)
def test_request_line_is_valid_emf_without_text(name: str, labeling: str, texts) -> None:
    _, model = fitted(name, labeling)
    predictions = model.classify(texts)
    line = emf_line(
        classes=model.classes,
        predictions=predictions,
        latency_ms=1.234567,
        vocabulary_coverage=model.vocabulary_coverage(texts),
        service="sms-spam",
        model_id=model.model_id,
        timestamp_ms=1_700_000_000_000,
    )
    document = assert_valid_emf(line)
    assert "SECRET" not in line.upper()  # message text never enters the line
    assert document["Messages"] == len(texts)
    predicted = [document[metric_name("Predicted", c)] for c in model.classes]
    assert sum(predicted) == len(texts)
    for c in model.classes:
        want = sum(p["label"] == c for p in predictions)
        assert document[metric_name("Predicted", c)] == want
    assert document["Latency"] == 1.235
    buckets = [v for k, v in document.items() if k.startswith("ScoreBucket_")]
    if len(model.classes) == 2:
        assert sum(buckets) == len(texts)
    else:
        assert buckets == []
    known, total = model.vocabulary_coverage(texts)
    if total:
        assert document["OutOfVocabularyShare"] == round(100 * (total - known) / total, 3)
    else:
        assert "OutOfVocabularyShare" not in document


def test_out_of_vocabulary_share_counts_unknown_terms() -> None:
    _, model = fitted("multinomial_nb")
    known, total = model.vocabulary_coverage(["free prize zzzunknown qqqunknown"])
    assert (known, total) == (2, 4)
    document = assert_valid_emf(
        emf_line(
            classes=model.classes,
            predictions=model.classify(["free prize zzzunknown qqqunknown"]),
            latency_ms=0.5,
            vocabulary_coverage=(known, total),
            service="s",
        )
    )
    assert document["OutOfVocabularyShare"] == 50.0


@pytest.mark.parametrize(
    ("prediction", "bucket"),
    [
        ({"probabilities": {"ham": 1.0, "spam": 0.0}}, "P0"),
        ({"probabilities": {"ham": 0.05, "spam": 0.95}}, "P9"),
        ({"probabilities": {"ham": 0.0, "spam": 1.0}}, "P9"),
        ({"probabilities": {"ham": 0.5, "spam": 0.5}}, "P5"),
        ({"score": -3.0}, "Dneg2"),
        ({"score": -0.2}, "Dneg1"),
        ({"score": 0.0}, "Dpos1"),
        ({"score": 7.0}, "Dpos2"),
        ({"score": None}, None),
    ],
)
def test_score_buckets(prediction: dict, bucket: str | None) -> None:
    assert score_bucket(prediction, ("ham", "spam")) == bucket


def test_label_names_are_made_safe_for_metric_names() -> None:
    assert metric_name("Predicted", "spam") == "Predicted_spam"
    assert metric_name("Predicted", "très spam/2") == "Predicted_tr_s_spam_2"
    assert metric_name("Predicted", 7) == "Predicted_7"


@pytest.mark.parametrize("vectorise", [False, True])
def test_classify_counts_the_same_coverage_as_a_separate_analysis(vectorise: bool) -> None:
    """The request path counts coverage while featurising; it must equal the standalone count."""
    _, model = fitted("multinomial_nb")
    texts = ["free prize zzzunknown", "see you at lunch", "", "qqq www", "café"] * 4
    coverage = [0, 0]
    if vectorise:
        model._labelled_scores(texts, vectorise=True, tally=coverage)
    else:
        model.classify(texts, coverage=coverage)
    assert tuple(coverage) == model.vocabulary_coverage(texts)
    assert 0 < coverage[0] < coverage[1]


@pytest.mark.parametrize("coverage", [(3, 4), None])
def test_many_classes_count_every_message_and_keep_the_share(
    coverage: tuple[int, int] | None,
) -> None:
    """Issue 20: 150 messages over 150 classes once added up to 18, and the share vanished."""
    classes = tuple(f"c{i}" for i in range(150))

    def line(labels: list[str]) -> dict:
        predictions = [{"label": label, "scores": {}} for label in labels]
        return assert_valid_emf(
            emf_line(
                classes=classes,
                predictions=predictions,
                latency_ms=2.0,
                vocabulary_coverage=coverage,
                service="s",
            )
        )

    for labels in (["c3"], ["c3", "c3", "c149"], ["c149"], list(classes)):
        document = line(labels)
        names = [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
        assert len(names) <= 100
        members = [k for k in document if k not in ("_aws", "Service", "msg", "model")]
        assert members == names  # exactly the directive's metrics, in its order
        assert ("OutOfVocabularyShare" in document) == (coverage is not None)
        counts = {k: v for k, v in document.items() if k.startswith("Predicted_")}
        assert sum(counts.values()) == len(labels) == document["Messages"]
        assert document["Predicted_c3"] == labels.count("c3")
        assert "Predicted_c149" not in document
        assert document["Predicted_other"] == sum(
            1 for label in labels if "Predicted_" + label not in document
        )


def test_labels_that_sanitise_alike_keep_their_own_counts() -> None:
    classes = ("spam!", "spam?", "other", "ham")
    predictions = [{"label": label} for label in ["spam!", "spam!", "spam?", "other"]]
    document = assert_valid_emf(
        emf_line(
            classes=classes,
            predictions=predictions,
            latency_ms=1.0,
            vocabulary_coverage=None,
            service="s",
        )
    )
    counts = {k: v for k, v in document.items() if k.startswith("Predicted_")}
    assert len(counts) == 4  # four labels, four names
    assert sorted(counts.values()) == [0, 1, 1, 2]
    assert counts["Predicted_ham"] == 0


def test_one_message_lines_agree_with_the_batch_counting() -> None:
    _, model = fitted("multinomial_nb")
    texts = ["free prize now", "see you at lunch", "win cash prize", "call me later"]
    for text in texts * 2:  # the second round reads the kept counts
        [prediction] = model.classify([text])
        single = assert_valid_emf(
            emf_line(
                classes=model.classes,
                predictions=[prediction],
                latency_ms=1.0,
                vocabulary_coverage=(1, 2),
                service="s",
            )
        )
        doubled = assert_valid_emf(
            emf_line(
                classes=model.classes,
                predictions=[prediction, prediction],
                latency_ms=1.0,
                vocabulary_coverage=(1, 2),
                service="s",
            )
        )
        counts = {k: v for k, v in single.items() if k.startswith(("Predicted_", "ScoreBucket_"))}
        assert {k: 2 * v for k, v in counts.items()} == {
            k: v for k, v in doubled.items() if k.startswith(("Predicted_", "ScoreBucket_"))
        }
        assert sum(v for k, v in counts.items() if k.startswith("Predicted_")) == 1


# --- Powertools' conventions, the ColdStart metric, and turning the lines off -------------


def adapter_lines(capsys, environ: dict[str, str], requests: int = 2, **replace) -> list[dict]:
    from runtime.adapter import LambdaAdapter
    from runtime.api import Api
    from runtime.config import Settings
    from runtime.model_source import ModelHolder
    from tests.fakes import FakeModel

    settings = Settings.from_env(environ)._replace(**replace)
    api = Api(settings, ModelHolder(lambda: FakeModel(), settings.source))
    adapter = LambdaAdapter(api)
    capsys.readouterr()
    for _ in range(requests):
        adapter({"body": "free prize"}, None)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_powertools_service_and_namespace_name_the_metrics(capsys) -> None:
    environ = {
        "AWS_LAMBDA_FUNCTION_NAME": "sms-spam-lambda-Function-X",
        "POWERTOOLS_SERVICE_NAME": "spam-filter",
        "POWERTOOLS_METRICS_NAMESPACE": "Acme/Spam",
    }
    lines = adapter_lines(capsys, environ)
    emf = [line for line in lines if "_aws" in line]
    assert len(emf) == 3  # ColdStart once, then one line per request
    for line in emf:
        assert_valid_emf(json.dumps(line))
        assert line["Service"] == "spam-filter"
        assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Acme/Spam"


def test_without_powertools_variables_the_function_name_and_default_namespace(capsys) -> None:
    lines = adapter_lines(capsys, {"AWS_LAMBDA_FUNCTION_NAME": "fn"})
    emf = [line for line in lines if "_aws" in line]
    assert {line["Service"] for line in emf} == {"fn"}
    assert {line["_aws"]["CloudWatchMetrics"][0]["Namespace"] for line in emf} == {
        "SmsSpamClassifier"
    }


def test_the_cold_start_metric_is_written_once_per_container(capsys) -> None:
    lines = adapter_lines(capsys, {}, requests=3)
    cold = [line for line in lines if "ColdStart" in line]
    assert len(cold) == 1
    assert lines[0] is cold[0]  # before the first request's own lines
    assert cold[0]["ColdStart"] == 1
    [directive] = cold[0]["_aws"]["CloudWatchMetrics"]
    assert directive["Metrics"] == [{"Name": "ColdStart", "Unit": "Count"}]


def test_with_metrics_off_only_the_request_lines_are_written(capsys) -> None:
    """What the local server prints by default: a short line per request, no EMF."""
    lines = adapter_lines(capsys, {}, requests=2, emit_metrics=False)
    assert [line["msg"] for line in lines] == ["model_loaded", "request", "request"]
    assert all(len(json.dumps(line)) < 400 for line in lines)
