"""``shuffle``: a range runs in a random order."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar

from painters.ops.base import RangeOp, Step, param, register_op


@dataclass(frozen=True)
class Shuffle(RangeOp):
    """Run the span ``[start, end)`` in the order ``random.Random(seed).shuffle`` gives (as the paper's code)."""

    name: ClassVar[str] = "shuffle"
    example: ClassVar[dict[str, Any]] = {"paper_n": "all", "seeds": 10}
    figures: ClassVar[tuple[str, ...]] = ("range_heatmap", "degradation")
    seed: int = param(0, "seed of random.Random(seed).shuffle", sweep="seeds", count=True, id_prefix="s")

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        order = list(range(self.start, self.end))
        random.Random(self.seed).shuffle(order)
        return tuple(order)


def shuffle(start: int, end: int, seed: int = 0) -> Shuffle:
    """Run ``[start, end)`` in ``random.Random(seed).shuffle`` order."""
    return Shuffle(start, end, seed)


register_op(Shuffle, shuffle)
