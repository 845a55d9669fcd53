"""``repeat``: a range runs several times in a row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from painters.ops.base import MAX_COUNT, RangeOp, Step, param, register_op


@dataclass(frozen=True)
class Repeat(RangeOp):
    """Run the span ``[start, end)`` ``times`` times in a row (shared weights)."""

    name: ClassVar[str] = "repeat"
    example: ClassVar[dict[str, Any]] = {"paper_n": "all", "times": [2, 3]}
    figures: ClassVar[tuple[str, ...]] = ("range_heatmap", "degradation")
    times: int = param(2, "how many times the range runs", minimum=1, maximum=MAX_COUNT, id_prefix="x", split=True)

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return tuple(range(self.start, self.end)) * self.times


def repeat(start: int, end: int, times: int = 2) -> Repeat:
    """Run ``[start, end)`` ``times`` times in a row (shared weights)."""
    return Repeat(start, end, times)


register_op(Repeat, repeat)
