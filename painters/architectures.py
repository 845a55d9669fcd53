"""Where each supported architecture keeps its layers, as data: one small entry per architecture.

To add an architecture, add an :class:`Architecture` to :data:`ARCHITECTURES` (or call :func:`register`). Paths are
dotted attribute paths from the model's ``base_model`` (``model.base_model``, e.g. ``LlamaModel`` inside
``LlamaForCausalLM``). Models not in the table fall back to a finder: the one ``nn.ModuleList`` whose children
are all ``GradientCheckpointingLayer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from torch import nn

from painters.errors import UnsupportedModelError
from painters.registry import Registry

Kind = Literal["vision", "encoder", "decoder", "staged-vision"]


@dataclass(frozen=True)
class Architecture:
    """How painters finds one architecture's layers. Everything else (cache slots, per-layer config lists, the layer
    count) is found generically in the model itself (:mod:`painters.positions`).

    Attributes:
        name: the architecture's ``config.model_type``.
        kind: ``"decoder"`` (causal LM with a KV cache), ``"encoder"`` (BERT-like text encoder), ``"vision"``,
            or ``"staged-vision"`` (several layer lists, one per stage; a stage must be named).
        layers: dotted path from ``base_model`` to the layer ``nn.ModuleList``; ``{stage}`` is filled in for staged
            models.
        mid_embeddings: YOLOS-style mid position embeddings added after each layer by loop position.
        records_layer_outputs: ``output_hidden_states`` records each layer call's output (False where the model
            records something else, e.g. SegFormer's stage outputs).
        stages: dotted path from ``base_model`` to the stage list (staged models only).
        shared_groups: ALBERT-style sharing: the list at ``layers`` holds ``config.<shared_groups>`` groups that the
            forward calls ``config.num_hidden_layers`` times; the layers painters manipulates are those calls.
        zipped: layers split across parallel lists (XLM): ``layers`` is the module holding them and ``zipped`` their
            names; layer ``i`` is the ``i``-th module of each.
    """

    name: str
    kind: Kind
    layers: str
    mid_embeddings: bool = False
    description: str = ""
    records_layer_outputs: bool = True
    stages: str | None = None
    shared_groups: str | None = None
    zipped: tuple[str, ...] | None = None

    def summary(self) -> str:
        """One line for listings: the kind and where the layers are."""
        where = f"{self.layers}" + (f" (one of {self.zipped})" if self.zipped else "")
        return self.description or f"{self.kind}: layers at {where}"


ARCHITECTURES: Registry[Architecture] = Registry("architecture")
"""The architectures painters knows by name (``config.model_type``); others are found generically."""


def register(arch: Architecture, replace: bool = False) -> Architecture:
    """Add the entry for ``arch.name`` (``replace=True`` to replace a registered one)."""
    return ARCHITECTURES.register(arch.name, arch, replace=replace)


for _arch in (
    Architecture("vit", "vision", "layers"),
    Architecture("deit", "vision", "layers"),
    Architecture("yolos", "vision", "encoder.layer", mid_embeddings=True),
    Architecture("dpt", "vision", "encoder.layer"),
    Architecture("segformer", "staged-vision", "stages.{stage}.blocks", records_layer_outputs=False, stages="stages"),
    Architecture("gpt2", "decoder", "h"),
    Architecture("llama", "decoder", "layers"),
    Architecture("mistral", "decoder", "layers"),
    Architecture("qwen2", "decoder", "layers"),
    Architecture("gpt_neox", "decoder", "layers"),
    Architecture("bert", "encoder", "encoder.layer"),
    Architecture("albert", "encoder", "encoder.albert_layer_groups", shared_groups="num_hidden_groups"),
):
    register(_arch)

TOWERS = {"vision": ("vision_model", "vision_tower", "vision_encoder"), "text": ("text_model", "text_encoder")}
"""Where two-tower models (CLIP, SigLIP, ...) keep each tower, by tower name."""

NOT_TRANSFORMERS = (
    "convnext",
    "convnextv2",
    "resnet",
    "regnet",
    "mobilenet_v1",
    "mobilenet_v2",
    "efficientnet",
    "bit",
    "van",
    "poolformer",
    "textnet",
    "hgnet_v2",
    "pp_lcnet",
)
"""Convolutional families: refused with that reason (they have no transformer layer stack)."""


@dataclass(frozen=True)
class Located:
    """A layer list found in a model: its owner, attribute name, the list, the architecture entry, and the config
    that describes the list (the tower's own config for a tower of a two-tower model)."""

    arch: Architecture
    parent: nn.Module
    attr: str
    modules: nn.ModuleList | nn.Sequential
    path: str
    stage: int | None = None
    config: Any = None
    tower: str | None = None


def _get(obj: object, dotted: str) -> object:
    for part in dotted.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)  # type: ignore[index]
    return obj


