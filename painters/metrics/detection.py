"""COCO box metrics through faster-coco-eval (same 12 numbers as pycocotools, faster)."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

COCO_STAT_NAMES: tuple[str, ...] = (
    "map",
    "map_50",
    "map_75",
    "map_small",
    "map_medium",
    "map_large",
    "mar_1",
    "mar_10",
    "mar_100",
    "mar_small",
    "mar_medium",
    "mar_large",
)


def _quiet(*_args: Any, **_kwargs: Any) -> None:
    return None


def coco_stats(
    gt: Mapping[str, Any],
    detections: Sequence[Mapping[str, Any]] | np.ndarray,
    iou_type: str = "bbox",
) -> np.ndarray:
    """The 12 COCOeval summary stats (AP, AP50, AP75, AP s/m/l, AR 1/10/100, AR s/m/l).

    gt: a COCO instances dict (``images``, ``annotations``, ``categories``).
    detections: COCO result dicts (``image_id``, ``category_id``, ``bbox`` [x, y, w, h], ``score``)
    or an (N, 7) array of ``[image_id, x, y, w, h, score, category_id]``.
    Follows COCO's convention of -1 for a size bin without ground truth.
    """
    from faster_coco_eval import COCO, COCOeval_faster

    coco_gt = COCO(copy.deepcopy(dict(gt)), print_function=_quiet)
    dets = np.asarray(detections, dtype=np.float64) if isinstance(detections, np.ndarray) else list(detections)
    if len(dets) == 0:
        dets = np.zeros((0, 7))
    coco_dt = coco_gt.loadRes(dets if isinstance(dets, np.ndarray) else copy.deepcopy(dets))
    evaluator = COCOeval_faster(coco_gt, coco_dt, iouType=iou_type, print_function=_quiet)
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return np.asarray(evaluator.stats[:12], dtype=np.float64)


def coco_metrics(
    gt: Mapping[str, Any], detections: Sequence[Mapping[str, Any]] | np.ndarray, iou_type: str = "bbox"
) -> dict[str, float]:
    """``coco_stats`` as a named dict (``map``, ``map_50``, ...), with COCO's -1 replaced by NaN."""
    stats = coco_stats(gt, detections, iou_type)
    return {name: (math.nan if value < 0 else float(value)) for name, value in zip(COCO_STAT_NAMES, stats)}
