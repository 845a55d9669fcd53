"""The shipped zoo YOLOS (zoo/fashion-yolos) scores as recorded on the shipped Fashion-MNIST scenes."""

from __future__ import annotations

from pathlib import Path

import pytest
import transformers

import painters

ROOT = Path(__file__).resolve().parents[1]
MODEL, DATA = ROOT / "zoo" / "fashion-yolos", ROOT / "zoo" / "data" / "fashion-scenes"


def test_shipped_yolos_scores_as_recorded():
    model = transformers.YolosForObjectDetection.from_pretrained(MODEL).eval()
    processor = transformers.AutoImageProcessor.from_pretrained(MODEL, backend="pil")
    task = painters.tasks.load("detection", data=str(DATA))
    assert len(painters.layers(model).layers) == 12 and len(task) == 200
    score = painters.evaluate(model, processor, task, painters.skip(0, 1), batch_size=50, progress=False)
    assert score["baseline_map_50"] == pytest.approx(0.5237, abs=0.005)  # recorded in its model card
    assert score["map_50"] < score["baseline_map_50"] - 0.05  # skipping layer 0 hurts the detector
