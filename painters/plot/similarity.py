"""The layer x layer heatmap of hidden-state cosine similarity."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from painters.plot._common import draw_heatmap


def similarity_heatmap(
    matrix: np.ndarray,
    task: str | None = None,
    ax: Axes | None = None,
    *,
    model: str | None = None,
    cmap: str = "mako",
    vmin: float | None = None,
    vmax: float | None = 1.0,
    annot: bool | None = None,
) -> Axes:
    """Heatmap of a ``T x T`` matrix of mean cosine similarity between the hidden states after layers i and j.
    ``vmin`` defaults to the matrix's smallest finite value (so the structure shows), ``vmax`` to 1.
    Returns the Axes."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"similarity matrix must be square, got shape {matrix.shape}")
    if vmin is None:
        finite = matrix[np.isfinite(matrix)]
        vmin = float(min(finite.min(), vmax if vmax is not None else finite.min())) if finite.size else 0.0
    layers = range(matrix.shape[0])
    where = ", ".join(str(x) for x in (model, task) if x) or "model"
    return draw_heatmap(
        pd.DataFrame(matrix, index=layers, columns=layers),
        ax,
        title=f"layer similarity on {where}: mean cosine",
        xlabel="layer j",
        ylabel="layer i",
        cbar_label="cosine similarity of hidden states",
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        annot=annot,
    )
