"""faster-coco-eval (ours) against pycocotools (the reference) on the same detections."""

import contextlib
import copy
import io
import json
import math

import numpy as np
import pytest

from painters.metrics.detection import COCO_STAT_NAMES, coco_metrics, coco_stats
from tests.task_helpers import shared_data


def _pycocotools_stats(gt: dict, detections: list[dict]) -> np.ndarray:
    coco = pytest.importorskip("pycocotools.coco")
    cocoeval = pytest.importorskip("pycocotools.cocoeval")
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = coco.COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        evaluator = cocoeval.COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(detections)), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats)


def _random_detections(gt: dict, seed: int) -> list[dict]:
    """Jittered copies of the ground truth with random scores and labels, plus pure false positives."""
    rng = np.random.default_rng(seed)
    categories = [c["id"] for c in gt["categories"]]
    detections = []
    for ann in gt["annotations"]:
        for _ in range(rng.integers(0, 3)):
            x, y, w, h = ann["bbox"]
            jitter = rng.normal(0, 0.1, 4) * [w, h, w, h]
            category = ann["category_id"] if rng.random() < 0.8 else int(rng.choice(categories))
            box = [x + jitter[0], y + jitter[1], max(w + jitter[2], 1), max(h + jitter[3], 1)]
            detections.append({"image_id": ann["image_id"], "category_id": category, "bbox": box,
                               "score": float(rng.random())})  # fmt: skip
    for image in gt["images"]:
        for _ in range(rng.integers(0, 4)):
            x, y = rng.random(2) * [image["width"] * 0.8, image["height"] * 0.8]
            w, h = 1 + rng.random(2) * [image["width"] * 0.3, image["height"] * 0.3]
            detections.append({"image_id": image["id"], "category_id": int(rng.choice(categories)),
                               "bbox": [x, y, w, h], "score": float(rng.random())})  # fmt: skip
    return detections


def _synthetic_gt(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    images = [{"id": i + 1, "width": 640, "height": 480, "file_name": f"{i}.jpg"} for i in range(30)]
    annotations = []
    for image in images:
        for _ in range(rng.integers(1, 6)):
            w, h = rng.choice([12, 60, 200]) * (0.5 + rng.random(2))
            x, y = rng.random(2) * [640 - w, 480 - h]
            category = int(rng.integers(1, 4))
            annotations.append({"id": len(annotations) + 1, "image_id": image["id"], "category_id": category,
                                "bbox": [x, y, w, h], "area": w * h, "iscrowd": int(rng.random() < 0.05)})  # fmt: skip
    return {"images": images, "annotations": annotations, "categories": [{"id": i, "name": str(i)} for i in (1, 2, 3)]}


@pytest.mark.parametrize("seed", [0, 1])
def test_same_twelve_stats_as_pycocotools_synthetic(seed):
    gt = _synthetic_gt(seed)
    detections = _random_detections(gt, seed)
    np.testing.assert_allclose(coco_stats(gt, detections), _pycocotools_stats(gt, detections), atol=1e-12)


def test_same_twelve_stats_as_pycocotools_on_voc100():
    gt = json.loads((shared_data() / "voc100" / "gts" / "coco_format_v2" / "instances_v2.json").read_text())
    detections = _random_detections(gt, 7)
    ours = coco_stats(gt, detections)
    np.testing.assert_allclose(ours, _pycocotools_stats(gt, detections), atol=1e-12)
    assert 0.1 < ours[0] < 0.9


def test_array_input_and_named_metrics():
    gt = _synthetic_gt(3)
    detections = _random_detections(gt, 3)
    rows = np.array([[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in detections])
    np.testing.assert_allclose(coco_stats(gt, rows), coco_stats(gt, detections), atol=1e-12)
    named = coco_metrics(gt, detections)
    assert list(named) == list(COCO_STAT_NAMES)


def test_perfect_and_empty_detections():
    gt = _synthetic_gt(4)
    gt["annotations"] = [a | {"iscrowd": 0} for a in gt["annotations"]]
    perfect = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
               for a in gt["annotations"]]  # fmt: skip
    assert coco_metrics(gt, perfect)["map"] == pytest.approx(1.0)
    assert coco_metrics(gt, [])["map"] == 0.0
    tiny_only = {**gt, "annotations": [a for a in gt["annotations"] if a["area"] < 32**2]}
    assert math.isnan(coco_metrics(tiny_only, perfect)["map_large"])  # no large ground truth: COCO's -1
