"""``order``: an explicit execution order for the whole stack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from painters.errors import PlanError
from painters.ops.base import Group, Op, Step, _check_int, _plain, param, register_op, step_label


@dataclass(frozen=True)
class Order(Op):
    """An explicit execution order for the whole stack: ints run one layer, tuples (or :class:`Group`) run a
    parallel group. Layers not listed are skipped; a layer may appear more than once."""

    name: ClassVar[str] = "order"
    selector: ClassVar[str] = "steps"
    example: ClassVar[dict[str, Any]] = {"steps": [0, 1, [2, 3], 5]}
    figures: ClassVar[tuple[str, ...]] = ("degradation",)
    steps_: tuple[Step, ...] = param(doc="layers and [a, b] parallel groups, in the order they run")

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

    def variant_id(self) -> str:
        labels = (
            "p".join(map(str, s.layers)) + (f"x{s.iterations}" if s.iterations > 1 else "") if isinstance(s, Group)
            else str(s)
            for s in self.steps_
        )  # fmt: skip
        return "order-" + "_".join(labels)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.name, "steps": _plain(self.steps_)}

    def __str__(self) -> str:
        return f"order([{', '.join(map(step_label, self.steps_))}])"


def order(steps) -> Order:
    """An explicit execution order: ints, and tuples for a parallel group, e.g. ``order([0, 1, (2, 3), 5])``."""
    return Order(tuple(steps) if not isinstance(steps, (str, bytes)) and hasattr(steps, "__iter__") else steps)


register_op(Order, order)
