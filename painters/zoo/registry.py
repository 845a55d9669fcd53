"""``ZOO``: name -> spec of each shipped model, and where the zoo lives."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from painters.errors import DataNotFoundError
from painters.registry import Registry


@dataclass(frozen=True)
class ZooSpec:
    """One zoo model: its ``transformers`` class, the painters task that scores it and the shipped eval data."""

    name: str
    model_class: str
    task: str
    metric: str
    higher_is_better: bool
    data: str
    description: str
    source: str
    task_kwargs: dict[str, Any] = field(default_factory=dict)


ZOO: Registry[ZooSpec] = Registry("zoo model")
"""The zoo models by name (``painters ls zoo``)."""

for _spec in (
        ZooSpec("fashion-vit", "ViTForImageClassification", "classification", "top1", True,
                "fashion-mnist-test", "Fashion-MNIST classifier (28x28 images at 32x32, patch 8)", "fashion-mnist",
                {"split": "test"}),
        ZooSpec("fashion-yolos", "YolosForObjectDetection", "detection", "map_50", True,
                "fashion-scenes", "detector of Fashion-MNIST scenes (64x64, patch 8, 10 detection tokens)",
                "fashion-mnist"),
        ZooSpec("fashion-dpt", "DPTForSemanticSegmentation", "segmentation", "miou", True,
                "fashion-scenes", "semantic segmenter of Fashion-MNIST scenes (64x64, patch 8)", "fashion-mnist",
                {"label_map": "identity"}),
        ZooSpec("tiny-llama", "LlamaForCausalLM", "perplexity", "perplexity", False,
                "kjv-heldout.txt", "causal LM of the King James Bible (byte-level BPE, 2048 tokens)", "kjv"),
):  # fmt: skip
    ZOO.register(_spec.name, _spec)


def zoo_dir() -> Path:
    """The zoo folder: ``$PAINTERS_ZOO``, else ``zoo/`` at the root of the painters checkout."""
    override = os.environ.get("PAINTERS_ZOO")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "zoo"


def spec(name: str) -> ZooSpec:
    """The spec of ``name``, with the known names in the error."""
    return ZOO[name]


def model_dir(name: str, root: str | Path | None = None) -> Path:
    """The folder of ``name``'s weights (``root`` defaults to ``zoo_dir()``)."""
    return Path(root or zoo_dir()) / spec(name).name


def data_path(name: str, root: str | Path | None = None) -> Path:
    """The shipped eval data of ``name`` (a folder, or the held-out text file)."""
    return Path(root or zoo_dir()) / "data" / spec(name).data


def load(name: str, root: str | Path | None = None) -> tuple[Any, Any]:
    """``(model, processor)`` of a zoo model, in eval mode, float32 (the processor is its image processor with
    the PIL backend, or its tokenizer)."""
    import torch
    import transformers

    folder = model_dir(name, root)
    if not (folder / "config.json").exists():
        raise DataNotFoundError(f"{folder} holds no model: retrain it with `python -m painters.zoo train {name}`")
    model = getattr(transformers, spec(name).model_class).from_pretrained(folder, dtype=torch.float32).eval()
    if name == "tiny-llama":
        processor = transformers.AutoTokenizer.from_pretrained(folder)
    else:
        processor = transformers.AutoImageProcessor.from_pretrained(folder, backend="pil")
    return model, processor
