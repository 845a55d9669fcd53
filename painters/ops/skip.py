"""``skip``: the layers of a range do not run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from painters.ops.base import RangeOp, Step, Wrapped, param, register_op
from painters.step_kinds import STEP_KINDS
from painters.sublayers import part_module, without


@dataclass(frozen=True)
class Skip(RangeOp):
    """Skip layers ``[start, end)``: nothing runs in their place; with ``part="attention"`` (or ``"mlp"``) only
    that sublayer of each layer of the range is dropped, the residual stream passing it unchanged (``x + 0``;
    pre-norm layers only, post-norm ones such as BERT's are refused)."""

    name: ClassVar[str] = "skip"
    example: ClassVar[dict[str, Any]] = {"ranges": "all"}
    figures: ClassVar[tuple[str, ...]] = ("range_heatmap", "degradation", "overview")

    part: str = param(
        "block", "what to drop: the whole layer, or only its attention or its MLP",
        choices=("block", "attention", "mlp"), id_hide="block", split=True, omit_default=True,
    )  # fmt: skip

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        if self.part == "block":
            return ()
        return tuple(Wrapped(i, "without", (self.part, i)) for i in range(self.start, self.end))

    def check_model(self, located: Any, modules: list) -> None:
        if self.part != "block":
            for i in range(self.start, min(self.end, len(modules))):
                part_module(modules[i], self.part)


def _run_without(inner, h: torch.Tensor, other_args: tuple, kwargs: dict, runner: Any, part: str, layer: int) -> Any:
    """The layer with its ``part`` contributing zeros to the residual stream."""
    return without(runner.layers[layer], part, lambda: inner(h))


def skip(start: int, end: int, part: str = "block") -> Skip:
    """Skip original layers ``[start, end)``; ``part="attention"`` or ``"mlp"`` drops only that sublayer."""
    return Skip(start, end, part)


register_op(Skip, skip)
STEP_KINDS.register("without", _run_without)
