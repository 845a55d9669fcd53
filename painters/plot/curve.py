"""Score against an op's parameter (CLS isolation ``until``, token drop ``after``): one line per task."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from painters.ops import OPS
from painters.plot._common import NoDataError, title, usable


def curve_param(op: str) -> str:
    """The parameter an op's curve is drawn against: its first own integer parameter (``until``, ``after``)."""
    cls = OPS[op]
    names = [i.name for i in cls.params() if i.type is int and i.name not in cls.selector_params()]
    if not names:
        raise ValueError(f"{op} has no integer parameter to draw a curve against")
    return names[0]


def curve_data(df: pd.DataFrame, op: str) -> pd.DataFrame:
    """Columns ``task``, ``model``, the op's curve parameter, ``normalised`` and ``score`` (means over repeats)."""
    param = curve_param(op)
    rows = usable(df)
    rows = rows[(rows["op"] == op) & rows[param].notna()] if param in rows.columns else rows.iloc[:0]
    if rows.empty:
        raise NoDataError(f"no {op} rows")
    frame = rows.assign(**{param: rows[param].astype("int64")})
    return frame.groupby(["task", "model", param], sort=True)[["normalised", "score"]].mean().reset_index()


def curve(df: pd.DataFrame, op: str, ax: Axes | None = None) -> Axes:
    """Normalised score (0 = chance, 1 = unmodified) against ``op``'s parameter, one line per (model, task), with
    reference lines at 0 and 1. Returns the Axes."""
    data = curve_data(df, op)
    param = curve_param(op)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.axhline(1.0, color="0.6", linestyle=":", linewidth=1)
    ax.axhline(0.0, color="0.6", linestyle="--", linewidth=1)
    for (task, model), points in data.groupby(["task", "model"], sort=False):
        ax.plot(points[param], points["normalised"], marker="o", markersize=3, label=f"{model} / {task}")
    ax.set_xlabel(f"{op} {param}")
    ax.set_ylabel("normalised score (0 = chance, 1 = unmodified)")
    ax.set_title(title(op, usable(df)[usable(df)["op"] == op], ", ".join(pd.unique(data["task"]))))
    ax.legend(fontsize="small")
    return ax
