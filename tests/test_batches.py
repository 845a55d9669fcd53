"""Prepared batches beyond the memory budget live on disk and come back identical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from painters.sweep.config import parse_sweep
from painters.sweep.runner import SweepRunner
from painters.tasks.base import Batch
from painters.tasks.batches import BatchStore
from tests import sweep_fixtures as F


def test_batches_over_the_budget_are_spilled_and_restored():
    processor = object()
    batches = [
        Batch(
            inputs={"pixel_values": torch.full((2, 3, 4, 4), float(i))},
            meta={"labels": torch.tensor([i, i]), "masks": [torch.ones(2, 2)], "processor": processor},
        )
        for i in range(5)
    ]
    store = BatchStore(iter(batches), budget=2 * (2 * 3 * 4 * 4 * 4 + 16 + 16))
    assert len(store) == 5 and store.spilled == 3
    for i, batch in enumerate(store):
        assert torch.equal(batch.inputs["pixel_values"], batches[i].inputs["pixel_values"])
        assert torch.equal(batch.meta["labels"], batches[i].meta["labels"])
        assert batch.meta["processor"] is processor  # non-tensor meta stays in memory
    assert [b.meta["labels"][0].item() for b in store[1:4]] == [1, 2, 3]


def test_a_sweep_with_spilled_batches_scores_the_same(tmp_path, monkeypatch):
    vit, images = F.save_vit(tmp_path, layers=4), F.save_imagefolder(tmp_path, per_class=4)
    cfg = parse_sweep(
        f"name: b\nmodel: {{id: {vit}}}\ntasks: [{{type: classification, data: {images}, split: test, "
        f"batch_size: 3}}]\nops: [skip: all]\n"
    )
    SweepRunner(cfg, tmp_path / "memory", progress=False).run()
    monkeypatch.setenv("PAINTERS_BATCH_MEMORY_MB", "0.01")  # ~10 KB: every batch goes to disk
    SweepRunner(cfg, tmp_path / "disk", progress=False).run()
    a = pd.read_parquet(tmp_path / "memory" / "results.parquet").sort_values("variant")
    b = pd.read_parquet(tmp_path / "disk" / "results.parquet").sort_values("variant")
    assert len(a) == 11 and np.array_equal(a.score.to_numpy(), b.score.to_numpy())
