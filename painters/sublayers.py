"""What sublayer ops need from a layer: its attention and MLP submodules, and whether dropping one leaves the
residual stream unchanged (``x + 0``).

A layer is driven by part only when it is pre-norm, i.e. the sublayer's module returns what the layer adds to the
residual stream itself: ``x + attention(norm(x))``, then ``x + mlp(norm(x))``. Post-norm layers (BERT) normalise
``x + attention(x)`` inside the attention module, so "without attention" is not ``x + 0`` there; they are refused.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from painters.errors import UnsupportedModelError

PARTS: dict[str, tuple[str, ...]] = {
    "attention": ("self_attn", "attn", "attention", "self_attention"),
    "mlp": ("mlp", "feed_forward", "ffn", "block_sparse_moe"),
}
"""Child names of a layer that hold each part, in the order they are looked for."""


def part_module(layer: nn.Module, part: str, op: str = "skip") -> nn.Module:
    """The child of ``layer`` that computes ``part``; refuses layers where removing it is not ``x + 0``."""
    names = PARTS[part]
    child = next((getattr(layer, n) for n in names if isinstance(getattr(layer, n, None), nn.Module)), None)
    if child is None:
        raise UnsupportedModelError(
            f"{op}(part={part!r}): {type(layer).__name__} has no {part} submodule painters recognises (a child named "
            f"{', '.join(names)}); its {part} cannot be dropped on its own."
        )
    norms = [  # a norm after the output projection, inside the sublayer: BERT's attention.output.LayerNorm
        n for n, m in child.named_modules() if "output" in n.split(".") and "norm" in type(m).__name__.lower()
    ]
    if norms:
        raise UnsupportedModelError(
            f"{op}(part={part!r}): {type(layer).__name__}'s {part} normalises x + {part}(x) itself ({norms[0]}: a "
            f"post-norm layer), so without it the layer would not pass x on unchanged; painters refuses rather than "
            f"define it differently."
        )
    return child


def _zeros_like_output(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return torch.zeros_like(out)
    if isinstance(out, tuple) and out and isinstance(out[0], torch.Tensor):
        return (torch.zeros_like(out[0]), *out[1:])
    raise UnsupportedModelError(f"a sublayer returned {type(out).__name__}; painters expects a tensor or a tuple")


def without(layer: nn.Module, part: str, run: Any) -> Any:
    """``run()`` with ``layer``'s ``part`` contributing zeros to the residual stream (its output replaced by zeros of
    the same shape; it still runs, so a KV cache it keeps stays filled and is read by nothing that counts)."""
    handle = part_module(layer, part).register_forward_hook(lambda module, args, out: _zeros_like_output(out))
    try:
        return run()
    finally:
        handle.remove()
