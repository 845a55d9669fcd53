"""``swap``: two layers exchange places."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from painters.errors import PlanError
from painters.ops.base import Op, Step, _check_int, param, register_op


@dataclass(frozen=True)
class Swap(Op):
    """Exchange layers ``i`` and ``j``; the layers between them keep their places. Its span is
    ``[min(i, j), max(i, j) + 1)``."""

    name: ClassVar[str] = "swap"
    selector: ClassVar[str] = "pair"
    example: ClassVar[dict[str, Any]] = {"pairs": "adjacent"}
    figures: ClassVar[tuple[str, ...]] = ("swap_heatmap", "degradation", "overview")
    i: int = param(doc="one layer (0-indexed)", minimum=0)
    j: int = param(doc="the other layer (0-indexed)", minimum=0)

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


def swap(i: int, j: int) -> Swap:
    """Exchange layers ``i`` and ``j``."""
    return Swap(i, j)


register_op(Swap, swap)
