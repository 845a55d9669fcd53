"""What the figures read from the op registry: which ops a figure kind draws, and how an op's rows split into
heatmaps and lines (by the parameters it declares ``split``, e.g. parallel ``iterations``, repeat ``times``)."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd

from painters.ops import OPS
from painters.ops.base import _UNSET, ParamInfo


def ops_with_figure(kind: str) -> list[str]:
    """The registered ops that declare the figure ``kind`` (``"range_heatmap"``, ``"swap_heatmap"``, ...)."""
    return [name for name, cls in OPS.items() if kind in cls.figures]


def op_order() -> list[str]:
    """Every registered op in registration order (the paper's order for the built-ins)."""
    return list(OPS)


def split_params(op: str) -> list[ParamInfo]:
    """The parameters of ``op`` that figures draw separately (one heatmap, one line per value)."""
    return [info for info in OPS[op].params() if info.meta.split] if op in OPS else []


def default_filter(op: str) -> dict[str, Any]:
    """The rows a heatmap of ``op`` shows when no value is asked for: a split parameter's hidden value (plain
    parallel, ``iterations == 1``); other split parameters average over all values."""
    return {i.name: i.meta.id_hide for i in split_params(op) if i.meta.id_hide is not _UNSET}


def suffix(info: ParamInfo, value: Any, present: int) -> str:
    """`` x3`` for value 3 of a split parameter with prefix ``x``; empty for its hidden value, or when it is the
    only value present and the parameter hides none."""
    if info.meta.hides(value) or (info.meta.id_hide is _UNSET and present <= 1):
        return ""
    return f" {info.meta.id_prefix}{value}"


def _values(rows: pd.DataFrame, info: ParamInfo) -> list[Any]:
    if info.name not in rows.columns:  # a table written before the parameter existed: its default throughout
        return [None] if info.required else [info.default]
    column = rows[info.name]
    if not info.required and info.default is not None:
        column = column.fillna(info.default)
    values = sorted(v for v in pd.unique(column.dropna()))
    return [int(v) if info.type is int else v for v in values] or [None]


def panels(rows: pd.DataFrame, op: str, heatmaps: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """One ``(label suffix, filter)`` per combination of ``op``'s split parameter values present in ``rows``:
    ``[("", {"iterations": 1}), (" x3", {"iterations": 3})]`` for plain and looped parallel. With ``heatmaps``, a
    parameter that declares a hidden value (parallel's ``iterations=1``) keeps only that value: its other values
    have their own figure (the loop heatmap) and are lines in the degradation figure."""
    rows = rows[rows["op"] == op]
    infos = split_params(op)
    axes = []
    for info in infos:
        values = _values(rows, info)
        if heatmaps and info.meta.id_hide is not _UNSET:
            values = [info.meta.id_hide] if info.meta.id_hide in values else []
        axes.append([(info, v, len(values)) for v in values])
    out = []
    for combo in itertools.product(*axes):
        label = "".join(suffix(info, v, n) for info, v, n in combo if v is not None)
        out.append((label, {info.name: v for info, v, _ in combo if v is not None}))
    return out if axes else [("", {})]


def line_labels(rows: pd.DataFrame) -> pd.Series:
    """The line each row belongs to: its op, plus its split parameters' values where they are named
    (``"parallel x3"`` for looped parallel, ``"repeat x2"`` when several repeat counts were run)."""
    labels = rows["op"].astype(str).copy()
    for op in pd.unique(rows["op"]):
        mine = rows["op"] == op
        for label, where in panels(rows[mine], str(op)):
            if not label:
                continue
            hit = mine.copy()
            for name, value in where.items():
                hit &= rows[name].fillna(_default(op, name)) == value
            labels[hit] = f"{op}{label}"
    return labels


def _default(op: str, name: str) -> Any:
    info = next(i for i in split_params(op) if i.name == name)
    return None if info.required else info.default


def select(rows: pd.DataFrame, op: str, where: dict[str, Any]) -> pd.DataFrame:
    """``op``'s rows whose split parameters have the values in ``where`` (a None value keeps every row)."""
    rows = rows[rows["op"] == op]
    for name, value in where.items():
        if value is None or name not in rows.columns:
            continue
        rows = rows[rows[name].fillna(_default(op, name)) == value]
    return rows
