"""Analyses of a model under any plan: mean attention distance (more to come: importance predictors)."""

from painters.analysis.attention_distance import attention_distance, grid_distances, mean_distance

__all__ = ["attention_distance", "grid_distances", "mean_distance"]
