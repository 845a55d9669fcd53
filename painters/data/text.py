"""Readers for local text files: JSONL, TSV/CSV tables and plain text."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """One JSON object per non-empty line (a ``.json`` file holding a list works too)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json" and text.lstrip().startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_table(
    path: str | Path, columns: Sequence[str] | None = None, delimiter: str | None = None
) -> list[dict[str, str]]:
    """Rows of a TSV/CSV file as dicts; the first row is the header unless ``columns`` names them.

    Quotes are not special (GLUE's TSVs contain bare quote characters).
    """
    path = Path(path)
    if delimiter is None:
        delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle, delimiter=delimiter, quoting=csv.QUOTE_NONE) if row]
    if not rows:
        return []
    header = list(columns) if columns is not None else rows.pop(0)
    bad = [i for i, row in enumerate(rows) if len(row) != len(header)]
    if bad:
        raise ValueError(
            f"{path}: row {bad[0] + 1} has {len(rows[bad[0]])} fields but the header has {len(header)} ({header})"
        )
    return [dict(zip(header, row)) for row in rows]


def read_lines(path: str | Path) -> list[str]:
    """The stripped non-empty lines of a text file."""
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def read_records(path: str | Path, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Records from a local file by suffix: ``.jsonl``/``.json``, ``.tsv``/``.csv``, else lines as ``{"text"}``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json"}:
        return read_jsonl(path)
    if suffix in {".tsv", ".csv"}:
        return read_table(path, columns)
    return [{"text": line} for line in read_lines(path)]
