"""painters: exact layer-manipulation experiments on Hugging Face transformers.

>>> import painters
>>> op = painters.skip(4, 8)                    # half-open [start, end), 0-indexed original layers
>>> # with painters.apply(model, op): out = model(**inputs)
"""

from painters import analysis, tasks
from painters.analysis import attention_distance, importance
from painters.apply import LayerStack, apply, layers, plan
from painters.architectures import ARCHITECTURES, Architecture, register
from painters.errors import PlanError, UnsupportedModelError
from painters.evaluation import evaluate
from painters.materialize import materialize
from painters.ops import (
    OPS,
    Group,
    Op,
    middle_repeat,
    op_from_dict,
    order,
    paper_span,
    parallel,
    repeat,
    reverse,
    shuffle,
    skip,
    swap,
)
from painters.plan import Plan, resolve
from painters.pruning import prune

__version__ = "0.1.0"


_LAZY_MODULES = ("plot", "sweep", "zoo")
"""Subpackages imported on first use (``painters.plot.range_heatmap`` after ``import painters``): they pull in
matplotlib, seaborn or the zoo's entries, which ``import painters`` alone does not need."""


def __getattr__(name: str):
    """``painters.plot`` / ``painters.sweep`` / ``painters.zoo`` on first use; ``painters.<op>``: the constructor of
    any registered op (built-in or from a plugin)."""
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"painters.{name}")
    from painters.ops import OPS, constructor

    if name in OPS:
        return constructor(name)
    raise AttributeError(f"module 'painters' has no attribute {name!r}")


def supported_architectures() -> list[str]:
    """The ``config.model_type`` names painters supports out of the box."""
    return sorted(ARCHITECTURES)


__all__ = [
    "ARCHITECTURES",
    "OPS",
    "Architecture",
    "Group",
    "LayerStack",
    "Op",
    "Plan",
    "PlanError",
    "UnsupportedModelError",
    "analysis",
    "apply",
    "attention_distance",
    "importance",
    "evaluate",
    "layers",
    "materialize",
    "middle_repeat",
    "op_from_dict",
    "order",
    "paper_span",
    "parallel",
    "plan",
    "prune",
    "register",
    "repeat",
    "resolve",
    "reverse",
    "shuffle",
    "skip",
    "supported_architectures",
    "swap",
    "tasks",
]
