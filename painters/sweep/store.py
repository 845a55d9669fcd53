"""The crash-safe results store of one sweep: a folder with one JSON record per finished (variant, task).

Layout of ``results/<sweep name>/``::

    sweep.json            the sweep's name, schema version, source file, and the specs that produced the records
    records/*.json        one record per (variant, task), each written atomically (temp file + fsync + rename)
    index/part-*.parquet  the records read back once, as table parts (see :mod:`painters.sweep.store_index`)
    results.parquet       the consolidated table (rebuilt from the index at the end of a run, and now and then)
    similarity/*.npy      per task: the layer-similarity matrix recorded by the baseline pass
    .lock                 held (flock) by the running ``painters run``

The record files are the source of truth; the index is a cache of them, checked against the folder's listing
(names and inodes) on every open, so reopening or consolidating a sweep costs the same whatever its size, and a
folder written before the index existed reads as is (it is indexed on its first open).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from painters.errors import PaintersError
from painters.sweep import store_index
from painters.sweep.store_index import RecordIndex, read_record

REFRESH_SECONDS = 30.0
"""During a run ``results.parquet`` is rebuilt after a chunk at most this often (and the first chunk) ..."""
REFRESH_SHARE = 0.05
"""... and never more often than keeps its rebuilding under this share of the run's time."""

SCHEMA_VERSION = 2
"""2: records keyed by what produced them (their model and task specs), not by the whole sweep file."""


