"""The pruning figure: score against layers removed, one line per method (``painters prune``)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from painters.plot._common import NoDataError

MARKERS = {"greedy": "o", "block-influence": "s", "angular": "^", "last": "v"}


def prune_figure(
    table: pd.DataFrame, path: str | Path | None = None, *, title: str | None = None, xlabel: str = "layers removed"
) -> Figure:
    """Normalised score (0 = chance, 1 = unmodified) against the number of layers removed, one line per method, from
    a :class:`painters.prune.PruneResult` ``table`` (columns ``method``, ``removed``, ``normalised``, ``score``,
    ``metric``). Where the task defines no chance level the raw score is drawn instead. Saved to ``path`` if given.
    """
    if table.empty:
        raise NoDataError("no pruning results to draw")
    values = table["normalised"].astype(float)
    column = "normalised" if values.notna().any() and not values.isna().all() else "score"
    metric = str(table["metric"].iloc[0])
    figure, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    if column == "normalised":
        ax.axhline(1.0, color="0.6", linestyle=":", linewidth=1)
        ax.axhline(0.0, color="0.6", linestyle="--", linewidth=1)
    for method, rows in table.groupby("method", sort=False):
        rows = rows.sort_values("removed")
        ys = [float(v) if v is not None and math.isfinite(float(v)) else math.nan for v in rows[column]]
        ax.plot(rows["removed"], ys, marker=MARKERS.get(str(method), "o"), markersize=4, label=str(method))
    ax.set_xlabel(xlabel)
    ax.set_xticks(sorted(pd.unique(table["removed"])))
    ylabel = f"normalised {metric}\n(0 = chance, 1 = unmodified)" if column == "normalised" else metric
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=120)
    return figure
