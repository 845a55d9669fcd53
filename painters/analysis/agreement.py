"""How well the one-pass predictors rank what the sweep measured: Spearman rank correlation between a predictor
(angular distance per span, block influence per layer) and the measured normalised score of skipping that span.

A predictor says "low distance / low influence: safe to skip", so the correlation is taken between the negated
predictor and the measured score: +1 means it orders the spans exactly as the measurements do, 0 not at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PREDICTORS = {
    "angular_distance": "every skipped span [start, end)",
    "angular_same_width": "spans of one width against each other (mean over widths with 3+ spans)",
    "block_influence": "single-layer skips [i, i + 1)",
}
"""What each agreement row compares. Over every span, wide spans score low and are far apart, so the angular
distance ranks them well almost for free; ``angular_same_width`` asks what Gromov et al. use it for: which span
of a given width to skip."""


def load_importance(results_dir: str | Path) -> pd.DataFrame:
    """Every stored predictor table of a sweep (``analyses/importance/*.parquet``: one row per model, task and span
    ``[start, end)`` with ``angular_distance`` and, for one-layer spans, ``block_influence``); empty when none."""
    paths = sorted((Path(results_dir) / "analyses" / "importance").glob("*.parquet"))
    if not paths:
        return pd.DataFrame(columns=["model", "task", "start", "end", "angular_distance", "block_influence"])
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def measured_skips(table: pd.DataFrame) -> pd.DataFrame:
    """Mean normalised score per (model, task, start, end) of the whole-block skips in a results table."""
    rows = table[(table["op"] == "skip") & table["start"].notna() & table["end"].notna()]
    if "part" in rows:
        rows = rows[rows["part"].isna() | (rows["part"] == "block")]
    if "status" in rows:
        rows = rows[rows["status"] == "ok"]
    rows = rows.assign(start=rows["start"].astype("int64"), end=rows["end"].astype("int64"))
    return rows.groupby(["model", "task", "start", "end"], as_index=False)["normalised"].mean()


def paired(table: pd.DataFrame, importance: pd.DataFrame) -> pd.DataFrame:
    """Measured skips joined with the predictors of the same (model, task, span)."""
    measured = measured_skips(table)
    return measured.merge(importance, on=["model", "task", "start", "end"], how="inner")


def predictor_agreement(table: pd.DataFrame, importance: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, task, predictor): ``spans`` compared and the ``spearman`` rank correlation between the
    negated predictor and the measured normalised score (NaN with fewer than 3 spans or constant values)."""
    both = paired(table, importance)
    rows = []
    for (model, task), group in both.groupby(["model", "task"], sort=False):
        for predictor in PREDICTORS:
            column = "angular_distance" if predictor == "angular_same_width" else predictor
            pairs = group[["start", "end", "normalised", column]].dropna()
            pairs = pairs[np.isfinite(pairs["normalised"].to_numpy(dtype=float))]
            if predictor == "angular_same_width":
                widths = [w for _, w in pairs.groupby(pairs["end"] - pairs["start"]) if len(w) >= 3]
                rhos = [_spearman(w[column], w["normalised"]) for w in widths]
                rhos = [r for r in rhos if r == r]
                spans, rho = sum(len(w) for w in widths), (sum(rhos) / len(rhos) if rhos else float("nan"))
            else:
                spans, rho = len(pairs), _spearman(pairs[column], pairs["normalised"])
            rows.append({"model": model, "task": task, "predictor": predictor, "spans": spans, "spearman": rho})
    return pd.DataFrame(rows, columns=["model", "task", "predictor", "spans", "spearman"])


def _spearman(predictor: pd.Series, measured: pd.Series) -> float:
    """Rank correlation of the negated predictor with the measured score (NaN below 3 pairs or when constant)."""
    return float((-predictor).corr(measured, method="spearman")) if len(predictor) >= 3 else float("nan")
