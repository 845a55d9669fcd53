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
SKIP_LISTS = {
    "architectures",
    "out_features",
    "out_indices",
    "backbone_out_indices",
    "image_size",
    "patch_size",
    "depths",
    "hidden_sizes",
}


def _get(obj, dotted: str):
    for part in dotted.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def _lists(config, num_layers: int) -> dict[str, list]:
    out = {}
    for key, value in vars(config).items():
        if (
            not key.startswith("_")
            and key not in SKIP_LISTS
            and isinstance(value, (list, tuple))
            and len(value) == num_layers
        ):
            out[key] = list(value)
    return out


def _computed_lists(config, num_layers: int) -> dict[str, list]:
    """Per-layer lists a config computes (read-only properties such as Jamba's ``layers_block_type``)."""
    out = {}
    for klass in type(config).__mro__:
        for key, value in vars(klass).items():
            if isinstance(value, property) and key not in out and key not in SKIP_LISTS and key != "per_layer_config":
                try:
                    got = getattr(config, key)
                except Exception:
                    continue
                if isinstance(got, (list, tuple)) and len(got) == num_layers:
                    out[key] = list(got)
    return out


def _with_lists(config, lists: dict[str, list]):
    """``config`` answering ``lists`` for those (computed) fields: a subclass made for this one config."""
    if not lists:
        return config
    klass = type(
        type(config).__name__, (type(config),), {k: property(lambda self, _v=v: list(_v)) for k, v in lists.items()}
    )
    object.__setattr__(config, "__class__", klass)
    return config


def rebuild(
    model: nn.Module,
    full: str,
    steps: list[int],
    config_path: str = "",
    stage: int | None = None,
    virtual: list[nn.Module] | None = None,
    config=None,
    zipped: tuple[str, ...] | None = None,
) -> nn.Module:
    """A new model equal to ``model`` with the layer list at ``full`` (a dotted path from ``model``) replaced by
    copies of the original layers ``steps`` (each position's index bookkeeping set as transformers sets it there).

    ``config_path`` leads from ``model.config`` to the config that describes the list (``""`` for the model's own,
    ``"vision_config"`` for a tower); the fresh model is built from ``model.config`` with that config edited.
    ``stage``: a staged model's stage (its entry of ``config.depths`` changes instead). ``virtual``: ALBERT-style
    shared groups, the module of every call (one group per step is built). ``zipped``: layers split across parallel
    lists (XLM) under the module at ``full``: each list is rebuilt.
    """
    if zipped is not None:
        fresh = rebuild(model, f"{full}.{zipped[0]}", steps, config_path, config=config)
        for name in zipped[1:]:
            originals = list(_get(model, f"{full}.{name}"))
            twins = list(_get(fresh, f"{full}.{name}"))
            _get(fresh, full)._modules[name] = nn.ModuleList(
                [_placed(originals[i], i, j, twins[j] if j < len(twins) else None) for j, i in enumerate(steps)]
            )
        return fresh
    originals = virtual if virtual is not None else list(_get(model, full))
    num = len(originals)
    if config is not None:  # the config object that describes the list: find where it sits in model.config
        config_path = _config_path(model.config, config) or config_path
    config = copy.deepcopy(model.config)
    sub = _get(config, config_path) if config_path else config
    if stage is not None:
        key = "depths" if hasattr(sub, "depths") else "depth"
        depths = list(getattr(sub, key))
        depths[stage] = len(steps)
        setattr(sub, key, depths)
    elif virtual is not None:
        sub.num_hidden_layers = sub.num_hidden_groups = len(steps)
    else:
        per = sub.num_hidden_layers // num if sub.num_hidden_layers % num == 0 else 1  # cache slots per layer
        order = [per * i + r for i in steps for r in range(per)]
        computed = _computed_lists(sub, num * per)
        for key, values in _lists(sub, num * per).items():
            setattr(sub, key, [values[i] for i in order])
        spec = vars(sub).get("_heterogeneity_spec")
        sub.num_hidden_layers = len(steps) * per
        _with_lists(sub, {k: [v[i] for i in order] for k, v in computed.items()})
        if spec is not None:  # heterogeneous config: each layer's overrides go with it
            overrides = spec.per_layer_overrides
            sub.per_layer_config = {j: copy.deepcopy(overrides[i]) for j, i in enumerate(steps) if i in overrides}
    torch.manual_seed(0)
    fresh = type(model)(config).eval()
    fresh_layers = list(_get(fresh, full)) if steps else []
    mine = fresh.state_dict()
    state = {
        k: v
        for k, v in model.state_dict().items()
        if not k.startswith(full + ".") and k in mine and mine[k].shape == v.shape
    }
    fresh.load_state_dict(state, strict=False)
    _mid_embeddings(model, fresh, steps, num)
    copies = [
        _placed(originals[i], i, j, fresh_layers[j] if j < len(fresh_layers) else None) for j, i in enumerate(steps)
    ]
    parent_path, _, attr = full.rpartition(".")
    parent = _get(fresh, parent_path) if parent_path else fresh
    sequential = isinstance(_get(model, full), nn.Sequential)
    parent._modules[attr] = nn.Sequential(*copies) if sequential else nn.ModuleList(copies)
    return fresh


def _placed(original: nn.Module, i: int, j: int, twin: nn.Module | None) -> nn.Module:
    """A copy of layer ``i`` placed at position ``j``: its index bookkeeping as transformers set it on ``twin``, the
    layer it built at ``j``."""
    layer = copy.deepcopy(original)
    fresh_modules = dict(twin.named_modules()) if twin is not None else {}
    for path, module in layer.named_modules():
        for name, value in list(vars(module).items()):
            if isinstance(value, int) and not isinstance(value, bool) and INDEX.match(name):
                other = fresh_modules.get(path)
                new = getattr(other, name, None) if other is not None else None
                setattr(module, name, new if isinstance(new, int) else j + (value - i))
    return layer


def _mid_embeddings(model: nn.Module, fresh: nn.Module, steps: list[int], num: int) -> None:
    """YOLOS adds a mid position embedding after every layer but the last: each follows its layer."""
    for name, module in model.named_modules():
        mid = getattr(module, "mid_position_embeddings", None)
        if isinstance(mid, nn.Parameter) and getattr(model.config, "use_mid_position_embeddings", False):
            rows = [mid.data[i] if i < num - 1 else torch.zeros_like(mid.data[0]) for i in steps[:-1]]
            target = fresh.get_submodule(name)
            target.mid_position_embeddings = nn.Parameter(torch.stack(rows) if rows else mid.data[:0].clone())


def _config_path(root, target, prefix: str = "") -> str | None:
    if root is target:
        return prefix
    for key, value in vars(root).items():
        if hasattr(value, "to_dict") and hasattr(value, "model_type") and not key.startswith("__"):
            found = _config_path(value, target, f"{prefix}.{key}" if prefix else key)
            if found is not None:
                return found
    return None
