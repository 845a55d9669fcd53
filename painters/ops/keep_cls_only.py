"""``keep_cls_only``: from a layer on, only the CLS token (with the other special tokens) continues."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from painters.errors import PlanError
from painters.ops.base import Op, Step, param, register_op, wrap
from painters.step_kinds import STEP_KINDS
from painters.tokens import check_per_token_inputs, leading_tokens


@dataclass(frozen=True)
class KeepClsOnly(Op):
    """After the state after original layer ``after - 1``, only the CLS token continues: the later steps run on
    the CLS token alone (with the other special tokens: DeiT's distillation token, registers), the patch tokens
    are dropped. ``after=T`` is the unmodified model; ``after=0``: only CLS enters the first layer. Refused on
    models whose heads read the patch tokens."""

    name: ClassVar[str] = "keep_cls_only"
    selector: ClassVar[str] = "params"
    modifier: ClassVar[bool] = True
    example: ClassVar[dict[str, Any]] = {"after": "all"}
    figures: ClassVar[tuple[str, ...]] = ("curve",)
    after: int = param(doc="the patch tokens are dropped after original layer after - 1", minimum=0,
                       every=lambda t: range(t + 1))  # fmt: skip

    def span(self, num_layers: int) -> tuple[int, int]:
        return self.after, num_layers

    def validate(self, num_layers: int) -> None:
        if self.after > num_layers:
            raise PlanError(f"{self}: after must be at most the layer count {num_layers} (0..{num_layers}).")

    def affected(self, num_layers: int) -> int:
        return num_layers - self.after

    def modify(self, steps: tuple[Step, ...], boundaries: tuple[int, ...], num_layers: int) -> tuple[Step, ...]:
        dropped = boundaries[self.after - 1] if self.after else 0
        return tuple(wrap(s, "keep_cls_only", self) if k >= dropped else s for k, s in enumerate(steps))

    def check_model(self, located: Any, modules: list) -> None:
        leading_tokens(located, self.name, patches_read=True)


def _run_on_cls(inner, h: torch.Tensor, other_args: tuple, kwargs: dict, runner: Any) -> Any:
    """The wrapped step on the special tokens alone (a no-op cut once the patches are gone)."""
    special = leading_tokens(runner.located, "keep_cls_only", patches_read=True)
    check_per_token_inputs(h, other_args, kwargs, "keep_cls_only")
    return inner(h[:, :special])


def keep_cls_only(after: int) -> KeepClsOnly:
    """Only the CLS token (and the other special tokens) continues after original layer ``after - 1``."""
    return KeepClsOnly(after)


register_op(KeepClsOnly, keep_cls_only)
STEP_KINDS.register("keep_cls_only", _run_on_cls)
