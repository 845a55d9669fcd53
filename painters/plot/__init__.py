"""``painters.plot``: figures of sweep results, drawn with seaborn, for notebooks and ``painters plot``.

Every function takes the results table (one row per finished variant and task; see :func:`plot_results`) and
returns the matplotlib Axes or Figure it drew, so it can be tweaked. Heatmaps colour the normalised score
(0 = chance, 1 = unmodified model) on ``[0, 1]``, clipping outside values, and annotate cells with the true
means when the grid is at most 16 x 16.

>>> from painters.plot import range_heatmap
>>> ax = range_heatmap(df, op="skip", task="fashion-mnist")      # doctest: +SKIP
>>> ax.figure.savefig("skip.png")                                 # doctest: +SKIP
"""

from painters.plot._common import NoDataError
from painters.plot.attention import attention_distance_plot
from painters.plot.degradation import degradation_curves, degradation_data, degradation_figure
from painters.plot.loop import loop_grid, loop_heatmap
from painters.plot.op_meta import ops_with_figure
from painters.plot.overview import overview_figure
from painters.plot.ranges import range_grid, range_heatmap
from painters.plot.results import load_similarity, plot_results
from painters.plot.similarity import similarity_heatmap
from painters.plot.swap import swap_grid, swap_heatmap

__all__ = [
    "ops_with_figure",
    "NoDataError",
    "attention_distance_plot",
    "degradation_curves",
    "degradation_data",
    "degradation_figure",
    "load_similarity",
    "loop_grid",
    "loop_heatmap",
    "overview_figure",
    "plot_results",
    "range_grid",
    "range_heatmap",
    "similarity_heatmap",
    "swap_grid",
    "swap_heatmap",
]
