"""One registry type for every kind of plugin painters has (ops, tasks, architectures, multiple-choice formats,
zoo models): one duplicate policy, aliases, "did you mean", "available (N): ...".

>>> from painters.registry import Registry
>>> colours = Registry("colour")
>>> colours.register("red", 1)
1
>>> colours["rde"]
Traceback (most recent call last):
...
painters.errors.UnknownNameError: unknown colour 'rde'. Did you mean 'red'? Available (1): red
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar, overload

from painters.errors import UnknownNameError

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Named plugins of one kind. Registering a name (or alias) twice is an error unless ``replace=True``."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    @overload
    def register(
        self, name: str, item: None = None, *, aliases: tuple[str, ...] = (), replace: bool = False
    ) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, item: T, *, aliases: tuple[str, ...] = (), replace: bool = False) -> T: ...

    def register(self, name: str, item: Any = None, *, aliases: tuple[str, ...] = (), replace: bool = False) -> Any:
        """Add ``item`` under ``name`` (and ``aliases``); without ``item``, a decorator that adds what it decorates."""
        if item is None:
            return lambda obj: self.register(name, obj, aliases=aliases, replace=replace)
        for key in (name, *aliases):
            taken = key in self._items or key in self._aliases
            if taken and not replace:
                raise ValueError(f"{self.kind} {key!r} is already registered; pass replace=True to replace it")
        self._items[name] = item
        for alias in aliases:
            self._aliases[alias] = name
        return item

    def unregister(self, name: str) -> T:
        """Remove ``name`` and its aliases (tests, notebooks that redefine a plugin); returns the entry."""
        key = self.resolve(name)
        for alias in self.aliases_of(key):
            del self._aliases[alias]
        return self._items.pop(key)

    def resolve(self, name: str) -> str:
        """The registered name behind ``name`` (itself or an alias); unknown names raise with suggestions."""
        key = self._aliases.get(name, name) if isinstance(name, str) else name
        if key not in self._items:
            raise UnknownNameError(self.unknown_message(name))
        return key

    def unknown_message(self, name: Any) -> str:
        known = [*self._items, *self._aliases]
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.kind} {name!r}.{hint} Available ({len(self._items)}): {', '.join(self.names())}"

    def __getitem__(self, name: str) -> T:
        return self._items[self.resolve(name)]

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        """Registered names, sorted (aliases not included)."""
        return sorted(self._items)

    def aliases_of(self, name: str) -> list[str]:
        return sorted(a for a, n in self._aliases.items() if n == name)

    def describe(self, name: str, width: int = 96) -> str:
        """The first sentence of the entry's ``description`` or docstring, for listings."""
        item = self[name]
        summary = getattr(item, "summary", None)
        text = summary() if callable(summary) else getattr(item, "description", None) or getattr(item, "__doc__", "")
        if not isinstance(text, str):
            return ""
        paragraph = " ".join(text.strip().split("\n\n")[0].split())
        sentence = paragraph.split(". ")[0].rstrip(".")
        return sentence if len(sentence) <= width else sentence[: width - 3] + "..."

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"
