"""The task registry: task factories (usually the Task classes) by name, with aliases and "did you mean"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from painters.errors import ConfigError
from painters.registry import Registry
from painters.tasks.base import Task

F = TypeVar("F", bound=Callable[..., Task])

TASKS: Registry[Callable[..., Task]] = Registry("task")
"""Every task type by name (``painters ls tasks``)."""


def register(name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Register a task factory (usually the Task class) under ``name`` and optional aliases."""
    return TASKS.register(name, aliases=aliases)  # type: ignore[return-value]


def available() -> list[str]:
    """Registered task names (aliases not included)."""
    return TASKS.names()


def get(name: str) -> Callable[..., Task]:
    """The factory registered as ``name`` (or an alias of it); unknown names raise with "did you mean"."""
    return TASKS[name]


def load(name: str, data: Any = None, split: str | None = None, limit: int | None = None, **kwargs: Any) -> Task:
    """Build a registered task: ``load("classification", data="path/or/hub-id", split="test", limit=500)``."""
    factory = get(name)
    if data is None:
        raise ConfigError(f"task {name!r} needs data=: a local file or folder, or a Hugging Face Hub dataset id")
    if split is not None:
        kwargs["split"] = split
    return factory(data=data, limit=limit, **kwargs)
