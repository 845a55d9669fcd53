"""Resolving ops into a plan: the execution steps for one model, as data. Nothing here touches a model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from painters.errors import PlanError
from painters.ops import Group, Op, Step, Wrapped, step_calls, step_label, step_layers, unwrap

MAX_CALLS = 100_000
"""Upper bound of layer calls in one forward of a plan."""


@dataclass(frozen=True)
class Plan:
    """The resolved execution of a layer stack.

    Attributes:
        num_layers: the model's original layer count ``T``.
        ops: the ops this plan was built from (sorted by span start).
        steps: what runs, in order: an original layer index, or a :class:`~painters.ops.Group`.
        boundaries: for each original layer ``b`` (0..T-1), how many steps have run when the plan holds "the state
            after original layer ``b``" (see :func:`boundary_positions`).
    """

    num_layers: int
    ops: tuple[Op, ...]
    steps: tuple[Step, ...]
    boundaries: tuple[int, ...] = field(repr=False)

    @property
    def num_steps(self) -> int:
        return len(self.steps)

    @property
    def calls(self) -> tuple[tuple[int, int], ...]:
        """Every layer call as ``(step index, layer)``, in execution order (a group's layers once per iteration)."""
        out = []
        for k, s in enumerate(self.steps):
            inner = unwrap(s)
            if isinstance(inner, Group):
                out.extend((k, i) for _ in range(inner.iterations) for i in inner.layers)
            else:
                out.append((k, inner))
        return tuple(out)

    @property
    def num_calls(self) -> int:
        return len(self.calls)

    @property
    def is_identity(self) -> bool:
        return self.steps == tuple(range(self.num_layers))

    @property
    def computes_unmodified(self) -> bool:
        """Whether the plan computes what the unmodified model does (a one-layer reverse, shuffle or parallel of
        one layer): every step runs one layer once, in the original order."""
        plain = [
            s.layers[0] if isinstance(s, Group) and len(s.layers) == 1 and s.iterations == 1 else s for s in self.steps
        ]
        return plain == list(range(self.num_layers))

    @property
    def shared_prefix(self) -> int:
        """Number of leading steps identical to the unmodified model (layers ``0..k-1`` in order)."""
        k = 0
        while k < len(self.steps) and self.steps[k] == k:
            k += 1
        return k

    @property
    def has_parallel(self) -> bool:
        return any(isinstance(unwrap(s), Group) for s in self.steps)

    @property
    def has_wrapped(self) -> bool:
        """Whether some step runs through a step kind (token ops and other modifiers)."""
        return any(isinstance(s, Wrapped) for s in self.steps)

    def describe(self) -> str:
        """One line: the steps, with parallel groups in brackets."""
        return " ".join(map(step_label, self.steps)) or "(no layers)"

    def __str__(self) -> str:
        ops = ", ".join(map(str, self.ops)) or "identity"
        return f"Plan[{ops}] on {self.num_layers} layers: {self.describe()}"


def resolve(num_layers: int, ops: Iterable[Op]) -> Plan:
    """Resolve ``ops`` (on disjoint spans) against a model of ``num_layers`` layers into a :class:`Plan`."""
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
        raise PlanError(f"num_layers must be a positive integer, got {num_layers!r}.")
    ops = tuple(ops)
    for op in ops:
        if not isinstance(op, Op):
            raise PlanError(f"expected painters ops (e.g. painters.skip(4, 8)), got {op!r} ({type(op).__name__}).")
        op.validate(num_layers)
    spans = [op for op in ops if not op.modifier]
    calls = sum(step_calls(s) for op in spans for s in op.steps(num_layers))
    if calls > MAX_CALLS:
        raise PlanError(
            f"the plan would make {calls} layer calls per forward (limit {MAX_CALLS}); lower repeat times "
            f"or parallel iterations."
        )
    ordered = sorted(spans, key=lambda o: o.span(num_layers))
    for a, b in zip(ordered, ordered[1:]):
        (s0, e0), (s1, e1) = a.span(num_layers), b.span(num_layers)
        if s1 < e0:
            raise PlanError(
                f"ops {a} (layers [{s0}, {e0})) and {b} (layers [{s1}, {e1})) overlap; combine ops only on "
                f"disjoint ranges (this model has {num_layers} layers)."
            )
    steps: list[Step] = []
    boundaries: list[int] = []
    layer = 0
    for op in ordered:
        start, end = op.span(num_layers)
        while layer < start:
            steps.append(layer)
            boundaries.append(len(steps))
            layer += 1
        entry = len(steps)
        replacement = op.steps(num_layers)
        steps.extend(replacement)
        boundaries.extend(boundary_positions(start, end, replacement, entry))
        layer = end
    while layer < num_layers:
        steps.append(layer)
        boundaries.append(len(steps))
        layer += 1
    result = tuple(steps)
    modifiers = [op for op in ops if op.modifier]
    for op in modifiers:
        result = op.modify(result, tuple(boundaries), num_layers)
    return Plan(num_layers, (*ordered, *modifiers), result, tuple(boundaries))


def boundary_positions(start: int, end: int, replacement: tuple[Step, ...], entry: int) -> list[int]:
    """Where "the state after original layer b" sits, for ``b`` in ``[start, end)``, when that span is replaced
    by ``replacement`` starting after ``entry`` steps.

    The span's last boundary (``b = end - 1``) is the span's exit. An inner boundary is the state right after
    the last step that runs layer ``b`` (a parallel group counts as running each of its layers); a layer the
    replacement does not run takes the position of the nearest lower layer of the span that does run, else the
    span's entry.
    """
    last_run: dict[int, int] = {}
    for k, s in enumerate(replacement):
        for i in step_layers(s):
            last_run[i] = entry + k + 1
    exit_ = entry + len(replacement)
    out = []
    current = entry
    for b in range(start, end):
        current = last_run.get(b, current)
        out.append(exit_ if b == end - 1 else current)
    return out
