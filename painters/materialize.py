"""Writing a plan out as an ordinary model with copied weights (for ``save_pretrained``)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from painters.apply import _layer_types, plan
from painters.architectures import locate
from painters.errors import PlanError
from painters.executor import _get
from painters.ops import Op


def materialize(model: nn.Module, *ops: Op, stage: int | None = None) -> nn.Module:
    """A new model whose layer stack is the plan's steps as plain copied layers; ``model`` is untouched.

    Every plan but parallel groups can be written this way. Each step gets its own copy of the layer's weights
    (a repeated layer becomes independent copies), attention ``layer_idx`` and ``config.num_hidden_layers`` /
    ``config.layer_types`` follow the new order, YOLOS mid position embeddings follow their layers, and DPT's
    ``backbone_out_indices`` are moved to the same original boundaries.
    """
    result = plan(model, *ops, stage=stage)
    if result.has_parallel:
        raise PlanError(f"{result}: parallel groups cannot be written as a plain layer stack; use painters.apply.")
    if not result.steps:
        raise PlanError(f"{result}: the plan runs no layer; a model needs at least one layer to be materialized.")
    located = locate(model, stage)
    arch = located.arch
    new = copy.deepcopy(model)
    new_located = locate(new, stage)
    old_layers = list(new_located.modules)
    steps: list[int] = list(result.steps)  # type: ignore[arg-type]
    stack = nn.ModuleList([copy.deepcopy(old_layers[i]) for i in steps])
    for slot, layer in enumerate(stack):
        attn = _get(layer, arch.attention)
        if attn is not None:
            attn.layer_idx = slot
    new_located.parent._modules[new_located.attr] = stack
    config = new.config
    if arch.kind == "staged-vision":
        depths = list(config.depths)
        depths[stage] = len(steps)  # type: ignore[index]
        config.depths = depths
        return new
    types = _layer_types(model)
    if types is not None:
        config.layer_types = [types[i] for i in steps]
    config.num_hidden_layers = len(steps)
    if arch.mid_embeddings and getattr(config, "use_mid_position_embeddings", False):
        _reindex_mid_embeddings(new_located.parent, steps, result.num_layers)
    if hasattr(config, "backbone_out_indices") and arch.name == "dpt":
        config.backbone_out_indices = _move_out_indices(list(config.backbone_out_indices), result.boundaries)
    return new


def _reindex_mid_embeddings(encoder: nn.Module, steps: list[int], num_layers: int) -> None:
    interp = encoder.interpolation
    old = interp.mid_position_embeddings.data
    rows = [old[i] if i < num_layers - 1 else torch.zeros_like(old[0]) for i in steps[:-1]]
    interp.mid_position_embeddings = nn.Parameter(torch.stack(rows, 0) if rows else old[:0].clone())


def _move_out_indices(indices: list[int], boundaries: tuple[int, ...]) -> list[int]:
    moved = [boundaries[b] - 1 for b in indices]
    if any(p < 0 for p in moved) or len(set(moved)) != len(moved):
        raise PlanError(
            f"DPT reads the states after layers {indices}; under this plan they sit at step positions "
            f"{[p + 1 for p in moved]}, which a plain stack cannot express (a position before the first layer, or "
            f"two indices on one state). Use painters.apply instead."
        )
    return moved
