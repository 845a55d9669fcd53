"""The span x iterations heatmap of looped parallel."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from painters.plot._common import (
    NORMALISED_CMAP,
    NORMALISED_RANGE,
    NoDataError,
    draw_heatmap,
    normalised_label,
    select_task,
    title,
)


def span_label(start: int, end: int) -> str:
    """``"[4, 8)"``."""
    return f"[{start}, {end})"


def loop_grid(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean normalised score per (span, iterations) of parallel rows: index ``"[s, e)"`` ordered by span,
    columns the iteration counts."""
    frame = pd.DataFrame(
        {
            "start": rows["start"].astype("int64"),
            "end": rows["end"].astype("int64"),
            "iterations": rows["iterations"].fillna(1).astype("int64"),
            "normalised": rows["normalised"].astype(float),
        }
    )
    grid = frame.groupby(["start", "end", "iterations"])["normalised"].mean().unstack("iterations").sort_index()
    grid.index = [span_label(s, e) for s, e in grid.index]
    grid.index.name = "span"
    return grid


def loop_heatmap(
    df: pd.DataFrame,
    task: str | None = None,
    ax: Axes | None = None,
    *,
    cmap: str = NORMALISED_CMAP,
    vmin: float | None = NORMALISED_RANGE[0],
    vmax: float | None = NORMALISED_RANGE[1],
    annot: bool | None = None,
    op: str = "parallel",
) -> Axes:
    """Heatmap of looped parallel: one row per span that was run with ``iterations > 1`` (labelled ``"[s, e)"``),
    one column per iteration count (the span's plain parallel, ``iterations == 1``, included when present).
    ``task`` may be None when the table holds one task. Returns the Axes."""
    rows, task = select_task(df, task)
    if "iterations" not in rows.columns:
        raise NoDataError("the table has no iterations column")
    rows = rows[(rows["op"] == op) & rows["start"].notna() & rows["end"].notna()]
    looped = rows[rows["iterations"].fillna(1) > 1]
    if looped.empty:
        raise NoDataError(f"no looped parallel rows (iterations > 1) for task {task!r}")
    spans = set(zip(looped["start"].astype("int64"), looped["end"].astype("int64")))
    keep = [(s, e) in spans for s, e in zip(rows["start"].astype("int64"), rows["end"].astype("int64"))]
    rows = rows[keep]
    return draw_heatmap(
        loop_grid(rows),
        ax,
        title=title("looped parallel", rows, task),
        xlabel="iterations",
        ylabel="span [start, end)",
        cbar_label=normalised_label(vmin, vmax),
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        annot=annot,
    )
