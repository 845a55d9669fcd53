"""A decorator registry of task factories, with "did you mean" errors."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, TypeVar

from painters.errors import ConfigError, UnknownNameError
from painters.tasks.base import Task

F = TypeVar("F", bound=Callable[..., Task])

_TASKS: dict[str, Callable[..., Task]] = {}
_ALIASES: dict[str, str] = {}


def register(name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Register a task factory (usually the Task class) under ``name`` and optional aliases."""

    def decorator(factory: F) -> F:
        for key in (name, *aliases):
            if key in _TASKS or key in _ALIASES:
                raise ValueError(f"task name {key!r} is already registered")
        _TASKS[name] = factory
        for alias in aliases:
            _ALIASES[alias] = name
        return factory

    return decorator


def available() -> list[str]:
    """Registered task names (aliases not included)."""
    return sorted(_TASKS)


def get(name: str) -> Callable[..., Task]:
    """The factory registered as ``name`` (or an alias of it)."""
    key = _ALIASES.get(name, name)
    if key not in _TASKS:
        known = sorted([*_TASKS, *_ALIASES])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(f"unknown task {name!r}.{hint} Registered tasks: {', '.join(available())}")
    return _TASKS[key]


def load(name: str, data: Any = None, split: str | None = None, limit: int | None = None, **kwargs: Any) -> Task:
    """Build a registered task: ``load("classification", data="path/or/hub-id", split="test", limit=500)``."""
    factory = get(name)
    if data is None:
        raise ConfigError(f"task {name!r} needs data=: a local file or folder, or a Hugging Face Hub dataset id")
    if split is not None:
        kwargs["split"] = split
    return factory(data=data, limit=limit, **kwargs)
