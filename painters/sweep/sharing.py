"""What sweep work sharing saves, planned from the plans alone (the scorer in :mod:`painters.sweep.scoring` does it).

Two savings: a variant resumes from the unmodified pass's state entering its first changed step (prefix sharing),
and parallel groups entering the same step read the same state there, so their first iteration's layer outputs are
computed once (parallel sharing).
"""

from __future__ import annotations

from collections.abc import Sequence

from painters.ops import Group
from painters.plan import Plan


def starts_group(p: Plan, k: int) -> bool:
    """Whether step ``k`` of the plan is a plain parallel group (run as is, not through a step kind)."""
    return k < p.num_steps and isinstance(p.steps[k], Group)


def layer_evaluations(plans: Sequence[Plan], share: bool, num_layers: int, parallel: bool = True) -> int:
    """Layer calls per input for these variants plus one unmodified pass, with sharing (prefix, and parallel when
    ``parallel``) or naively; the variants are scored together (one chunk)."""
    total = num_layers
    computed: dict[int, set[int]] = {}  # layers run on the state entering step k, by k
    for p in plans:
        k = p.shared_prefix if share else 0
        total += p.num_calls - k
        if share and parallel and starts_group(p, k):
            done = computed.setdefault(k, set())
            for layer in p.steps[k].layers:
                total -= layer in done
                done.add(layer)
    return total
