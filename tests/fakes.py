"""Stand-ins for routing tests: a deterministic model, and apps built around it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from runtime.adapter import LambdaAdapter, create_adapter
from runtime.config import ModelSource, Settings
from runtime.errors import ModelUnavailable
from runtime.model_source import ModelHolder

FAKE_SOURCE = ModelSource("path", "/fake/model.npz")


class FakeModel:
    """Says "spam" exactly when the text contains "prize" (any case)."""

    model_id = "f" * 64
    classes = ("ham", "spam")
    metadata: dict[str, Any] = {"format": "fake", "format_version": 1}  # noqa: RUF012
    family_name = "fake"
    threshold = None

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def classify(
        self, texts: Sequence[str], *, coverage: list[int] | None = None
    ) -> list[dict[str, Any]]:
        """One JSON-ready prediction per text, as the model contract says."""
        self.seen.append(list(texts))
        if coverage is not None:
            known, total = self.vocabulary_coverage(texts)
            coverage[0] += known
            coverage[1] += total
        return [
            {"label": "spam", "probabilities": {"ham": 0.1, "spam": 0.9}}
            if "prize" in text.lower()
            else {"label": "ham", "probabilities": {"ham": 0.8, "spam": 0.2}}
            for text in texts
        ]

    def vocabulary_coverage(self, texts: Sequence[str]) -> tuple[int, int]:
        """Every word is "known" except those containing a digit."""
        words = [word for text in texts for word in text.split()]
        return sum(not any(c.isdigit() for c in word) for word in words), len(words)

    def explain(self, texts: Sequence[str], *, top: int) -> list[dict[str, Any]]:
        """The word "prize" carries the whole decision."""
        return [
            {
                "label": "spam" if "prize" in text.lower() else "ham",
                "decision": 1.0 if "prize" in text.lower() else -1.0,
                "baseline": -1.0,
                "terms": [{"terms": ["prize"], "contribution": 2.0}][:top]
                if "prize" in text.lower()
                else [],
            }
            for text in texts
        ]


class ExplodingModel(FakeModel):
    """A model with a bug: the handler must turn it into a bland 500."""

    def classify(self, texts: Sequence[str], **_: Any) -> list[dict[str, Any]]:
        raise RuntimeError("secret internals " + "".join(texts))


def fake_app(
    model: Any = None, *, settings: Settings | None = None, **overrides: Any
) -> tuple[LambdaAdapter, Any]:
    model = FakeModel() if model is None else model
    settings = (settings or Settings(source=FAKE_SOURCE))._replace(**overrides)
    return create_adapter(settings, ModelHolder(lambda: model, settings.source)), model


def unavailable_app(
    message: str = "cannot read s3://bucket/model.npz: NoSuchKey", **overrides: Any
) -> LambdaAdapter:
    def fail() -> Any:
        raise ModelUnavailable(message)

    settings = Settings(source=FAKE_SOURCE)._replace(**overrides)
    return create_adapter(settings, ModelHolder(fail, settings.source))


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def counting(loader: Callable[[], Any]) -> tuple[Callable[[], Any], list[int]]:
    calls: list[int] = []

    def wrapped() -> Any:
        calls.append(1)
        return loader()

    return wrapped, calls
