"""``reverse``: a range runs backwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from painters.ops.base import RangeOp, Step, register_op


@dataclass(frozen=True)
class Reverse(RangeOp):
    """Run the span ``[start, end)`` in reverse order."""

    name: ClassVar[str] = "reverse"
    example: ClassVar[dict[str, Any]] = {"ranges": {"min_width": 2}}
    figures: ClassVar[tuple[str, ...]] = ("range_heatmap", "degradation")

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return tuple(range(self.end - 1, self.start - 1, -1))


def reverse(start: int, end: int) -> Reverse:
    """Run ``[start, end)`` in reverse order."""
    return Reverse(start, end)


register_op(Reverse, reverse)
