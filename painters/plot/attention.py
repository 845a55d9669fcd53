"""The ViT paper's Fig. 7: mean attention distance per layer, one dot per head."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from painters.plot._common import NoDataError


def attention_distance_plot(df: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Dots of ``distance_px`` (one per head) against the executed step, labelled with the original layer it runs
    (``painters.attention_distance`` output). Returns the Axes."""
    if df.empty:
        raise NoDataError("no attention distances")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    heads = sorted(pd.unique(df["head"]))
    for head in heads:
        rows = df[df["head"] == head]
        ax.scatter(rows["step"], rows["distance_px"], s=14, alpha=0.8, label=f"head {head}")
    steps = df.drop_duplicates("step").sort_values("step")
    ax.set_xticks(steps["step"], [str(layer) for layer in steps["layer"]])
    ax.set_xlabel("layer (original index, in the order run)")
    ax.set_ylabel("mean attention distance (pixels)")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "mean attention distance per head")
    if len(heads) <= 12:
        ax.legend(fontsize="x-small", ncols=2)
    return ax
