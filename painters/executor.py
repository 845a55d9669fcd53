"""Running a plan inside a stock Hugging Face model.

The model's layer ``nn.ModuleList`` is swapped for a :class:`PlanModuleList` that registers the very same layer
modules under their original keys (so ``state_dict``, ``parameters()`` and ``.to()`` are unchanged) but yields
one callable per plan step when the model's forward iterates it. Each step call gives every layer call its own
KV-cache slot (by rebinding the attention's ``layer_idx`` around the call), averages parallel groups, adds
YOLOS-style mid position embeddings by layer, and keeps ``output_hidden_states`` meaningful.
A sweep may hand the runner :class:`SharedOutputs`: the first-iteration layer outputs of parallel groups entering a
given step on a given state, computed once and reused by every plan whose group starts there on that state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from painters.architectures import Located
from painters.ops import Group, Step, Wrapped, step_calls, unwrap
from painters.plan import Plan
from painters.positions import LayerPositions, module_states
from painters.step_kinds import STEP_KINDS, first, like

try:  # transformers >= 5: hidden states are recorded by hooks into a context-local collector
    from transformers.utils.output_capturing import _active_collector
except ImportError:  # pragma: no cover
    _active_collector = None

HiddenStates = Literal["original", "steps"]
MidEmbeddings = Literal["layer", "position"]


@dataclass
class SharedOutputs:
    """Raw outputs of layers run on ``state`` at loop step ``step``, by layer: every layer of a parallel group reads
    the group's input, so groups entering ``step`` on the same state share their first iteration's layer calls."""

    step: int
    state: torch.Tensor
    outputs: dict[int, Any] = field(default_factory=dict)

    def serves(self, k: int, h: torch.Tensor) -> bool:
        """Whether a group at step ``k`` reading ``h`` reads this state (compared bit for bit)."""
        return k == self.step and isinstance(h, torch.Tensor) and (h is self.state or torch.equal(h, self.state))


class PlanRunner:
    """Executes one plan's steps for the forwards that run while it is installed."""

    def __init__(
        self,
        plan: Plan,
        located: Located,
        layers: list[nn.Module],
        positions: LayerPositions,
        hidden_states: HiddenStates,
        mid_embeddings: MidEmbeddings,
    ):
        self.plan = plan
        self.layers = layers
        self.arch = located.arch
        self.located = located
        self.hidden_states_mode = hidden_states
        self.add_mid = (
            located.arch.mid_embeddings
            and mid_embeddings == "layer"
            and bool(getattr(located.parent, "interpolation", None) is not None)
        )
        self.interpolation = getattr(located.parent, "interpolation", None) if self.add_mid else None
        self.positions = positions
        self.module_states = {id(m): module_states(m) for m in layers}  # per-slot state where layers keep one
        self.slots = assign_slots(plan)
        self.last_step = max(plan.num_steps - 1, 0)
        self.steps = [StepCall(self, k, s) for k, s in enumerate(plan.steps)] or [StepCall(self, 0, None)]
        self.mid: torch.Tensor | None = None
        self.resume: tuple[int, list[torch.Tensor]] | None = None
        self.forwards = 0
        self.nonfinite = False  # set when a forward's final layer output held inf or NaN
        self.captured: list[torch.Tensor] | None = None
        self.shared: SharedOutputs | None = None
        self.reused = 0  # layer calls served from ``shared`` instead of run
        self._begin_state()

    # -- per forward -----------------------------------------------------------------------------------------
    def _begin_state(self) -> None:
        collector = _active_collector.get() if _active_collector is not None else None
        capture = self.arch.records_layer_outputs and isinstance(collector, dict) and "hidden_states" in collector
        self.hs: list | None = collector["hidden_states"] if capture else None
        self.selection = collector.get("_hidden_states_layers") if capture else None
        self.expected = len(self.hs) if self.hs is not None else 0
        self.states: list[torch.Tensor] = []

    def set_mid_embeddings(self, height: int, width: int) -> None:
        """Called before each encoder forward (YOLOS): the interpolated mid position embeddings."""
        self.mid = self.interpolation((height, width))

    def call_layer(
        self, step: int, layer: int, slot: int, args: tuple, kwargs: dict, shared: dict[int, Any] | None = None
    ) -> Any:
        if shared is not None and layer in shared:
            out = shared[layer]
            self.reused += 1
        else:
            out = self._call_module(layer, slot, args, kwargs)
            if shared is not None:
                shared[layer] = out
        if self.add_mid and layer < self.plan.num_layers - 1 and step != self.last_step:
            out = out + self.mid[layer].to(out.device)
        return out

    def _call_module(self, layer: int, slot: int, args: tuple, kwargs: dict) -> Any:
        module = self.layers[layer]
        saved = self.positions.bind(layer, slot)
        state = self.module_states[id(module)]
        if state is not None:
            state.bind(slot)
        try:
            return module(*args, **kwargs)
        finally:
            self.positions.unbind(saved)
            if state is not None:
                state.unbind(slot)

    def run_step(self, k: int, step: Step | None, args: tuple, kwargs: dict) -> Any:
        if step is None:  # a plan with no layers: the stack is the identity
            return args[0] if args else kwargs["hidden_states"]
        if isinstance(step, Wrapped):
            h = args[0] if args else kwargs["hidden_states"]

            def inner(x: torch.Tensor) -> Any:
                return self.run_step(k, step.inner, *_with_hidden(x, args, kwargs))

            return STEP_KINDS[step.kind](inner, h, args[1:], kwargs, self, *step.args)
        if not isinstance(step, Group):
            return self.call_layer(k, step, self.slots[k][0], args, kwargs)
        slots = iter(self.slots[k])
        h = args[0] if args else kwargs["hidden_states"]
        # a plain group (not one a step kind runs on altered inputs) on the shared state: its first iteration is shared
        plain = step is self.plan.steps[k]
        shared = self.shared.outputs if plain and self.shared is not None and self.shared.serves(k, h) else None
        out: Any = h
        for _ in range(step.iterations):
            outs = [self.call_layer(k, i, next(slots), *_with_hidden(h, args, kwargs), shared) for i in step.layers]
            shared = None
            h = torch.stack([first(o) for o in outs], 0).mean(0)
            out = like(outs[0], h)  # tuple-returning layers (Swin): the mean in place of the hidden state
        return out

    def record(self, k: int, h_in: torch.Tensor, out: torch.Tensor) -> None:
        """Keep ``output_hidden_states`` to one entry per original layer (or per step) under any plan."""
        hs = self.hs
        if hs is None:
            return
        del hs[self.expected :]  # what the model's own hooks appended for the calls of this step
        if k == 0:
            self._append(h_in)
            self.states = [h_in]
        if self.hidden_states_mode == "steps":
            self._append(out)
        else:
            self.states.append(out)
            if k == self.last_step:
                for position in self.plan.boundaries:
                    self._append(self.states[position])
        self.expected = len(hs)

    def _append(self, x: torch.Tensor) -> None:
        hs = self.hs
        hs.append(x if self.selection is None or len(hs) in self.selection else None)


