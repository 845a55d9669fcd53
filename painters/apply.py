"""The public entry points that touch a model: :func:`apply`, :func:`plan`, :func:`layers`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from torch import nn

from painters.architectures import Architecture, Located, locate
from painters.errors import ModelRefusal, PlanError, UnsupportedModelError
from painters.executor import PLAN_CONTAINERS, HiddenStates, MidEmbeddings, PlanRunner, plan_container, slot_layers
from painters.ops import Group, Op, unwrap
from painters.plan import Plan, resolve
from painters.positions import (
    ConfigPatch,
    LayerPositions,
    cached_positions,
    check_position_math,
    owner_marks,
    per_layer_fields,
)
from painters.zipped import PlanZipList, check_zipped_plan, zipped_layers

_HIDDEN_STATES = ("original", "steps")
_MID_EMBEDDINGS = ("layer", "position")


@dataclass(frozen=True, repr=False)
class LayerStack:
    """A model's layer list as painters sees it: ``len()`` is the layer count, iterating gives the layers."""

    layers: list[nn.Module]
    kind: str
    path: str
    architecture: str

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[nn.Module]:
        return iter(self.layers)

    def __getitem__(self, index: int) -> nn.Module:
        return self.layers[index]

    def __repr__(self) -> str:
        names = sorted({type(layer).__name__ for layer in self.layers})
        return (
            f"LayerStack({len(self.layers)} x {'/'.join(names) or 'no layers'}, kind={self.kind!r}, "
            f"path={self.path!r}, architecture={self.architecture!r})"
        )


def layers(model: nn.Module, stage: int | None = None, tower: str | None = None) -> LayerStack:
    """The model's layer list and its kind (``"decoder"``, ``"encoder"``, ``"vision"``, ``"staged-vision"``).

    ``stage`` names the stage of a staged model (SegFormer, Swin, ...); ``tower`` the tower of a two-tower model
    (``"vision"`` or ``"text"``, for CLIP and SigLIP). For ALBERT-style models that run one shared layer group
    several times, the list has one entry per call (the same module repeated). Works while a plan is active too
    (the original layers are returned).
    """
    located = locate(model, stage, tower)
    return LayerStack(layer_modules(located), located.arch.kind, located.path, located.arch.name)


def layer_modules(located: Located) -> list[nn.Module]:
    """The layers a plan indexes: the list's modules, or for shared groups (ALBERT) one entry per call."""
    arch, config = located.arch, located.config
    if arch.zipped is not None:
        return list(zipped_layers(located.parent, arch.zipped))
    modules = located.modules.original if isinstance(located.modules, PLAN_CONTAINERS) else located.modules
    modules = list(modules)
    if arch.shared_groups is None:
        return modules
    calls, groups = getattr(config, "num_hidden_layers", None), getattr(config, arch.shared_groups, None)
    if not isinstance(calls, int) or groups != len(modules) or calls < 1:
        raise UnsupportedModelError(
            f"{arch.name}: expected config.num_hidden_layers calls of config.{arch.shared_groups}={groups} shared "
            f"layer groups, found {len(modules)} groups and num_hidden_layers={calls!r}."
        )
    return [modules[int(i / (calls / groups))] for i in range(calls)]


def plan(model: nn.Module, *ops: Op, stage: int | None = None, tower: str | None = None) -> Plan:
    """The resolved plan (execution steps) ``ops`` would run on ``model``; the model is not touched. Raises the
    same errors :func:`apply` would, before anything runs."""
    located = locate(model, stage, tower)
    modules = layer_modules(located)
    result = resolve(len(modules), ops)
    _prepare(located, modules, result)
    return result


class _Prepared(NamedTuple):
    positions: LayerPositions
    fields: dict[str, list]
    count_field: str | None
    marks: list
    slots_per_layer: int


