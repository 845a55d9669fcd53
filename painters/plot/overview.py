"""``overview_figure``: one op's heatmap for every task side by side (every model of a multi-model sweep)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from painters.plot._common import NoDataError, panel_columns, usable
from painters.plot.ranges import RANGE_OPS, range_heatmap
from painters.plot.swap import swap_heatmap


def overview_figure(
    df: pd.DataFrame, op: str = "skip", tasks: Sequence[str] | None = None, *, fig: Figure | None = None
) -> Figure:
    """A panel per task (default: every task with rows for ``op``, in table order) holding the same heatmap
    ``range_heatmap(df, op, task)`` (or ``swap_heatmap`` for ``op="swap"``) draws alone. Draws on ``fig`` when
    given (it should be empty). Raises ``NoDataError`` when no task has rows for ``op``."""
    if op != "swap" and op not in RANGE_OPS:
        raise ValueError(f"op must be 'swap' or one of {list(RANGE_OPS)}, got {op!r}")
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
        if op == "swap":
            swap_heatmap(rows, task, ax=ax)
        else:
            range_heatmap(rows, op, task, ax=ax)
    return fig
