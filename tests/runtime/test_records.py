"""runtime.records.NamedTuple builds at run time what typing.NamedTuple builds.

The runtime's records use it so that a cold start never imports typing; each check runs
on one class made both ways, so any difference between the two shows up here.
"""

from __future__ import annotations

import copy
import pickle
import typing

import pytest

from runtime import records


class Typed(typing.NamedTuple):
    """A docstring of its own."""

    name: str
    size: int = 3
    tags: tuple[str, ...] = ()

    @property
    def double(self) -> int:
        return 2 * self.size

    def label(self) -> str:
        return f"{self.name}:{self.size}"

    @classmethod
    def parse(cls, text: str) -> Typed:
        name, size = text.split(":")
        return cls(name, int(size))


class Record(records.NamedTuple):
    """A docstring of its own."""

    name: str
    size: int = 3
    tags: tuple[str, ...] = ()

    @property
    def double(self) -> int:
        return 2 * self.size

    def label(self) -> str:
        return f"{self.name}:{self.size}"

    @classmethod
    def parse(cls, text: str) -> Record:
        name, size = text.split(":")
        return cls(name, int(size))


class Bare(records.NamedTuple):
    first: int
    second: float


BOTH = pytest.mark.parametrize("kind", [Typed, Record], ids=["typing", "records"])


def test_the_runtime_class_is_not_typings() -> None:
    assert records.NamedTuple is not typing.NamedTuple  # else the rest proves nothing


@BOTH
def test_fields_defaults_and_tuple_behaviour(kind: type[Typed]) -> None:
    value = kind("a")
    assert isinstance(value, tuple)
    assert kind.__bases__ == (tuple,)
    assert kind._fields == ("name", "size", "tags")
    assert kind._field_defaults == {"size": 3, "tags": ()}
    assert value == ("a", 3, ()) == kind(name="a", size=3, tags=())
    assert hash(value) == hash(("a", 3, ()))
    assert value != kind("a", 4)
    assert len(value) == 3
    assert value[0] == value.name == "a"
    assert tuple(value) == ("a", 3, ())
    assert kind(*"xyz")[2] == "z"


@BOTH
def test_methods_properties_and_helpers(kind: type[Typed]) -> None:
    value = kind("a", 4)
    assert value.double == 8
    assert value.label() == "a:4"
    assert kind.parse("b:5") == kind("b", 5)
    assert type(kind.parse("b:5")) is kind
    assert value._replace(size=6) == kind("a", 6)
    assert type(value._replace(size=6)) is kind
    assert value._asdict() == {"name": "a", "size": 4, "tags": ()}
    assert kind._make(["c", 1, ("t",)]) == kind("c", 1, ("t",))
    assert repr(value) == f"{kind.__name__}(name='a', size=4, tags=())"
    assert copy.copy(value) == value
    assert copy.deepcopy(value) == value


@BOTH
def test_names_docs_and_slots(kind: type[Typed]) -> None:
    assert kind.__doc__ == "A docstring of its own."
    assert kind.__module__ == __name__
    assert kind.__qualname__ == kind.__name__
    assert kind.__slots__ == ()
    with pytest.raises(AttributeError):
        kind("a").extra = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        kind("a").name = "b"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(kind("a", 2))) == kind("a", 2)


def test_a_class_without_a_docstring_or_defaults() -> None:
    assert Bare(1, 2.0) == (1, 2.0)
    assert Bare._field_defaults == {}
    assert Bare.__doc__ == typing.NamedTuple("Bare", [("first", int), ("second", float)]).__doc__
    with pytest.raises(TypeError):
        Bare(1)  # type: ignore[call-arg]


def test_refusals_match_typing() -> None:
    with pytest.raises(TypeError, match="Non-default namedtuple field"):

        class Misordered(records.NamedTuple):
            first: int = 1
            second: int  # type: ignore[misc]

    with pytest.raises(AttributeError, match="Cannot overwrite NamedTuple attribute"):

        class Overwrites(records.NamedTuple):
            first: int

            def _replace(self) -> None:  # type: ignore[override]
                pass

    with pytest.raises(TypeError, match="has no __annotations__"):

        class Empty(records.NamedTuple):
            pass

    with pytest.raises(TypeError, match="only inherit from NamedTuple"):

        class Mixed(records.NamedTuple, Exception):  # type: ignore[misc]
            first: int


@BOTH
def test_super_is_refused_as_typing_refuses_it(kind: type[Typed]) -> None:
    """The class a body defines is replaced by the namedtuple: ``super()`` has no class."""
    base: typing.Any = typing.NamedTuple if kind is Typed else records.NamedTuple
    with pytest.raises(RuntimeError, match="__class__ not set"):

        class Greeting(base):  # type: ignore[misc,valid-type]
            text: str

            def __repr__(self) -> str:
                return "!" + super().__repr__()
