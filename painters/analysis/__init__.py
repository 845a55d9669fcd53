"""Analyses of a model: mean attention distance under any plan; one-pass layer importance predictors and how well they
rank measured skips."""

from painters.analysis.agreement import load_importance, predictor_agreement
from painters.analysis.attention_distance import attention_distance, grid_distances, mean_distance
from painters.analysis.importance import importance

__all__ = [
    "attention_distance",
    "grid_distances",
    "importance",
    "load_importance",
    "mean_distance",
    "predictor_agreement",
]
