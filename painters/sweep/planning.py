"""Plans for a sweep's variants on one model: every plan validated before any work, and the variants the model
refuses (a well-formed plan its forward cannot run, e.g. a Swin stage left with no block) set apart with the
reason, so that ``skip: all`` on a staged model runs every range the model can run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from painters.apply import plan
from painters.errors import ModelRefusal, PlanError
from painters.plan import Plan
from painters.sweep.generators import Variant


def plan_variants(
    model: nn.Module,
    variants: Sequence[Variant],
    where: dict[str, Any],
    *,
    model_name: str = "the model",
    alone: bool = True,
) -> tuple[list[Variant], dict[str, Plan], dict[str, str]]:
    """``(runnable variants, their plans by id, {refused variant id: reason})``. Any other plan error raises; so
    does a refusal of every non-baseline variant when this model is the sweep's only one (``alone``: nothing
    would be measured)."""
    plans: dict[str, Plan] = {}
    refused: dict[str, str] = {}
    for v in variants:
        try:
            plans[v.id] = plan(model, *v.ops, **where)
        except ModelRefusal as exc:
            refused[v.id] = str(exc)
    kept = [v for v in variants if v.id in plans]
    if alone:
        check_runnable(model_name, kept, refused)
    return kept, plans, refused


def check_runnable(model_name: str, kept: Sequence[Variant], refused: dict[str, str]) -> None:
    """Raise when the model refused every variant but the baseline (the sweep would measure nothing)."""
    if refused and all(v.id == "baseline" for v in kept):
        first = next(iter(refused.values()))
        raise PlanError(f"{model_name} cannot run any variant of this sweep ({len(refused)} refused), e.g.: {first}")


def refusal_note(model_name: str, refused: dict[str, str]) -> str:
    """One line per refused variant (at most five shown) for the run summary."""
    shown = [f"{vid}: {reason}" for vid, reason in list(refused.items())[:5]]
    more = f" (and {len(refused) - 5} more)" if len(refused) > 5 else ""
    return f"{model_name}: {len(refused)} variant(s) left out, the model cannot run them{more}:\n    " + "\n    ".join(
        shown
    )
