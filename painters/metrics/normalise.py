"""The paper's normalisation: 0 = chance (or majority class), 1 = the unmodified model."""

from __future__ import annotations

import math


def normalise(score: float, chance: float, baseline: float, *, log: bool = False) -> float:
    """Return ``(score - chance) / (baseline - chance)``.

    With ``log=True`` the three values are compared on a log scale, which suits perplexity: with
    ``chance`` = the vocabulary size (a uniform guess) it is
    ``(log chance - log score) / (log chance - log baseline)``: 1 for the baseline model, 0 for a
    uniform distribution, negative when worse than uniform, whatever the direction of the metric.
    Returns NaN when baseline equals chance (nothing to normalise by) or any input is NaN.
    """
    if log:
        if min(score, chance, baseline) <= 0:
            return float("nan")
        score, chance, baseline = math.log(score), math.log(chance), math.log(baseline)
    denominator = baseline - chance
    if denominator == 0 or math.isnan(denominator) or math.isnan(score):
        return float("nan")
    return (score - chance) / denominator