def _prepare(located: Located, modules: list[nn.Module], result: Plan) -> _Prepared:
    """Everything the plan needs from the model, checked before the model is touched: the position attributes of
    each layer, the per-layer config lists and the layer count to patch; refusals raise here."""
    config, arch = located.config, located.arch
    if config is not None:
        check_position_math(config)
    fields: dict[str, list] = {}
    count_field: str | None = None
    per = 1
    if arch.shared_groups is not None:
        positions = LayerPositions([[] for _ in modules])
    else:
        container = located.parent if arch.zipped is not None else getattr(located.modules, "original", located.modules)
        positions = cached_positions(container, modules)
        if arch.stages is None and config is not None and hasattr(config, "num_hidden_layers"):
            count = config.num_hidden_layers
            per = next((k for k in sorted(positions.scales) if count == k * len(modules)), 0)
            if not per:
                raise UnsupportedModelError(
                    f"{type(config).__name__}.num_hidden_layers is {count!r} but the layer list '{located.path}' holds "
                    f"{len(modules)} layers: painters cannot tell how the forward counts its layers, and refuses this "
                    f"model rather than run it wrong."
                )
            count_field = "num_hidden_layers"
            fields = per_layer_fields(config, len(modules))
            if per > 1:  # lists with one entry per cache slot: expanded, each layer's slots kept together
                fields = {
                    k: [v[per * i : per * i + per] for i in range(len(modules))]
                    for k, v in per_layer_fields(config, count).items()
                }
    marks = owner_marks(located.parent, len(modules)) if arch.stages is None else []
    if arch.zipped is not None:
        check_zipped_plan(result, arch.zipped)
    for op in result.ops:
        op.check_model(located, modules)
    if not result.steps and arch.stages is not None:
        raise ModelRefusal(
            f"{result}: runs none of stage {located.stage}'s {len(modules)} block(s); a stage's forward unpacks what "
            f"its blocks return, so at least one block must run (skip fewer, or drive another stage)."
        )
    _check_parallel_groups(fields, result)
    _check_attention_kept(fields, result)
    return _Prepared(positions, fields, count_field, marks, per if count_field else 1)


def _is_attention(kind: Any) -> bool:
    return isinstance(kind, str) and "attention" in kind and "linear" not in kind


def _check_attention_kept(fields: dict[str, list], result: Plan) -> None:
    """Hybrid stacks (attention + linear-attention/SSM layers) build their masks from an attention layer's cache:
    a plan that runs none of them cannot run."""
    ran = {i for _, i in result.calls}
    for name, types in fields.items():
        kinds = {t for t in types if isinstance(t, str)}
        if len(kinds) < 2 or not any(_is_attention(t) for t in kinds):
            continue
        if not any(_is_attention(types[i]) for i in ran):
            kept = [i for i, t in enumerate(types) if _is_attention(t)]
            raise ModelRefusal(
                f"{result} runs none of this hybrid model's attention layers {kept} (config.{name}); its forward "
                f"needs at least one to build the attention mask. Keep one of them."
            )


def _check_parallel_groups(fields: dict[str, list], result: Plan) -> None:
    for step in result.steps:
        step = unwrap(step)
        if not isinstance(step, Group):
            continue
        for name, values in fields.items():
            kinds = {i: values[i] for i in step.layers}
            if len({repr(v) for v in kinds.values()}) > 1:
                raise ModelRefusal(
                    f"parallel group {list(step.layers)} mixes config.{name} values {kinds}; the layers of a parallel "
                    f"group run at one loop position, which reads one value (e.g. one attention mask). Split the range."
                )


class _Patches:
    """Attribute changes to undo, newest first."""

    def __init__(self) -> None:
        self._undo: list[Any] = []

    def setattr(self, obj: Any, name: str, value: Any) -> None:
        had = hasattr(obj, name)
        old = getattr(obj, name, None)
        setattr(obj, name, value)
        self._undo.append(lambda: setattr(obj, name, old) if had else delattr(obj, name))

    def shadow(self, obj: Any, name: str, value: Any) -> None:
        """Put ``value`` in ``obj``'s instance dict (shadowing a method); undo removes it again."""
        missing = object()
        old = vars(obj).get(name, missing)
        vars(obj)[name] = value
        self._undo.append(lambda: vars(obj).pop(name) if old is missing else vars(obj).__setitem__(name, old))

    def set_module(self, parent: nn.Module, name: str, module: nn.Module) -> None:
        old = parent._modules[name]
        parent._modules[name] = module
        self._undo.append(lambda: parent._modules.__setitem__(name, old))

    def add(self, undo: Any) -> None:
        self._undo.append(undo)

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()


@contextmanager
def apply(
    model: nn.Module,
    *ops: Op,
    stage: int | None = None,
    tower: str | None = None,
    hidden_states: HiddenStates = "original",
    mid_embeddings: MidEmbeddings = "layer",
) -> Iterator[Plan]:
    """Run ``model`` with its layer stack rewritten by ``ops`` inside a ``with`` block; yields the :class:`Plan`.

    Args:
        model: any supported ``PreTrainedModel`` (see ``painters.supported_architectures()``), any device/dtype.
        ops: layer ops on disjoint ranges of ORIGINAL layers (half-open ``[start, end)``, 0-indexed).
        stage: for staged models (SegFormer, Swin, SwinV2, FocalNet, Hiera, PVTv2), the stage whose blocks the ops
            index (0-indexed).
        tower: for two-tower models (CLIPModel, SiglipModel), the tower whose layers the ops index: ``"vision"`` or
            ``"text"``; the other tower runs as is.
        hidden_states: what ``output_hidden_states=True`` returns: ``"original"`` (default) keeps one entry per
            original layer, entry ``b + 1`` being the state after original layer ``b`` (heads such as DPT's neck keep
            reading the same layers); ``"steps"`` returns one entry per executed step.
        mid_embeddings: YOLOS mid position embeddings follow their ``"layer"`` (default) or the loop
            ``"position"``.

    On exit, and on any exception (KeyboardInterrupt included), the model is restored exactly: same modules,
    same config, same outputs. Validation happens before the model is touched.
    """
    with session(
        model, *ops, stage=stage, tower=tower, hidden_states=hidden_states, mid_embeddings=mid_embeddings
    ) as runner:
        yield runner.plan


