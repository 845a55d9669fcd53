"""What ``painters prune SWEEP_OR_MODEL`` prunes: a sweep file's model and task, a zoo model on its own task, or a
model folder / hub id with a task named on the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from painters.errors import ConfigError


@dataclass
class Source:
    """A loaded model, its processor and the task to prune it on; ``where``: its layer stack (stage/tower)."""

    name: str
    model: nn.Module
    processor: Any
    task: Any
    task_name: str
    batch_size: int
    where: dict[str, Any] = field(default_factory=dict)
    select: Any = None
    """The task to choose on (``--select-data``: the same task on other data), or None: choose on ``task``."""
    rebuild: Any = None
    """``rebuild(data, limit)``: the same task (type, split, options) on other data."""


def load_source(
    source: str, *, task: str | None = None, data: str | None = None, limit: int | None = None,
    batch_size: int | None = None, select_data: str | None = None, select_limit: int | None = None,
) -> Source:  # fmt: skip
    """Resolve ``source``: a sweep YAML (its first model and task, or the task whose name is ``task``), a zoo
    model name (its own task on the shipped data, or task type ``task`` on ``data``) or a model folder / hub id (task
    type ``task`` on ``data``, both needed). ``limit`` caps the examples (tokens for perplexity). ``select_data``:
    the same task on other data (capped by ``select_limit``, default ``limit``) to choose on."""
    import painters.zoo  # noqa: F401  (registers the zoo models)
    from painters.zoo.registry import ZOO

    if source.endswith((".yaml", ".yml")) or Path(source).is_file():
        found = _from_sweep(Path(source), task, data, limit, batch_size)
    elif source in ZOO:
        found = _from_zoo(source, task, data, limit, batch_size)
    else:
        found = _from_model(source, task, data, limit, batch_size)
    if select_data is not None:
        if not Path(select_data).exists():
            raise ConfigError(f"--select-data {select_data!r}: no such file or folder")
        found.select = found.rebuild(select_data, select_limit or limit)
    return found


def _from_sweep(path: Path, task: str | None, data: str | None, limit: int | None, batch_size: int | None) -> Source:
    from painters.sweep.config import load_sweep
    from painters.sweep.loading import load_model
    from painters.tasks.registry import load

    if data is not None:
        raise ConfigError(f"--data {data!r}: a sweep file names its tasks' data; pick one of its tasks with --task")
    config = load_sweep(path)
    pairs = [(run, spec) for run in config.runs for spec in run.tasks]
    if task is None:
        run, spec = pairs[0]
    else:
        found = [(run, spec) for run, spec in pairs if spec.display == task]
        if not found:
            names = ", ".join(spec.display for _, spec in pairs)
            raise ConfigError(f"--task {task!r}: {path} has no task of that name; its tasks: {names}")
        run, spec = found[0]
    if isinstance(run.model.stage, (list, str)):
        raise ConfigError(
            f"{path}: model.stage={run.model.stage!r} names several stages; prune searches one layer stack: set "
            f"model.stage to one stage number"
        )
    model, processor = load_model(run.model)

    def rebuild(data: str | None, limit: int | None) -> Any:
        return load(spec.type, data=data, split=spec.split, limit=limit or spec.limit, **spec.options)

    where = {k: v for k, v in run.model.where.items() if v is not None}
    batch = batch_size or spec.batch_size
    return Source(run.model.display, model, processor, rebuild(spec.data, limit), spec.display, batch, where,
                  rebuild=rebuild)  # fmt: skip


def _from_zoo(name: str, task: str | None, data: str | None, limit: int | None, batch_size: int | None) -> Source:
    from painters.tasks.registry import load
    from painters.zoo import load as load_zoo
    from painters.zoo import registry, scoring

    entry = registry.spec(name)
    model, processor = load_zoo(name)
    where = dict(entry.stacks[0])
    if task is None or task == entry.task:

        def rebuild(data: str | None, limit: int | None) -> Any:
            return scoring.task(name, data or registry.data_path(name), limit)

        task_name = f"{entry.task}:{Path(data).name if data else entry.data}"
    else:
        if data is None:
            raise ConfigError(
                f"--task {task!r}: zoo model {name!r} ships data for its own task {entry.task!r} only; pass --data "
                f"PATH for {task!r}, or leave --task out"
            )

        def rebuild(data: str | None, limit: int | None) -> Any:
            return load(task, data=data, limit=limit)

        task_name = f"{task}:{Path(data).name}"
    return Source(name, model, processor, rebuild(data, limit), task_name, batch_size or 64, where, rebuild=rebuild)


def _from_model(source: str, task: str | None, data: str | None, limit: int | None, batch_size: int | None) -> Source:
    from painters.sweep.config import ModelSpec
    from painters.sweep.loading import load_model
    from painters.tasks.registry import load

    if task is None or data is None:
        raise ConfigError(
            f"{source!r} is not a sweep file or a zoo model, so it is read as a model folder or hub id, which needs "
            f"--task TYPE and --data PATH (e.g. --task perplexity --data text.txt); zoo models: `painters ls zoo`"
        )
    model, processor = load_model(ModelSpec(id=source))

    def rebuild(data: str | None, limit: int | None) -> Any:
        return load(task, data=data, limit=limit)

    name = ModelSpec(id=source).display
    return Source(name, model, processor, rebuild(data, limit), f"{task}:{Path(data).name}", batch_size or 16,
                  rebuild=rebuild)  # fmt: skip
