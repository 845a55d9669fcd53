"""Writing a plan out as an ordinary model with copied weights (for ``save_pretrained``)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from painters.apply import _prepare, layer_modules
from painters.architectures import locate
from painters.errors import PlanError
from painters.ops import Op, Wrapped
from painters.plan import resolve


def materialize(model: nn.Module, *ops: Op, stage: int | None = None, tower: str | None = None) -> nn.Module:
    """A new model whose layer stack is the plan's steps as plain copied layers; ``model`` is untouched.

    Every plan but parallel groups can be written this way. Each step gets its own copy of the layer's weights
    (a repeated layer becomes independent copies); every position attribute (``layer_idx``, ``layer_id``, ...), every
    per-layer config list and ``config.num_hidden_layers`` follow the new order; YOLOS mid position embeddings follow
    their layers, DPT's ``backbone_out_indices`` move to the same original boundaries, and an ALBERT-style shared
    group becomes one group per step.
    """
    located = locate(model, stage, tower)
    modules = layer_modules(located)
    result = resolve(len(modules), ops)
    prepared = _prepare(located, modules, result)
    if result.has_wrapped:
        kinds = sorted({s.kind for s in result.steps if isinstance(s, Wrapped)})
        raise PlanError(f"{result}: steps run as {', '.join(kinds)} change what a layer sees at run time and cannot be "
                        f"written as a plain layer stack; use painters.apply.")  # fmt: skip
    if result.has_parallel:
        raise PlanError(f"{result}: parallel groups cannot be written as a plain layer stack; use painters.apply.")
    if not result.steps:
        raise PlanError(f"{result}: the plan runs no layer; a model needs at least one layer to be materialized.")
    arch = located.arch
    steps: list[int] = list(result.steps)  # type: ignore[arg-type]
    new = copy.deepcopy(model)
    new_located = locate(new, stage, tower)
    old_layers = layer_modules(new_located)
    container = nn.Sequential if isinstance(new_located.modules, nn.Sequential) else nn.ModuleList
    stack = (
        container(*[copy.deepcopy(old_layers[i]) for i in steps])
        if container is nn.Sequential
        else nn.ModuleList([copy.deepcopy(old_layers[i]) for i in steps])
    )
    for slot, (layer, i) in enumerate(zip(stack, steps)):
        for attr in prepared.positions.per_layer[i]:
            setattr(layer.get_submodule(attr.path), attr.name, slot + attr.offset)
    if arch.zipped is not None:  # one list per part, in the plan's order
        for name in arch.zipped:
            new_located.parent._modules[name] = nn.ModuleList([layer.get_submodule(name) for layer in stack])
        for _owner, attr, value in prepared.marks:
            if not isinstance(value, list):
                setattr(new_located.parent, attr, len(steps))
    else:
        new_located.parent._modules[new_located.attr] = stack
    config = new_located.config
    if arch.kind == "staged-vision":
        depths = list(config.depths)
        depths[stage] = len(steps)  # type: ignore[index]
        config.depths = depths
        return new
    if arch.shared_groups is not None:
        config.num_hidden_layers = len(steps)
        setattr(config, arch.shared_groups, len(steps))
        return new
    config.num_hidden_layers = len(steps)
    for name, values in prepared.fields.items():
        wanted = [values[i] for i in steps]
        try:
            setattr(config, name, type(values)(wanted))
        except AttributeError:  # a read-only property: fine if it already gives the re-indexed list
            pass
        if list(getattr(config, name)) != wanted:
            raise PlanError(
                f"{result}: config.{name} is computed by {type(config).__name__} and cannot hold the re-indexed "
                f"per-layer list {wanted}; this plan cannot be written as a checkpoint. Use painters.apply instead."
            )
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
