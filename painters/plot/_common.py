"""Shared helpers of :mod:`painters.plot`: row selection, titles, the annotated heatmap, saving."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from painters.errors import PaintersError
from painters.show import usable  # noqa: F401  (re-exported: the figures' rows, as painters show's)

ANNOT_MAX = 16
"""Cells are annotated when the grid is at most this many rows and columns."""

NORMALISED_CMAP = "viridis"
NORMALISED_RANGE = (0.0, 1.0)
"""Colour range for normalised scores: 0 = chance, 1 = unmodified model. Colours outside are clipped (the colour
bar grows a pointed end); the annotations keep the true values."""


class NoDataError(PaintersError, ValueError):
    """The table has no rows for the requested figure (``plot_results`` skips that figure)."""


def safe_name(name: str) -> str:
    """``name`` with every character outside ``[A-Za-z0-9_.-]`` replaced by ``_`` (as ``similarity/*.npy``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(name))


def select_task(df: pd.DataFrame, task: str | None) -> tuple[pd.DataFrame, str]:
    """The usable rows of ``task`` and its name; ``task=None`` is allowed when the table holds a single task."""
    df = usable(df)
    tasks = list(pd.unique(df["task"]))
    if task is None:
        if not tasks:
            raise NoDataError("the table has no rows")
        if len(tasks) > 1:
            raise NoDataError(f"the table holds several tasks {tasks}; pass task=... to pick one")
        task = str(tasks[0])
    rows = df[df["task"] == task]
    if rows.empty:
        raise NoDataError(f"no rows for task {task!r}; the table has {tasks}")
    return rows, task


def joined(rows: pd.DataFrame, column: str, default: str = "?") -> str:
    """The distinct non-null values of ``column`` joined with ``/`` (``default`` when there are none)."""
    if column not in rows.columns:
        return default
    values = [str(v) for v in pd.unique(rows[column].dropna())]
    return "/".join(values) if values else default


def num_layers(rows: pd.DataFrame) -> int:
    """The model's layer count ``T``: the ``num_layers`` column, else one past the largest span end."""
    if "num_layers" in rows.columns and rows["num_layers"].notna().any():
        return int(rows["num_layers"].max())
    return int(rows["end"].max())


def title(what: str, rows: pd.DataFrame, task: str) -> str:
    """``"skip on tiny-vit, fashion-mnist: normalised top1"``."""
    return f"{what} on {joined(rows, 'model')}, {task}: normalised {joined(rows, 'metric', 'score')}"


def panel_columns(panels: int, most: int = 3) -> int:
    """Columns of a figure with one panel per task: 2 for four panels (a square), else up to ``most``."""
    return 2 if panels == 4 else max(1, min(most, panels))


def new_axes(ax: Axes | None, shape: tuple[int, int]) -> Axes:
    """``ax``, or the axes of a new pyplot figure sized for a ``rows x cols`` grid."""
    if ax is not None:
        return ax
    rows, cols = shape
    _, ax = plt.subplots(figsize=(min(3.5 + 0.55 * cols, 24), min(2.5 + 0.45 * rows, 24)), layout="constrained")
    return ax


def _extend(values: np.ndarray, vmin: float | None, vmax: float | None) -> str:
    finite = values[np.isfinite(values)]
    low = vmin is not None and finite.size > 0 and finite.min() < vmin
    high = vmax is not None and finite.size > 0 and finite.max() > vmax
    return {(True, True): "both", (True, False): "min", (False, True): "max"}.get((low, high), "neither")


def draw_heatmap(
    grid: pd.DataFrame,
    ax: Axes | None,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    cbar_label: str,
    cmap: str = NORMALISED_CMAP,
    vmin: float | None = NORMALISED_RANGE[0],
    vmax: float | None = NORMALISED_RANGE[1],
    annot: bool | None = None,
    empty_note: str = "",
) -> Axes:
    """Draw ``grid`` (index = rows, columns = columns; NaN or infinite = no data, left grey) as a seaborn heatmap with a
    colour bar; cells are annotated (``.2f``) when ``annot`` is None and the grid is at most 16 x 16. When no cell
    has a value, ``empty_note`` is written across the axes (why the figure is empty)."""
    grid = grid.astype(float)
    ax = new_axes(ax, grid.shape)
    if annot is None:
        annot = max(grid.shape) <= ANNOT_MAX
    values = grid.to_numpy()
    sns.heatmap(
        grid,
        mask=np.isnan(values),
        ax=ax,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        annot=annot,
        fmt=".2f",
        annot_kws={"fontsize": 7},
        linewidths=0.3,
        linecolor="white",
        xticklabels=True if grid.shape[1] <= 48 else "auto",
        yticklabels=True if grid.shape[0] <= 48 else "auto",
        cbar_kws={"label": cbar_label, "extend": _extend(values, vmin, vmax)},
    )
    ax.set_facecolor("#eeeeee")  # cells without data
    if not np.isfinite(values).any() and empty_note:
        ax.text(0.5, 0.5, empty_note, transform=ax.transAxes, ha="center", va="center", wrap=True,
                bbox={"facecolor": "white", "alpha": 0.9, "edgecolor": "0.6"})  # fmt: skip
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="y", rotation=0)
    return ax


def chance_note(rows: pd.DataFrame) -> str:
    """Why a normalised heatmap of ``rows`` is empty, when the reason is that the unmodified model scores at
    chance (normalised scores divide by baseline - chance): else ``""``."""
    if not {"baseline", "chance"} <= set(rows.columns) or rows.empty:
        return ""
    base, chance = rows["baseline"].astype(float), rows["chance"].astype(float)
    if ((base - chance).abs() < 1e-12).all():
        return (f"no normalised score: the unmodified model scores {base.iloc[0]:.4g}, which is chance "
                f"({chance.iloc[0]:.4g}), so (score - chance) / (baseline - chance) is undefined")  # fmt: skip
    return ""


def normalised_label(vmin: float | None, vmax: float | None) -> str:
    """Colour-bar label that notes the clipping range."""
    if vmin is None and vmax is None:
        return "normalised score"
    low = "-inf" if vmin is None else f"{vmin:g}"
    high = "inf" if vmax is None else f"{vmax:g}"
    return f"normalised score (colour clipped to [{low}, {high}])"


def save_figure(fig: Figure, out_dir: Path, stem: str, formats: Iterable[str]) -> list[Path]:
    """Write ``fig`` as ``out_dir/stem.<fmt>`` for every format; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt.lstrip('.')}"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        paths.append(path)
    return paths


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """``formats`` without leading dots; raises ``ValueError`` for one matplotlib cannot write."""
    supported = Figure().canvas.get_supported_filetypes()
    clean = tuple(f.lstrip(".").lower() for f in formats)
    unknown = [f for f in clean if f not in supported]
    if unknown:
        from painters.errors import ConfigError

        raise ConfigError(f"cannot write figures as {unknown}; matplotlib supports {sorted(supported)}")
    return clean
