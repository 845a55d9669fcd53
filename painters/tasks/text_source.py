"""Reading a text column from a local file or a hub dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from painters.data.source import open_source
from painters.data.text import read_records
from painters.tasks.base import pick_column

TEXT_COLUMNS = ("text", "sentence", "content", "document", "passage")


def load_texts(data: Any, split: str, name: str | None, text_column: str | None, local_hint: str) -> list[str]:
    """Texts from a ``.txt`` file (one per non-empty line), JSONL/TSV/CSV, or a hub dataset's text column."""
    source = open_source(data, split=split, name=name, local_hint=local_hint)
    if isinstance(source, Path):
        records: Any = read_records(source)
        columns = list(records[0]) if records else []
    else:
        records, columns = source, list(source.column_names)
    if not columns:
        return []
    column = pick_column(columns, text_column, TEXT_COLUMNS, "text")
    return [str(record[column]) for record in records]
