"""The paper's degradation figure: normalised score against the number of affected layers, one line per op."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from painters.plot._common import NoDataError, panel_columns, select_task, title, usable
from painters.plot.op_meta import line_labels, op_order, ops_with_figure

YLIM = (-1.0, 2.0)
"""The y axis spans the data but never goes past these limits (points outside are off the chart)."""


def line_order(labels: Sequence[str]) -> list[str]:
    """Lines in the ops' registration order (the paper's for the built-ins: skip, middle repeat, repeat, reverse,
    shuffle, swap, parallel, parallel xK), then any others alphabetically."""
    order = op_order()

    def key(label: str) -> tuple[int, int, str]:
        op, _, k = label.partition(" ")
        rank = order.index(op) if op in order else len(order)
        digits = "".join(ch for ch in k if ch.isdigit())
        return rank, int(digits) if digits else 0, label

    return sorted(set(labels), key=key)


def degradation_data(df: pd.DataFrame, task: str | None = None, ops: Sequence[str] | None = None) -> pd.DataFrame:
    """Columns ``line``, ``n_affected``, ``normalised``: the mean normalised score per line and width, first
    averaged over seeds/repeats of a span, then over the spans of equal width (``low``/``high``: the lowest and
    highest single record of that width: the spread over spans, seeds and pairs), plus the unmodified model
    (``n_affected`` 0, score 1.0) at the start of every line. ``ops`` defaults to the ops that declare the
    ``degradation`` figure (not the baseline, combinations ``"a+b"`` or token ops)."""
    rows, _ = select_task(df, task)
    rows = rows[rows["n_affected"].notna() & (rows["op"] != "baseline")]
    if ops is None:  # the ops that declare this figure (token ops have their own curve)
        rows = rows[rows["op"].isin(ops_with_figure("degradation"))]
    else:
        rows = rows[rows["op"].isin(ops)]
    if rows.empty:
        raise NoDataError("no rows with affected layers for the degradation figure")
    frame = pd.DataFrame(
        {
            "line": line_labels(rows),
            "n_affected": rows["n_affected"].astype("int64"),
            "start": rows["start"] if "start" in rows.columns else pd.NA,
            "end": rows["end"] if "end" in rows.columns else pd.NA,
            "normalised": rows["normalised"].astype(float),
        }
    )
    frame = frame[frame["n_affected"] > 0]
    per_span = frame.groupby(["line", "n_affected", "start", "end"], dropna=False)["normalised"].mean()
    means = per_span.groupby(level=["line", "n_affected"]).mean().reset_index()
    spread = frame.groupby(["line", "n_affected"])["normalised"].agg(low="min", high="max").reset_index()
    means = means.merge(spread, on=["line", "n_affected"], how="left")
    start = pd.DataFrame({"line": means["line"].unique(), "n_affected": 0, "normalised": 1.0, "low": 1.0,
                          "high": 1.0})  # fmt: skip
    out = pd.concat([start, means], ignore_index=True)
    out["n_affected"] = out["n_affected"].astype("int64")
    return out.sort_values(["line", "n_affected"], ignore_index=True)


def degradation_curves(
    df: pd.DataFrame,
    task: str | None = None,
    ax: Axes | None = None,
    *,
    ops: Sequence[str] | None = None,
    palette: dict[str, tuple[float, float, float]] | None = None,
    legend: bool = True,
) -> Axes:
    """One panel of the degradation figure for ``task`` (None: the table's only task): normalised score
    against layers affected, one line per op (looped parallel per iteration count), a band from the lowest to the
    highest record of each width (spans, seeds, pairs). Points off the chart are drawn as triangles at its edge
    with their value. Dotted reference lines mark chance (0) and the unmodified model (1). "Layers affected" is
    the width of the span an op rewrites (for swap(i, j): j - i + 1, the layers from i to j), 0 for a variant that
    computes what the unmodified model does. Returns the Axes."""
    rows, task = select_task(df, task)
    data = degradation_data(rows, task, ops)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    lines = line_order(data["line"])
    palette = palette or _palette(lines)
    ax.axhline(1.0, color="0.6", linestyle=":", linewidth=1, label="_unmodified")
    ax.axhline(0.0, color="0.6", linestyle="--", linewidth=1, label="_chance")
    values = data["normalised"].to_numpy()
    values = values[np.isfinite(values)]
    low = max(min(values.min(initial=0.0), 0.0) - 0.05, YLIM[0])
    high = min(max(values.max(initial=1.0), 1.0) + 0.05, YLIM[1])
    for line in lines:
        points = data[data["line"] == line]
        colour = palette[line]
        ax.fill_between(points["n_affected"], points["low"].clip(low, high), points["high"].clip(low, high),
                        color=colour, alpha=0.12, linewidth=0)  # fmt: skip
        ax.plot(points["n_affected"], points["normalised"].clip(low, high), marker="o", markersize=3, label=line,
                color=colour)  # fmt: skip
        for x, y in zip(points["n_affected"], points["normalised"]):  # off the chart: a triangle at the edge
            if np.isfinite(y) and not low <= y <= high:
                edge = low if y < low else high
                ax.plot([x], [edge], marker="v" if y < low else "^", markersize=7, color=colour, clip_on=False)
                ax.annotate(f"{y:.2f}", (x, edge), textcoords="offset points", xytext=(4, 4 if y > high else -10),
                            fontsize=6, color=colour)  # fmt: skip
    ax.set_ylim(low, high)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layers affected")
    ax.set_ylabel("normalised score")
    ax.set_title(title("degradation", rows, task), fontsize="medium")
    if legend:
        ax.legend(fontsize="small", title="op")
    return ax


def degradation_figure(
    df: pd.DataFrame,
    tasks: Sequence[str] | None = None,
    *,
    ops: Sequence[str] | None = None,
    ncols: int | None = None,
    fig: Figure | None = None,
    median: bool = True,
) -> Figure:
    """The paper's figure: one degradation panel per task (``tasks`` defaults to every task with data, in
    table order, then with ``median`` one "median over tasks" panel per model scored on several tasks: the paper's
    summary statistic, :func:`median_over_tasks`), lines coloured the same in every panel. Draws on ``fig`` when
    given (it should be empty), else on a new pyplot figure; ``ncols`` defaults to 3 (2 for four panels).
    Returns the Figure."""
    rows = usable(df)
    if tasks is None:
        if median:
            rows = pd.concat([rows, median_over_tasks(rows)], ignore_index=True)
        tasks = [t for t in pd.unique(rows["task"]) if _has_curves(rows, t, ops)]
    if not tasks:
        raise NoDataError("no task has rows for the degradation figure")
    ncols = panel_columns(len(tasks)) if ncols is None else max(1, min(ncols, len(tasks)))
    nrows = math.ceil(len(tasks) / ncols)
    size = (6.2 * ncols, 4.4 * nrows)
    if fig is None:
        fig = plt.figure(figsize=size, layout="constrained")
    else:
        fig.set_size_inches(*size)
        fig.set_layout_engine("constrained")
    every = pd.concat([degradation_data(rows, t, ops) for t in tasks])
    lines = line_order(every["line"])
    palette = _palette(lines)
    for k, task in enumerate(tasks):
        degradation_curves(rows, task, fig.add_subplot(nrows, ncols, k + 1), ops=ops, palette=palette)
    return fig


def median_over_tasks(df: pd.DataFrame) -> pd.DataFrame:
    """For every model scored on two or more tasks, one row per variant holding the median of its normalised
    scores over those tasks (the paper's summary statistic), as a pseudo-task named ``"median over <k> tasks"``
    (``"<model>: median over <k> tasks"`` when several models have one); the variant's other columns are the
    same on every task."""
    rows = df[df["normalised"].notna()]
    counts = rows.groupby("model")["task"].nunique()
    many = rows[rows["model"].isin(counts[counts >= 2].index)]
    if many.empty:
        return df.iloc[:0]
    first = many.groupby(["model", "variant"], sort=False).first()
    first["normalised"] = many.groupby(["model", "variant"], sort=False)["normalised"].median()
    out = first.reset_index()
    several = many["model"].nunique() > 1  # the pseudo-task names the model where two could share a name
    out["task"] = out["model"].map(lambda m: f"{m}: " * several + f"median over {counts[m]} tasks")
    if "metric" in out:
        out["metric"] = "score"  # the tasks' metrics differ; the median is of their normalised scores
    return out[df.columns]


def _has_curves(rows: pd.DataFrame, task: str, ops: Sequence[str] | None) -> bool:
    try:
        degradation_data(rows, task, ops)
    except NoDataError:
        return False
    return True


def _palette(lines: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    return dict(zip(lines, sns.color_palette("tab10" if len(lines) <= 10 else "husl", len(lines))))
