"""What in a model encodes a layer's position, found generically, and how a plan rebinds it.

A layer list of ``T`` layers is run by a plan as a sequence of calls; call ``c`` is given KV-cache/state slot ``c``
(see :func:`painters.executor.assign_slots`). Three things in a Hugging Face model can tie a layer to its position,
and painters handles each one for every model, whatever its kind:

* **position attributes**: integers inside a layer's modules named like ``layer_idx``, ``layer_id``,
  ``layer_index``, ``layer_number``, ``block_id``, equal to the layer's index (plus a constant offset): they pick a
  cache or state slot, so each call rebinds them to its slot (per layer, never taken from layer 0);
* **per-layer config lists**: config fields with one entry per layer (``layer_types``, ``layer_rope_theta``,
  ``layers_block_type``, ... including read-only properties) that the forward reads by loop position: they are
  re-indexed by slot (a property is overridden on a per-instance subclass of the config);
* **the layer count**: ``config.num_hidden_layers`` sizes loops and caches: it becomes the number of slots.

Layers that refer to *another* layer by index (a KV cache shared between layers), a module shared by several layers
that carries a position attribute, and layer math that depends on the position itself are refused with the reason.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import weakref
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from painters.errors import UnsupportedModelError

POSITION_NAME = re.compile(r"^(layer|block)_?(idx|id|index|num|number)$")
"""Attribute names that hold a layer's position (``layer_idx``, ``layer_id``, ``block_index``, ...)."""

REFERENCE_NAME = re.compile(r"(layer|block)_?(idx|id|index|num|number)$")
"""Attribute names that may point at a layer by index (``kv_shared_layer_index``): checked, never rebound."""

COUNT_NAME = re.compile(r"^(n_layers|n_layer|num_layers|num_hidden_layers)$")
"""Layer counts a module copied from its config at init (XLM's ``self.n_layers``): they follow the plan's length."""

NOT_PER_LAYER = frozenset(
    {
        "architectures",
        "out_features",
        "out_indices",
        "backbone_out_indices",
        "image_size",
        "patch_size",
        "stage_names",
        "mrope_section",
        "image_mean",
        "image_std",
        "neck_hidden_sizes",
        "reassemble_factors",
        "bad_words_ids",
        "suppress_tokens",
        "begin_suppress_tokens",
        "forced_decoder_ids",
        "depths",
        "hidden_sizes",
    }
)
"""Config lists that are never one entry per layer, even when their length happens to equal the layer count."""

POSITION_MATH = {
    "scale_attn_by_inverse_layer_idx": "divides attention scores by (layer index + 1), read at every call",
    "num_kv_shared_layers": "lets the last layers reuse the KV cache of earlier layers, chosen by index",
    "hidden_size_per_layer_input": "feeds every layer its own slice of a per-layer embedding, chosen by loop position",
    "rescale_every": "halves the hidden state every rescale_every layers by loop position while layer weights were "
    "rescaled by their own index",
    "kv_sharing_modes": "lets layers reuse the KV cache of an earlier layer of the same type ('reuse' entries)",
    "hybrid_layer_ids": "gives the layers at these indices their own adapters of a shared block, looked up by index",
}
"""Config flags (when truthy) under which a layer's own computation depends on where it runs: refused."""


@dataclass(frozen=True)
class PositionAttr:
    """An integer attribute ``module.name`` holding ``scale * layer index + offset`` (scale 1 almost always; 2 where
    a layer owns two cache slots, as LongCat-Flash's two attention modules per layer)."""

    module: nn.Module
    name: str
    offset: int
    path: str = ""
    scale: int = 1

    def value(self, slot: int) -> int:
        return self.scale * slot + self.offset


