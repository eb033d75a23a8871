"""Issue 8.6: a request's peak memory is bounded, at the default limits and at the maxima.

Each measurement runs ``tests/request_probe.py`` in a fresh interpreter: cold start
through ``runtime.handler``, then one REST 1.0 event through ``lambda_handler``, with the
peak resident set (VmHWM) reset once the event is built. Two models: the tutorial's,
and the ``calibrated_svc`` recipe, whose char_wb 2-5 n-grams are the worst case for
memory (both fitted on the synthetic corpus: the n-grams a request makes do not depend
on the training data). The issue measured the old code at 67 MiB for the largest default
request and 248 MiB at the maxima, and a 500 under a 128 MiB address-space limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter import export_pipeline
from exporter.train import RECIPES
from tests.corpus import make_corpus
from tests.request_probe import SCENARIOS, measure

MiB = 1 << 20
# What a request may add to the process's peak, over what it held before the request
# (cold start and the event). Measured (README's table): at most +18 MiB at the default
# limits and +54 MiB at the maxima, most of it 50,000 predictions as Python objects.
REQUEST_BOUNDS = {
    "one message": 4 * MiB,
    "largest default request": 32 * MiB,
    "largest default message": 32 * MiB,
    "maxima: 50,000 texts in 6 MB": 96 * MiB,
    "maxima: one 6 MB message": 32 * MiB,
}
# A recipe that normalises (every one but the tutorial) folds a long message whole before
# cutting it into pieces: a few copies of 6 MB of text. Measured +82 MiB for calibrated_svc
# (docs/limits.md); folding piece by piece would bring it back under 32 MiB.
FOLDED_BOUNDS = {"maxima: one 6 MB message": 96 * MiB}
ADDRESS_SPACE_MIB = 128  # on top of the cold start's mapped interpreter, NumPy and model


@pytest.fixture(scope="module")
def models(small_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    texts, labels = make_corpus()
    calibrated = RECIPES["calibrated_svc"].build({}).fit(texts, labels)
    path = tmp_path_factory.mktemp("models") / "calibrated_svc.npz"
    export_pipeline(calibrated, path, texts=texts)
    return {"tutorial": str(small_model_path), "calibrated_svc": str(path)}


CASES = [
    (model, scenario)
    for model in ("tutorial", "calibrated_svc")
    for scenario in REQUEST_BOUNDS
    # 50,000 texts cost memory per prediction, whatever the model: the tutorial shows it,
    # and calibrated_svc's char_wb n-grams there take ~20 s of this test's time for nothing.
    if (model, scenario) != ("calibrated_svc", "maxima: 50,000 texts in 6 MB")
]


@pytest.mark.slow
@pytest.mark.parametrize(("model", "scenario"), CASES)
def test_request_peak_is_bounded(models: dict[str, str], model: str, scenario: str) -> None:
    result = measure(models[model], scenario)
    assert result["status"] == 200, result
    expected = SCENARIOS[scenario].texts or 1
    assert result["answers"] == expected
    assert result["peak_reset"], "the kernel cannot reset VmHWM: the peak would be stale"
    bound = REQUEST_BOUNDS[scenario] if model == "tutorial" else FOLDED_BOUNDS.get(scenario)
    assert result["peak"] - result["before_request"] < (bound or REQUEST_BOUNDS[scenario]), result


@pytest.mark.slow
@pytest.mark.parametrize("model", ["tutorial", "calibrated_svc"])
def test_largest_default_request_answers_200_in_128_mib_more_address_space(
    models: dict[str, str], model: str
) -> None:
    result = measure(models[model], "largest default request", address_space_mib=ADDRESS_SPACE_MIB)
    assert result["status"] == 200, result
    assert result["answers"] == 1000


@pytest.mark.slow
def test_the_address_space_limit_bites(models: dict[str, str]) -> None:
    """The harness can fail: with 4 MiB to spare the same request runs out of memory."""
    result = measure(models["calibrated_svc"], "largest default request", address_space_mib=4)
    assert result["status"] != 200, result


# Issue 20: explanations and many classes, on the models of tests/bounded_models.py.
EXPLAIN_PEAK_FACTOR = 1.5  # explained peak / the same request's peak without explain
EXPLAIN_PEAK_ALLOWANCE = 100 * MiB  # ... or at most this much, whichever is larger
MANY_CLASSES_BOUND = 40 * MiB


@pytest.fixture(scope="module")
def bounded_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from tests.bounded_models import write_sgd_hashing_model, write_thousand_class_model

    folder = tmp_path_factory.mktemp("bounded")
    return {
        "sgd_hashing": str(write_sgd_hashing_model(folder / "sgd_hashing.npz")),
        "thousand_classes": str(write_thousand_class_model(folder / "thousand.npz")),
    }


@pytest.mark.slow
def test_explaining_a_mebibyte_of_distinct_words_costs_about_what_classifying_it_does(
    bounded_models: dict[str, str],
) -> None:
    plain = measure(bounded_models["sgd_hashing"], "1 MiB of distinct words")
    explained = measure(bounded_models["sgd_hashing"], "1 MiB of distinct words, explained")
    assert plain["status"] == explained["status"] == 200, (plain, explained)
    bound = max(EXPLAIN_PEAK_FACTOR * plain["peak"], EXPLAIN_PEAK_ALLOWANCE)
    assert explained["peak"] <= bound, (plain, explained)


@pytest.mark.slow
def test_fifty_thousand_explained_texts_at_the_maxima_are_refused_before_they_are_built(
    bounded_models: dict[str, str],
) -> None:
    result = measure(
        bounded_models["sgd_hashing"], "maxima: 50,000 texts in 6 MB, explained top 50"
    )
    assert result["status"] == 413, result
    assert "response_too_large" in result["error"]
    assert (
        result["peak"] - result["before_request"] < REQUEST_BOUNDS["maxima: 50,000 texts in 6 MB"]
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "scenario", ["one 18 KB message of its terms, explained", "1,000 tiny texts of its terms"]
)
def test_a_thousand_class_model_answers_within_its_bound(
    bounded_models: dict[str, str], scenario: str
) -> None:
    result = measure(bounded_models["thousand_classes"], scenario)
    assert result["status"] in (200, 413), result
    assert result["peak"] - result["before_request"] <= MANY_CLASSES_BOUND, result


@pytest.mark.slow
def test_an_explained_mebibyte_answers_200_in_128_mib_more_address_space(
    bounded_models: dict[str, str],
) -> None:
    """Issue 20: the same request once answered 500 (MemoryError) under this limit."""
    result = measure(
        bounded_models["sgd_hashing"],
        "1 MiB of distinct words, explained",
        address_space_mib=ADDRESS_SPACE_MIB,
    )
    assert result["status"] == 200, result
