"""Learning equals scikit-learn's partial_fit, on both runtime paths, for any reports."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.learning.relearn import LearnableModel
from tests.corpus import UNICODE_WORDS
from tests.learning import PIPELINES, fitted, report, sklearn_learned
from tests.texts import TRICKY, any_texts, vocabulary_words

# Words the export never saw: hashing features learn them, vocabularies cannot.
NEW_WORDS = ["parcel", "redelivery", "toll", "airdrop", "bit.ly/x9", "mum", "wallet", "£1.99"]
report_texts = st.one_of(
    any_texts,
    st.lists(
        st.one_of(vocabulary_words, st.sampled_from(NEW_WORDS + UNICODE_WORDS)), max_size=25
    ).map(" ".join),
).filter(str.strip)  # POST /feedback refuses a blank text
reports = st.lists(
    st.builds(
        report,
        report_texts,
        st.sampled_from(["ham", "spam"]),
        st.sampled_from(["alice", "bob"]),
    ),
    max_size=30,
)
PROBES = [*TRICKY, "parcel redelivery fee bit.ly/x9 toll", "hi mum new number wallet airdrop"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PIPELINES))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(learned_reports=reports)
def test_learning_equals_partial_fit(name: str, learned_reports: list) -> None:
    pipeline, data = fitted(name)
    learned = LearnableModel(data).relearn(learned_reports)
    want_model = sklearn_learned(pipeline, learned_reports)
    features = want_model[:-1].transform(PROBES)
    want_scores = want_model[-1].predict_joint_log_proba(features)
    want_labels = want_model[-1].predict(features).tolist()
    for vectorise in (False, True):
        assert learned.model.predict(PROBES, vectorise=vectorise) == want_labels
        got = learned.model.predict_joint_log_proba(PROBES, vectorise=vectorise)
        # The family's parity standard (exporter/pipeline.py: check_parity): bit for bit.
        assert np.array_equal(got, want_scores)
