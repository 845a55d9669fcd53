"""Pruning search: which K layers (or attention / MLP sublayers) to remove, by greedy search (SLEB-style) or by
one-pass predictors (ShortGPT's Block Influence, Gromov et al.'s angular distance) and the "drop the last layers"
baseline; scored on a task like a sweep (0 = chance, 1 = the unmodified model). ``painters.prune`` is
:func:`painters.pruning.core.prune`; ``painters prune`` on the command line.
"""

from painters.pruning.core import (
    METHODS,
    PART_METHODS,
    PruneResult,
    check_methods,
    check_remove,
    ops_for,
    prune,
)

__all__ = ["METHODS", "PART_METHODS", "PruneResult", "check_methods", "check_remove", "ops_for", "prune"]
