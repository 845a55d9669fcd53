"""Scoring zoo models with painters' own tasks (the numbers the quickstart shows), on shipped or full eval data."""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from torch import nn

from painters.zoo import data, fashion_mnist, registry, scenes, text


def task(name: str, path: str | Path, limit: int | None = None) -> Any:
    """The painters task that scores ``name`` on the data at ``path`` (laid out as under ``zoo/data``)."""
    from painters import tasks

    spec = registry.spec(name)
    kwargs: dict[str, Any] = dict(spec.task_kwargs)
    if spec.task == "segmentation":
        kwargs["labels"] = scenes.segmentation_labels()
    return tasks.load(spec.task, data=Path(path), limit=limit, **kwargs)


def shipped_task(name: str, root: str | Path | None = None, limit: int | None = None) -> Any:
    """The task over the eval data shipped under ``zoo/data``."""
    return task(name, registry.data_path(name, root), limit)


def full_task(name: str, workdir: str | Path) -> Any:
    """The task over the full eval set: 10k test images, 1000 eval scenes, or the whole held-out text.

    Scene and text files are written to ``workdir`` first; the test images go in as a ``datasets.Dataset``.
    """
    spec = registry.spec(name)
    workdir = Path(workdir)
    if spec.task == "classification":
        from painters import tasks

        return tasks.load("classification", data=fashion_test_dataset(), split="test")
    if spec.source == "fashion-mnist":
        folder = workdir / "scenes"
        if not (folder / "instances.json").exists():
            data.write_scenes(folder, data.FULL_SCENES)
        return task(name, folder)
    path = workdir / "heldout.txt"
    if not path.exists():
        data.write_heldout(path, None)
    return task(name, path)


def fashion_test_dataset() -> Any:
    """The 10k Fashion-MNIST test images as a ``datasets.Dataset`` (``image``, ``label`` ClassLabel)."""
    import datasets
    from PIL import Image

    images, labels = fashion_mnist.load("test")
    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=list(fashion_mnist.CLASS_NAMES))}
    )
    return datasets.Dataset.from_dict(
        {"image": [Image.fromarray(image, mode="L") for image in images], "label": labels.tolist()}, features=features
    )


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


def unigram_perplexity(tokenizer: Any, train: str, heldout: str) -> float:
    """Perplexity of an add-one-smoothed unigram model of ``train``'s tokens on ``heldout``'s tokens.

    Tokens 2..N of the held-out text are scored, as the perplexity task scores them (the first has no context).
    """
    counts = Counter(tokenizer(train, verbose=False)["input_ids"])
    vocab, total = len(tokenizer), sum(counts.values())
    ids = tokenizer(heldout, verbose=False)["input_ids"][1:]
    nll = -sum(math.log((counts[i] + 1) / (total + vocab)) for i in ids) / len(ids)
    return math.exp(nll)


def evaluate_model(
    name: str, root: str | Path | None = None, *, full: bool = True, profile: bool = True, progress: bool = False
) -> dict[str, Any]:
    """Scores of a saved zoo model: ``shipped`` (zoo/data), ``full`` (whole eval set) and ``skip_layer``
    (the primary metric on the shipped data with each layer skipped), plus the unigram baseline for the LM.
    ``full`` (and the unigram baseline) are left out where the source data is not installed."""
    spec = registry.spec(name)
    model, processor = registry.load(name, root)
    shipped = shipped_task(name, root)
    result: dict[str, Any] = {"metric": spec.metric, "higher_is_better": spec.higher_is_better}
    result["shipped"] = _keep(score(model, processor, shipped, progress=progress))
    if profile:
        result["skip_layer"] = [round(v, 4) for v in skip_profile(model, processor, shipped, spec.metric)]
    if full and source_available(spec.source):
        with tempfile.TemporaryDirectory() as workdir:
            result["full"] = _keep(score(model, processor, full_task(name, workdir), progress=progress))
    if name == "tiny-llama" and text.available():
        train_text = text.train_text()
        result["shipped"]["unigram_perplexity"] = round(
            unigram_perplexity(processor, train_text, registry.data_path(name, root).read_text(encoding="utf-8")), 3
        )
        if "full" in result:
            result["full"]["unigram_perplexity"] = round(
                unigram_perplexity(processor, train_text, text.heldout_text() + "\n"), 3
            )
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
