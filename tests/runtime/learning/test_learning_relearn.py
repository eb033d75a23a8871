"""Learning is a function of the set of reports: forgetting and relearning are exact."""

from __future__ import annotations

import pytest

from runtime.learning.relearn import LearnableModel
from runtime.model import Model
from runtime.modelfile import LEARNING, ModelError, read_learning, read_model_file
from tests.learning import fitted, report

REPORTS = [
    report("parcel held: pay the redelivery fee at bit.ly/x9", "spam", "alice"),
    report("hi mum this is my new number, send money", "spam", "bob"),
    report("toll balance overdue, pay now", "spam", "carol"),
    report("see you at the parcel office tomorrow", "ham", "dave"),
    report("claim your airdrop wallet tokens today", "spam", "erin"),
]


@pytest.fixture(scope="module")
def base() -> LearnableModel:
    return LearnableModel(fitted("multinomial_hashing").data)


def test_learning_nothing_gives_the_export_back(base: LearnableModel) -> None:
    assert base.relearn([]).data == fitted("multinomial_hashing").data


def test_forget_is_byte_identical_to_never_learning(base: LearnableModel) -> None:
    learned = LearnableModel(base.relearn(REPORTS).data)
    forgotten = {REPORTS[1].report_id, REPORTS[3].report_id}
    kept = [r for r in REPORTS if r.report_id not in forgotten]
    assert learned.relearn(kept).data == base.relearn(kept).data
    assert learned.relearn([]).data == fitted("multinomial_hashing").data


def test_order_and_repeats_do_not_matter(base: LearnableModel) -> None:
    once = base.relearn(REPORTS).data
    assert base.relearn(REPORTS[::-1]).data == once
    assert base.relearn(REPORTS + REPORTS[:2]).data == once
    # Relearning from the learned file itself changes nothing either.
    assert LearnableModel(once).relearn(REPORTS).data == once


def test_learned_file_records_its_reports_and_serves(base: LearnableModel) -> None:
    learned = base.relearn(REPORTS)
    file = read_model_file(learned.data)
    model = Model(file, learned.sha256)
    section = read_learning(file, model.classes, model.featurizer.n_features)
    assert section.reports == tuple(sorted(r.report_id for r in REPORTS))
    assert section.learned is not None
    assert section.learned["base_sha256"] == base.sha256
    assert section.learned["class_count"] == {"ham": 1.0, "spam": 4.0}
    assert learned.sha256 != base.sha256


def test_a_report_with_an_unknown_label_is_refused(base: LearnableModel) -> None:
    with pytest.raises(ValueError, match="not one of the model's classes"):
        base.relearn([report("hello", "phishing")])


def test_a_non_learnable_file_says_so() -> None:
    from tests.corpus import tutorial_model_bytes

    with pytest.raises(ModelError, match="not a learnable model file"):
        LearnableModel(tutorial_model_bytes())


def test_tampered_learning_settings_are_refused(base: LearnableModel) -> None:
    from runtime.modelfile import render_model_file

    file = read_model_file(fitted("multinomial_hashing").data)
    metadata = dict(file.metadata)
    metadata[LEARNING] = {**metadata[LEARNING], "alpha": -1}
    data = render_model_file(metadata, file.raw_arrays())
    with pytest.raises(ModelError, match="alpha must be a non-negative number"):
        LearnableModel(data)


@pytest.mark.parametrize(
    ("positions", "counts", "problem"),
    [
        ([3.0, 2.0], [1.0, 1.0], "ascending whole positions"),
        ([0.5], [1.0], "ascending whole positions"),
        ([1e12], [1.0], "ascending whole positions"),
        ([1.0], [0.0], "stored only when nonzero"),
        ([1.0], [-2.0], "stored only when nonzero"),
    ],
)
def test_tampered_counts_are_refused(positions: list, counts: list, problem: str) -> None:
    import struct

    from runtime.modelfile import LEARNING_FEATURE_COUNT, LEARNING_FEATURE_INDEX, render_model_file

    file = read_model_file(fitted("multinomial_hashing").data)
    arrays = file.raw_arrays()
    for name, values in ((LEARNING_FEATURE_INDEX, positions), (LEARNING_FEATURE_COUNT, counts)):
        arrays[name] = ("<f8", (len(values),), struct.pack(f"<{len(values)}d", *values))
    data = render_model_file(dict(file.metadata), arrays)
    with pytest.raises(ModelError, match=problem):
        LearnableModel(data)
