"""Mean attention distance (ViT paper, Dosovitskiy et al. 2021, Fig. 7), under any plan.

For every layer call and head: the distance in pixels between a query patch and the patches it attends to
(distance between patch centres times the patch size), weighted by the attention weights, averaged over the query
patches and the images. Rows and columns of special tokens (CLS, DeiT's distillation token, registers) are left
out, and each query's weights over the patches are renormalised to sum to 1 (so a query that attends mostly to CLS
still gets a distance: the mean over where it looks among the patches).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import torch
from torch import nn

from painters.analysis.inputs import model_batches
from painters.errors import PlanError, UnsupportedModelError


def grid_distances(height: int, width: int, patch_size: int | float = 1) -> torch.Tensor:
    """``(P, P)`` distances in pixels between the centres of the patches of a ``height x width`` grid (row-major,
    ``P = height * width``), patches ``patch_size`` pixels wide."""
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    centres = torch.stack([rows.flatten(), cols.flatten()], 1).double()
    return torch.cdist(centres, centres) * patch_size


def mean_distance(attention: torch.Tensor, height: int, width: int, patch_size: int | float) -> torch.Tensor:
    """Per head, the mean attention distance in pixels of ``attention`` ``(batch, heads, N, N)`` whose last
    ``height * width`` tokens are the patches (the ones before are special and left out); summed over the batch
    (divide by the batch size for the mean). Each query's weights over the patches are renormalised."""
    patches = height * width
    special = attention.shape[-1] - patches
    if special < 0:
        raise ValueError(f"{attention.shape[-1]} tokens cannot hold a {height}x{width} patch grid")
    weights = attention[:, :, special:, special:].double()
    weights = weights / weights.sum(-1, keepdim=True).clamp_min(torch.finfo(torch.float64).tiny)
    distances = grid_distances(height, width, patch_size).to(weights.device)
    per_query = (weights * distances).sum(-1)  # (batch, heads, patches)
    return per_query.mean(-1).sum(0)


def _patch_size(config: Any) -> tuple[int, int]:
    size = getattr(config, "patch_size", None)
    if size is None:
        raise UnsupportedModelError(f"{type(config).__name__} has no patch_size: attention distance needs patches")
    return (size, size) if isinstance(size, int) else tuple(size)  # type: ignore[return-value]


def _tower_module(model: nn.Module, stack: nn.Module) -> nn.Module:
    """The deepest module holding ``stack`` and patch embeddings: a two-tower model's vision transformer."""
    holders = [(name, m) for name, m in model.named_modules() if hasattr(m, "embeddings") and stack in m.modules()]
    if not holders:
        raise UnsupportedModelError(f"no module of {type(model).__name__} holds embeddings and the tower's layers")
    return max(holders, key=lambda item: item[0].count("."))[1]


def attention_distance(
    model: nn.Module,
    processor: Any = None,
    data: Any = None,
    *ops: Any,
    tower: str | None = None,
    batch_size: int = 32,
) -> pd.DataFrame:
    """Mean attention distance per layer call and head of ``model`` run under ``ops``.

    Args:
        model: a vision transformer (ViT, DeiT, BEiT, DINOv2, ...) or a two-tower model with ``tower="vision"``
            (CLIP, SigLIP).
        processor: the image processor, when ``data`` is a painters task.
        data: model inputs (a dict with ``pixel_values``), a list of them, or a painters task (e.g.
            ``painters.tasks.load("classification", data=...)``), whose examples are prepared as a sweep would.
        ops: painters ops; none for the unmodified model.

    Returns a DataFrame with one row per executed layer call and head: ``step`` (position in the plan, 0-indexed),
    ``layer`` (the original layer it runs), ``head``, ``distance_px`` (mean over query patches and images).
    """
    import painters
    from painters.architectures import locate

    if data is None:
        raise ValueError("attention_distance needs data: model inputs with pixel_values, or a painters task")
    located = locate(model, tower=tower)
    module = model if tower is None else _tower_module(model, located.parent)
    patch_h, patch_w = _patch_size(located.config)
    plan = painters.plan(model, *ops, tower=tower)
    if plan.has_wrapped:
        raise PlanError(f"{plan}: attention distances under token ops are not defined (a layer sees part of the grid)")
    calls = plan.calls
    previous = getattr(model.config, "_attn_implementation", None)
    model.set_attn_implementation("eager")  # attention weights are only returned by the eager implementation
    totals: torch.Tensor | None = None
    images = 0
    try:
        for inputs in model_batches(data, processor, batch_size):
            pixels = inputs["pixel_values"]
            device = next(model.parameters()).device
            with torch.no_grad(), painters.apply(model, *ops, tower=tower):
                out = module(pixel_values=pixels.to(device), output_attentions=True)
            attentions = out.attentions
            if attentions is None or len(attentions) != len(calls):
                raise UnsupportedModelError(
                    f"{type(model).__name__} returned {0 if attentions is None else len(attentions)} attention maps "
                    f"for {len(calls)} layer calls; painters cannot tell which map belongs to which call."
                )
            grid_h, grid_w = pixels.shape[-2] // patch_h, pixels.shape[-1] // patch_w
            size = math.sqrt(patch_h * patch_w)
            per_call = torch.stack([mean_distance(a.float(), grid_h, grid_w, size) for a in attentions])
            totals = per_call if totals is None else totals + per_call
            images += pixels.shape[0]
    finally:
        if previous is not None:
            model.set_attn_implementation(previous)
    means = (totals / images).cpu()  # type: ignore[operator]
    return pd.DataFrame(
        [
            {"step": k, "layer": layer, "head": h, "distance_px": float(means[c, h])}
            for c, (k, layer) in enumerate(calls)
            for h in range(means.shape[1])
        ]
    )
