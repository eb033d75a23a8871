"""The runtime's memos: what clients send cannot grow them without limit."""

from __future__ import annotations

from tests.families import fitted


def test_the_gaussian_nb_memo_stays_bounded_whatever_the_message(monkeypatch) -> None:
    """One message with more columns than the memo holds must not grow it past its bound."""
    _, model = fitted("gaussian_nb")
    family = model.family
    for memo in family._terms:  # 6 entries in all, as _MAX_TERMS_KEPT bounds the real ones
        monkeypatch.setattr(memo, "limit", 6 // len(family._terms))
    n = model.featurizer.n_features
    assert n * model.family.n_classes > 6  # the whole vocabulary would not fit
    memo_size = lambda: sum(map(len, family._terms))  # noqa: E731
    reference = family.scores(*model.transform_one("free prize"))
    everything = family.scores(list(range(n)), [0.1] * n)
    assert memo_size() <= 6
    for _ in range(3):  # filling, clearing and refilling give the same scores
        assert family.scores(*model.transform_one("free prize")) == reference
        assert family.scores(list(range(n)), [0.1] * n) == everything
        assert memo_size() <= 6


def test_the_hashing_memo_keeps_no_long_terms(monkeypatch) -> None:
    """A 1 MB "word" is hashed as scikit-learn hashes it but not kept, however often sent."""
    from runtime import features

    _, model = fitted("sgd_hashing")
    block = model.featurizer.blocks[0]
    monkeypatch.setattr(block._hashes, "limit", 5)
    long_word = "x" * 100_000
    expected = model.transform_one(long_word)
    for i in range(20):
        assert model.transform_one(long_word) == expected
        model.transform_one(f"w{i} v{i} u{i}")
        assert len(block._hashes) <= 5
        assert all(len(term) <= features._HASH_KEPT_CHARS for term in block._hashes)
