"""``overview_figure``: one op's heatmap for every task side by side (every model of a multi-model sweep)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from painters.plot._common import NoDataError, panel_columns, usable
from painters.plot.op_meta import ops_with_figure
from painters.plot.ranges import range_heatmap
from painters.plot.swap import swap_heatmap


def overview_figure(
    df: pd.DataFrame, op: str = "skip", tasks: Sequence[str] | None = None, *, fig: Figure | None = None
) -> Figure:
    """A panel per task (default: every task with rows for ``op``, in table order) holding the same heatmap
    ``range_heatmap(df, op, task)`` (or ``swap_heatmap`` for a pair op such as ``swap``) draws alone. Draws on
    ``fig`` when given (it should be empty). Raises ``NoDataError`` when no task has rows for ``op``."""
    heatmaps = ops_with_figure("swap_heatmap") + ops_with_figure("range_heatmap")
    if op not in heatmaps:
        raise ValueError(f"op must be one of {heatmaps} (the ops with a heatmap), got {op!r}")
    rows = usable(df)
    if tasks is None:
        tasks = [str(t) for t in pd.unique(rows["task"]) if (rows[rows["task"] == t]["op"] == op).any()]
    if not tasks:
        raise NoDataError(f"no task has {op} rows")
    ncols = panel_columns(len(tasks))
    nrows = -(-len(tasks) // ncols)
    fig = fig if fig is not None else Figure()
    fig.set_size_inches(6.8 * ncols, 5.6 * nrows)
    fig.set_layout_engine("constrained")
    for k, task in enumerate(tasks):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        if op in ops_with_figure("swap_heatmap"):
            swap_heatmap(rows, task, ax=ax, op=op)
        else:
            range_heatmap(rows, op, task, ax=ax)
    return fig
