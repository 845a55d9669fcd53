"""Layer operations, one module each; every module in this package registers its op in :data:`OPS` when imported.

Adding an op is one file here (the op class with its declared parameters, its public constructor and a
``register_op`` call) plus its tests and docs: sweeps, records, figures, ``painters ls ops`` and the lm-eval
``ops=`` syntax read the declaration. ``painters.<name>`` and ``painters.ops.<name>`` are the constructors.
"""

# ruff: noqa: E402  (the built-ins are imported in the paper's order first)
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

for _name in ("skip", "middle_repeat", "repeat", "reverse", "shuffle", "swap", "parallel", "order"):
    importlib.import_module(f"painters.ops.{_name}")  # the built-ins register in the paper's order (figures use it)

from painters.ops.base import (
    MAX_COUNT,
    OPS,
    Group,
    Op,
    Param,
    RangeOp,
    Step,
    Wrapped,
    op_from_dict,
    paper_span,
    param,
    register_op,
    step_calls,
    step_label,
    step_layers,
    unwrap,
    wrap,
)
from painters.ops.middle_repeat import MiddleRepeat, middle_repeat
from painters.ops.order import Order, order
from painters.ops.parallel import Parallel, parallel
from painters.ops.repeat import Repeat, repeat
from painters.ops.reverse import Reverse, reverse
from painters.ops.shuffle import Shuffle, shuffle
from painters.ops.skip import Skip, skip
from painters.ops.swap import Swap, swap

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")
        if _module.name in OPS:  # `painters.ops.<op>` is the constructor, not the module of the same name
            globals()[_module.name] = OPS[_module.name].constructor


def constructor(name: str) -> Any:
    """The public constructor of the op registered as ``name`` (``constructor("skip")(4, 8)``)."""
    cls = OPS[name]
    return cls.constructor or cls


def __getattr__(name: str) -> Any:
    if name in OPS:
        return constructor(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MAX_COUNT", "OPS", "Group", "MiddleRepeat", "Op", "Order", "Parallel", "Param", "RangeOp", "Repeat", "Reverse",
    "Shuffle", "Skip", "Step", "Swap", "Wrapped", "constructor", "middle_repeat", "op_from_dict", "order",
    "paper_span", "parallel", "param", "register_op", "repeat", "reverse", "shuffle", "skip", "step_calls",
    "step_label", "step_layers", "swap", "unwrap", "wrap",
]  # fmt: skip
