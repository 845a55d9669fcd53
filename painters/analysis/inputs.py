"""What analyses read: model inputs given directly, or a painters task's examples prepared as a sweep prepares them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch


def model_batches(data: Any, processor: Any, batch_size: int) -> Iterable[Mapping[str, torch.Tensor]]:
    """``data`` as batches of model inputs: a dict of tensors (one batch), a list of dicts or painters ``Batch``es,
    or a painters task (prepared with ``processor`` in batches of ``batch_size``)."""
    if isinstance(data, Mapping):
        return [data]
    if hasattr(data, "prepare"):
        return [b.inputs for b in data.prepare(processor, batch_size, progress=False)]
    return [getattr(b, "inputs", b) for b in data]
