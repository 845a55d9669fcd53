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


def layer_evaluations(
    plans: Sequence[Plan], share: bool, num_layers: int, parallel: bool = True, chunk: int | None = None
) -> int:
    """Layer calls per input for these variants, with sharing (prefix, and parallel when ``parallel``) or naively.

    ``plans`` in the order they run (``order_variants``; the baseline's plan, with no op, may be among them and
    costs nothing itself); ``chunk``: how many run per pass over the data, as ``runner.chunk`` cuts them. Each chunk
    runs one unmodified pass (it records the states its variants resume from) and shares parallel-group outputs
    within itself; None: all in one chunk."""
    size = chunk or max(len(plans), 1)
    total = 0
    for first in range(0, max(len(plans), 1), size):
        group = [p for p in plans[first : first + size] if p.ops]
        total += num_layers  # the chunk's unmodified pass
        computed: dict[int, set[int]] = {}  # layers run on the state entering step k, by k
        for p in group:
            k = p.shared_prefix if share else 0
            total += p.num_calls - k
            if share and parallel and starts_group(p, k):
                done = computed.setdefault(k, set())
                for layer in p.steps[k].layers:
                    total -= layer in done
                    done.add(layer)
    return total