@dataclass
class LayerPositions:
    """The position attributes of every layer of a list (``per_layer[i]`` for layer ``i``)."""

    per_layer: list[list[PositionAttr]] = field(default_factory=list)

    def bind(self, layer: int, slot: int) -> list[tuple[nn.Module, str, Any]]:
        """Set layer ``layer``'s position attributes to ``slot``; returns what :func:`unbind` needs."""
        saved = []
        for attr in self.per_layer[layer]:
            saved.append((attr.module, attr.name, attr.module.__dict__[attr.name]))
            attr.module.__dict__[attr.name] = attr.value(slot)
        return saved

    @staticmethod
    def unbind(saved: list[tuple[nn.Module, str, Any]]) -> None:
        for module, name, value in reversed(saved):
            module.__dict__[name] = value

    @property
    def scales(self) -> set[int]:
        """The scales of the position attributes: 2 where a layer owns two cache slots (1 is always included)."""
        return {1} | {a.scale for layer in self.per_layer for a in layer}


def _int_attrs(module: nn.Module, pattern: re.Pattern) -> dict[str, int]:
    return {
        k: v for k, v in vars(module).items() if isinstance(v, int) and not isinstance(v, bool) and pattern.search(k)
    }


class ModuleStates:
    """Recurrent state a layer keeps in its own modules between calls (RecurrentGemma's ``conv1d_state`` and
    ``recurrent_states``), kept per cache slot so that a layer called twice in one forward (repeat, parallel) keeps
    one state per call, exactly like two copies of the layer would.

    A value written from outside a layer call (the model's cache setup at the start of a generation) resets every
    slot to it.
    """

    def __init__(self, attrs: list[tuple[nn.Module, str]]):
        self.attrs = attrs
        self.slots: dict[int, list[Any]] = {}
        self.reset = [m.__dict__.get(n) for m, n in attrs]
        self.written: list[Any] = list(self.reset)

    def bind(self, slot: int) -> None:
        current = [m.__dict__.get(n) for m, n in self.attrs]
        if any(c is not w for c, w in zip(current, self.written)):  # set from outside: a new sequence
            self.slots.clear()
            self.reset = current
        for (module, name), value in zip(self.attrs, self.slots.get(slot, self.reset)):
            module.__dict__[name] = value

    def unbind(self, slot: int) -> None:
        self.written = [m.__dict__.get(n) for m, n in self.attrs]
        self.slots[slot] = list(self.written)


_STATE_ATTRS: weakref.WeakKeyDictionary[nn.Module, list[tuple[nn.Module, str]]] = weakref.WeakKeyDictionary()
"""Per layer module, its recurrent-state attributes (found once: a walk over every submodule is not per-call work)."""


def module_states(layer: nn.Module) -> ModuleStates | None:
    """The recurrent-state attributes of a layer's modules (``None``/tensor attributes named ``*state*`` that are not
    parameters or buffers), fresh per-slot storage for them, or None when the layer keeps none."""
    attrs = _STATE_ATTRS.get(layer)
    if attrs is None:
        attrs = []
        for _, module in layer.named_modules():
            registered = set(module._parameters) | set(module._buffers)
            for name, value in vars(module).items():
                if "state" in name and name not in registered and (value is None or isinstance(value, torch.Tensor)):
                    attrs.append((module, name))
        _STATE_ATTRS[layer] = attrs
    return ModuleStates(attrs) if attrs else None


_POSITIONS: weakref.WeakKeyDictionary[nn.Module, tuple[tuple[int, ...], LayerPositions]] = weakref.WeakKeyDictionary()


def cached_positions(container: nn.Module, layers: list[nn.Module]) -> LayerPositions:
    """:func:`find_positions` of ``layers``, remembered per layer ``container``: a sweep opens a plan per variant and
    batch, and walking every submodule each time cost 1-2 ms per plan. The cache holds while the container holds the
    same layers and every position attribute still holds its layer's value."""
    key = tuple(id(m) for m in layers)
    hit = _POSITIONS.get(container)
    if (
        hit is not None
        and hit[0] == key
        and all(
            attr.module.__dict__.get(attr.name) == attr.value(i)
            for i, per in enumerate(hit[1].per_layer)
            for attr in per
        )
    ):
        return hit[1]
    found = find_positions(layers)
    _POSITIONS[container] = (key, found)
    return found


