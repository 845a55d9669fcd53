"""The crash-safe results store of one sweep: a folder with one JSON record per finished (variant, task).

Layout of ``results/<sweep name>/``::

    sweep.json            the sweep's fingerprint, schema version and the file it came from
    records/*.json        one record per (variant, task), each written atomically (temp file + fsync + rename)
    results.parquet       the consolidated table (rebuilt from the records)
    similarity/*.npy      per task: the layer-similarity matrix recorded by the baseline pass
    .lock                 held (flock) by the running ``painters run``
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from painters.errors import PaintersError

SCHEMA_VERSION = 1


class StoreError(PaintersError, RuntimeError):
    """The results folder belongs to another sweep, or another run holds it."""


def safe_name(text: str) -> str:
    """A file-name-safe form of ``text``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def integer_columns() -> list[str]:
    """Columns held as nullable integers: the span, the generator's ``paper_n`` and every integer op parameter."""
    from painters.ops import OPS

    ints = {"start": None, "end": None, "n_affected": None, "paper_n": None}
    for cls in OPS.values():
        ints.update((info.name, None) for info in cls.params() if info.type is int)
    return list(ints)


class ResultStore:
    """Records of one sweep in ``root``; open it with :meth:`open` (takes the lock)."""

    def __init__(self, root: str | Path, task_order: Sequence[str] = ()):
        """``task_order``: the sweep's task names in file order; the table lists their rows in that order."""
        self.root = Path(root)
        self.task_order = list(task_order)
        self.records_dir = self.root / "records"
        self._lock_file: Any = None

    # -- ownership ---------------------------------------------------------------------------------------------
    def open(self, fingerprint: str, source: str, force: bool = False) -> ResultStore:
        """Create or reopen the store for the sweep with ``fingerprint``; refuse another sweep's folder."""
        self.records_dir.mkdir(parents=True, exist_ok=True)
        self._lock()
        meta_path = self.root / "sweep.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            same = meta.get("fingerprint") == fingerprint and meta.get("schema") == SCHEMA_VERSION
            if not same and not force:
                self.close()
                raise StoreError(
                    f"{self.root} holds {len(self.keys())} records of a different sweep (fingerprint "
                    f"{meta.get('fingerprint')} from {meta.get('source')}, schema {meta.get('schema')}; this one is "
                    f"{fingerprint}, schema {SCHEMA_VERSION}). Use another --out, or --force to discard them."
                )
            if not same:
                for path in self.records_dir.glob("*.json"):
                    path.unlink()
        self._check_records(fingerprint, force)
        meta = {"fingerprint": fingerprint, "schema": SCHEMA_VERSION, "source": source}
        atomic_write(meta_path, json.dumps(meta, indent=2).encode())
        return self

    def _check_records(self, fingerprint: str, force: bool) -> None:
        """Every record must come from this sweep and this schema: a foreign or unreadable one is never mixed in."""
        foreign = []
        for path in sorted(self.records_dir.glob("*.json")):
            try:
                record = json.loads(path.read_text())
                ok = record.get("fingerprint") == fingerprint and record.get("schema") == SCHEMA_VERSION
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                ok = False
            if not ok:
                foreign.append(path)
        if foreign and not force:
            self.close()
            names = ", ".join(p.name for p in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            raise StoreError(
                f"{self.records_dir}: {len(foreign)} record(s) do not belong to this sweep (another sweep "
                f"file, an older schema than {SCHEMA_VERSION}, or unreadable): {names}. Move them away, "
                f"or rerun with --force to discard them."
            )
        for path in foreign:
            path.unlink()

    def _lock(self) -> None:
        self._lock_file = open(self.root / ".lock", "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip() or "another process"
            self._lock_file.close()
            self._lock_file = None
            raise StoreError(
                f"{self.root} is in use by a running sweep ({holder}); wait for it or use another --out."
            ) from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(f"pid {os.getpid()}")
        self._lock_file.flush()

    def close(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- records -----------------------------------------------------------------------------------------------
    def record_path(self, model: str, variant: str, task: str) -> Path:
        return self.records_dir / f"{safe_name(model)}__{safe_name(variant)}__{safe_name(task)}.json"

    def has(self, model: str, variant: str, task: str) -> bool:
        return self.record_path(model, variant, task).exists()

    def write(self, record: dict[str, Any]) -> None:
        atomic_write(
            self.record_path(record["model"], record["variant"], record["task"]),
            json.dumps(record, sort_keys=True, default=float).encode(),
        )

    def read(self, model: str, variant: str, task: str) -> dict[str, Any] | None:
        path = self.record_path(model, variant, task)
        return json.loads(path.read_text()) if path.exists() else None

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.records_dir.glob("*.json")) if self.records_dir.exists() else []

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.records_dir.glob("*.json"))]

    def table(self) -> pd.DataFrame:
        """All records as one table (nullable integer columns for span parameters), tasks in ``task_order``."""
        frame = pd.DataFrame(self.records())
        if self.task_order and "task" in frame:
            rank = {task: k for k, task in enumerate(self.task_order)}
            frame = frame.sort_values("task", key=lambda t: t.map(rank).fillna(len(rank)), kind="stable")
            frame = frame.reset_index(drop=True)
        for column in integer_columns():
            if column in frame:
                frame[column] = frame[column].astype("Int64")
        return frame

    def consolidate(self) -> Path:
        """Rebuild ``results.parquet`` from the records (atomically)."""
        path = self.root / "results.parquet"
        tmp = path.with_name(f".results.{os.getpid()}.parquet")
        self.table().to_parquet(tmp, index=False)
        os.replace(tmp, path)
        return path

    def save_similarity(self, task: str, matrix: Any) -> None:
        import io

        import numpy as np

        folder = self.root / "similarity"
        folder.mkdir(exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(matrix))
        atomic_write(folder / f"{safe_name(task)}.npy", buffer.getvalue())
