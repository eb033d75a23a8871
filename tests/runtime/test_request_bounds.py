"""Issue 20: a request's cost is bounded before (and while) the answer is built.

The answer's floor (runtime/cost.py) refuses a request whose smallest possible answer
is past Lambda's limit before any text is scored; a batch that passes the floor is
encoded slice by slice and stops at the limit; an explanation computes the two compared
outputs only and lists at most ``MAX_TERMS_PER_COLUMN`` terms per hashed column.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline

from exporter import export_pipeline
from runtime import api
from runtime.config import RESPONSE_MAX_BYTES
from runtime.cost import answer_floor, wire_bytes
from runtime.explain import MAX_TERMS_PER_COLUMN
from runtime.murmur import hashed_column
from tests import events
from tests.corpus import SPAM_EXAMPLE, make_corpus
from tests.fakes import FakeModel, fake_app
from tests.families import fitted

JSON = {"Content-Type": "application/json"}


def post(app: Any, payload: Any) -> tuple[int, dict[str, Any], str]:
    result = app(events.rest_v1(body=events.json_body(payload), headers=JSON))
    return result["statusCode"], json.loads(result["body"]), result["body"]


class ManyClasses(FakeModel):
    """A 1,000-class stand-in that records every text it is asked to score."""

    classes = tuple(f"class{k:04d}" for k in range(1000))

    def classify(
        self, texts: Sequence[str], *, coverage: list[int] | None = None
    ) -> list[dict[str, Any]]:
        self.seen.append(list(texts))
        share = 1 / 3  # a long number (not a distribution: only sizes matter here)
        return [
            {"label": self.classes[0], "probabilities": dict.fromkeys(self.classes, share)}
            for _ in texts
        ]


def test_an_answer_that_cannot_fit_is_refused_before_any_text_is_scored() -> None:
    app, model = fake_app(ManyClasses(), max_batch_size=5000)
    status, body, _ = post(app, {"texts": ["hi"] * 1000})
    assert status == 413
    assert body["error"]["code"] == "response_too_large"
    message = body["error"]["message"]
    assert "1000 texts x 1000 classes" in message
    assert str(RESPONSE_MAX_BYTES) in message  # names the limit
    assert model.seen == []  # refused before the work


def test_the_same_model_answers_a_batch_that_fits() -> None:
    app, _model = fake_app(ManyClasses())
    status, body, _ = post(app, {"texts": ["hi"] * 10})
    assert status == 200
    assert len(body["predictions"]) == 10


def test_a_batch_past_the_limit_stops_at_the_slice_that_passes_it(monkeypatch) -> None:
    """The floor (3 bytes a number) passes; the real numbers (~20 bytes) do not."""
    app, model = fake_app(ManyClasses(), max_batch_size=5000)
    monkeypatch.setattr(api, "ANSWER_CELLS", 10_000)  # 10 texts of 1,000 classes a slice
    floor = answer_floor(model.classes, "probabilities", 300, None)
    assert floor < RESPONSE_MAX_BYTES  # the floor lets it through
    status, body, _ = post(app, {"texts": ["hi"] * 300})
    assert status == 413, body
    assert "grew past the limit" in body["error"]["message"]
    scored = sum(map(len, model.seen))
    assert scored < 300  # stopped early: not every text was scored
    assert all(len(chunk) <= 10 for chunk in model.seen)


def test_explained_texts_stop_at_the_limit(small_model_path, monkeypatch) -> None:
    from runtime.adapter import create_adapter
    from runtime.config import ModelSource, Settings
    from runtime.model import Model

    explained: list[int] = []
    original = Model.classify_explained

    def counting(self: Model, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for pair in original(self, *args, **kwargs):
            explained.append(1)
            yield pair

    monkeypatch.setattr(Model, "classify_explained", counting)
    app = create_adapter(Settings(source=ModelSource("path", str(small_model_path))))
    model = Model.from_path(small_model_path)
    # Past the floor of 200 explanations, short of 200 explanations of ~10 terms each.
    floor = answer_floor(model.classes, model.answer_member, 200, model.family.explained)
    monkeypatch.setattr(api, "RESPONSE_MAX_BYTES", floor + 20_000)
    texts = [f"{SPAM_EXAMPLE} {i}" for i in range(200)]
    status, body, _ = post(app, {"texts": texts, "explain": True, "top": 50})
    assert status == 413, body
    assert "grew past the limit" in body["error"]["message"]
    assert 0 < len(explained) < 200


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.text(max_size=60), min_size=1, max_size=12),
    batch=st.booleans(),
    top=st.one_of(st.none(), st.integers(1, 50)),
)
def test_the_floor_is_never_more_than_the_answer(
    small_model_path, texts: list[str], batch: bool, top: int | None
) -> None:
    """A refusal by the floor is never wrong: every real answer is at least that large."""
    from runtime.adapter import create_adapter
    from runtime.config import ModelSource, Settings

    app = _APPS.get(str(small_model_path))
    if app is None:
        app = create_adapter(Settings(source=ModelSource("path", str(small_model_path))))
        _APPS[str(small_model_path)] = app
    document: dict[str, Any] = {"texts": texts} if batch else {"text": texts[0]}
    if top is not None:
        document.update(explain=True, top=top)
    status, _, raw = post(app, document)
    assert status == 200
    model = app.api.holder.model
    floor = answer_floor(
        model.classes,
        model.answer_member,
        len(texts) if batch else 1,
        model.family.explained if top else None,
    )
    assert floor <= wire_bytes(raw)


_APPS: dict[str, Any] = {}


@pytest.mark.parametrize("name", ["multinomial_nb", "gaussian_nb", "linear_svc", "ridge"])
def test_contributions_are_computed_for_the_outputs_asked_only(name: str) -> None:
    _, model = fitted(name, "three_classes")
    columns, values = model.transform_one(SPAM_EXAMPLE)
    family = model.family
    n_outputs = len(family.scores(columns, values))
    everything = family.contributions(columns, values, list(range(n_outputs)))
    pair = family.contributions(columns, values, [2, 0])
    assert pair.base == [everything.base[2], everything.base[0]]
    full = list(everything.per_term)
    assert list(pair.per_term) == [[s[2], s[0]] for s in full]


@pytest.fixture(scope="module")
def tiny_hashing_model() -> Any:
    """16 hashed columns: a message of many distinct words puts dozens in each."""
    texts, labels = make_corpus()
    pipeline = make_pipeline(
        HashingVectorizer(n_features=16, alternate_sign=False), SGDClassifier(random_state=0)
    ).fit(texts, labels)
    return export_pipeline(pipeline, texts=texts[:20]).model


def test_a_hashed_column_lists_at_most_the_cap_of_the_message_s_terms(tiny_hashing_model) -> None:
    rng = random.Random(1)
    words = sorted({"".join(rng.choices("abcdefghij", k=6)) for _ in range(600)})
    text = " ".join(words)
    [explanation] = tiny_hashing_model.explain([text], top=16)
    assert explanation["terms"]
    for term in explanation["terms"]:
        listed = term["terms"]
        assert 1 <= len(listed) <= MAX_TERMS_PER_COLUMN
        assert listed == sorted(set(listed))
        column = {hashed_column(word, 16)[0] for word in listed}
        assert len(column) == 1  # all hash to the same column
        assert set(listed) <= set(words)


@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize("explain", [False, True])
def test_the_limit_is_exact(small_model_path, monkeypatch, batch: bool, explain: bool) -> None:
    """An answer of exactly the limit is sent; one byte more is a 413."""
    from runtime.adapter import create_adapter
    from runtime.config import ModelSource, Settings

    app = create_adapter(Settings(source=ModelSource("path", str(small_model_path))))
    texts = [SPAM_EXAMPLE, "see you at lunch", "free prize"]
    document: dict[str, Any] = {"texts": texts} if batch else {"text": texts[0]}
    if explain:
        document["explain"] = True
    status, _, raw = post(app, document)
    assert status == 200
    size = wire_bytes(raw)
    monkeypatch.setattr(api, "RESPONSE_MAX_BYTES", size)
    assert post(app, document)[0] == 200
    monkeypatch.setattr(api, "RESPONSE_MAX_BYTES", size - 1)
    status, body, _ = post(app, document)
    assert status == 413, body
