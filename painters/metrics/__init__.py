"""Pure metric functions: no models, no data loading."""

from painters.metrics.classification import majority_topk_accuracy, topk_accuracy, topk_correct
from painters.metrics.detection import COCO_STAT_NAMES, coco_metrics, coco_stats
from painters.metrics.language import (
    cosine_pairs,
    mean_pool,
    multiple_choice_accuracy,
    pearson,
    perplexity,
    rankdata,
    spearman,
)
from painters.metrics.normalise import normalise
from painters.metrics.segmentation import confusion_matrix, majority_scores, segmentation_scores

__all__ = [
    "COCO_STAT_NAMES",
    "coco_metrics",
    "coco_stats",
    "confusion_matrix",
    "cosine_pairs",
    "majority_scores",
    "majority_topk_accuracy",
    "mean_pool",
    "multiple_choice_accuracy",
    "normalise",
    "pearson",
    "perplexity",
    "rankdata",
    "segmentation_scores",
    "spearman",
    "topk_accuracy",
    "topk_correct",
]
