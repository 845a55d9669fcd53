"""Guards for long sweeps: out-of-memory batch halving and non-finite detection."""

from __future__ import annotations

from typing import Any

import torch

from painters.tasks.base import Batch


def is_oom(exc: BaseException) -> bool:
    """True for an accelerator out-of-memory error (torch's, or a RuntimeError saying so)."""
    return isinstance(exc, torch.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


def split_batch(batch: Batch) -> list[Batch] | None:
    """The two halves of ``batch`` (inputs and per-example meta sliced alike), or None when it cannot be split
    safely (one example, or inputs and meta that do not share a leading size)."""
    sizes = {v.shape[0] for v in batch.inputs.values() if isinstance(v, torch.Tensor) and v.dim() > 0}
    if len(sizes) != 1:
        return None
    (n,) = sizes
    if n < 2:
        return None
    per_example = {k for k, v in batch.meta.items() if isinstance(v, (torch.Tensor, list, tuple))}
    if any(len(batch.meta[k]) != n for k in per_example):
        return None
    half = n // 2
    out = []
    for lo, hi in ((0, half), (half, n)):
        inputs = {k: v[lo:hi] if isinstance(v, torch.Tensor) and v.dim() > 0 else v for k, v in batch.inputs.items()}
        meta = {k: v[lo:hi] if k in per_example else v for k, v in batch.meta.items()}
        out.append(Batch(inputs=inputs, meta=meta))
    return out


def has_nonfinite(outputs: Any) -> bool:
    """True when any floating tensor inside ``outputs`` (tensors, dicts, lists, tuples, model outputs) holds inf or
    NaN."""
    if isinstance(outputs, torch.Tensor):
        return outputs.is_floating_point() and not bool(torch.isfinite(outputs).all())
    if isinstance(outputs, dict):
        return any(has_nonfinite(v) for v in outputs.values())
    if isinstance(outputs, (list, tuple)):
        return any(has_nonfinite(v) for v in outputs)
    return False
