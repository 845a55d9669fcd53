"""Prepared batches with bounded memory: kept in memory up to a budget, the rest spilled to disk.

Preprocessing (decoding, resizing) runs once per task; the result of a large dataset would not fit in memory,
so tensors beyond the budget go to a temporary folder and are loaded back one batch at a time (a disk read is
far cheaper than decoding and resizing again). The budget is ``PAINTERS_BATCH_MEMORY_MB`` (default 2048).
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from painters.tasks.base import Batch


def _tensors(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, torch.Tensor) for v in value)


def nbytes(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.element_size() * value.nelement()
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(nbytes(v) for v in value)
    return 0


def default_budget() -> int:
    """Bytes of prepared batches held in memory per task before spilling to disk."""
    return int(float(os.environ.get("PAINTERS_BATCH_MEMORY_MB", "2048")) * 2**20)


class BatchStore(Sequence[Batch]):
    """A sequence of prepared batches: the first ones in memory up to ``budget`` bytes, the others on disk."""

    def __init__(self, batches: Iterable[Batch], budget: int | None = None):
        self.budget = default_budget() if budget is None else budget
        self._items: list[Batch | tuple[Path, dict[str, Any]]] = []
        self._tmp: tempfile.TemporaryDirectory | None = None
        used = 0
        for batch in batches:
            size = nbytes(batch.inputs) + nbytes(batch.meta)
            if used + size <= self.budget:
                self._items.append(batch)
                used += size
            else:
                self._items.append(self._spill(batch))
        self.bytes_in_memory = used

    def _spill(self, batch: Batch) -> tuple[Path, dict[str, Any]]:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="painters-batches-")
            weakref.finalize(self, self._tmp.cleanup)
        path = Path(self._tmp.name) / f"{len(self._items)}.pt"
        heavy = {k: v for k, v in batch.meta.items() if _tensors(v)}
        torch.save({"inputs": batch.inputs, "meta": heavy}, path)
        return path, {k: v for k, v in batch.meta.items() if k not in heavy}

    @property
    def spilled(self) -> int:
        """How many batches live on disk."""
        return sum(not isinstance(item, Batch) for item in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        item = self._items[index]
        if isinstance(item, Batch):
            return item
        path, light = item
        data = torch.load(path, weights_only=False)
        return Batch(inputs=data["inputs"], meta={**light, **data["meta"]})