def producer_id(spec: dict) -> str:
    """The fingerprint of what produces a (model, task)'s records (their model and task specs)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _changes(old: dict | None, new: dict | None) -> str:
    """``"task (limit: 4 -> 8)"``: what differs between two producer specs."""
    if not old or not new:
        return "model or task spec"
    out = []
    for part in ("model", "task", "runner"):
        a, b = old.get(part) or {}, new.get(part) or {}
        diffs = [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b), key=str) if a.get(k) != b.get(k)]
        if diffs:
            out.append(f"{part} ({', '.join(diffs)})")
    return " and ".join(out) or "schema"


class StoreError(PaintersError, RuntimeError):
    """The results folder belongs to another sweep, or another run holds it."""


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_name(text: str) -> str:
    """A file-name-safe form of ``text``."""
    return _UNSAFE.sub("_", text)


def atomic_write(path: Path, data: bytes) -> int:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the whole new one; returns the new
    file's inode."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            inode = os.fstat(f.fileno()).st_ino
        os.replace(tmp, path)
        return inode
    except BaseException:  # Ctrl-C or a full disk mid-write: no partial file is left behind
        tmp.unlink(missing_ok=True)
        raise


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
        self.index = RecordIndex(self.records_dir, self.root / "index")
        self._lock_file: Any = None
        self._refreshed: float | None = None
        self._refresh_cost = 0.0
        self.producers: dict[tuple[str, str], str] = {}
        self.current: dict[str, set[str]] = {}
        self.retired = 0

    # -- ownership ---------------------------------------------------------------------------------------------
    def open(
        self, producers: Mapping[tuple[str, str], dict], source: str, force: bool = False, sweep: str | None = None
    ) -> ResultStore:
        """Create or reopen the store for a sweep whose (model, task) pairs are produced as ``producers`` says
        (what decides their records: see :meth:`SweepConfig.producers`).

        Records are keyed by what produced them, so a sweep grows in place: a record whose model and task specs
        are unchanged is kept whatever else changed in the file (ops or tasks added or removed). A record whose
        model or task spec changed (data, limit, dtype, ...) would be stale: refused unless ``force``, which
        deletes those records only. Records of models, tasks or ops no longer in the sweep stay on disk, left
        out of the table (:meth:`set_current`), and count again if they come back. ``sweep`` names the sweep:
        a folder of another sweep name is refused unless ``force``.
        """
        self.records_dir.mkdir(parents=True, exist_ok=True)
        self._lock()
        meta_path = self.root / "sweep.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        if sweep is not None and meta.get("sweep") not in (None, sweep) and not force:
            self.close()
            raise StoreError(
                f"{self.root} holds the records of sweep {meta.get('sweep')!r} (from {meta.get('source')}), not "
                f"{sweep!r}. Use another --out, or --force to take the folder over (its records are deleted)."
            )
        if sweep is not None and meta.get("sweep") not in (None, sweep):  # forced: another sweep's folder
            for path in self.records_dir.glob("*.json"):
                path.unlink()
            self.index.clear()
        for debris in self.index.folder.glob(".*.tmp") if self.index.folder.exists() else ():
            debris.unlink(missing_ok=True)  # a part write cut short by kill -9 (a record's: after the listing)
        self.producers = {key: producer_id(spec) for key, spec in producers.items()}
        known = {**meta.get("producers", {}), **{producer_id(spec): spec for spec in producers.values()}}
        self._check_records(known, force)
        for debris in self.index.debris:  # a record write cut short by kill -9: never a record
            debris.unlink(missing_ok=True)
        self.index.flush()  # records read from their files (a crash after the last flush, an older folder) indexed
        meta = {"schema": SCHEMA_VERSION, "sweep": sweep, "source": source, "producers": known}
        atomic_write(meta_path, json.dumps(meta, indent=2, sort_keys=True).encode())
        return self

    def _check_records(self, known: dict[str, dict], force: bool) -> None:
        """Every record must come from this sweep's current model and task specs and this schema: a stale,
        foreign or unreadable one is never mixed in."""
        foreign, stale = self._read_unindexed(), {}
        meta = self.index.meta()  # the index's columns, no record file read
        groups = meta.groupby(["model", "task", "fingerprint", "schema"], dropna=False, sort=False)["_file"]
        for (model, task, produced, schema), names in groups:
            if schema != SCHEMA_VERSION:
                foreign.extend(self.records_dir / name for name in sorted(names))
            elif (model, task) in self.producers and produced != self.producers[(model, task)]:
                stale.setdefault((model, task), (produced, []))[1].extend(self.records_dir / n for n in sorted(names))
        if (foreign or stale) and not force:
            self.close()
            lines = []
            for (model, task), (produced, paths) in stale.items():
                changed = _changes(known.get(produced), known.get(self.producers[(model, task)]))
                lines.append(
                    f"{len(paths)} record(s) of model {model!r} on task {task!r} were made with another {changed}; "
                    f"they would be stale. Rerun with --force to recompute them (only those), or use another --out."
                )
            if foreign:
                names = ", ".join(p.name for p in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
                lines.append(
                    f"{self.records_dir}: {len(foreign)} record(s) do not belong to this sweep (an older schema "
                    f"than {SCHEMA_VERSION}, another tool's file, or unreadable): {names}. Move them away, or rerun "
                    f"with --force to discard them."
                )
            raise StoreError("\n".join(lines))
        gone = foreign + [p for _, paths in stale.values() for p in paths]
        for path in gone:
            path.unlink()
        self.index.writable = True  # the lock is held: rows of the deleted records leave the index now
        self.index.drop(p.name for p in gone)

    def _read_unindexed(self) -> list[Path]:
        """List the records and read those the index does not cover into it; returns the paths of the files that
        are not records of this schema (unreadable, another schema, another tool's)."""
        foreign = []
        for name in self.index.scan():
            path = self.records_dir / name
            try:
                record = read_record(path)
                ok = record.get("schema") == SCHEMA_VERSION and all(
                    isinstance(record[k], str) for k in ("model", "task", "fingerprint")
                )
            except FileNotFoundError:  # removed meanwhile
                self.index.files.pop(name, None)
                continue
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, KeyError, TypeError, ValueError):
                ok = False
            if ok:
                self.index.add(name, self.index.files[name], record)
            else:
                foreign.append(path)
        return foreign

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
        """Index the records written since the last flush and release the lock."""
        if self.index.writable:
            try:
                self.index.flush()
            except OSError:  # the index is a cache: the records are safe on disk, the next open indexes them
                pass
            finally:
                self.index.writable = False
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- records -----------------------------------------------------------------------------------------------
    @staticmethod
    def record_name(model: str, variant: str, task: str) -> str:
        return f"{safe_name(model)}__{safe_name(variant)}__{safe_name(task)}.json"

    def record_path(self, model: str, variant: str, task: str) -> Path:
        return self.records_dir / self.record_name(model, variant, task)

    def has(self, model: str, variant: str, task: str) -> bool:
        """Whether the record is on disk (from the listing taken on open: no file is touched)."""
        if self.index.files is not None:
            return self.record_name(model, variant, task) in self.index.files
        return self.record_path(model, variant, task).exists()

    def write(self, record: dict[str, Any]) -> None:
        """Write one record atomically (it is indexed with the next flush)."""
        path = self.record_path(record["model"], record["variant"], record["task"])
        data = json.dumps(record, sort_keys=True, default=float).encode()
        inode = atomic_write(path, data)
        self.index.add(path.name, inode, json.loads(data))  # as read back from the file

    def read(self, model: str, variant: str, task: str) -> dict[str, Any] | None:
        path = self.record_path(model, variant, task)
        return json.loads(path.read_text()) if path.exists() else None

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.records_dir.glob("*.json")) if self.records_dir.exists() else []

    def set_current(self, model: str, variants: Sequence[str]) -> None:
        """The variants ``model`` has in the sweep as it stands: the table leaves out its other records."""
        self.current[model] = set(variants)

    def in_sweep(self, record: dict[str, Any]) -> bool:
        """Whether a record belongs to the sweep as it stands (its model and task in it; its variant too, once the
        model's variants are known). Without an open sweep every record counts."""
        return not self.producers or self._current(record.get("model"), record.get("task"), record.get("variant"))

    def _current(self, model: Any, task: Any, variant: Any) -> bool:
        return (model, task) in self.producers and (model not in self.current or variant in self.current[model])

    def table(self) -> pd.DataFrame:
        """The sweep's records as one table (columns in name order, nullable integer columns for span parameters),
        rows in record-file order, tasks in ``task_order``. Records kept on disk but left out (models, tasks or ops
        no longer in the sweep) are counted in ``self.retired``."""
        if self.index.files is None:  # not opened: read what is on disk, writing nothing
            self._read_unindexed()
        frame = self.index.frame()
        if self.producers and len(frame):
            keep = [self._current(*key) for key in zip(frame["model"], frame["task"], frame["variant"])]
            kept = frame[keep].reset_index(drop=True) if not all(keep) else frame
        else:
            kept = frame
        self.retired = len(frame) - len(kept)
        frame = kept
        if self.task_order and "task" in frame:
            rank = {task: k for k, task in enumerate(self.task_order)}
            frame = frame.sort_values("task", key=lambda t: t.map(rank).fillna(len(rank)), kind="stable")
            frame = frame.reset_index(drop=True)
        for column in integer_columns():
            if column in frame:
                frame[column] = frame[column].astype("Int64")
        return frame

    def consolidate(self) -> pd.DataFrame:
        """Rebuild ``results.parquet`` from the records (atomically); returns the table written."""
        import io

        start = time.perf_counter()
        self.index.flush()
        frame = self.table()
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write(self.root / "results.parquet", buffer.getvalue())
        self._refreshed, self._refresh_cost = time.perf_counter(), time.perf_counter() - start
        return frame

    def checkpoint(self) -> None:
        """After each chunk of a run: index the records written once enough have gathered, and rebuild
        ``results.parquet`` after the first chunk, then every ``REFRESH_SECONDS`` at most (and not more often than
        keeps it under ``REFRESH_SHARE`` of the time), so its cost per record does not grow with the sweep."""
        if len(self.index.pending) >= store_index.FLUSH_RECORDS:
            self.index.flush()
        wait = max(REFRESH_SECONDS, self._refresh_cost / REFRESH_SHARE)
        if self._refreshed is None or time.perf_counter() - self._refreshed >= wait:
            self.consolidate()

    def analysis_path(self, analysis: str, model: str, variant: str) -> Path:
        return self.root / "analyses" / analysis / f"{safe_name(model)}__{safe_name(variant)}.parquet"

    def has_analysis(self, analysis: str, model: str, variant: str) -> bool:
        return self.analysis_path(analysis, model, variant).exists()

    def save_analysis(self, analysis: str, model: str, variant: str, frame: pd.DataFrame) -> None:
        """One variant's analysis table, written atomically (``analyses/<analysis>/<model>__<variant>.parquet``)."""
        import io

        path = self.analysis_path(analysis, model, variant)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write(path, buffer.getvalue())

    def save_similarity(self, task: str, matrix: Any) -> None:
        import io

        import numpy as np

        folder = self.root / "similarity"
        folder.mkdir(exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(matrix))
        atomic_write(folder / f"{safe_name(task)}.npy", buffer.getvalue())
