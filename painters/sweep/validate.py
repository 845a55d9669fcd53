"""``painters validate FILE``: everything about a sweep file that needs no model weights, checked offline.

The schema and every op's and task's parameters; local data found and readable; each model's layer stack found
(from its config alone, on the meta device: no weights) so the ops are expanded against the real layer count and
an unsupported model is reported. What needs the network (a hub model or dataset that is not cached) is reported
as "not checked offline", not as a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from painters.errors import PaintersError


@dataclass
class Report:
    """What :func:`validate` found: ``problems`` (each names file, line, field and fix) and ``notes``."""

    source: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _layer_count(model_id: str, where: dict) -> tuple[int | None, str | None]:
    """The model's layer count from its config (meta device, no weights), or why it could not be had offline."""
    import torch
    import transformers

    from painters.apply import layers
    from painters.data.source import local_path
    from painters.sweep.loading import resolve_model_id

    resolved = resolve_model_id(model_id)
    source = local_path(resolved)
    try:
        config = transformers.AutoConfig.from_pretrained(
            str(source) if source else resolved, local_files_only=source is None
        )
    except OSError:
        return None, "not cached here: its layer count needs the model's config (ops checked against no layer count)"
    names = getattr(config, "architectures", None) or []
    cls = getattr(transformers, names[0], None) if names else None
    with torch.device("meta"):
        model = cls(config) if cls is not None else transformers.AutoModel.from_config(config)
    return len(layers(model, **where).layers), None


def validate(path: str | Path) -> Report:
    """Check a sweep file offline; never loads weights or data beyond what reading them needs."""
    from painters.data.source import HubUnavailableError
    from painters.sweep.config import load_sweep
    from painters.sweep.generators import expand_ops

    report = Report(str(path))
    try:
        config = load_sweep(path)
    except PaintersError as exc:
        report.problems.append(str(exc))
        return report
    for loc, model in config.model_locations():
        where = config.locate((*loc, "id"))
        problem = model.device_problem()
        if problem is not None:
            report.notes.append(f"{config.locate((*loc, 'device'))}: {problem} (fine on a machine that has it)")
        try:
            count, why = _layer_count(model.id, model.where)
        except PaintersError as exc:
            report.problems.append(f"{where}: {exc}")
            continue
        if count is None:
            report.notes.append(f"{where}: {model.id!r} {why}")
            continue
        try:
            variants = expand_ops(config.ops, count, baseline=config.baseline, locate=config.locate)
        except PaintersError as exc:
            report.problems.append(str(exc))
            continue
        report.notes.append(f"{where}: {count} layers, {len(variants)} variants")
    for loc, task in config.task_locations():
        from painters.tasks.registry import load

        try:
            load(task.type, data=task.data, split=task.split, limit=task.limit, **task.options)
        except HubUnavailableError:
            report.notes.append(f"{config.locate((*loc, 'data'))}: {task.data!r} is a hub dataset: not checked offline")
        except PaintersError as exc:
            field = "data" if isinstance(exc, FileNotFoundError) else "type"
            report.problems.append(f"{config.locate((*loc, field))}: {exc}")
    return report
