"""``painters show`` and ``painters compare``: results tables printed for people (``table``, ``markdown``) or for
programs (``csv``, ``json``).

Rows are sorted naturally (``skip-2-3`` before ``skip-10-11``, the baseline first); ``--model``, ``--task`` and
``--op`` keep the rows of the values given (each may repeat; an unknown value is a :class:`ConfigError` naming the
closest one and listing the rest). In the human formats scores (and their differences) have 4 significant digits,
normalised scores 3 decimals, and a missing value is ``-``; ``csv`` and ``json`` keep every digit (``csv`` leaves a
missing value empty, ``json`` writes ``null``).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from painters.errors import ConfigError, DataNotFoundError

FORMATS = ("table", "csv", "markdown", "json")
AGGREGATES = ("median",)
DEFAULT_TABLE_ROWS = 200  # what ``--format table`` prints when --rows is not given (the others print every row)
SHOW_COLUMNS = (
    "model", "task", "variant", "steps", "metric", "score", "baseline", "normalised", "status", "seconds",
)  # fmt: skip
KEY = ["model", "task", "variant"]
SCORE_COLUMNS = {"score", "baseline", "chance", "score_A", "score_B", "diff"}  # 4 significant digits
NORMALISED_COLUMNS = {"normalised", "normalised_A", "normalised_B", "median_normalised"}  # 3 decimals
WIDEST_TEXT = 40  # longer text cells are cut in --format table (the long `steps` strings)


# ---------------------------------------------------------------------------------------------------------- loading


def load(results: str | Path) -> pd.DataFrame:
    """The ``results.parquet`` of a results folder (or that file itself)."""
    path = Path(results)
    if path.is_dir() or path.suffix != ".parquet":
        path = path / "results.parquet"
    if not path.exists():
        raise DataNotFoundError(f"{path} does not exist: run `painters run FILE` first.")
    frame = pd.read_parquet(path)
    for column in ("model", "task", "variant", "op"):  # tables written before a column existed still show
        if column not in frame.columns:
            frame[column] = "-" if column != "op" else frame["variant"].astype(str).str.split("-").str[0]
    return frame


# ---------------------------------------------------------------------------------------------------------- sorting


def natural_key(text: object) -> tuple:
    """Sort key: digit runs compare as numbers (``skip-2-3`` < ``skip-10-11``); ``baseline`` comes first."""
    text = str(text)
    parts = re.split(r"(\d+)", text.lower())  # text at even positions, numbers at odd ones: always comparable
    return (text != "baseline", [int(p) if i % 2 else p for i, p in enumerate(parts)])


def natural_sort(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    by = [c for c in by if c in frame.columns]
    if frame.empty or not by:
        return frame.reset_index(drop=True)
    ranks = []  # per column, each row's rank among the column's distinct values (one natural_key per value)
    for c in by:
        values = frame[c].astype(str)
        distinct = sorted(values.unique(), key=natural_key)
        ranks.append(values.map({v: r for r, v in enumerate(distinct)}).to_numpy())
    order = np.lexsort(ranks[::-1])  # stable: ties keep the frame's order
    return frame.iloc[order].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------- filters


FILTER_FLAGS = {"model": "--model", "task": "--task", "op": "--op"}


def check_filters(frames: Iterable[pd.DataFrame], filters: dict[str, Sequence[str] | None]) -> None:
    """Raise a :class:`ConfigError` for each value that none of ``frames`` holds (one message, one line)."""
    frames = list(frames)
    problems = []
    for column, wanted in filters.items():
        if not wanted:
            continue
        known = sorted({str(v) for f in frames if column in f for v in f[column].dropna().unique()}, key=natural_key)
        for value in wanted:
            if value in known:
                continue
            close = difflib.get_close_matches(value, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            problems.append(
                f"unknown {column} {value!r} ({FILTER_FLAGS[column]}).{hint} Available ({len(known)}): "
                f"{', '.join(known) or 'none'}"
            )
    if problems:
        raise ConfigError("; ".join(problems))


def apply_filters(frame: pd.DataFrame, filters: dict[str, Sequence[str] | None]) -> pd.DataFrame:
    for column, wanted in filters.items():
        if wanted:
            frame = frame[frame[column].astype(str).isin(list(wanted))]
    return frame


def filtered(frames: Sequence[pd.DataFrame], filters: dict[str, Sequence[str] | None]) -> list[pd.DataFrame]:
    check_filters(frames, filters)
    out = [apply_filters(f, filters) for f in frames]
    if any(filters.values()) and all(f.empty for f in out):
        given = " ".join(f"{FILTER_FLAGS[c]} {v}" for c, vs in filters.items() for v in vs or ())
        raise ConfigError(f"no rows match {given} (each value exists, but not together)")
    return out


# ---------------------------------------------------------------------------------------------------------- tables


def show_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``painters show``, sorted by model, task and variant."""
    return natural_sort(frame[[c for c in SHOW_COLUMNS if c in frame.columns]], KEY)


