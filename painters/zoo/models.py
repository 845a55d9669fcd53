"""The zoo's model configurations and processors, as data: every model has 12 layers."""

from __future__ import annotations

from typing import Any

import torch
import transformers
from torch import nn

from painters.errors import UnknownNameError
from painters.zoo.fashion_mnist import CLASS_NAMES

LAYERS = 12
"""Every zoo model has 12 transformer layers, so that middle ranges mean something."""

SCENE_SIZE = 64
"""Side of a Fashion-MNIST scene in pixels (detection and segmentation input size)."""

PIXEL_MEAN = (0.5, 0.5, 0.5)
PIXEL_STD = (0.5, 0.5, 0.5)
"""Every image model normalises pixels to [-1, 1]: (x / 255 - 0.5) / 0.5."""

_VISION: dict[str, Any] = {
    "hidden_size": 64,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "num_channels": 3,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}

CONFIGS: dict[str, dict[str, Any]] = {
    "fashion-vit": {**_VISION, "image_size": 32, "patch_size": 8},
    "fashion-yolos": {
        **_VISION,
        "image_size": [SCENE_SIZE, SCENE_SIZE],
        "patch_size": 8,
        "num_detection_tokens": 10,
        "use_mid_position_embeddings": True,
    },
    "fashion-dpt": {
        **_VISION,
        "image_size": SCENE_SIZE,
        "patch_size": 8,
        "backbone_out_indices": [2, 5, 8, 11],
        "neck_hidden_sizes": [16, 32, 64, 64],
        "reassemble_factors": [2, 1, 0.5, 0.25],
        "fusion_hidden_size": 32,
        "use_auxiliary_head": False,
        "semantic_classifier_dropout": 0.0,
    },
    "tiny-llama": {
        "hidden_size": 96,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "intermediate_size": 256,
        "max_position_embeddings": 256,
        "tie_word_embeddings": True,
        "rope_theta": 10000.0,
    },
}
"""Keyword arguments of each model's ``transformers`` config (labels and vocabulary are added by ``build``)."""

LLAMA_VOCAB = 2048
"""Byte-level BPE vocabulary size of ``tiny-llama`` (special tokens included)."""

LLAMA_CONTEXT = 128
"""Training and scoring window of ``tiny-llama`` (the tokenizer's ``model_max_length``)."""


def id2label(name: str) -> dict[int, str]:
    """Class names by model id: the 10 Fashion-MNIST classes, with ``background`` first for segmentation."""
    names = ("background", *CLASS_NAMES) if name == "fashion-dpt" else CLASS_NAMES
    return dict(enumerate(names))


def build(name: str, vocab_size: int = LLAMA_VOCAB, **overrides: Any) -> nn.Module:
    """A freshly initialised zoo model (call ``torch.manual_seed`` first for reproducible weights)."""
    kwargs = {**CONFIGS[name], **overrides}
    if name == "tiny-llama":
        config = transformers.LlamaConfig(
            vocab_size=vocab_size, bos_token_id=1, eos_token_id=2, pad_token_id=0, **kwargs
        )
        return transformers.LlamaForCausalLM(config)
    labels = id2label(name)
    label_kwargs = {"id2label": labels, "label2id": {v: k for k, v in labels.items()}}
    if name == "fashion-vit":
        return transformers.ViTForImageClassification(transformers.ViTConfig(**kwargs, **label_kwargs))
    if name == "fashion-yolos":
        model = transformers.YolosForObjectDetection(transformers.YolosConfig(**kwargs, **label_kwargs))
    elif name == "fashion-dpt":
        model = transformers.DPTForSemanticSegmentation(transformers.DPTConfig(**kwargs, **label_kwargs))
    else:
        raise UnknownNameError(f"unknown zoo model {name!r}; known: {sorted(CONFIGS)}")
    _randomise_embeddings(model)
    return model


def _randomise_embeddings(model: nn.Module) -> None:
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


def image_processor(name: str) -> Any:
    """The model's image processor (PIL backend: no torchvision needed)."""
    common = {"image_mean": list(PIXEL_MEAN), "image_std": list(PIXEL_STD), "do_rescale": True, "do_normalize": True}
    if name == "fashion-vit":
        size = CONFIGS[name]["image_size"]
        return transformers.ViTImageProcessorPil(size={"height": size, "width": size}, **common)
    size = {"height": SCENE_SIZE, "width": SCENE_SIZE}
    if name == "fashion-yolos":
        return transformers.YolosImageProcessorPil(size=size, do_pad=False, **common)
    if name == "fashion-dpt":
        return transformers.DPTImageProcessorPil(size=size, keep_aspect_ratio=False, do_reduce_labels=False, **common)
    raise KeyError(f"{name!r} has no image processor")
