"""What token ops (``isolate_cls``, ``keep_cls_only``) need from a model: how many special tokens lead its sequence,
whether its layers can run on part of the sequence, and whether what reads the stack's output reads only them.

The rule for models with more than a CLS token: every special token that leads the sequence (DeiT's distillation
token, DINOv2's registers) travels with the CLS token. Models painters has not checked are refused, with the reason.
"""

from __future__ import annotations

from typing import Any

import torch

from painters.errors import UnsupportedModelError
from painters.step_kinds import first, like  # noqa: F401  (re-exported for the token ops)

LEADING_TOKENS = {
    "vit": 1,
    "vit_msn": 1,
    "deit": 2,  # CLS and distillation token
    "dinov2": 1,
    "dinov2_with_registers": 1,  # plus config.num_register_tokens
    "clip_vision_model": 1,
    "dpt": 1,
    "beit": 1,
    "data2vec-vision": 1,
}
"""Vision transformers whose sequence starts with a CLS token (and these many special tokens in all)."""

PATCH_READERS = {
    "dinov2": "its classifier concatenates the CLS token with the mean of the patch tokens",
    "dinov2_with_registers": "its classifier concatenates the CLS token with the mean of the patch tokens",
    "dpt": "its neck reshapes the patch tokens of several layers into feature maps",
    "beit": "its pooler averages the patch tokens (use_mean_pooling)",
    "data2vec-vision": "its pooler averages the patch tokens (use_mean_pooling)",
}
"""Models whose heads read patch tokens after the layer stack: dropping the patches cannot run."""


def leading_tokens(located: Any, op: str, *, patches_read: bool = False) -> int:
    """The number of special tokens (CLS first) that lead ``located``'s sequence; refuses models ``op`` cannot run
    on exactly. ``patches_read``: the op removes the patch tokens, so models whose heads read them are refused."""
    config = located.config
    model_type = getattr(config, "model_type", None)
    if located.arch.stages is not None or model_type not in LEADING_TOKENS:
        raise UnsupportedModelError(
            f"{op} needs a vision transformer whose sequence starts with a CLS token; painters knows which tokens "
            f"are special in {', '.join(sorted(LEADING_TOKENS))}, and this is {model_type!r} "
            f"({located.arch.kind} layers at '{located.path}')."
        )
    relative = [
        name
        for name in ("use_relative_position_bias", "use_shared_relative_position_bias")
        if getattr(config, name, False)
    ]
    if relative:
        raise UnsupportedModelError(
            f"{op}: this {model_type} model adds a relative position bias over the whole token grid in its layers "
            f"(config.{relative[0]}), which a part of the sequence cannot use."
        )
    if patches_read and model_type in PATCH_READERS:
        raise UnsupportedModelError(f"{op} drops the patch tokens, but {PATCH_READERS[model_type]} ({model_type}).")
    return LEADING_TOKENS[model_type] + int(getattr(config, "num_register_tokens", 0) or 0)


def check_per_token_inputs(h: torch.Tensor, other_args: tuple, kwargs: dict, op: str) -> None:
    """Refuse a layer call that passes a tensor laid out per token (a mask, position embeddings): splitting the
    hidden state alone would pair them wrongly."""
    n = h.shape[1]
    named = [(f"argument {i + 1}", v) for i, v in enumerate(other_args)] + list(kwargs.items())
    for name, value in named:
        if isinstance(value, torch.Tensor) and value.dim() >= 2 and n in value.shape[-2:]:
            raise UnsupportedModelError(
                f"{op}: the layers of this model receive {name} of shape {tuple(value.shape)}, laid out per token; "
                f"painters cannot split it with the hidden state and refuses to run the layers on part of the sequence."
            )
