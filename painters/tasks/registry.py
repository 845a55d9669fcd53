"""The task registry: task factories (usually the Task classes) by name, with aliases and "did you mean"."""

from __future__ import annotations

import difflib
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

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


SPEC_FIELDS = ("data", "split", "limit")
"""Task arguments a sweep file gives as fields of the task, not in ``options:``."""


def options_model(name: str) -> type[BaseModel]:
    """The typed options of task ``name``, declared by its factory's keyword arguments (names, types, defaults):
    a pydantic model that refuses unknown keys. A sweep file's ``options:`` is validated against it before anything
    loads."""
    factory = get(name)
    target = factory.__init__ if isinstance(factory, type) else factory
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # an annotation that does not resolve: typed as Any
        hints = {}
    fields: dict[str, Any] = {}
    for param in inspect.signature(factory).parameters.values():
        if param.name in SPEC_FIELDS or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints.get(param.name, Any), default)
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    return create_model(f"{TASKS.resolve(name)}_options", __config__=config, **fields)


def check_options(name: str, options: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` naming each bad option of task ``name`` (unknown key with the closest known one,
    or a value of the wrong type) and listing the options it takes."""
    model = options_model(name)
    try:
        model.model_validate(options)
    except ValidationError as exc:
        known = list(model.model_fields)
        problems = []
        for err in exc.errors():
            key = ".".join(str(k) for k in err["loc"])
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(key, known, n=1)
                problems.append(
                    f"{key!r} is not an option of task {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                )
            else:
                problems.append(f"{key}={err.get('input')!r}: {err['msg']}")
        raise ConfigError("; ".join(problems) + f". Options of {name!r}: {', '.join(known)}") from None


def load(
    name: str | None = None, /, data: Any = None, split: str | None = None, limit: int | None = None, **kwargs: Any
) -> Task:
    """Build a registered task: ``load("classification", data="path/or/hub-id", split="test", limit=500)``.

    With the task given first, a ``name=`` keyword is the task's own option (a hub dataset's config, as sweep files
    pass it); ``load(name="classification", ...)`` still names the task."""
    if name is None:
        name = kwargs.pop("name", None)
    if name is None:
        raise TypeError("load() needs the task type: load('classification', data=...)")
    factory = get(name)
    if data is None:
        raise ConfigError(f"task {name!r} needs data=: a local file or folder, or a Hugging Face Hub dataset id")
    if split is not None:
        kwargs["split"] = split
    return factory(data=data, limit=limit, **kwargs)