def find_positions(layers: list[nn.Module], what: str = "layer") -> LayerPositions:
    """Position attributes of each layer, checked for consistency across the list.

    An attribute (same path inside the layer, same name) is a position attribute when its value minus the layer's
    index is the same for every layer that has it; equal values on every layer are a constant and left alone;
    anything else means a layer points at another layer by index, which painters cannot rebind: refused.
    """
    owners: dict[int, set[int]] = {}
    groups: dict[tuple[str, str], list[tuple[int, nn.Module, int]]] = {}
    for i, layer in enumerate(layers):
        for path, module in layer.named_modules():
            owners.setdefault(id(module), set()).add(i)
            for name, value in _int_attrs(module, REFERENCE_NAME).items():
                groups.setdefault((path, name), []).append((i, module, value))
    for layer in layers:
        for path, module in layer.named_modules():
            shared = sorted(owners[id(module)])
            if (
                path
                and len(shared) > 1
                and any(True for _ in module.parameters(recurse=False))
                and len({id(layers[j]) for j in shared}) > 1
            ):
                raise UnsupportedModelError(
                    f"{what}s {shared} share the module '{path}' and its weights (a block shared across {what}s, as "
                    f"in Zamba): what a {what} computes then depends on which position reaches the shared block. "
                    f"painters refuses this model rather than run it wrong."
                )
    result = LayerPositions([[] for _ in layers])
    for (path, name), found in groups.items():
        values = {value for _, _, value in found}
        where = f"{path + '.' if path else ''}{name}"
        if len(found) > 1 and len(values) == 1:
            continue  # the same number on every layer: not a position
        scale = _scale(found)
        offsets = {value - scale * i for i, _, value in found}
        if len(offsets) != 1 or not POSITION_NAME.match(name):
            detail = ", ".join(f"{what} {i}: {value}" for i, _, value in found[:6])
            raise UnsupportedModelError(
                f"the {what}s carry '{where}' ({detail}), which points at other {what}s by index (e.g. a KV cache "
                f"shared between {what}s): reordering would change which {what} reads which cache. painters refuses "
                f"this model rather than run it wrong."
            )
        (offset,) = offsets
        for i, module, _ in found:
            if len(owners[id(module)]) > 1:
                shared = sorted(owners[id(module)])
                raise UnsupportedModelError(
                    f"module '{where}' carries a position index but is shared by {what}s {shared}: one module "
                    f"cannot take a different slot per call. painters refuses this model rather than run it wrong."
                )
            result.per_layer[i].append(PositionAttr(module, name, offset, path, scale))
    return result


def owner_marks(owner: nn.Module, num_layers: int) -> list[tuple[nn.Module, str, int]]:
    """What the module that runs the layer loop holds per position: lists with one entry per layer (re-indexed by
    slot like config lists), and index attributes (e.g. Gemma 4's ``first_kv_shared_layer_idx``): one equal to the
    layer count means "past the last layer" and follows the plan's length; one pointing inside the stack marks a
    layer by loop position, which painters refuses."""
    marks: list[tuple[nn.Module, str, Any]] = []
    for name, value in vars(owner).items():  # per-layer lists the owner built at init (Molmo2's rope_types)
        if isinstance(value, list) and len(value) == num_layers and num_layers > 1 and not name.startswith("_"):
            marks.append((owner, name, list(value)))
    for name, value in _int_attrs(owner, COUNT_NAME).items():  # a loop count copied from the config (XLM)
        if value == num_layers:
            marks.append((owner, name, value))
    for name, value in _int_attrs(owner, REFERENCE_NAME).items():
        if value == num_layers:
            marks.append((owner, name, value))
        elif 0 <= value < num_layers:
            raise UnsupportedModelError(
                f"{type(owner).__name__}.{name}={value} marks layer {value} of the loop by position: a plan that moves "
                f"layers would apply it to another layer. painters refuses this model rather than run it wrong."
            )
    return marks


def _scale(found: list[tuple[int, nn.Module, int]]) -> int:
    """The step between consecutive layers' values (1, or 2 for two cache slots per layer)."""
    if len(found) < 2:
        return 1
    (i, _, a), (j, _, b) = found[0], found[1]
    step = (b - a) // (j - i) if j != i else 1
    return step if step >= 1 else 1


def _property_names(config: Any) -> set[str]:
    return _class_properties(type(config))


@functools.cache
def _class_properties(klass: type) -> frozenset[str]:
    return frozenset(name for k in klass.__mro__ for name, value in vars(k).items() if isinstance(value, property))


