"""The independent oracle of the architecture coverage test: a STATIC model holding the plan's layers as plain copies.

transformers builds a fresh model from a config that describes the new stack (``num_hidden_layers`` = number of
steps, every per-layer config list re-indexed), so the scaffolding (rotary tables, masks, caches) is sized by the
library itself; its non-layer weights are the original's, and its layer list is replaced by deep copies of the
original layers in the plan's order (a layer keeps everything it computes with). The one thing a copy must change is
bookkeeping of where it sits: each integer ``layer_idx``-like attribute takes the value transformers gave the fresh
layer at that position. Nothing here uses painters' executor.
"""

from __future__ import annotations

import copy
import re

import torch
from torch import nn

INDEX = re.compile(r"^(layer|block)_?(idx|id|index|num|number)$")
SKIP_LISTS = {"architectures", "out_features", "out_indices", "backbone_out_indices", "image_size", "patch_size",
              "depths", "hidden_sizes"}


def _get(obj, dotted: str):
    for part in dotted.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def _lists(config, num_layers: int) -> dict[str, list]:
    out = {}
    for key, value in vars(config).items():
        if (not key.startswith("_") and key not in SKIP_LISTS and isinstance(value, (list, tuple))
                and len(value) == num_layers):
            out[key] = list(value)
    return out


def rebuild(model: nn.Module, full: str, steps: list[int], config_path: str = "", stage: int | None = None,
            virtual: list[nn.Module] | None = None) -> nn.Module:
    """A new model equal to ``model`` with the layer list at ``full`` (a dotted path from ``model``) replaced by
    copies of the original layers ``steps`` (each position's index bookkeeping set as transformers sets it there).

    ``config_path`` leads from ``model.config`` to the config that describes the list (``""`` for the model's own,
    ``"vision_config"`` for a tower); the fresh model is built from ``model.config`` with that config edited.
    ``stage``: a staged model's stage (its entry of ``config.depths`` changes instead). ``virtual``: ALBERT-style
    shared groups, the module of every call (one group per step is built).
    """
    originals = virtual if virtual is not None else list(_get(model, full))
    num = len(originals)
    config = copy.deepcopy(model.config)
    sub = _get(config, config_path) if config_path else config
    if stage is not None:
        depths = list(sub.depths)
        depths[stage] = len(steps)
        sub.depths = depths
    elif virtual is not None:
        sub.num_hidden_layers = sub.num_hidden_groups = len(steps)
    else:
        for key, values in _lists(sub, num).items():
            setattr(sub, key, [values[i] for i in steps])
        sub.num_hidden_layers = len(steps)
    torch.manual_seed(0)
    fresh = type(model)(config).eval()
    fresh_layers = list(_get(fresh, full)) if steps else []
    mine = fresh.state_dict()
    state = {k: v for k, v in model.state_dict().items()
             if not k.startswith(full + ".") and k in mine and mine[k].shape == v.shape}
    fresh.load_state_dict(state, strict=False)
    _mid_embeddings(model, fresh, steps, num)
    copies = []
    for j, i in enumerate(steps):
        layer = copy.deepcopy(originals[i])
        fresh_modules = dict(fresh_layers[j].named_modules()) if j < len(fresh_layers) else {}
        for path, module in layer.named_modules():
            for name, value in list(vars(module).items()):
                if isinstance(value, int) and not isinstance(value, bool) and INDEX.match(name):
                    twin = fresh_modules.get(path)
                    new = getattr(twin, name, None) if twin is not None else None
                    setattr(module, name, new if isinstance(new, int) else j + (value - i))
        copies.append(layer)
    parent_path, _, attr = full.rpartition(".")
    parent = _get(fresh, parent_path) if parent_path else fresh
    parent._modules[attr] = nn.ModuleList(copies)
    return fresh


def _mid_embeddings(model: nn.Module, fresh: nn.Module, steps: list[int], num: int) -> None:
    """YOLOS adds a mid position embedding after every layer but the last: each follows its layer."""
    for name, module in model.named_modules():
        mid = getattr(module, "mid_position_embeddings", None)
        if isinstance(mid, nn.Parameter) and getattr(model.config, "use_mid_position_embeddings", False):
            rows = [mid.data[i] if i < num - 1 else torch.zeros_like(mid.data[0]) for i in steps[:-1]]
            target = fresh.get_submodule(name)
            target.mid_position_embeddings = nn.Parameter(torch.stack(rows) if rows else mid.data[:0].clone())
