"""Start x end heatmaps of range ops (skip, repeat, reverse, shuffle, parallel, middle_repeat)."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from painters.plot._common import (
    NORMALISED_CMAP,
    NORMALISED_RANGE,
    NoDataError,
    draw_heatmap,
    normalised_label,
    num_layers,
    select_task,
    title,
)

RANGE_OPS = ("skip", "middle_repeat", "repeat", "reverse", "shuffle", "parallel")
"""Ops that plot_results draws as start x end heatmaps."""


def range_rows(
    df: pd.DataFrame, op: str, task: str | None, *, iterations: int | None = 1, times: int | None = None
) -> tuple[pd.DataFrame, str]:
    """The rows of ``op`` on ``task`` that have a span; parallel is cut to ``iterations`` (None: all),
    repeat to ``times`` (None: all)."""
    rows, task = select_task(df, task)
    rows = rows[(rows["op"] == op) & rows["start"].notna() & rows["end"].notna()]
    if op == "parallel" and iterations is not None and "iterations" in rows.columns:
        rows = rows[rows["iterations"].fillna(1) == iterations]
    if op == "repeat" and times is not None and "times" in rows.columns:
        rows = rows[rows["times"] == times]
    if rows.empty:
        raise NoDataError(f"no {op} rows with a span for task {task!r}")
    return rows, task


def range_grid(rows: pd.DataFrame, layers: int) -> pd.DataFrame:
    """Mean normalised score per span: rows ``start`` 0..T-1, columns ``end`` 1..T (NaN where not run)."""
    means = rows.groupby([rows["start"].astype("int64"), rows["end"].astype("int64")])["normalised"].mean()
    grid = means.unstack("end").reindex(index=range(layers), columns=range(1, layers + 1))
    grid.index.name, grid.columns.name = "start", "end"
    return grid.astype(float)


def range_heatmap(
    df: pd.DataFrame,
    op: str = "skip",
    task: str | None = None,
    ax: Axes | None = None,
    *,
    iterations: int | None = 1,
    times: int | None = None,
    cmap: str = NORMALISED_CMAP,
    vmin: float | None = NORMALISED_RANGE[0],
    vmax: float | None = NORMALISED_RANGE[1],
    annot: bool | None = None,
) -> Axes:
    """Heatmap of the normalised score of ``op`` over spans ``[start, end)``: rows are the start layer 0..T-1,
    columns the (exclusive) end layer 1..T; cells average every row of the span (shuffle seeds, repeats).

    ``parallel`` keeps ``iterations == 1`` unless ``iterations`` says otherwise (None averages all);
    ``times`` picks one repeat count. ``task`` may be None when the table holds one task. Colours are clipped
    to ``[vmin, vmax]``; annotations show the true means. Returns the Axes.
    """
    rows, task = range_rows(df, op, task, iterations=iterations, times=times)
    grid = range_grid(rows, num_layers(rows))
    what = op
    if op == "parallel" and iterations is not None and iterations != 1:
        what = f"parallel x{iterations}"
    elif op == "repeat" and times is not None:
        what = f"repeat x{times}"
    return draw_heatmap(
        grid,
        ax,
        title=title(what, rows, task),
        xlabel="end layer (exclusive)",
        ylabel="start layer",
        cbar_label=normalised_label(vmin, vmax),
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        annot=annot,
    )


def repeat_counts(df: pd.DataFrame) -> list[int | None]:
    """The distinct ``times`` of repeat rows (``[None]`` when there is at most one: one heatmap covers them)."""
    if "times" not in df.columns:
        return [None]
    counts = sorted(int(t) for t in pd.unique(df.loc[df["op"] == "repeat", "times"].dropna()))
    return [None] if len(counts) <= 1 else list(counts)