def per_layer_fields(config: Any, num_layers: int) -> dict[str, list]:
    """Config fields with one entry per layer (plain attributes and read-only properties), by name."""
    out: dict[str, list] = {}
    names = set(vars(config)) | _property_names(config)
    for name in sorted(names):
        if name.startswith("_") or name in NOT_PER_LAYER:
            continue
        try:
            value = getattr(config, name)
        except Exception:  # a property that cannot be computed for this config
            continue
        if isinstance(value, (list, tuple)) and len(value) == num_layers and num_layers > 1:
            out[name] = list(value)
    return out


LOOPED = ("loop_layer_index_start", "loop_start", "n_recurrent_loops")
"""Config fields of looped models (a span of layers run several times, bounded by position): refused when set."""


def check_position_math(config: Any) -> None:
    """Refuse configs whose flags make a layer's computation depend on its position."""
    for name in LOOPED:
        if getattr(config, name, None) is not None:
            raise UnsupportedModelError(
                f"{type(config).__name__}.{name}={getattr(config, name)!r}: the model loops over a span of layers "
                f"chosen by position (a looped block with its own cache layout); reordering its layers would change "
                f"which span loops. painters refuses it rather than run it wrong."
            )
    for name, why in POSITION_MATH.items():
        value = getattr(config, name, None)
        if isinstance(value, (list, tuple)):
            value = [v for v in value if v == "reuse"]
        if value and not isinstance(value, dict):
            raise UnsupportedModelError(
                f"{type(config).__name__}.{name}={value!r}: the model {why}, so a layer moved by a plan would "
                f"compute something else. painters refuses it rather than run it wrong."
            )


def heterogeneous_overrides(config: Any) -> dict[int, dict] | None:
    """transformers' heterogeneous configs (``config.per_layer_config``): the per-layer overrides by layer index."""
    spec = vars(config).get("_heterogeneity_spec")
    return dict(spec.per_layer_overrides) if spec is not None else None


class ConfigPatch:
    """Re-index per-layer config fields by slot and set the layer count, undone by :meth:`restore`."""

    def __init__(
        self, config: Any, fields: dict[str, list], slot_layers: list[int], count_field: str | None, per_layer: int = 1
    ):
        self.config = config
        self.original_class = type(config)
        self.saved: dict[str, Any] = {}
        self.properties = _property_names(config)
        overrides = {}
        for name, values in fields.items():
            new = [values[i] for i in slot_layers]
            if per_layer > 1:  # each entry holds the layer's own slots' values
                new = [v for chunk in new for v in chunk]
            if name in self.properties:
                overrides[name] = new
            else:
                self._set(name, type(getattr(config, name))(new) if isinstance(getattr(config, name), tuple) else new)
        if count_field is not None:
            self._set(count_field, len(slot_layers) * per_layer)
        per_layer_overrides = heterogeneous_overrides(config)
        if per_layer_overrides is not None:  # per-layer config overrides follow their layer to its slot
            spec = vars(config)["_heterogeneity_spec"]
            self.saved_spec = spec
            moved = {slot: per_layer_overrides[i] for slot, i in enumerate(slot_layers) if i in per_layer_overrides}
            vars(config)["_heterogeneity_spec"] = dataclasses.replace(spec, per_layer_overrides=moved)
        if overrides:
            # a read-only property: a per-instance subclass answers the re-indexed list instead
            patched = type(
                self.original_class.__name__,
                (self.original_class,),
                {name: property(lambda self, _v=value: list(_v)) for name, value in overrides.items()},
            )
            object.__setattr__(config, "__class__", patched)

    def _set(self, name: str, value: Any) -> None:
        self.saved.setdefault(name, getattr(self.config, name))
        setattr(self.config, name, value)

    def restore(self) -> None:
        if getattr(self, "saved_spec", None) is not None:
            vars(self.config)["_heterogeneity_spec"] = self.saved_spec
            self.saved_spec = None
        if type(self.config) is not self.original_class:
            object.__setattr__(self.config, "__class__", self.original_class)
        for name, value in reversed(list(self.saved.items())):
            setattr(self.config, name, value)
        self.saved.clear()