def _base(model: nn.Module) -> nn.Module:
    return getattr(model, "base_model", model)


def _model_type(module: nn.Module) -> str | None:
    return getattr(getattr(module, "config", None), "model_type", None)


def _tower_root(model: nn.Module, tower: str | None) -> nn.Module:
    base = _base(model)
    if tower is None:
        return base
    if tower not in TOWERS:
        raise UnsupportedModelError(f"tower={tower!r} is not one of {sorted(TOWERS)}.")
    for name in TOWERS[tower]:
        for owner in (model, base):
            found = getattr(owner, name, None)
            if isinstance(found, nn.Module):
                return found
    raise UnsupportedModelError(
        f"{type(model).__name__} has no {tower} tower (looked for {', '.join(TOWERS[tower])}); tower= is for two-tower "
        f"models such as CLIPModel and SiglipModel. Drop the tower argument."
    )


def _towers_of(model: nn.Module) -> list[str]:
    base = _base(model)
    return [
        t
        for t, names in TOWERS.items()
        if any(isinstance(getattr(o, n, None), nn.Module) for n in names for o in (model, base))
    ]


def architecture_of(model: nn.Module, tower: str | None = None) -> Architecture:
    """The table entry for ``model`` (by ``config.model_type``), or an entry made by the generic finder."""
    root = _tower_root(model, tower)
    model_type = _model_type(root) if tower else _model_type(model)
    if getattr(getattr(root, "config", None), "is_encoder_decoder", False):
        raise UnsupportedModelError(
            f"{type(model).__name__} (model_type {model_type!r}) is an encoder-decoder model: it has two layer stacks "
            f"joined by cross-attention, and painters drives single-stack transformers only."
        )
    if model_type in ARCHITECTURES:
        return ARCHITECTURES[model_type]
    if model_type in NOT_TRANSFORMERS:
        raise UnsupportedModelError(
            f"{type(model).__name__} (model_type {model_type!r}) is a convolutional network, not a transformer: it has "
            f"no stack of transformer layers for painters to skip, swap or repeat."
        )
    found = _find_layer_lists(root)
    if len(found) == 1:
        kind = _guess_kind(model) if tower is None else ("vision" if tower == "vision" else "encoder")
        return Architecture(str(model_type or type(model).__name__), kind, found[0])
    staged = _staged(found)
    if staged is not None:
        stages, inner = staged
        layers = f"{stages}.{{stage}}" + (f".{inner}" if inner else "")
        return Architecture(str(model_type), "staged-vision", layers, stages=stages)
    if not found:
        zipped = _find_zipped(root)
        if zipped is not None:
            owner, names = zipped
            kind = _guess_kind(model) if tower is None else ("vision" if tower == "vision" else "encoder")
            return Architecture(str(model_type), kind, owner, zipped=names)
    towers = _towers_of(model) if tower is None else []
    if len(towers) > 1:
        raise UnsupportedModelError(
            f"{type(model).__name__} has {len(towers)} towers ({', '.join(towers)}), each with its own layers: name "
            f"the one to manipulate, e.g. painters.apply(model, op, tower={towers[0]!r})."
        )
    what = "no" if not found else f"{len(found)} ({', '.join(found)})"
    hint = (
        "; several separate stacks cannot be told apart"
        if found
        else ": it has no list of transformer layers (GradientCheckpointingLayer modules)"
    )
    raise UnsupportedModelError(
        f"{type(model).__name__} (model_type {model_type!r}) is not a supported architecture and the layer finder "
        f"found {what} candidate layer lists{hint}. Supported by name: {', '.join(sorted(ARCHITECTURES))}, plus "
        f"single-stack transformers found generically; to add one, register a painters.architectures.Architecture "
        f"naming its layer list."
    )


