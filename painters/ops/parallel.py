"""``parallel``: every layer of a range reads the same input; looped parallel feeds their mean back in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from painters.ops.base import MAX_COUNT, Group, RangeOp, Step, param, register_op


@dataclass(frozen=True)
class Parallel(RangeOp):
    """Run every layer of ``[start, end)`` on the same input and take the mean of their outputs;
    ``iterations`` > 1 is the paper's looped parallel (the mean fed back in, that many times)."""

    name: ClassVar[str] = "parallel"
    example: ClassVar[dict[str, Any]] = {"paper_n": "all", "iterations": [1, 2, 3]}
    figures: ClassVar[tuple[str, ...]] = ("range_heatmap", "loop_heatmap", "degradation")
    iterations: int = param(
        1, "times the group runs, its mean fed back in (> 1: looped parallel)", minimum=1, maximum=MAX_COUNT,
        id_prefix="x", id_hide=1, split=True,
    )  # fmt: skip

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return (Group(tuple(range(self.start, self.end)), self.iterations),)


def parallel(start: int, end: int, iterations: int = 1) -> Parallel:
    """Run ``[start, end)`` in parallel (mean of outputs), ``iterations`` times (looped parallel if > 1)."""
    return Parallel(start, end, iterations)


register_op(Parallel, parallel)
