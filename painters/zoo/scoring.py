"""Scoring zoo models with painters' own tasks (the numbers the quickstart shows), on shipped or full eval data."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from torch import nn

from painters.zoo import fashion_mnist, registry, text


def task(name: str, data: Any, limit: int | None = None, **options: Any) -> Any:
    """The painters task that scores ``name`` on ``data``: a path laid out as under ``zoo/data``, or a dataset;
    ``options`` override the spec's task options (a ``task_variants`` entry)."""
    from painters import tasks

    entry = registry.spec(name)
    data = Path(data) if isinstance(data, str) else data
    return tasks.load(entry.task, data=data, limit=limit, **{**entry.task_kwargs, **options})


def shipped_task(name: str, root: str | Path | None = None, limit: int | None = None) -> Any:
    """The task over the eval data shipped under ``zoo/data``."""
    return task(name, registry.data_path(name, root), limit)


def full_task(name: str, workdir: str | Path) -> Any:
    """The task over the full eval set (the spec's ``full_data``: e.g. the 10k test images, 1000 eval scenes or
    the whole held-out text); files it needs are written to ``workdir`` first."""
    return task(name, registry.spec(name).full_data(Path(workdir)))


def score(
    model: nn.Module, processor: Any, task: Any, *ops: Any, progress: bool = False, **where: Any
) -> dict[str, float]:
    """``painters.evaluate`` of the model (with ``ops`` applied to the stack ``where`` names: ``tower=``,
    ``stage=``) on ``task``, without the baseline pass."""
    import painters

    return painters.evaluate(model, processor, task, *ops, batch_size=64, baseline=False, progress=progress, **where)


def layer_positions(model: nn.Module, stacks: tuple[dict[str, Any], ...] = ({},)) -> list[tuple[int, dict[str, Any]]]:
    """``(index in its stack, the stack as painters.apply keyword arguments)`` of every layer of ``stacks``, stack
    after stack (a zoo spec's ``stacks``: 12 layers in all)."""
    import painters

    return [(i, where) for where in stacks for i in range(len(painters.layers(model, **where).layers))]


def layer_count(model: nn.Module, name: str) -> int:
    """How many layers zoo model ``name`` has in the stacks its spec counts (12 for every zoo model)."""
    return len(layer_positions(model, registry.spec(name).stacks))


def skip_profile(
    model: nn.Module, processor: Any, task: Any, metric: str, stacks: tuple[dict[str, Any], ...] = ({},)
) -> list[float]:
    """``metric`` with each single layer of ``stacks`` skipped in turn (entry i: the i-th layer in stack order)."""
    import painters

    return [
        score(model, processor, task, painters.skip(i, i + 1), **where)[metric]
        for i, where in layer_positions(model, stacks)
    ]


def source_available(source: str) -> bool:
    """Whether the training/eval source (``"fashion-mnist"`` or ``"kjv"``) can be read here."""
    return fashion_mnist.available() if source == "fashion-mnist" else text.available()


def evaluate_model(
    name: str, root: str | Path | None = None, *, full: bool = True, profile: bool = True, progress: bool = False
) -> dict[str, Any]:
    """Scores of a saved zoo model: ``shipped`` (zoo/data), ``full`` (whole eval set) and ``skip_layer``
    (the primary metric on the shipped data with each layer skipped), plus the spec's ``reference_scores``
    (e.g. the LM's unigram baseline). ``full`` and the reference scores are left out where the source data is
    not installed."""
    entry = registry.spec(name)
    model, processor = registry.load(name, root)
    shipped = shipped_task(name, root)
    available = source_available(entry.source)
    result: dict[str, Any] = {"metric": entry.metric, "higher_is_better": entry.higher_is_better}
    result["shipped"] = _keep(score(model, processor, shipped, progress=progress))
    result["shipped"].update(_variants(name, model, processor, registry.data_path(name, root), progress))
    if profile:
        profile_scores = skip_profile(model, processor, shipped, entry.metric, entry.stacks)
        result["skip_layer"] = [round(v, 4) for v in profile_scores]
    if full and available:
        with tempfile.TemporaryDirectory() as workdir:
            data = entry.full_data(Path(workdir))
            result["full"] = _keep(score(model, processor, task(name, data), progress=progress))
            result["full"].update(_variants(name, model, processor, data, progress))
            if entry.reference_scores:
                result["full"].update(entry.reference_scores(processor, data))
    if entry.reference_scores and available:
        result["shipped"].update(entry.reference_scores(processor, registry.data_path(name, root)))
    return result


def _variants(name: str, model: nn.Module, processor: Any, data: Any, progress: bool) -> dict[str, float]:
    """The scores of the spec's ``task_variants`` on ``data``, as ``<label>_<metric>``."""
    scores: dict[str, float] = {}
    for label, options in registry.spec(name).task_variants.items():
        variant = _keep(score(model, processor, task(name, data, **options), progress=progress))
        scores.update({f"{label}_{k}": v for k, v in variant.items() if k not in ("n", "chance")})
    return scores


_KEEP = (
    "top1",
    "top5",
    "map",
    "map_50",
    "map_75",
    "mar_100",
    "miou",
    "pixel_acc",
    "mean_acc",
    "perplexity",
    "nll",
    "tokens",
    "n",
    "chance",
)


def _keep(metrics: dict[str, float]) -> dict[str, float]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items() if k in _KEEP}
