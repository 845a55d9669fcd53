"""Starting a zoo model from the backbone of a trained zoo classifier (a recipe's ``init``)."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from painters.errors import DataNotFoundError
from painters.zoo import registry


def load_init(name: str, root: str | Path) -> nn.Module:
    """The trained zoo model ``name`` from ``root/name`` (float32), to start another model from."""
    import transformers

    folder = Path(root) / name
    if not (folder / "config.json").exists():
        raise DataNotFoundError(
            f"{folder} holds no model to start from: train {name} first "
            f"(`python -m painters.zoo train {name} --out {folder.parent}`)"
        )
    return getattr(transformers, registry.spec(name).model_class).from_pretrained(folder, dtype=torch.float32)


_VIT_TO_V4_NAMES = (
    ("attention.q_proj.", "attention.attention.query."), ("attention.k_proj.", "attention.attention.key."),
    ("attention.v_proj.", "attention.attention.value."), ("attention.o_proj.", "attention.output.dense."),
    ("mlp.fc1.", "intermediate.dense."), ("mlp.fc2.", "output.dense."),
)  # fmt: skip
"""ViT layer parameter names in transformers 5 -> the names YOLOS and DPT layers still use."""


def init_from_classifier(model: nn.Module, classifier: nn.Module) -> list[str]:
    """Copy a ``ViTForImageClassification`` backbone into a YOLOS or DPT model (as YOLOS starts from DeiT and
    DPT from ViT): patch embedding, CLS token, the 12 layers and the final norm; the patch position
    embeddings are resized (bicubic) to the new patch grid. Returns the target parameter names set."""
    prefix = "vit" if hasattr(model, "vit") else "dpt"
    target = model.state_dict()
    updates: dict[str, torch.Tensor] = {}
    for key, value in classifier.state_dict().items():
        if not key.startswith("vit."):
            continue  # the classification head
        name = key.removeprefix("vit.")
        if name.startswith("layers."):
            _, index, rest = name.split(".", 2)
            for new, old in _VIT_TO_V4_NAMES:
                rest = rest.replace(new, old) if rest.startswith(new) else rest
            name = f"encoder.layer.{index}.{rest}"
        destination = f"{prefix}.{name}"
        if destination not in target:
            raise KeyError(f"{key} of the classifier has no counterpart {destination} in {type(model).__name__}")
        if name == "embeddings.position_embeddings":
            value = _resize_positions(value, target[destination])
        if value.shape != target[destination].shape:
            shapes = f"{tuple(value.shape)} vs {tuple(target[destination].shape)}"
            raise ValueError(f"{key} does not fit {destination}: {shapes}")
        updates[destination] = value
    model.load_state_dict(updates, strict=False)
    return sorted(updates)


def _resize_positions(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(1, 1 + g*g, D) CLS + patch-grid position embeddings -> the target's (1, 1 + G*G [+ extra], D); extra
    trailing positions (YOLOS detection tokens) keep the target's values."""
    grid = math.isqrt(source.shape[1] - 1)
    patches = source[:, 1:].reshape(1, grid, grid, -1).permute(0, 3, 1, 2)
    extra = 0
    while math.isqrt(target.shape[1] - 1 - extra) ** 2 != target.shape[1] - 1 - extra:
        extra += 1
    size = math.isqrt(target.shape[1] - 1 - extra)
    resized = nn.functional.interpolate(patches, size=(size, size), mode="bicubic", align_corners=False)
    resized = resized.permute(0, 2, 3, 1).reshape(1, size * size, -1)
    return torch.cat([source[:, :1], resized, target[:, target.shape[1] - extra :]], dim=1)
