"""Scoring zoo models with painters' own tasks (the numbers the quickstart shows), on shipped or full eval data."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from torch import nn

from painters.zoo import fashion_mnist, registry, text


def task(name: str, data: Any, limit: int | None = None) -> Any:
    """The painters task that scores ``name`` on ``data``: a path laid out as under ``zoo/data``, or a dataset."""
    from painters import tasks

    entry = registry.spec(name)
    data = Path(data) if isinstance(data, str) else data
    return tasks.load(entry.task, data=data, limit=limit, **entry.task_kwargs)


def shipped_task(name: str, root: str | Path | None = None, limit: int | None = None) -> Any:
    """The task over the eval data shipped under ``zoo/data``."""
    return task(name, registry.data_path(name, root), limit)


def full_task(name: str, workdir: str | Path) -> Any:
    """The task over the full eval set (the spec's ``full_data``: e.g. the 10k test images, 1000 eval scenes or
    the whole held-out text); files it needs are written to ``workdir`` first."""
    return task(name, registry.spec(name).full_data(Path(workdir)))


def score(model: nn.Module, processor: Any, task: Any, *ops: Any, progress: bool = False) -> dict[str, float]:
    """``painters.evaluate`` of the model (with ``ops`` applied) on ``task``, without the baseline pass."""
    import painters

    return painters.evaluate(model, processor, task, *ops, batch_size=64, baseline=False, progress=progress)


def skip_profile(model: nn.Module, processor: Any, task: Any, metric: str) -> list[float]:
    """``metric`` with each single layer skipped in turn (entry i: layer i skipped)."""
    import painters

    count = len(painters.layers(model).layers)
    return [score(model, processor, task, painters.skip(i, i + 1))[metric] for i in range(count)]


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
    if profile:
        result["skip_layer"] = [round(v, 4) for v in skip_profile(model, processor, shipped, entry.metric)]
    if full and available:
        with tempfile.TemporaryDirectory() as workdir:
            data = entry.full_data(Path(workdir))
            result["full"] = _keep(score(model, processor, task(name, data), progress=progress))
            if entry.reference_scores:
                result["full"].update(entry.reference_scores(processor, data))
    if entry.reference_scores and available:
        result["shipped"].update(entry.reference_scores(processor, registry.data_path(name, root)))
    return result


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
