"""``isolate_cls``: Ghiasi et al. 2022: the CLS token and the patch tokens run through the first layers apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from painters.errors import PlanError
from painters.ops.base import Op, Step, param, register_op, wrap
from painters.step_kinds import STEP_KINDS
from painters.tokens import check_per_token_inputs, first, leading_tokens, like


@dataclass(frozen=True)
class IsolateCls(Op):
    """Until the state after original layer ``until - 1``, the CLS token and the patch tokens run as two separate
    sequences (CLS attends only to itself, the patches never see CLS); they are joined from then on. ``until=0``
    is the unmodified model; ``until=T``: CLS never sees a patch. Special tokens (DeiT's distillation token,
    registers) travel with CLS."""

    name: ClassVar[str] = "isolate_cls"
    selector: ClassVar[str] = "params"
    modifier: ClassVar[bool] = True
    example: ClassVar[dict[str, Any]] = {"until": "all"}
    figures: ClassVar[tuple[str, ...]] = ("curve",)
    until: int = param(doc="isolation holds for original layers [0, until)", minimum=0, every=lambda t: range(t + 1))

    def span(self, num_layers: int) -> tuple[int, int]:
        return 0, self.until

    def validate(self, num_layers: int) -> None:
        if self.until > num_layers:
            raise PlanError(f"{self}: until must be at most the layer count {num_layers} (0..{num_layers}).")

    def affected(self, num_layers: int) -> int:
        return self.until

    def modify(self, steps: tuple[Step, ...], boundaries: tuple[int, ...], num_layers: int) -> tuple[Step, ...]:
        apart = boundaries[self.until - 1] if self.until else 0
        return tuple(wrap(s, "isolate_cls", self) if k < apart else s for k, s in enumerate(steps))

    def check_model(self, located: Any, modules: list) -> None:
        leading_tokens(located, self.name)


def _run_apart(inner, h: torch.Tensor, other_args: tuple, kwargs: dict, runner: Any) -> Any:
    """The wrapped step on the special tokens and on the patch tokens, separately; the outputs joined."""
    special = leading_tokens(runner.located, "isolate_cls")
    check_per_token_inputs(h, other_args, kwargs, "isolate_cls")
    head = inner(h[:, :special])
    tail = inner(h[:, special:])
    return like(head, torch.cat([first(head), first(tail)], dim=1))


def isolate_cls(until: int) -> IsolateCls:
    """CLS (and the other special tokens) and the patches run apart through original layers ``[0, until)``."""
    return IsolateCls(until)


register_op(IsolateCls, isolate_cls)
STEP_KINDS.register("isolate_cls", _run_apart)
