"""Where each supported architecture keeps its layers, as data: one small entry per architecture.

To add an architecture, add an :class:`Architecture` to :data:`ARCHITECTURES` (or call :func:`register`). Paths are
dotted attribute paths from the model's ``base_model`` (``model.base_model``, e.g. ``LlamaModel`` inside
``LlamaForCausalLM``). Models not in the table fall back to a finder: the one ``nn.ModuleList`` whose children
are all ``GradientCheckpointingLayer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import nn

from painters.errors import UnsupportedModelError

Kind = Literal["vision", "encoder", "decoder", "staged-vision"]


@dataclass(frozen=True)
class Architecture:
    """How painters drives one architecture.

    Attributes:
        name: the architecture's ``config.model_type``.
        kind: ``"decoder"`` (causal LM with a KV cache), ``"encoder"`` (BERT-like text encoder), ``"vision"``,
            or ``"staged-vision"`` (several layer lists, one per stage; a stage must be named).
        layers: dotted path from ``base_model`` to the layer ``nn.ModuleList``; ``{stage}`` is filled in for staged
            models.
        attention: dotted path inside one layer to the module whose ``layer_idx`` picks its KV-cache slot.
        slots_in_config: the model sizes its loop and KV cache from ``config.num_hidden_layers`` (and
            ``config.layer_types`` where present): these are patched to the plan's slots while it is active.
        mid_embeddings: YOLOS-style mid position embeddings added after each layer by loop position.
        records_layer_outputs: ``output_hidden_states`` records each layer call's output (False where the model
            records something else, e.g. SegFormer's stage outputs).
        stages: dotted path from ``base_model`` to the stage list (staged models only).
    """

    name: str
    kind: Kind
    layers: str
    attention: str | None = None
    slots_in_config: bool = False
    mid_embeddings: bool = False
    records_layer_outputs: bool = True
    stages: str | None = None


ARCHITECTURES: dict[str, Architecture] = {}


def register(arch: Architecture) -> Architecture:
    """Add (or replace) the entry for ``arch.name``."""
    ARCHITECTURES[arch.name] = arch
    return arch


for _arch in (
    Architecture("vit", "vision", "layers"),
    Architecture("deit", "vision", "layers"),
    Architecture("yolos", "vision", "encoder.layer", mid_embeddings=True),
    Architecture("dpt", "vision", "encoder.layer"),
    Architecture("segformer", "staged-vision", "stages.{stage}.blocks", records_layer_outputs=False, stages="stages"),
    Architecture("gpt2", "decoder", "h", attention="attn", slots_in_config=True),
    Architecture("llama", "decoder", "layers", attention="self_attn", slots_in_config=True),
    Architecture("mistral", "decoder", "layers", attention="self_attn", slots_in_config=True),
    Architecture("qwen2", "decoder", "layers", attention="self_attn", slots_in_config=True),
    Architecture("gpt_neox", "decoder", "layers", attention="attention", slots_in_config=True),
    Architecture("bert", "encoder", "encoder.layer", attention="attention.self"),
):
    register(_arch)


@dataclass(frozen=True)
class Located:
    """A layer list found in a model: its owner, attribute name, the list, and the architecture entry."""

    arch: Architecture
    parent: nn.Module
    attr: str
    modules: nn.ModuleList
    path: str
    stage: int | None = None


def _get(obj: object, dotted: str) -> object:
    for part in dotted.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)  # type: ignore[index]
    return obj


def _base(model: nn.Module) -> nn.Module:
    return getattr(model, "base_model", model)


def architecture_of(model: nn.Module) -> Architecture:
    """The table entry for ``model`` (by ``config.model_type``), or a fallback entry from the generic finder."""
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type in ARCHITECTURES:
        return ARCHITECTURES[model_type]
    path = _find_layer_list(model)
    return Architecture(str(model_type or type(model).__name__), _guess_kind(model), path,
                        attention=_find_attention(_get(_base(model), path)[0]),
                        slots_in_config=_guess_kind(model) == "decoder")


def locate(model: nn.Module, stage: int | None = None) -> Located:
    """Find the layer list of ``model`` (for staged models, of ``stage``), raising a clear error when unsupported."""
    arch = architecture_of(model)
    base = _base(model)
    if arch.stages is not None:
        stages = _get(base, arch.stages)
        depths = [len(s.blocks) if hasattr(s, "blocks") else "?" for s in stages]  # type: ignore[union-attr]
        if stage is None or isinstance(stage, bool) or not isinstance(stage, int) or not 0 <= stage < len(stages):
            raise UnsupportedModelError(
                f"{type(model).__name__} keeps its layers in {len(stages)} stages with depths {depths}: name one with "
                f"stage=0..{len(stages) - 1} (got stage={stage!r}), e.g. painters.apply(model, op, stage=2)."
            )
        path = arch.layers.format(stage=stage)
    else:
        if stage is not None:
            raise UnsupportedModelError(
                f"{type(model).__name__} has a single layer stack; stage={stage!r} is only for staged models "
                f"(SegFormer). Drop the stage argument."
            )
        path = arch.layers
    parent_path, _, attr = path.rpartition(".")
    parent = _get(base, parent_path) if parent_path else base
    modules = getattr(parent, attr, None)
    if not isinstance(modules, nn.ModuleList):
        raise UnsupportedModelError(
            f"{type(model).__name__}: expected the layer list at '{path}' (architecture {arch.name!r}), found "
            f"{type(modules).__name__}. Supported: {', '.join(sorted(ARCHITECTURES))}."
        )
    return Located(arch, parent, attr, modules, path, stage)


def _is_layer(module: nn.Module) -> bool:
    try:
        from transformers.modeling_layers import GradientCheckpointingLayer
    except ImportError:  # pragma: no cover
        return False
    return isinstance(module, GradientCheckpointingLayer)


def _find_layer_list(model: nn.Module) -> str:
    base = _base(model)
    found = [name for name, m in base.named_modules()
             if isinstance(m, nn.ModuleList) and len(m) > 0 and all(_is_layer(c) for c in m)]
    if len(found) != 1:
        what = "no" if not found else f"{len(found)} ({', '.join(found)})"
        raise UnsupportedModelError(
            f"{type(model).__name__} (model_type {getattr(getattr(model, 'config', None), 'model_type', None)!r}) "
            f"is not a supported architecture and the layer finder found {what} candidate layer lists. "
            f"Supported: {', '.join(sorted(ARCHITECTURES))}; to add one, register a painters.architectures."
            f"Architecture naming its layer list."
        )
    return found[0]


def _find_attention(layer: nn.Module) -> str | None:
    for name, m in layer.named_modules():
        if name and isinstance(getattr(m, "layer_idx", None), int):
            return name
    return None


def _guess_kind(model: nn.Module) -> Kind:
    config = getattr(model, "config", None)
    if getattr(config, "is_decoder", False) or type(model).__name__.endswith("ForCausalLM"):
        return "decoder"
    return "encoder" if hasattr(config, "vocab_size") else "vision"
