"""What the zoo models share when they are built: 12 layers, the vision settings, labelled vision models and
PIL image processors; ``build`` and ``image_processor`` build a registered model's by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import transformers
from torch import nn

from painters.errors import ConfigError
from painters.zoo.fashion_mnist import CLASS_NAMES  # noqa: F401  (re-exported: older code imports it from here)
from painters.zoo.registry import ZooField, spec

LAYERS = 12
"""Every zoo model has 12 transformer layers, so that middle ranges mean something."""

SCENE_SIZE = 64
"""Side of a Fashion-MNIST scene in pixels (detection and segmentation input size)."""

PIXEL_MEAN = (0.5, 0.5, 0.5)
PIXEL_STD = (0.5, 0.5, 0.5)
"""Every image model normalises pixels to [-1, 1]: (x / 255 - 0.5) / 0.5."""

VISION: dict[str, Any] = {
    "hidden_size": 64,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "num_channels": 3,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}
"""The transformer settings every zoo vision model starts from."""

CONFIGS: ZooField[dict[str, Any]] = ZooField("config")
"""Keyword arguments of each model's ``transformers`` config, by name (a view of ``ZOO``)."""


def vision_model(model_class: str, config: dict[str, Any], labels: Sequence[str]) -> nn.Module:
    """A freshly initialised ``transformers.<model_class>`` whose ``id2label`` is ``labels`` in order."""
    cls = getattr(transformers, model_class)
    id2label = dict(enumerate(labels))
    return cls(cls.config_class(**config, id2label=id2label, label2id={v: k for k, v in id2label.items()}))


def randomise_embeddings(model: nn.Module) -> nn.Module:
    """Truncated-normal tokens and position embeddings where transformers starts them at zero (YOLOS, DPT):
    ten identical zero detection tokens would only tell themselves apart through the Hungarian matching."""
    std = model.config.initializer_range
    for name, param in model.named_parameters():
        if name.rsplit(".", 1)[-1] in (
            "cls_token",
            "detection_tokens",
            "position_embeddings",
            "mid_position_embeddings",
        ):
            with torch.no_grad():
                nn.init.trunc_normal_(param, std=std, a=-2 * std, b=2 * std)
    return model


def pil_image_processor(processor_class: str, side: int, **options: Any) -> Any:
    """A ``transformers.<processor_class>`` (PIL backend: no torchvision needed) resizing to ``side`` x ``side``
    and normalising as ``PIXEL_MEAN`` / ``PIXEL_STD`` say."""
    return getattr(transformers, processor_class)(
        size={"height": side, "width": side},
        **options,
        image_mean=list(PIXEL_MEAN),
        image_std=list(PIXEL_STD),
        do_rescale=True,
        do_normalize=True,
    )


def build(name: str, processor: Any = None, **overrides: Any) -> nn.Module:
    """A freshly initialised zoo model, its config overridden by ``overrides`` (call ``torch.manual_seed``
    first for reproducible weights); a tokenizer model needs its ``processor`` (the vocabulary)."""
    entry = spec(name)
    if processor is None and entry.processor_kind != "image":
        raise ConfigError(f"zoo model {name!r} is built for a {entry.processor_kind}: pass processor=")
    return entry.build_model({**entry.config, **overrides}, processor)


def image_processor(name: str) -> Any:
    """The image processor of zoo model ``name`` (a new one, as training saves it)."""
    entry = spec(name)
    if entry.processor_kind != "image":
        raise ConfigError(f"zoo model {name!r} has no image processor (its processor is a {entry.processor_kind})")
    return entry.build_processor()
