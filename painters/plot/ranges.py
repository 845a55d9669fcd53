"""Start x end heatmaps of the ops that declare the ``range_heatmap`` figure (skip, repeat, reverse, ...)."""

from __future__ import annotations

from typing import Any

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
from painters.plot.op_meta import default_filter, select, split_params


def range_rows(df: pd.DataFrame, op: str, task: str | None, **params: Any) -> tuple[pd.DataFrame, str]:
    """The rows of ``op`` on ``task`` that have a span, cut to the split parameter values in ``params``
    (default: :func:`~painters.plot.op_meta.default_filter`, e.g. plain parallel; a None value keeps all)."""
    rows, task = select_task(df, task)
    rows = select(rows, op, {**default_filter(op), **params})
    rows = rows[rows["start"].notna() & rows["end"].notna()]
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
    cmap: str = NORMALISED_CMAP,
    vmin: float | None = NORMALISED_RANGE[0],
    vmax: float | None = NORMALISED_RANGE[1],
    annot: bool | None = None,
    **params: Any,
) -> Axes:
    """Heatmap of the normalised score of ``op`` over spans ``[start, end)``: rows are the start layer 0..T-1,
    columns the (exclusive) end layer 1..T; cells average every row of the span (shuffle seeds, repeats).

    ``params`` pick values of the op's split parameters: ``parallel`` keeps ``iterations == 1`` unless
    ``iterations=`` says otherwise (None averages all); ``times=`` picks one repeat count. ``task`` may be None
    when the table holds one task. Colours are clipped to ``[vmin, vmax]``; annotations show the true means.
    Returns the Axes.
    """
    rows, task = range_rows(df, op, task, **params)
    grid = range_grid(rows, num_layers(rows))
    where = {**default_filter(op), **params}
    what = op + "".join(
        f" {i.meta.id_prefix}{where[i.name]}" for i in split_params(op)
        if where.get(i.name) is not None and not i.meta.hides(where[i.name])
    )  # fmt: skip
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
        empty_note=chance_note(rows),
    )
