"""The shipped zoo ViT (zoo/fashion-vit): its recorded score, and the paper's shape on it."""

from __future__ import annotations

from pathlib import Path

import pytest
import transformers

import painters

ROOT = Path(__file__).resolve().parents[1]
MODEL, DATA = ROOT / "zoo" / "fashion-vit", ROOT / "zoo" / "data" / "fashion-mnist-test"


@pytest.fixture(scope="module")
def scored():
    model = transformers.ViTForImageClassification.from_pretrained(MODEL).eval()
    processor = transformers.AutoImageProcessor.from_pretrained(MODEL, backend="pil")
    task = painters.tasks.load("classification", data=str(DATA), split="test")
    return lambda *ops: painters.evaluate(model, processor, task, *ops, baseline=False, progress=False)["top1"]


def test_shipped_vit_scores_as_recorded(scored):
    assert len(painters.layers(transformers.ViTForImageClassification.from_pretrained(MODEL)).layers) == 12
    assert scored() == pytest.approx(0.906, abs=0.005)  # 453 / 500 shipped test images, recorded in its card
    assert sum(p.stat().st_size for p in MODEL.iterdir()) < 2_000_000


def test_skipping_a_middle_layer_costs_less_than_skipping_the_first(scored):
    first, middle = scored(painters.skip(0, 1)), scored(painters.skip(6, 7))
    assert middle > first + 0.05  # measured: 0.898 vs 0.782