@contextmanager
def session(
    model: nn.Module,
    *ops: Op,
    stage: int | None = None,
    tower: str | None = None,
    hidden_states: HiddenStates = "original",
    mid_embeddings: MidEmbeddings = "layer",
    resume: tuple[int, Any] | None = None,
    capture: bool = False,
) -> Iterator[PlanRunner]:
    """:func:`apply` for runners that share work: yields the :class:`PlanRunner`.

    ``resume=(k, states)``: the plan's first ``k`` steps are the unmodified layers ``0..k-1`` and ``states`` are
    the states an unmodified pass on this very input recorded (``runner.captured``); those steps are not
    recomputed, step ``j < k`` returns ``states[j + 1]``.
    ``capture=True``: ``runner.captured`` holds the state entering step 0 and after every step of the last forward.
    """
    if hidden_states not in _HIDDEN_STATES:
        raise PlanError(f"hidden_states={hidden_states!r} is not one of {_HIDDEN_STATES}.")
    if mid_embeddings not in _MID_EMBEDDINGS:
        raise PlanError(f"mid_embeddings={mid_embeddings!r} is not one of {_MID_EMBEDDINGS}.")
    located = locate(model, stage, tower)
    if isinstance(located.modules, (*PLAN_CONTAINERS, PlanZipList)):
        raise PlanError(
            f"a plan is already active on this model ({located.modules.runner.plan}); pass all ops to one "
            f"painters.apply(model, op1, op2, ...) call instead of nesting."
        )
    modules = layer_modules(located)
    result = resolve(len(modules), ops)
    prepared = _prepare(located, modules, result)
    if resume is not None and not 0 <= resume[0] <= result.shared_prefix:
        raise PlanError(f"cannot resume {result} after {resume[0]} steps: only {result.shared_prefix} are unmodified.")
    runner = PlanRunner(result, located, modules, prepared.positions, hidden_states, mid_embeddings)
    runner.resume = resume if resume is not None and resume[0] > 0 else None
    runner.captured = [] if capture else None
    patches = _Patches()
    try:
        _install(model, located, runner, prepared, patches)
        yield runner
    finally:
        patches.restore()


def _install(model: nn.Module, located: Located, runner: PlanRunner, prepared: _Prepared, patches: _Patches) -> None:
    arch: Architecture = located.arch
    config = located.config
    result = runner.plan
    if arch.shared_groups is not None:  # the forward calls group int(i / (calls / groups)): make that step i
        patches.add(ConfigPatch(config, {}, list(range(result.num_steps)), "num_hidden_layers").restore)
        patches.setattr(config, arch.shared_groups, result.num_steps)
    slots = slot_layers(result)
    if arch.shared_groups is None and prepared.count_field is not None:
        patches.add(ConfigPatch(config, prepared.fields, slots, prepared.count_field, prepared.slots_per_layer).restore)
    for owner, name, value in prepared.marks:
        if isinstance(value, list):  # a per-layer list the loop owner reads by slot
            patches.setattr(owner, name, [value[i] for i in slots])
        else:  # "past the last layer" follows the plan's length
            patches.setattr(owner, name, max(result.num_calls, result.num_steps))
    if runner.add_mid and config is not None:
        patches.setattr(config, "use_mid_position_embeddings", False)
        handle = located.parent.register_forward_pre_hook(_mid_hook(runner), with_kwargs=True)
        patches.add(handle.remove)
    if hasattr(model, "save_pretrained"):  # the patched config must never be written out (design.md trap 10)
        patches.shadow(model, "save_pretrained", _refuse_save(result))
    if arch.zipped is not None:
        for name in arch.zipped:
            patches.set_module(located.parent, name, PlanZipList(getattr(located.parent, name), runner, name))
    else:
        patches.set_module(located.parent, located.attr, plan_container(located.modules, runner))


def _refuse_save(result: Plan):
    def save_pretrained(*args: Any, **kwargs: Any) -> None:
        raise PlanError(
            f"save_pretrained inside painters.apply would write the plan's patched config ({result}); "
            f"use painters.materialize(model, *ops).save_pretrained(path) instead."
        )

    return save_pretrained


def _mid_hook(runner: PlanRunner):
    def hook(module: nn.Module, args: tuple, kwargs: dict) -> None:
        values = {**dict(zip(("hidden_states", "height", "width"), args)), **kwargs}
        runner.set_mid_embeddings(values["height"], values["width"])

    return hook
