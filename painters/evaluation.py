"""``painters.evaluate``: score a model variant on a task, next to the unmodified model."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from painters.metrics.normalise import normalise
from painters.tasks.base import Batch, Task

COUNT_KEYS = frozenset({"n", "tokens"})


def score(model: nn.Module, task: Task, batches: Sequence[Batch], *, desc: str = "", progress: bool = True) -> dict:
    """Run ``model`` over prepared ``batches`` and return the task's metrics."""
    accumulator = task.new_accumulator()
    for batch in tqdm(batches, desc=desc or task.name, disable=not progress, leave=False):
        accumulator.update(batch, task.run(model, batch))
    return accumulator.compute()


def evaluate(
    model: nn.Module,
    processor: Any,
    task: Task,
    *ops: Any,
    batch_size: int = 16,
    device: str | torch.device | None = None,
    baseline: bool = True,
    progress: bool = True,
    **apply_options: Any,
) -> dict[str, float]:
    """Score ``model`` with ``ops`` applied on ``task``; with ``baseline``, also unmodified, and normalise.

    The data are preprocessed once (cached on the task). Returns the task's metrics for the variant
    plus, per metric m: ``baseline_m`` (unmodified model, same examples), ``chance_m`` and
    ``normalised_m`` = (m - chance) / (baseline - chance) (on a log scale for perplexities), and
    ``normalised`` / ``chance`` for the task's primary metric. With no ops the variant is the
    baseline and the model runs once. ``apply_options`` go to ``painters.apply`` (e.g. ``stage=2``
    for a staged model, ``tower="vision"`` for a two-tower model).
    """
    if device is not None:
        model.to(device)
    was_training = model.training
    model.eval()
    try:
        batches = task.prepare(processor, batch_size, progress=progress)
        reference = score(model, task, batches, desc=f"{task.name} baseline", progress=progress) if baseline else None
        if ops:
            from painters.apply import apply

            with apply(model, *ops, **apply_options):
                variant = score(model, task, batches, desc=f"{task.name} variant", progress=progress)
        else:
            variant = reference if reference is not None else score(model, task, batches, progress=progress)
    finally:
        model.train(was_training)
    return summarise(task, variant, reference)


def summarise(task: Task, variant: Mapping[str, float], reference: Mapping[str, float] | None) -> dict[str, float]:
    """The result dict of ``evaluate`` from a variant's and (optionally) the baseline's metrics."""
    chance = task.chance()
    log_metrics = getattr(task, "log_metrics", frozenset())
    result: dict[str, float] = dict(variant)
    for metric, level in chance.items():
        result[f"chance_{metric}"] = level
    if reference is not None:
        for metric, value in reference.items():
            if metric not in COUNT_KEYS:
                result[f"baseline_{metric}"] = value
        for metric, level in chance.items():
            if metric in variant and metric in reference:
                result[f"normalised_{metric}"] = normalise(
                    variant[metric], level, reference[metric], log=metric in log_metrics
                )
    primary = task.primary_metric
    result["chance"] = chance.get(primary, math.nan)
    if reference is not None:
        result["normalised"] = result.get(f"normalised_{primary}", math.nan)
    return result