def _with_hidden(h: torch.Tensor, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    if args:
        return (h, *args[1:]), kwargs
    return args, {**kwargs, "hidden_states": h}


class StepCall:
    """What the model's forward loop sees in place of one layer: a callable that runs one plan step."""

    def __init__(self, runner: PlanRunner, k: int, step: Step | None):
        self.runner, self.k, self.step = runner, k, step

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        runner = self.runner
        if self.k == 0:
            runner._begin_state()
            runner.forwards += 1
        h_in = args[0] if args else kwargs.get("hidden_states")
        if runner.resume is not None and self.k < runner.resume[0]:
            # a shared prefix: the states after its layers were recorded by an unmodified pass on the same input
            out = runner.resume[1][self.k + 1]
        else:
            out = runner.run_step(self.k, self.step, args, kwargs)
        if runner.captured is not None:
            if self.k == 0:
                runner.captured.clear()
                runner.captured.append(h_in)
            runner.captured.append(out)
        runner.record(self.k, h_in, out)
        final = out[0] if isinstance(out, (tuple, list)) and out else out  # tuple-returning layers (Swin)
        if self.k == runner.last_step and isinstance(final, torch.Tensor) and final.is_floating_point():
            runner.nonfinite = runner.nonfinite or not bool(torch.isfinite(final).all())
        return out

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Models that call ``layer.forward(...)`` directly (SqueezeBERT) run the plan step too."""
        return self(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Code that inspects layers while iterating (not the forward) sees the layer this step runs.
        step = self.__dict__.get("step")
        if isinstance(step, int):
            return getattr(self.__dict__["runner"].layers[step], name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"StepCall({self.k}: {self.step})"


class _PlanSteps:
    """What the plan containers share: the original modules under their original keys (so ``state_dict``,
    ``parameters()`` and ``.to()`` are unchanged), while iterating, indexing and ``len`` follow the plan's steps."""

    def __init__(self, original: nn.Module, runner: PlanRunner):
        super().__init__()  # type: ignore[call-arg]
        self._modules.update(original._modules)  # type: ignore[attr-defined]
        self.original = original  # plain attributes, not submodules
        self.runner = runner

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("original", "runner"):
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def __iter__(self):
        return iter(self.runner.steps)

    def __len__(self) -> int:
        return len(self.runner.steps)

    def __getitem__(self, idx: int | slice) -> Any:
        return self.runner.steps[idx]


class PlanModuleList(_PlanSteps, nn.ModuleList):
    """A drop-in for a model's layer list: registers the original layers under their original keys, but
    iterating, slicing, indexing and ``len`` follow the plan's steps."""


class PlanSequential(_PlanSteps, nn.Sequential):
    """A drop-in for a layer list kept as an ``nn.Sequential`` (called as one module, e.g. CvT's stages): calling it
    runs the plan's steps in order."""

    def forward(self, hidden_states: Any) -> Any:
        for step in self.runner.steps:
            hidden_states = step(hidden_states)
        return hidden_states


def plan_container(original: nn.Module, runner: PlanRunner) -> nn.Module:
    """The stand-in for a layer list under a plan: a :class:`PlanModuleList`, or a :class:`PlanSequential`."""
    if isinstance(original, nn.Sequential):
        return PlanSequential(original, runner)
    return PlanModuleList(original, runner)


PLAN_CONTAINERS = (PlanModuleList, PlanSequential)


def assign_slots(plan: Plan) -> list[list[int]]:
    """KV-cache slot of every layer call: step ``k``'s first call takes slot ``k`` (so the loop position and the
    slot agree, and slot 0 is always filled); the other calls of parallel groups take slots after the last step."""
    extra = plan.num_steps
    slots: list[list[int]] = []
    for k, step in enumerate(plan.steps):
        n = step_calls(step)
        slots.append([k] + list(range(extra, extra + n - 1)))
        extra += n - 1
    return slots


def slot_layers(plan: Plan) -> list[int]:
    """The original layer that fills each KV-cache slot, by slot index."""
    slots = assign_slots(plan)
    out = [0] * max(plan.num_calls, 1)
    for k, step in enumerate(plan.steps):
        inner = unwrap(step)
        layers = [i for _ in range(inner.iterations) for i in inner.layers] if isinstance(inner, Group) else [inner]
        for slot, layer in zip(slots[k], layers):
            out[slot] = layer
    return out
