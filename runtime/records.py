"""``NamedTuple`` without importing ``typing``, whose import is ~4 ms of every cold start.

Type checkers see ``typing.NamedTuple`` itself. At run time a ``class X(NamedTuple):``
statement builds what ``typing.NamedTuple`` builds: a ``collections.namedtuple`` with the
annotated fields in order and the class attributes after them as defaults, then the rest
of the body (methods, properties, docstring) set on it. The class is a plain tuple
subclass with ``__slots__ = ()``; ``_replace``, ``_fields`` and ``_asdict`` are
namedtuple's own. Annotations stay the strings ``from __future__ import annotations``
makes them.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    from collections import namedtuple

    # What namedtuple defines itself, refused in a body as typing.NamedTuple refuses it.
    _PROHIBITED = frozenset(
        {
            "__new__",
            "__init__",
            "__slots__",
            "__getnewargs__",
            "_fields",
            "_field_defaults",
            "_make",
            "_replace",
            "_asdict",
            "_source",
        }
    )
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _NamedTupleMeta(type):
        def __new__(mcls, typename, bases, namespace):
            if not bases:  # NamedTuple itself
                return super().__new__(mcls, typename, bases, namespace)
            if bases != (NamedTuple,):
                raise TypeError("a NamedTuple class can only inherit from NamedTuple")
            annotations = namespace.get("__annotations__")
            if annotations is None:  # no fields, or 3.14+ lazy annotations: not supported
                raise TypeError(
                    f"{typename} has no __annotations__: declare its fields, and from Python "
                    "3.14 on use `from __future__ import annotations` in its module"
                )
            fields = list(annotations)
            defaults = []
            for name in fields:
                if name in namespace:
                    defaults.append(namespace[name])
                elif defaults:
                    raise TypeError(
                        f"Non-default namedtuple field {name} cannot follow default fields"
                    )
            cls = namedtuple(typename, fields, defaults=defaults, module=namespace["__module__"])
            cls.__annotations__ = dict(annotations)
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
                if key in _SPECIAL or key in cls._fields:
                    continue
                setattr(cls, key, value)
                set_name = getattr(type(value), "__set_name__", None)
                if set_name is not None:
                    set_name(value, cls, key)
            return cls

    class NamedTuple(metaclass=_NamedTupleMeta):
        """Base class of typed named tuples; subclasses are ``collections.namedtuple``s."""

        __slots__ = ()
