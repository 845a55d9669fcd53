"""``painters validate FILE``: everything about a sweep file that needs no model weights, checked offline.

The schema and every op's and task's parameters; local data found and readable; each model's layer stack found
(from its config alone, on the meta device: no weights) so the ops are expanded against the real layer count and
an unsupported model is reported; each task checked against the kind of model it is given (a classification task
on a causal LM...). What needs the network (a hub model or dataset that is not cached) is reported as "not checked
offline", not as a problem; nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from painters.errors import ConfigError, PaintersError


@dataclass
class Report:
    """What :func:`validate` found: ``problems`` (each names file, line, field and fix) and ``notes``."""

    source: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    configs: dict[str, Any] = field(default_factory=dict)
    """Each model's transformers config (by display name), where it could be read and fits its tasks."""

    @property
    def ok(self) -> bool:
        return not self.problems


_NOT_CACHED = "not cached here: its layer count (and so its variants) and its tasks' fit need the model's config"


def validate(path: str | Path) -> Report:
    """Check a sweep file offline; never loads weights or data beyond what reading them needs."""
    from painters.sweep.config import load_sweep

    try:
        config = load_sweep(path)
    except PaintersError as exc:
        return Report(str(path), problems=[str(exc)])
    return check(config, str(path))


def check(config: Any, source: str = "<sweep>", *, online: bool = False) -> Report:
    """Everything :func:`validate` checks, on a sweep already read (``painters run --dry-run`` uses it too);
    ``online``: a model config that is not cached is fetched when the hub answers (configs only, never weights or
    data)."""
    from painters.sweep.generators import expand_ops
    from painters.sweep.loading import load_config, meta_model

    report = Report(source)
    for loc, model in config.model_locations():
        where = config.locate((*loc, "id"))
        problem = model.device_problem()
        if problem is not None:
            report.notes.append(f"{config.locate((*loc, 'device'))}: {problem} (fine on a machine that has it)")
        try:
            model_config = load_config(model, online=online)
        except PaintersError as exc:
            report.problems.append(f"{where}: {exc}")
            continue
        except (OSError, ValueError) as exc:  # a local folder without a usable config.json
            report.problems.append(f"{where}: {model.id!r} has no usable transformers config.json ({exc})")
            continue
        if model_config is None:
            report.notes.append(f"{where}: {model.id!r} {_NOT_CACHED}")
            continue
        problems = model_problems(config, loc, model, model_config)
        report.problems += problems
        if problems:
            continue
        stages = model.stage if isinstance(model.stage, list) else [model.stage]
        for stage in stages:
            staged = model if stage == model.stage else model.model_copy(update={"stage": stage})
            label = "" if stage == model.stage else f" (stage {stage})"
            try:
                count = len(_layers(meta_model(staged, model_config), staged))
            except PaintersError as exc:
                report.problems.append(f"{where}{label}: {exc}")
                continue
            report.configs[model.display if not label else f"{model.display}@stage{stage}"] = model_config
            try:
                variants = expand_ops(config.ops, count, baseline=config.baseline, locate=config.locate)
            except PaintersError as exc:
                report.problems.append(f"{exc}{label}")
                continue
            report.notes.append(f"{where}{label}: {count} layers, {len(variants)} variants")
    for loc, task in config.task_locations():
        report.problems += _task_problems(config, loc, task, report)
    return report


def _layers(model: Any, spec: Any) -> list:
    from painters.apply import layers

    return list(layers(model, **spec.where).layers)


def _task_problems(config: Any, loc: tuple, task: Any, report: Report) -> list[str]:
    """Build the task with hub datasets refused at once: its options and local data checked, nothing downloaded."""
    from painters.data.source import HubUnavailableError
    from painters.tasks.registry import load

    try:
        with _no_hub_data():
            load(task.type, data=task.data, split=task.split, limit=task.limit, **task.options)
    except HubUnavailableError:
        report.notes.append(f"{config.locate((*loc, 'data'))}: {task.data!r} is a hub dataset: not checked offline")
    except PaintersError as exc:
        field = "data" if isinstance(exc, FileNotFoundError) else "type"
        return [f"{config.locate((*loc, field))}: {exc}"]
    return []


@contextlib.contextmanager
def _no_hub_data() -> Iterator[None]:
    """Hub datasets fail fast (HubUnavailableError) instead of downloading, whatever the network."""
    old = os.environ.get("HF_DATASETS_OFFLINE")
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("HF_DATASETS_OFFLINE", None)
        else:
            os.environ["HF_DATASETS_OFFLINE"] = old


def model_problems(config: Any, loc: tuple, spec: Any, model_config: Any) -> list[str]:
    """What is wrong between model ``spec`` (at ``loc`` in the sweep file) and its tasks, from the model's config
    alone (a transformers config, or its ``config.json`` as a dict): a ``task_head`` this model type has no class
    for, and each task that cannot score this kind of model. Each problem names the file, line, field, value and
    fix."""
    import transformers

    from painters.sweep.loading import HEADS, model_class_name
    from painters.tasks.models import mismatch, model_kind

    model_type = model_config.get("model_type") if isinstance(model_config, dict) else model_config.model_type
    name = model_class_name(spec, model_config)
    if name is None:
        auto = HEADS.get(spec.task_head, "AutoModel")
        return [
            f"{config.locate((*loc, 'task_head'))}: {spec.task_head!r}: transformers {transformers.__version__} has no "
            f"{auto} class for model_type {model_type!r} (model {spec.id!r}); use a task_head this model has, or "
            f"task_head: auto with a checkpoint whose config.json lists its architectures"
        ]
    kind = model_kind(name, model_type)
    problems = []
    for task_loc, task in config.task_locations():
        owner = ("models", task_loc[1], "model") if task_loc[0] == "models" else ("model",)
        if owner != tuple(loc):
            continue
        why = mismatch(task.type, name, kind, head=spec.task_head)
        if why is not None:
            problems.append(f"{config.locate((*task_loc, 'type'))}: {why}")
    return problems


def check_task_models(config: Any, skip: Any = ()) -> None:
    """Raise :class:`ConfigError` naming every task that cannot score its model, from each model's ``config.json``
    alone (local, cached, or fetched when the hub answers; read, not built): what ``painters run`` checks before any
    data or weights load. A model whose config cannot be had is left to loading it, which says why."""
    from painters.sweep.loading import config_json

    problems = []
    for loc, spec in config.model_locations():
        if spec.display in skip:  # a model already in memory: nothing to read
            continue
        try:
            model_config = config_json(spec, online=True)
        except PaintersError:  # a missing folder or package: reported, with its location, before the model loads
            continue
        if model_config is not None:
            problems += model_problems(config, loc, spec, model_config)
    if problems:
        raise ConfigError("\n".join(problems))
