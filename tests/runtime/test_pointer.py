"""The model pointer's format: round trip, refusals that name the problem, history."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime import pointer
from runtime.pointer import ModelRef, Pointer, PointerError


def ref(n: int) -> ModelRef:
    return ModelRef(f"s3://models-bucket/models/{n:064x}.npz", f"{n:064x}")


@given(st.integers(0, 1000), st.lists(st.integers(0, 1000), max_size=pointer.MAX_PREVIOUS))
def test_render_and_parse_round_trip(current: int, previous: list[int]) -> None:
    value = Pointer(ref(current), tuple(ref(n) for n in previous))
    assert pointer.parse(pointer.render(value)) == value


def test_the_rendered_document_has_the_documented_fields() -> None:
    document = json.loads(pointer.render(Pointer(ref(2), (ref(1),))))
    assert document == {
        "schema": 1,
        "model_uri": ref(2).model_uri,
        "sha256": ref(2).sha256,
        "previous": [{"model_uri": ref(1).model_uri, "sha256": ref(1).sha256}],
    }


def test_promotion_keeps_at_most_ten_previous_models_newest_first() -> None:
    value = None
    for n in range(15):
        value = pointer.promoted(value, ref(n))
    assert value is not None
    assert value.current == ref(14)
    assert value.previous == tuple(ref(n) for n in range(13, 3, -1))
    assert pointer.promoted(value, ref(14)) == value  # promoting the current model: no change


def test_rollback_pops_the_previous_model_and_refuses_when_there_is_none() -> None:
    value = Pointer(ref(3), (ref(2), ref(1)))
    assert pointer.rolled_back(value) == Pointer(ref(2), (ref(1),))
    with pytest.raises(PointerError, match="no previous model"):
        pointer.rolled_back(Pointer(ref(1)))


def good() -> dict[str, object]:
    return json.loads(pointer.render(Pointer(ref(2), (ref(1),))))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(schema=2), "schema 2 is not 1"),
        (lambda d: d.pop("previous"), "has the fields"),
        (lambda d: d.update(sha256="XY" * 32), "sha256 must be 64 lowercase"),
        (lambda d: d.update(model_uri="https://example.com/m.npz"), "expected s3://bucket/key"),
        (lambda d: d.update(model_uri="s3://B/m.npz"), "not a valid S3 bucket name"),
        (lambda d: d.update(previous={}), "previous must be a list"),
        (lambda d: d.update(previous=[good()["previous"][0]] * 11), "at most 10"),
        (lambda d: d.update(previous=[{"model_uri": "s3://models-bucket/a"}]), r"previous\[0\]"),
    ],
)
def test_parse_refuses_a_broken_pointer_naming_the_problem(change, reason) -> None:
    document = good()
    change(document)
    with pytest.raises(PointerError, match=reason):
        pointer.parse(json.dumps(document).encode())


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"nope", "JSON document"), (b"[]", "JSON object, not list"), (b" " * 70_000, "at most")],
)
def test_parse_refuses_what_is_not_a_pointer(data: bytes, reason: str) -> None:
    with pytest.raises(PointerError, match=reason):
        pointer.parse(data)
