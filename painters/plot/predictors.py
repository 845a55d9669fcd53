"""The predicted skip heatmap (angular distance from the baseline pass) beside the measured one, and block influence
per layer against the measured single-layer skip scores, with their Spearman rank correlations."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from painters.analysis.agreement import paired, predictor_agreement
from painters.plot._common import NoDataError, draw_heatmap
from painters.plot.ranges import range_heatmap


def predicted_vs_measured(
    table: pd.DataFrame, importance: pd.DataFrame, task: str, fig: Figure | None = None
) -> Figure:
    """Three panels for ``task``: the measured skip heatmap (normalised score), the predicted one (angular distance
    per span, colour scale reversed so that "safe to skip" looks alike), and per layer the block influence next to
    the measured score of skipping that layer alone. Titles give the Spearman rank correlations. Raises
    ``NoDataError`` when the task has no skip measured or no stored predictors."""
    rows = table[table["task"] == task]
    predicted = importance[importance["task"] == task]
    both = paired(rows, predicted)
    if both.empty:
        raise NoDataError(f"no skip measured with stored predictors for task {task!r}")
    rho = predictor_agreement(rows, predicted).set_index("predictor")["spearman"]
    fig = fig or Figure()
    fig.set_size_inches(17, 5.2)
    fig.set_layout_engine("constrained")
    measured_ax, predicted_ax, layer_ax = fig.subplots(1, 3, width_ratios=[1, 1, 0.9])
    range_heatmap(rows, "skip", task, ax=measured_ax, annot=False)
    count = int(predicted["end"].max())
    grid = (
        predicted.pivot_table(index="start", columns="end", values="angular_distance")
        .reindex(index=range(count), columns=range(1, count + 1))
        .astype(float)
    )
    draw_heatmap(
        grid,
        predicted_ax,
        title=f"predicted: angular distance (Spearman {rho['angular_distance']:+.2f}; "
        f"{rho['angular_same_width']:+.2f} within a width)",
        xlabel="end layer (exclusive)",
        ylabel="start layer",
        cbar_label="arccos(cos(x_start, x_end)) / pi",
        cmap="viridis_r",
        vmin=0.0,
        vmax=None,
        annot=False,
    )
    single = both[both["end"] - both["start"] == 1].sort_values("start")
    layer_ax.plot(single["start"], single["normalised"], "o-", color="C0", label="measured: skip layer i alone")
    layer_ax.set_xlabel("layer i")
    layer_ax.set_ylabel("normalised score", color="C0")
    influence_ax = layer_ax.twinx()
    influence_ax.plot(single["start"], single["block_influence"], "s--", color="C3", label="block influence")
    influence_ax.set_ylabel("block influence (1 - cos)", color="C3")
    influence_ax.invert_yaxis()  # low influence (safe to skip) up, like a high score
    layer_ax.set_title(f"block influence vs single-layer skip (Spearman {rho['block_influence']:+.2f})")
    model = ", ".join(sorted(map(str, rows["model"].unique())))
    fig.suptitle(f"one-pass predictors vs measured skips: {model} / {task}")
    return fig