def locate(model: nn.Module, stage: int | None = None, tower: str | None = None) -> Located:
    """Find the layer list of ``model`` (for staged models, of ``stage``; for two-tower models, of ``tower``),
    raising a clear :class:`UnsupportedModelError` when painters cannot drive it exactly."""
    arch = architecture_of(model, tower)
    base = _tower_root(model, tower)
    if arch.stages is not None:
        depths = stage_depths(base, arch)
        if not depths:
            raise UnsupportedModelError(
                f"{type(model).__name__} (model_type {arch.name!r}) has stages but none holds transformer layers "
                f"(blocks with attention): painters drives transformer layer stacks only."
            )
        if stage is None or isinstance(stage, bool) or not isinstance(stage, int) or stage not in depths:
            deepest = max(depths, key=lambda k: depths[k])
            names = list(depths)
            allowed = f"stage=0..{len(names) - 1}" if names == list(range(len(names))) else f"stage in {names}"
            raise UnsupportedModelError(
                f"{type(model).__name__} keeps its layers in {len(depths)} stages with depths "
                f"{list(depths.values())}: name one with {allowed} (got stage={stage!r}), e.g. "
                f"painters.apply(model, op, stage={deepest}) for the deepest."
            )
        path = arch.layers.format(stage=stage)
    else:
        if stage is not None:
            raise UnsupportedModelError(
                f"{type(model).__name__} has a single layer stack; stage={stage!r} is only for staged models "
                f"(SegFormer, Swin, ...). Drop the stage argument."
            )
        path = arch.layers
    if arch.zipped is not None:  # the lists' owner; its lists hold the layers' parts
        owner = _get(base, path) if path else base
        first = getattr(owner, arch.zipped[0])
        return Located(arch, owner, "", first, path, stage, _config_of(model, base, owner), tower)
    parent_path, _, attr = path.rpartition(".")
    parent = _get(base, parent_path) if parent_path else base
    modules = getattr(parent, attr, None)
    if not isinstance(modules, (nn.ModuleList, nn.Sequential)):
        raise UnsupportedModelError(
            f"{type(model).__name__}: expected the layer list at '{path}' (architecture {arch.name!r}), found "
            f"{type(modules).__name__}. Supported: {', '.join(sorted(ARCHITECTURES))}."
        )
    return Located(arch, parent, attr, modules, path, stage, _config_of(model, base, parent), tower)


def stage_depths(root: nn.Module, arch: Architecture) -> dict[int, int]:
    """``{stage: number of layers}`` of a staged architecture (stages without a layer list left out)."""
    stages = _get(root, arch.stages)  # type: ignore[arg-type]
    inner = arch.layers.split("{stage}", 1)[1].lstrip(".")
    out = {}
    for k, stage in enumerate(stages):  # type: ignore[arg-type]
        try:
            layers = _get(stage, inner) if inner else stage
        except AttributeError:
            continue
        if isinstance(layers, LAYER_CONTAINERS) and len(layers) and _is_layer_list(layers, _looks_like_layer):
            out[k] = len(layers)
    return out


def _config_of(model: nn.Module, root: nn.Module, parent: nn.Module) -> Any:
    """The config that describes the layer list: the list owner's, else the tower's, else the model's."""
    for module in (parent, root, model):
        config = getattr(module, "config", None)
        if config is not None:
            return config
    return None


def _is_layer(module: nn.Module) -> bool:
    try:
        from transformers.modeling_layers import GradientCheckpointingLayer
    except ImportError:  # pragma: no cover
        return False
    return isinstance(module, GradientCheckpointingLayer)


_LAYER_CLASS = re.compile(r"(Layer|Block|Module)$")
_NOT_LAYER_CLASS = re.compile(r"(Norm|Embedding|Embeddings|Pooler|Head|Attention|FFN|Dropout)$")