def usable(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows that carry a result: ``status == "error"`` rows are left out (``nonfinite`` ones are kept); the
    table and the figures both read these."""
    return frame[frame["status"].astype(str) != "error"] if "status" in frame.columns else frame


def median_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (model, variant): the median normalised score over that model's tasks (the paper's summary statistic),
    each model's variants sorted by it, best first. Failed (``error``) rows and missing scores do not count."""
    rows = usable(frame)
    extra = [c for c in ("op", "n_affected") if c in rows.columns]
    grouped = rows.groupby(["model", "variant"], sort=False, dropna=False)
    out = grouped[extra].first() if extra else grouped.size().to_frame()[[]]
    out["tasks"] = grouped["normalised"].count()
    out["median_normalised"] = grouped["normalised"].median()
    out = out.reset_index()
    if out.empty:
        return out
    return _best_first(natural_sort(out, ["model", "variant"]))  # ties keep the natural variant order


def op_ranking(medians: pd.DataFrame) -> pd.DataFrame:
    """Per model, each op (the baseline left out) with the median of its variants' per-variant medians, best
    first."""
    rows = medians[medians["op"].astype(str) != "baseline"] if "op" in medians.columns else medians.iloc[:0]
    if rows.empty:
        return pd.DataFrame(columns=["model", "op", "variants", "median_normalised"])
    grouped = rows.groupby(["model", "op"], sort=False)
    out = grouped["median_normalised"].agg(["count", "median"]).reset_index()
    out.columns = ["model", "op", "variants", "median_normalised"]
    return _best_first(natural_sort(out, ["model", "op"]))


def _best_first(out: pd.DataFrame) -> pd.DataFrame:
    """Models in their order, each one's rows by ``median_normalised`` descending (missing last; ties stable)."""
    model_rank = out["model"].map({m: i for i, m in enumerate(out["model"].drop_duplicates())})
    out = out.assign(_model=model_rank, _median=out["median_normalised"].fillna(-math.inf))
    out = out.sort_values(["_model", "_median"], ascending=[True, False], kind="stable")
    return out.drop(columns=["_model", "_median"]).reset_index(drop=True)


def compare_table(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Every (model, task, variant) of ``a`` or ``b``, side by side: ``score_A``, ``score_B``, ``diff`` (B - A),
    ``normalised_A``, ``normalised_B``, and ``present``: ``both``, ``A only`` or ``B only``."""
    keep = [*KEY, "score", "normalised"]
    left = a[[c for c in keep if c in a.columns]].drop_duplicates(KEY, keep="last")
    right = b[[c for c in keep if c in b.columns]].drop_duplicates(KEY, keep="last")
    for k in KEY:  # the same key dtype on both sides, whatever each file stored
        left[k], right[k] = left[k].astype(str), right[k].astype(str)
    merged = left.merge(right, on=KEY, how="outer", suffixes=("_A", "_B"), indicator=True)
    for column in ("score_A", "score_B", "normalised_A", "normalised_B"):
        if column not in merged:
            merged[column] = math.nan
        merged[column] = pd.to_numeric(merged[column], errors="coerce").astype("float64")
    merged["diff"] = merged["score_B"] - merged["score_A"]
    merged["present"] = (
        merged["_merge"].astype(str).map({"both": "both", "left_only": "A only", "right_only": "B only"})
    )
    columns = [*KEY, "score_A", "score_B", "diff", "normalised_A", "normalised_B", "present"]
    return natural_sort(merged[columns], KEY)


def compare_summary(table: pd.DataFrame) -> str:
    both = table[table["present"] == "both"]
    a, b = both["score_A"], both["score_B"]
    same = (a == b) | (a.isna() & b.isna())
    differ = int((~same).sum())
    line = f"{len(both)} variants compared (model, task, variant in both), {differ} differ"
    finite = both["diff"].abs().dropna()
    line += f", max |diff| {score_text(finite.max()) if len(finite) else '-'}"
    if len(finite) and finite.max() > 0:
        worst = both.loc[finite.idxmax()]
        line += f" ({worst['model']} / {worst['task']} / {worst['variant']})"
    only_a, only_b = int((table["present"] == "A only").sum()), int((table["present"] == "B only").sum())
    return line + f"; {only_a} only in A, {only_b} only in B"


# ---------------------------------------------------------------------------------------------------------- text


def missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def plain(value: object) -> object:
    """``value`` as JSON holds it: ``None`` for a missing value, Python numbers (every digit) for numpy ones."""
    if missing(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def score_text(value: object) -> str:
    """4 significant digits, without an exponent below a million (``12350``, ``0.906``, ``1.235e-05``)."""
    if missing(value):
        return "-"
    x = float(value)
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.4g}"
    if "e+" in text and abs(x) < 1e15:
        text = f"{float(text):.0f}"
    return text


def normalised_text(value: object) -> str:
    return "-" if missing(value) else f"{float(value):.3f}"


def cell_text(column: str, value: object) -> str:
    if missing(value):
        return "-"
    if column in SCORE_COLUMNS:
        return score_text(value)
    if column in NORMALISED_COLUMNS:
        return normalised_text(value)
    if column == "seconds":
        return f"{float(value):.2f}"
    if isinstance(value, float):
        return score_text(value)
    return str(value)


def numeric(frame: pd.DataFrame, column: str) -> bool:
    return pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column])


def text_cells(frame: pd.DataFrame, cut: int | None = None) -> list[list[str]]:
    rows = []
    for values in frame.itertuples(index=False, name=None):
        cells = [cell_text(c, v) for c, v in zip(frame.columns, values)]
        if cut:
            cells = [c if len(c) <= cut else c[: cut - 3] + "..." for c in cells]
        rows.append(cells)
    return rows


def fixed_width(frame: pd.DataFrame) -> str:
    """A plain text table: text columns left-aligned, numbers right-aligned, two spaces between columns."""
    if frame.empty:
        return "(no rows)\n"
    header = [str(c) for c in frame.columns]
    rows = text_cells(frame, cut=WIDEST_TEXT)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = [numeric(frame, c) for c in frame.columns]
    lines = [
        "  ".join(cell.rjust(w) if r else cell.ljust(w) for cell, w, r in zip(line, widths, right)).rstrip()
        for line in [header, *rows]
    ]
    return "\n".join(lines) + "\n"


def markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table (numbers right-aligned), written here: no ``tabulate`` needed."""
    header = [str(c) for c in frame.columns]
    escape = lambda s: s.replace("|", "\\|")
    rule = ["---:" if numeric(frame, c) else "---" for c in frame.columns]
    lines = [header, rule, *text_cells(frame)]
    return "\n".join("| " + " | ".join(escape(c) for c in line) + " |" for line in lines) + "\n"


def render(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "table":
        return fixed_width(frame)
    if fmt == "markdown":
        return markdown(frame)
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        return (
            json.dumps([dict(zip(frame.columns, map(plain, r))) for r in frame.itertuples(False, None)], indent=1)
            + "\n"
        )
    raise ConfigError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


def limit(frame: pd.DataFrame, rows: int | None, fmt: str) -> tuple[pd.DataFrame, int]:
    """The first ``rows`` rows (0: all; ``None``: 200 in ``--format table``, else all) and how many were cut."""
    if rows is not None and rows < 0:
        raise ConfigError(f"--rows {rows}: give a count of rows (0 prints them all)")
    if rows is None:
        rows = DEFAULT_TABLE_ROWS if fmt == "table" else 0
    if rows == 0 or len(frame) <= rows:
        return frame, 0
    return frame.iloc[:rows], len(frame) - rows


def more_note(cut: int) -> str:
    return f"... {cut} more row{'s' if cut != 1 else ''} (--rows N prints N, --rows 0 all)\n"


# ---------------------------------------------------------------------------------------------------------- output


def emit(out: str, err: str = "") -> int:
    """Write ``out`` to stdout (and ``err`` to stderr). A reader that stops early (``| head``) is not an error: the
    standard recipe sends what is left to /dev/null and the exit code is 0."""
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python flushes stdout again at exit: let that write go nowhere
        return 0
    if err:
        sys.stderr.write(err)
    return 0


def show(
    results: str | Path,
    rows: int | None = None,
    fmt: str = "table",
    models: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    ops: Sequence[str] | None = None,
    aggregate: str | None = None,
) -> int:
    """``painters show``: the results table of a folder, or with ``aggregate="median"`` the median normalised score
    per (model, variant) and, in ``table`` format, each model's ops ranked by it."""
    (frame,) = filtered([load(results)], {"model": models, "task": tasks, "op": ops})
    if aggregate is None:
        table, extra = show_table(frame), ""
    elif aggregate == "median":
        table = median_table(frame)
        extra = ranking_text(op_ranking(table)) if fmt == "table" and not table.empty else ""
    else:
        raise ConfigError(f"unknown aggregate {aggregate!r}: choose one of {', '.join(AGGREGATES)}")
    shown, cut = limit(table, rows, fmt)
    text = render(shown, fmt)
    if cut and fmt == "table":
        text += more_note(cut)
    return emit(text + extra)


def ranking_text(ranking: pd.DataFrame) -> str:
    """Each model's ops, best first: ``op median (N variants)``."""
    lines = ["", "ops by median normalised score (the median of each op's per-variant medians), best first:"]
    for model, group in ranking.groupby("model", sort=False):
        ops = ", ".join(
            f"{r.op} {normalised_text(r.median_normalised)} ({r.variants} variant{'s' if r.variants != 1 else ''})"
            for r in group.itertuples(index=False)
        )
        lines.append(f"  {model}: {ops}")
    return "\n".join(lines) + "\n"


def compare(
    a: str | Path,
    b: str | Path,
    rows: int | None = None,
    fmt: str = "table",
    models: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    ops: Sequence[str] | None = None,
) -> int:
    """``painters compare A B``: two results folders side by side, then a summary line (on stdout in ``table``
    format, on stderr in the others so that stdout stays machine-readable)."""
    left, right = filtered([load(a), load(b)], {"model": models, "task": tasks, "op": ops})
    table = compare_table(left, right)
    summary = compare_summary(table) + "\n"
    shown, cut = limit(table, rows, fmt)
    text = render(shown, fmt)
    if fmt == "table":
        header = f"A = {a}\nB = {b}\n\n"
        return emit(header + text + (more_note(cut) if cut else "") + "\n" + summary)
    return emit(text, err=summary)
