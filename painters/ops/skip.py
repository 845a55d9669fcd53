"""``skip``: the layers of a range do not run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from painters.ops.base import RangeOp, Step, register_op


@dataclass(frozen=True)
class Skip(RangeOp):
    """Skip layers ``[start, end)``: nothing runs in their place."""

    name: ClassVar[str] = "skip"
    example: ClassVar[dict[str, Any]] = {"ranges": "all"}
    figures: ClassVar[tuple[str, ...]] = ("range_heatmap", "degradation", "overview")

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        return ()


def skip(start: int, end: int) -> Skip:
    """Skip original layers ``[start, end)``."""
    return Skip(start, end)


register_op(Skip, skip)
