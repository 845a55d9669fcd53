"""``plot_results``: every figure a sweep's results directory supports, written to files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from painters.plot._common import NoDataError, check_formats, joined, safe_name, save_figure, usable
from painters.plot.degradation import degradation_figure
from painters.plot.loop import loop_heatmap
from painters.plot.op_meta import ops_with_figure, panels
from painters.plot.overview import overview_figure
from painters.plot.ranges import range_heatmap
from painters.plot.similarity import similarity_heatmap
from painters.plot.swap import swap_heatmap


def load_similarity(results_dir: str | Path, tasks: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """``{task: matrix}`` from ``results_dir/similarity/*.npy``. A file is named after its task with characters
    outside ``[A-Za-z0-9_.-]`` replaced by ``_``; a name in ``tasks`` that maps to the file's stem is used as
    the key, else the stem itself."""
    folder = Path(results_dir) / "similarity"
    names = {safe_name(t): str(t) for t in tasks}
    return {names.get(p.stem, p.stem): np.load(p) for p in sorted(folder.glob("*.npy"))}


def plot_results(
    results_dir: str | Path, out_dir: str | Path | None = None, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Draw every figure that ``results_dir/results.parquet`` and ``results_dir/similarity/*.npy`` support and
    write each in every format under ``out_dir`` (default ``results_dir/plots``). Returns the paths written.

    Which figures an op gets is what it declares (``Op.figures``). Files, per task ``<t>`` (named as the
    similarity files): ``<op>_heatmap_<t>`` for each op with a ``range_heatmap`` present (one per value of its
    split parameters where they are named: ``repeat_x<K>_heatmap_<t>`` when several repeat counts were run,
    ``parallel_x<K>_heatmap_<t>`` for looped parallel), ``swap_heatmap_<t>``, ``loop_heatmap_<t>`` (looped
    parallel), ``similarity_<t>``; one ``degradation`` figure with a panel per task; and, when the table holds
    several tasks, ``<op>_heatmap_all`` for the ops with an ``overview`` (skip, swap: :func:`overview_figure`, a
    panel per task, i.e. every model of a multi-model sweep side by side). A figure the table has no rows for
    is skipped.
    Raises ``FileNotFoundError`` when the directory has neither a results table nor similarity matrices.
    """
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
        rows, cols = np.shape(ax.collections[0].get_array()) if ax.collections else (8, 8)
        fig.set_size_inches(min(4.5 + 0.55 * cols, 30), min(2.5 + 0.45 * rows, 30))
        paths.extend(save_figure(fig, out, stem, formats))

    for task in tasks:
        slug = safe_name(task)
        rows = df[df["task"] == task]
        present = set(rows["op"])
        for op in (o for o in ops_with_figure("range_heatmap") if o in present):
            for label, where in panels(rows, op, heatmaps=True):
                name = op + label.replace(" ", "_")
                heatmap_file(f"{name}_heatmap_{slug}", range_heatmap, rows, op, task, **where)
        for op in (o for o in ops_with_figure("swap_heatmap") if o in present):
            heatmap_file(f"{op}_heatmap_{slug}", swap_heatmap, rows, task, op=op)
        for op in (o for o in ops_with_figure("loop_heatmap") if o in present):
            heatmap_file(f"loop_heatmap_{slug}" if op == "parallel" else f"{op}_loop_heatmap_{slug}",
                         loop_heatmap, rows, task, op=op)  # fmt: skip
    for op in ops_with_figure("overview") if len(tasks) > 1 else ():
        try:
            fig = overview_figure(df, op, fig=Figure())
        except NoDataError:
            continue
        paths.extend(save_figure(fig, out, f"{op}_heatmap_all", formats))
    if df is not None:
        try:
            fig = degradation_figure(df, fig=Figure())
        except NoDataError:
            pass
        else:
            paths.extend(save_figure(fig, out, "degradation", formats))
    model = joined(df, "model", "") if df is not None else ""
    for task, matrix in similarity.items():
        heatmap_file(f"similarity_{safe_name(task)}", similarity_heatmap, matrix, task, model=model or None)
    return paths
