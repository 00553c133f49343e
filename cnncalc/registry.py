"""One function per class, found through the class's bases: the dispatch of every pass over layer classes.

The executor's forward and backward ops and both exporters each keep one `ClassRegistry`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ClassRegistry(dict[type, T], Generic[T]):
    """A dict from class to function; `for_(obj)` also finds a base class's (a leaf merge reads its merge rule's)."""

    def register(self, *classes: type) -> Callable[[T], T]:
        """A decorator registering its function for each of `classes`."""

        def register(fn: T) -> T:
            for cls in classes:
                self[cls] = fn
            return fn

        return register

    def for_(self, obj: object) -> T | None:
        """The function of `obj`'s own class, else of the nearest base class that has one, else None."""
        for cls in type(obj).__mro__:
            if cls in self:
                return self[cls]
        return None
