"""Analyses of a model: mean attention distance under any plan; one-pass layer importance predictors."""

from painters.analysis.attention_distance import attention_distance, grid_distances, mean_distance
from painters.analysis.importance import importance

__all__ = ["attention_distance", "grid_distances", "importance", "mean_distance"]
