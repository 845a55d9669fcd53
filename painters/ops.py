"""Layer operations: small, immutable value objects that describe how to rewrite a span of layers.

Every op names a half-open range of ORIGINAL layers ``[start, end)`` (0-indexed) and says what runs in its
place. An op is resolved against a model's layer count by :func:`painters.plan.resolve`; on its own it knows
nothing about any model. Ops print, compare, hash, and round-trip through :meth:`Op.to_dict` /
:func:`op_from_dict`.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any, ClassVar

from painters.errors import PlanError
from painters.registry import Registry


@dataclass(frozen=True)
class Group:
    """A parallel step: every layer in ``layers`` reads the same input; the step's output is the mean of their
    outputs. ``iterations`` > 1 feeds the mean back in that many times (the paper's looped parallel)."""

    layers: tuple[int, ...]
    iterations: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.layers, (str, bytes)) or not hasattr(self.layers, "__iter__"):
            raise PlanError(f"a parallel group lists layer indices, got {self.layers!r}.")
        layers = tuple(self.layers)
        for i in layers:
            if isinstance(i, bool) or not isinstance(i, int) or i < 0:
                raise PlanError(f"a parallel group's layers must be integers >= 0, got {i!r} in {list(layers)!r}.")
        if not layers:
            raise PlanError("a parallel group must list at least one layer, got [].")
        if (
            isinstance(self.iterations, bool)
            or not isinstance(self.iterations, int)
            or not 1 <= self.iterations <= MAX_COUNT
        ):
            raise PlanError(
                f"a parallel group's iterations must be an integer in 1..{MAX_COUNT}, got {self.iterations!r}."
            )
        object.__setattr__(self, "layers", layers)

    @property
    def calls(self) -> int:
        """Number of layer calls this step makes."""
        return len(self.layers) * self.iterations


MAX_COUNT = 10_000
"""Upper bound of repeat ``times`` and parallel ``iterations`` (a plan must stay a plan, not a memory bomb)."""

Step = int | Group
"""One execution step: an original layer index, or a :class:`Group` run in parallel."""


def step_label(step: Step) -> str:
    """``"5"`` for a layer, ``"(1|2|3)x3"`` for a parallel group run three times."""
    if isinstance(step, Group):
        return "(" + "|".join(map(str, step.layers)) + ")" + (f"x{step.iterations}" if step.iterations > 1 else "")
    return str(step)


OPS: Registry[type[Op]] = Registry("op")
"""Every layer op by name (``painters ls ops``)."""


def register_op(cls: type[Op]) -> type[Op]:
    """Class decorator: add an op class to the registry under ``cls.name``."""
    OPS.register(cls.name, cls)
    return cls


