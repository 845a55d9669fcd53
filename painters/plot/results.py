"""``plot_results``: every figure a sweep's results directory supports, written to files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from painters.analysis.agreement import load_importance
from painters.ops import OPS
from painters.plot._common import NoDataError, check_formats, joined, safe_name, save_figure, usable
from painters.plot.attention import attention_distance_plot
from painters.plot.kinds import FIGURES
from painters.plot.predictors import predicted_vs_measured
from painters.plot.similarity import similarity_heatmap


def load_similarity(results_dir: str | Path, tasks: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """``{task: matrix}`` from ``results_dir/similarity/*.npy``. A file is named after its task with characters
    outside ``[A-Za-z0-9_.-]`` replaced by ``_``; a name in ``tasks`` that maps to the file's stem is used as
    the key, else the stem itself."""
    folder = Path(results_dir) / "similarity"
    names = {safe_name(t): str(t) for t in tasks}
    return {names.get(p.stem, p.stem): np.load(p) for p in sorted(folder.glob("*.npy"))}


def plot_results(
    results_dir: str | Path,
    out_dir: str | Path | None = None,
    formats: Sequence[str] = ("png",),
    figures: Sequence[str] | None = None,
) -> list[Path]:
    """Draw every figure that ``results_dir/results.parquet`` and ``results_dir/similarity/*.npy`` support and
    write each in every format under ``out_dir`` (default ``results_dir/plots``). Returns the paths written.

    Which figures an op gets is what it declares (``Op.figures``; kinds in :data:`painters.plot.kinds.FIGURES`).
    Files, per task ``<t>`` (named as the similarity files): ``<op>_heatmap_<t>`` for each op with a
    ``range_heatmap`` present (one per value of its split parameters where they are named:
    ``repeat_x<K>_heatmap_<t>`` when several repeat counts were run), ``swap_heatmap_<t>``, ``loop_heatmap_<t>``
    (looped parallel), ``similarity_<t>``; one ``degradation`` figure with a panel per task; and, when the table
    holds several tasks, ``<op>_heatmap_all`` for the ops with an ``overview`` (skip, swap:
    :func:`overview_figure`, a panel per task, i.e. every model of a multi-model sweep side by side). A figure
    the table has no rows for is skipped.
    Where the baseline pass stored the one-pass predictors and the sweep measured skips, ``predictors_<t>`` puts
    the predicted skip heatmap beside the measured one (:func:`~painters.plot.predictors.predicted_vs_measured`).
    When the sweep recorded attention distances, ``attention_distance_<model>`` shows the unmodified model's (the
    per-variant tables are in ``analyses/attention_distance/``).
    ``figures``: the figure kinds to draw (names in :data:`~painters.plot.kinds.FIGURES`, ``painters ls figures``;
    default all); ``formats``: file formats (default PNG only, the fastest; ``"svg"``, ``"pdf"`` for papers).
    Raises ``FileNotFoundError`` when the directory has neither a results table nor similarity matrices.
    """
    chosen = None if figures is None else {FIGURES.resolve(name) for name in figures}

    def want(kind: str) -> bool:
        return chosen is None or kind in chosen

    results_dir = Path(results_dir)
    out = Path(out_dir) if out_dir is not None else results_dir / "plots"
    formats = check_formats(formats)
    table = results_dir / "results.parquet"
    df = usable(pd.read_parquet(table)) if table.exists() else None
    tasks = [str(t) for t in pd.unique(df["task"])] if df is not None else []
    similarity = load_similarity(results_dir, tasks)
    if df is None and not similarity:
        raise FileNotFoundError(f"{results_dir} has neither results.parquet nor similarity/*.npy")

    paths: list[Path] = []

    def heatmap_file(stem: str, draw: Callable[..., Axes], *args: Any, **kwargs: Any) -> None:
        fig = Figure(layout="constrained")
        try:
            ax = draw(*args, ax=fig.add_subplot(), **kwargs)
        except NoDataError:
            return
        shape = np.shape(ax.collections[0].get_array()) if ax.collections else ()
        rows, cols = shape if len(shape) == 2 else (8, 8)
        fig.set_size_inches(min(4.5 + 0.55 * cols, 30), min(2.5 + 0.45 * rows, 30))
        paths.extend(save_figure(fig, out, stem, formats))

    def figure_file(stem: str, draw: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            fig = draw(*args, fig=Figure(), **kwargs)
        except NoDataError:
            return
        paths.extend(save_figure(fig, out, stem, formats))

    present = [op for op in OPS if df is not None and op in set(df["op"])]
    for task in tasks:
        rows = df[df["task"] == task]
        for op in (o for o in present if o in set(rows["op"])):
            for kind in (FIGURES[k] for k in OPS[op].figures if FIGURES[k].scope == "task" and want(k)):
                for stem, draw, args, kwargs in kind.files(rows, op, safe_name(task)):
                    heatmap_file(stem, draw, *args, **kwargs)
    drawn: set[str] = set()
    for op in present:
        for name in OPS[op].figures:
            kind = FIGURES[name]
            if kind.scope != "sweep" or (kind.once and name in drawn) or not want(name):
                continue
            drawn.add(name)
            for stem, draw, args, kwargs in kind.files(df, op, ""):
                figure_file(stem, draw, *args, **kwargs)
    distance_tables = (results_dir / "analyses" / "attention_distance").glob("*__baseline.parquet")
    for table_path in sorted(distance_tables) if want("attention_distance") else []:
        distances = pd.read_parquet(table_path)
        stem = f"attention_distance_{table_path.stem.removesuffix('__baseline')}"
        what = f"mean attention distance, {distances['model'].iloc[0]} (unmodified)"
        heatmap_file(stem, attention_distance_plot, distances, title=what)
    importance = load_importance(results_dir) if want("predictors") else None
    if df is not None and importance is not None and not importance.empty:
        for task in tasks:
            figure_file(f"predictors_{safe_name(task)}", predicted_vs_measured, df, importance, task)
    for task, matrix in similarity.items() if want("similarity") else []:  # tasks are unique: one model's each
        model = joined(df[df["task"] == task], "model", "") if df is not None else ""
        heatmap_file(f"similarity_{safe_name(task)}", similarity_heatmap, matrix, task, model=model or None)
    return paths