LAYER_CONTAINERS = (nn.ModuleList, nn.Sequential)


def _named_like_layer(module: nn.Module) -> bool:
    name = type(module).__name__
    return (_is_layer(module) or bool(_LAYER_CLASS.search(name) and not _NOT_LAYER_CLASS.search(name))) and any(
        True for _ in module.parameters()
    )


def _has_attention(module: nn.Module) -> bool:
    return any(re.search("Attention|Attn|Modulation", type(m).__name__) for m in module.modules())


def _looks_like_layer(module: nn.Module) -> bool:
    """Older models' layers are plain modules: a class named ``...Layer``/``...Block`` that holds weights and an
    attention module (convolutional blocks are not transformer layers)."""
    return _named_like_layer(module) and _has_attention(module)


def _is_layer_list(container: nn.Module, predicate) -> bool:
    """Every child passes ``predicate``, or (a hybrid stack, e.g. conv mixers between attention layers) every child
    is named like a layer and some have attention."""
    children = list(container)
    if all(predicate(c) for c in children):
        return True
    return (
        predicate is _looks_like_layer
        and all(_named_like_layer(c) for c in children)
        and any(_has_attention(c) for c in children)
    )


def _lists(root: nn.Module, predicate) -> list[str]:
    return [
        name
        for name, m in root.named_modules()
        if name and isinstance(m, LAYER_CONTAINERS) and len(m) > 0 and _is_layer_list(m, predicate)
    ]


def _innermost(found: list[str]) -> list[str]:
    """Leave out lists of stages: a list whose children hold candidate lists themselves."""
    return [name for name in found if not any(other.startswith(name + ".") for other in found)]


def _find_layer_lists(root: nn.Module) -> list[str]:
    """Paths of the ``nn.ModuleList`` s of transformer layers: lists of ``GradientCheckpointingLayer`` first (with a
    list of stages replaced by the block lists inside its stages), else lists of modules named like layers."""
    strict = _innermost(_lists(root, _is_layer))
    relaxed = _innermost(_lists(root, _looks_like_layer))
    if not strict:
        return relaxed
    inner = [r for r in relaxed if any(r.startswith(s + ".") for s in strict)]
    if inner and _staged(inner) is not None:  # the GradientCheckpointingLayers are stages holding block lists
        return inner
    return strict


def _find_zipped(root: nn.Module) -> tuple[str, tuple[str, ...]] | None:
    """``(owner path, list names)`` of a module holding two or more ``nn.ModuleList`` s of one length whose
    i-th entries together make layer i (XLM's ``attentions``, ``layer_norm1``, ``ffns``, ``layer_norm2``)."""
    found = []
    for path, module in root.named_modules():
        lists = {n: c for n, c in module.named_children() if isinstance(c, nn.ModuleList) and len(c) > 1}
        lengths = {len(c) for c in lists.values()}
        if len(lists) >= 2 and len(lengths) == 1 and any(_has_attention(c) for c in lists.values()):
            found.append((path, tuple(lists)))
    return found[0] if len(found) == 1 else None


def _staged(found: list[str]) -> tuple[str, str] | None:
    """``(stages, inner)`` when every candidate is ``<stages>.<k>.<inner>`` (or ``<stages>.<k>``) for distinct stage
    numbers k (Swin, FocalNet, PVT, ...); the layer path is then ``<stages>.{stage}.<inner>``."""
    if len(found) < 2:
        return None
    parts = [re.fullmatch(r"(.+?)\.(\d+)(?:\.(.+))?", name) for name in found]
    if not all(parts) or len({(m[1], m[3]) for m in parts}) != 1:  # type: ignore[index]
        return None
    return parts[0][1], parts[0][3] or ""  # type: ignore[index]


def _guess_kind(model: nn.Module) -> Kind:
    config = getattr(model, "config", None)
    if getattr(config, "is_decoder", False) or type(model).__name__.endswith(("ForCausalLM", "LMHeadModel")):
        return "decoder"
    return "encoder" if hasattr(config, "vocab_size") else "vision"
