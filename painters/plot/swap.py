"""The i x j heatmap of swaps."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from painters.plot._common import (
    NORMALISED_CMAP,
    NORMALISED_RANGE,
    NoDataError,
    chance_note,
    draw_heatmap,
    normalised_label,
    num_layers,
    select_task,
    title,
)


def swap_grid(rows: pd.DataFrame, layers: int) -> pd.DataFrame:
    """Mean normalised score of swapping layers i and j, filled symmetrically: a ``T x T`` frame, NaN on the
    diagonal and where no swap was run (``swap(i, j)`` and ``swap(j, i)`` are the same op and are pooled)."""
    rows = rows[rows["i"].notna() & rows["j"].notna()]
    i, j = rows["i"].astype("int64"), rows["j"].astype("int64")
    pairs = pd.DataFrame({"a": i.where(i <= j, j), "b": j.where(i <= j, i), "normalised": rows["normalised"]})
    means = pairs.groupby(["a", "b"])["normalised"].mean()
    grid = pd.DataFrame(float("nan"), index=range(layers), columns=range(layers))
    for (a, b), value in means.items():
        grid.loc[a, b] = grid.loc[b, a] = value
    grid.index.name, grid.columns.name = "i", "j"
    return grid


def swap_heatmap(
    df: pd.DataFrame,
    task: str | None = None,
    ax: Axes | None = None,
    *,
    cmap: str = NORMALISED_CMAP,
    vmin: float | None = NORMALISED_RANGE[0],
    vmax: float | None = NORMALISED_RANGE[1],
    annot: bool | None = None,
    op: str = "swap",
) -> Axes:
    """Heatmap of the normalised score of swapping layers i (rows) and j (columns), symmetric, 0..T-1 on both
    axes. ``task`` may be None when the table holds one task; ``op`` names a pair op (i, j). Returns the Axes."""
    rows, task = select_task(df, task)
    rows = rows[(rows["op"] == op) & rows["i"].notna() & rows["j"].notna()]
    if rows.empty:
        raise NoDataError(f"no {op} rows for task {task!r}")
    return draw_heatmap(
        swap_grid(rows, num_layers(rows)),
        ax,
        title=title(op, rows, task),
        xlabel="layer j",
        ylabel="layer i",
        cbar_label=normalised_label(vmin, vmax),
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        annot=annot,
        empty_note=chance_note(rows),
    )
