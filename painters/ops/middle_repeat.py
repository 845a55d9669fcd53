"""``middle_repeat``: the paper's middle repeat, the centre layer in place of a range."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from painters.ops.base import RangeOp, Step, register_op


@dataclass(frozen=True)
class MiddleRepeat(RangeOp):
    """The paper's middle repeat: the centre layer ``T // 2`` of a ``T``-layer model runs ``end - start``
    times in place of ``[start, end)``."""

    name: ClassVar[str] = "middle_repeat"
    example: ClassVar[dict[str, Any]] = {"paper_n": "all"}
    figures: ClassVar[tuple[str, ...]] = ("range_heatmap", "degradation")

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return (num_layers // 2,) * (self.end - self.start)


def middle_repeat(start: int, end: int) -> MiddleRepeat:
    """Replace ``[start, end)`` with the centre layer ``T // 2`` run ``end - start`` times."""
    return MiddleRepeat(start, end)


register_op(MiddleRepeat, middle_repeat)