@dataclass(frozen=True)
class Op:
    """Base class of all layer operations."""

    name: ClassVar[str] = ""

    def span(self, num_layers: int) -> tuple[int, int]:
        """The half-open range ``[start, end)`` of original layers this op replaces."""
        return self.start, self.end  # type: ignore[attr-defined]

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        """What runs in place of the span, for a model of ``num_layers`` layers."""
        raise NotImplementedError

    def validate(self, num_layers: int) -> None:
        """Raise :class:`PlanError` if this op cannot apply to a model of ``num_layers`` layers."""
        start, end = self.span(num_layers)
        _check_range(self, start, end, num_layers)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict ``{"op": name, **params}`` that :func:`op_from_dict` turns back into this op."""
        params = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        return {"op": self.name, **params}

    def __str__(self) -> str:
        params = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"{self.name}({params})"


def _plain(value: Any) -> Any:
    if isinstance(value, Group):
        return {"layers": list(value.layers), "iterations": value.iterations}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _check_int(op: Op, field: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanError(f"{op.name}: {field} must be an integer, got {value!r} ({type(value).__name__}).")
    if minimum is not None and value < minimum:
        raise PlanError(f"{op.name}: {field} must be >= {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise PlanError(f"{op.name}: {field} must be <= {maximum}, got {value}.")


def _check_range(op: Op, start: int, end: int, num_layers: int) -> None:
    if not 0 <= start < end <= num_layers:
        raise PlanError(
            f"{op}: the range [start, end) = [{start}, {end}) is not a non-empty range of this model's "
            f"{num_layers} layers; allowed: 0 <= start < end <= {num_layers} (ranges are half-open, 0-indexed)."
        )


@dataclass(frozen=True)
class _RangeOp(Op):
    start: int
    end: int

    def __post_init__(self) -> None:
        _check_int(self, "start", self.start, 0)
        _check_int(self, "end", self.end, 1)
        if self.end <= self.start:
            raise PlanError(
                f"{self.name}: empty range [start, end) = [{self.start}, {self.end}); end must be greater than "
                f"start (ranges are half-open, 0-indexed)."
            )


@register_op
@dataclass(frozen=True)
class Skip(_RangeOp):
    """Skip layers ``[start, end)``: nothing runs in their place."""

    name: ClassVar[str] = "skip"

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return ()


@register_op
@dataclass(frozen=True)
class Swap(Op):
    """Exchange layers ``i`` and ``j``; the layers between them keep their places. Its span is
    ``[min(i, j), max(i, j) + 1)``."""

    name: ClassVar[str] = "swap"
    i: int
    j: int

    def __post_init__(self) -> None:
        _check_int(self, "i", self.i, 0)
        _check_int(self, "j", self.j, 0)
        if self.i == self.j:
            raise PlanError(f"swap: cannot swap layer {self.i} with itself; give two different layers (i != j).")

    def span(self, num_layers: int) -> tuple[int, int]:
        return min(self.i, self.j), max(self.i, self.j) + 1

    def validate(self, num_layers: int) -> None:
        if max(self.i, self.j) >= num_layers:
            raise PlanError(
                f"{self}: layer {max(self.i, self.j)} does not exist; this model's layers are 0..{num_layers - 1} "
                f"({num_layers} layers, 0-indexed): give i and j below {num_layers}."
            )

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        lo, hi = min(self.i, self.j), max(self.i, self.j)
        return (hi, *range(lo + 1, hi), lo)


@register_op
@dataclass(frozen=True)
class Repeat(_RangeOp):
    """Run the span ``[start, end)`` ``times`` times in a row (shared weights)."""

    name: ClassVar[str] = "repeat"
    times: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int(self, "times", self.times, 1, MAX_COUNT)

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return tuple(range(self.start, self.end)) * self.times


@register_op
@dataclass(frozen=True)
class Reverse(_RangeOp):
    """Run the span ``[start, end)`` in reverse order."""

    name: ClassVar[str] = "reverse"

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return tuple(range(self.end - 1, self.start - 1, -1))


@register_op
@dataclass(frozen=True)
class Shuffle(_RangeOp):
    """Run the span ``[start, end)`` in the order ``random.Random(seed).shuffle`` gives (as the paper's code)."""

    name: ClassVar[str] = "shuffle"
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int(self, "seed", self.seed)

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        order = list(range(self.start, self.end))
        random.Random(self.seed).shuffle(order)
        return tuple(order)


@register_op
@dataclass(frozen=True)
class Parallel(_RangeOp):
    """Run every layer of ``[start, end)`` on the same input and take the mean of their outputs;
    ``iterations`` > 1 is the paper's looped parallel (the mean fed back in, that many times)."""

    name: ClassVar[str] = "parallel"
    iterations: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int(self, "iterations", self.iterations, 1, MAX_COUNT)

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return (Group(tuple(range(self.start, self.end)), self.iterations),)


@register_op
@dataclass(frozen=True)
class MiddleRepeat(_RangeOp):
    """The paper's middle repeat: the centre layer ``T // 2`` of a ``T``-layer model runs ``end - start``
    times in place of ``[start, end)``."""

    name: ClassVar[str] = "middle_repeat"

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return (num_layers // 2,) * (self.end - self.start)


@register_op
@dataclass(frozen=True)
class Order(Op):
    """An explicit execution order for the whole stack: ints run one layer, tuples (or :class:`Group`) run a
    parallel group. Layers not listed are skipped; a layer may appear more than once."""

    name: ClassVar[str] = "order"
    steps_: tuple[Step, ...]

    def __post_init__(self) -> None:
        if isinstance(self.steps_, (str, bytes)) or not hasattr(self.steps_, "__iter__"):
            raise PlanError(f"order: steps must be a sequence of layer indices and tuples, got {self.steps_!r}.")
        steps: list[Step] = []
        for s in self.steps_:
            if isinstance(s, Group):
                steps.append(s)
            elif isinstance(s, dict):
                if set(s) - {"layers", "iterations"} or "layers" not in s:
                    raise PlanError(
                        f"order: a parallel group given as a mapping needs 'layers' (and optionally "
                        f"'iterations'), got {s!r}."
                    )
                steps.append(Group(s["layers"], s.get("iterations", 1)))
            elif isinstance(s, (tuple, list)):
                steps.append(Group(tuple(s)))
            else:
                _check_int(self, "step", s, 0)
                steps.append(s)
        object.__setattr__(self, "steps_", tuple(steps))

    def span(self, num_layers: int) -> tuple[int, int]:
        return 0, num_layers

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return self.steps_

    def validate(self, num_layers: int) -> None:
        for s in self.steps_:
            for i in s.layers if isinstance(s, Group) else (s,):
                if not 0 <= i < num_layers:
                    raise PlanError(
                        f"{self}: layer {i} does not exist; this model has {num_layers} layers (0..{num_layers - 1})."
                    )

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.name, "steps": _plain(self.steps_)}

    def __str__(self) -> str:
        return f"order([{', '.join(map(step_label, self.steps_))}])"


def op_from_dict(data: dict[str, Any]) -> Op:
    """Rebuild an op from :meth:`Op.to_dict` output, e.g. ``{"op": "skip", "start": 4, "end": 8}``."""
    if not isinstance(data, dict) or "op" not in data:
        raise PlanError(f"an op must be a mapping with an 'op' key naming one of {sorted(OPS)}; got {data!r}.")
    params = dict(data)
    name = params.pop("op")
    if not isinstance(name, str) or name not in OPS:
        raise PlanError(OPS.unknown_message(name))
    cls = OPS[name]
    fields = {f.name for f in dataclasses.fields(cls)} - {"steps_"} | ({"steps"} if cls is Order else set())
    unknown = sorted(set(params) - fields, key=str)
    if unknown:
        raise PlanError(f"op {name!r} has no parameter {unknown[0]!r}; its parameters are {sorted(fields)}.")
    if cls is Order:
        params = {"steps_": params.pop("steps", None), **params}
    try:
        return cls(**params)
    except TypeError as exc:
        raise PlanError(f"op {name!r}: {exc}; its parameters are {sorted(fields)}.") from None


# Public constructors: the names a notebook user types.
def skip(start: int, end: int) -> Skip:
    """Skip original layers ``[start, end)``."""
    return Skip(start, end)


def swap(i: int, j: int) -> Swap:
    """Exchange layers ``i`` and ``j``."""
    return Swap(i, j)


def repeat(start: int, end: int, times: int = 2) -> Repeat:
    """Run ``[start, end)`` ``times`` times in a row (shared weights)."""
    return Repeat(start, end, times)


def reverse(start: int, end: int) -> Reverse:
    """Run ``[start, end)`` in reverse order."""
    return Reverse(start, end)


def shuffle(start: int, end: int, seed: int = 0) -> Shuffle:
    """Run ``[start, end)`` in ``random.Random(seed).shuffle`` order."""
    return Shuffle(start, end, seed)


def parallel(start: int, end: int, iterations: int = 1) -> Parallel:
    """Run ``[start, end)`` in parallel (mean of outputs), ``iterations`` times (looped parallel if > 1)."""
    return Parallel(start, end, iterations)


def middle_repeat(start: int, end: int) -> MiddleRepeat:
    """Replace ``[start, end)`` with the centre layer ``T // 2`` run ``end - start`` times."""
    return MiddleRepeat(start, end)


def order(steps) -> Order:
    """An explicit execution order: ints, and tuples for a parallel group, e.g. ``order([0, 1, (2, 3), 5])``."""
    return Order(tuple(steps) if not isinstance(steps, (str, bytes)) and hasattr(steps, "__iter__") else steps)


def paper_span(num_layers: int, n: int) -> tuple[int, int]:
    """The paper's middle span for its argument ``n``: layers ``[n + 1, num_layers - n)``.

    Layers ``0..n`` and ``num_layers - n .. num_layers - 1`` are kept; ``num_layers - 2n - 1`` layers are affected.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= (num_layers - 2) // 2:
        raise PlanError(
            f"paper_span: N={n!r} leaves no middle layer in a {num_layers}-layer model; "
            f"allowed: 0 <= N <= {(num_layers - 2) // 2} (the span is [N+1, T-N))."
        )
    return n + 1, num_layers - n
