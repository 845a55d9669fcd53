"""``FIGURES``: the figure kinds ops declare in ``Op.figures``, each a plugin that says which files it draws.

A kind's ``files(rows, op, slug)`` lists ``(stem, draw, args, kwargs)`` for one op: per task (``scope="task"``,
``rows`` are one task's rows, ``slug`` the task's file-name form) or across tasks (``scope="sweep"``, ``rows`` the
whole table, ``slug`` empty). ``draw`` returns an Axes (a heatmap drawn on a fresh figure) or, for sweep-scope
kinds, a Figure; it raises ``NoDataError`` when there is nothing to draw. :func:`plot_results` draws every kind
that an op present in the table declares. Kinds of scope ``"stored"`` (similarity, predictors, attention
distance) are drawn from what a sweep stores next to its records instead. Adding a kind is one registration here
(or in a plugin).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from painters.plot.curve import curve
from painters.plot.degradation import degradation_figure
from painters.plot.loop import loop_heatmap
from painters.plot.op_meta import panels
from painters.plot.overview import overview_figure
from painters.plot.ranges import range_heatmap
from painters.plot.swap import swap_heatmap
from painters.registry import Registry

FileSpec = tuple[str, Callable[..., Any], tuple, dict]


@dataclass(frozen=True)
class FigureKind:
    """One kind of figure: what it shows, its scope (``"task"`` or ``"sweep"``) and the files it draws."""

    description: str
    scope: str
    files: Callable[[pd.DataFrame, str, str], list[FileSpec]]
    once: bool = False
    """Drawn once for all ops that declare it (the degradation figure), not once per op."""


FIGURES: Registry[FigureKind] = Registry("figure kind")
"""Every figure kind by name (``painters ls figures``)."""


def _range_files(rows: pd.DataFrame, op: str, slug: str) -> list[FileSpec]:
    task = str(rows["task"].iloc[0])
    return [
        (f"{op}{label.replace(' ', '_')}_heatmap_{slug}", range_heatmap, (rows, op, task), where)
        for label, where in panels(rows, op, heatmaps=True)
    ]


def _swap_files(rows: pd.DataFrame, op: str, slug: str) -> list[FileSpec]:
    return [(f"{op}_heatmap_{slug}", swap_heatmap, (rows, str(rows["task"].iloc[0])), {"op": op})]


def _loop_files(rows: pd.DataFrame, op: str, slug: str) -> list[FileSpec]:
    stem = f"loop_heatmap_{slug}" if op == "parallel" else f"{op}_loop_heatmap_{slug}"
    return [(stem, loop_heatmap, (rows, str(rows["task"].iloc[0])), {"op": op})]


def _overview_files(df: pd.DataFrame, op: str, slug: str) -> list[FileSpec]:
    return [(f"{op}_heatmap_all", overview_figure, (df, op), {})] if df["task"].nunique() > 1 else []


def _curve_files(df: pd.DataFrame, op: str, slug: str) -> list[FileSpec]:
    return [(f"{op}_curve", _curve_figure, (df, op), {})]


def _curve_figure(df: pd.DataFrame, op: str, fig: Figure) -> Figure:
    fig.set_size_inches(6.5, 4.2)
    fig.set_layout_engine("constrained")
    curve(df, op, ax=fig.add_subplot())
    return fig


def _degradation_files(df: pd.DataFrame, op: str, slug: str) -> list[FileSpec]:
    return [("degradation", degradation_figure, (df,), {})]


FIGURES.register("range_heatmap", FigureKind("start x end heatmap of the normalised score, per task", "task",
                                             _range_files))  # fmt: skip
FIGURES.register("swap_heatmap", FigureKind("i x j heatmap of a pair op, per task", "task", _swap_files))
FIGURES.register("loop_heatmap", FigureKind("span x iterations heatmap (looped parallel), per task", "task",
                                            _loop_files))  # fmt: skip
FIGURES.register("overview", FigureKind("the op's heatmap for every task side by side", "sweep", _overview_files))
FIGURES.register("curve", FigureKind("normalised score against the op's parameter, a line per model and task",
                                     "sweep", _curve_files))  # fmt: skip
FIGURES.register("degradation", FigureKind("normalised score against layers affected, a line per op", "sweep",
                                           _degradation_files, once=True))  # fmt: skip


def _stored(df: pd.DataFrame, op: str, slug: str) -> list[FileSpec]:
    return []  # drawn by plot_results from what the sweep stored next to its records, not from an op's rows


FIGURES.register("similarity", FigureKind("layer x layer cosine similarity of the unmodified model, per task",
                                          "stored", _stored))  # fmt: skip
FIGURES.register("predictors", FigureKind("predicted (angular distance, block influence) vs measured skips, per task",
                                          "stored", _stored))  # fmt: skip
FIGURES.register("attention_distance", FigureKind("mean attention distance per layer and head, per model", "stored",
                                                  _stored))  # fmt: skip
