"""``STEP_KINDS``: how :class:`~painters.ops.Wrapped` steps run, registered by the modifier ops that make them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from painters.registry import Registry

StepKind = Callable[..., Any]
"""``kind(inner, hidden, other_args, kwargs, runner, *args)``: run ``inner(x)`` (the wrapped layer or group on a
hidden state ``x``) as the kind says and return what the layer would return; ``runner.located`` is the layer stack
(its architecture entry and config), ``args`` the :class:`~painters.ops.Wrapped` step's."""

STEP_KINDS: Registry[StepKind] = Registry("step kind")
"""How :class:`~painters.ops.Wrapped` steps run, by kind (registered by the modifier ops that make them)."""


def first(out: Any) -> torch.Tensor:
    """The hidden state a layer returned (a tensor, or the first item of a tuple)."""
    return out[0] if isinstance(out, (tuple, list)) else out


def like(out: Any, hidden: torch.Tensor) -> Any:
    """``hidden`` in the form the layer returned (a tensor, or a tuple whose first item it replaces)."""
    if isinstance(out, tuple):
        return (hidden, *out[1:])
    if isinstance(out, list):
        return [hidden, *out[1:]]
    return hidden
