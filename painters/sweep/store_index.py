"""The index of a results folder: its JSON records read back once, kept as parquet parts, so reopening a sweep and
rebuilding its table never re-read every record.

``index/part-<n>.parquet`` holds records as table rows plus ``_file`` (the record's file name) and ``_inode`` (the
file's inode when it was indexed). A part is written atomically and never changed; once a size tier holds
``FANOUT`` parts they are merged into one, so a sweep of n records keeps O(log n) parts and rewrites each row
O(log n) times (about 4 times at 100k records), and a crash loses at most the rows of the last ``FLUSH_RECORDS``
records, which are then read from their files.

The record files stay the source of truth: a row counts only while a file of its name with its inode is on disk
(listing the folder gives every inode without reading a file); a record file no row covers (written after the
last flush, or by a version of painters without the index) is read from its JSON. Rows whose file changed or went
are dropped from disk before any new record can take their name, so a reused inode never revives a stale row.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

FLUSH_RECORDS = 512
"""Records gathered in memory before they are written as a part (:meth:`RecordIndex.flush`)."""
FANOUT = 4
"""Parts of one size tier merged together: tier t holds parts of < FLUSH_RECORDS * FANOUT ** (t + 1) rows."""
INDEX_COLUMNS = ["_file", "_inode", "model", "task", "variant", "fingerprint", "schema"]
CHECK_COLUMNS = ["_file", "_inode", "model", "task", "fingerprint", "schema"]
"""What opening a store reads of each part: enough to refuse stale or foreign records."""
JSON_COLUMN = "_json"
"""Parts whose records do not fit typed columns (one column holding numbers and text) keep each record as JSON."""


def read_record(path: Path) -> dict[str, Any]:
    """One record file, parsed (raises on a file that is not a JSON object)."""
    record = json.loads(path.read_text())
    if not isinstance(record, dict):
        raise TypeError(f"{path.name}: not a JSON object")
    return record


def _typed(records: list[dict[str, Any]]) -> pa.Table:
    """Records as a table: one column per key any record has (None where a record lacks it)."""
    keys = list(dict.fromkeys([*(k for r in records for k in r), *INDEX_COLUMNS[2:]]))
    return pa.table({k: pa.array([r.get(k) for r in records]) for k in keys})


def _with_files(table: pa.Table, names: list[str], inodes: list[int]) -> pa.Table:
    table = table.append_column("_file", pa.array(names, pa.string()))
    return table.append_column("_inode", pa.array(inodes, pa.int64()))


def _as_json(records: list[dict[str, Any]], names: list[str], inodes: list[int]) -> pa.Table:
    columns = {c: [r.get(c) for r in records] for c in INDEX_COLUMNS[2:-1]}
    table = pa.table(
        {c: pa.array([None if v is None else str(v) for v in vs], pa.string()) for c, vs in columns.items()}
    )
    schemas = [r.get("schema") if isinstance(r.get("schema"), int) else None for r in records]
    table = table.append_column("schema", pa.array(schemas, pa.int64()))
    texts = [json.dumps(r, sort_keys=True, default=float) for r in records]
    return _with_files(table.append_column(JSON_COLUMN, pa.array(texts, pa.string())), names, inodes)


def part_table(records: list[dict[str, Any]], names: list[str], inodes: list[int]) -> pa.Table:
    """The table of one part: typed columns, or JSON text where a column mixes types."""
    try:
        return _with_files(_typed(records), names, inodes)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return _as_json(records, names, inodes)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    """A part's records as dicts (JSON parts parsed), ``_file`` and ``_inode`` included."""
    if JSON_COLUMN in table.column_names:
        files, inodes = table.column("_file").to_pylist(), table.column("_inode").to_pylist()
        texts = table.column(JSON_COLUMN).to_pylist()
        return [{**json.loads(t), "_file": f, "_inode": i} for t, f, i in zip(texts, files, inodes)]
    return table.to_pylist()


def merge(tables: list[pa.Table]) -> pa.Table:
    """Tables of parts as one (a column typed as null, int or float in different parts takes the widest type);
    parts that cannot be typed together come back as one JSON part."""
    tables = [t for t in tables if t.num_rows] or tables[:1]
    if not tables:
        return pa.table({c: pa.array([], pa.string() if c != "_inode" else pa.int64()) for c in INDEX_COLUMNS})
    if not any(JSON_COLUMN in t.column_names for t in tables):
        try:
            return pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    rows = [row for t in tables for row in _rows(t)]
    names, inodes = [r.pop("_file") for r in rows], [r.pop("_inode") for r in rows]
    return part_table(rows, names, inodes)


def _number(path: Path) -> int:
    """The number of ``part-<n>.parquet`` (0 for a name of another form)."""
    tail = path.stem.removeprefix("part-")
    return int(tail) if tail.isdigit() else 0


@dataclass
class Part:
    path: Path
    rows: int
    keep: Any = None
    """Row mask of the rows still valid (None: all of them)."""

    @property
    def tier(self) -> int:
        return max(0, int(math.log(max(self.rows, 1) / FLUSH_RECORDS, FANOUT))) if self.rows >= FLUSH_RECORDS else 0

    def read(self) -> pa.Table:
        table = pq.read_table(self.path)
        return table if self.keep is None else table.filter(pa.array(self.keep))


class RecordIndex:
    """The records of ``records_dir`` indexed in ``folder``: which files are there, and their rows."""

    def __init__(self, records_dir: Path, folder: Path):
        self.records_dir = records_dir
        self.folder = folder
        self.files: dict[str, int] | None = None
        """Every record file on disk (name -> inode), once :meth:`scan` ran."""
        self.parts: list[Part] = []
        self.pending: dict[str, tuple[int, dict[str, Any]]] = {}
        """Records not yet in a part (name -> (inode, record))."""
        self.covered: list[pa.Table] = []
        """The check columns of every valid row of the parts."""
        self.names: set[str] = set()
        """The file names of the parts' valid rows."""
        self.dirty = False
        """Whether parts hold rows of files gone or changed, or duplicate rows: they are rewritten before any write."""
        self.writable = False
        """Whether this process may write parts (it holds the folder's lock)."""
        self.dropped: set[str] = set()
        """Names dropped while not writable: their rows stay on disk, left out of :meth:`table`."""
        self.broken: list[Path] = []
        """Part files that could not be read (removed by the next rewrite)."""
        self.debris: list[Path] = []
        """Temporary files of record writes cut short, found by the last listing."""

    # -- reading ---------------------------------------------------------------------------------------------------
    def list_files(self) -> dict[str, int]:
        """Record files on disk, name -> inode (no file is read); temporary files of cut writes in ``debris``."""
        files: dict[str, int] = {}
        self.debris = []
        if not self.records_dir.exists():
            return files
        with os.scandir(self.records_dir) as entries:
            for e in entries:
                if not e.name.startswith("."):
                    if e.name.endswith(".json"):
                        files[e.name] = e.inode()
                elif e.name.endswith(".tmp"):
                    self.debris.append(Path(e.path))
        return files

    def scan(self) -> list[str]:
        """List the record files and load the parts' index columns; returns the names no valid row covers (their
        records must be read from JSON). Retries when another process replaces parts meanwhile."""
        for attempt in range(5):
            try:
                return self._scan()
            except FileNotFoundError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _scan(self) -> list[str]:
        self.files = files = self.list_files()
        self.parts, self.broken, tables = [], [], []
        for path in sorted(self.folder.glob("part-*.parquet")) if self.folder.exists() else []:
            try:
                table = pq.read_table(path, columns=CHECK_COLUMNS, read_dictionary=["model", "task", "fingerprint"])
            except FileNotFoundError:
                raise
            except (pa.ArrowException, OSError, ValueError, KeyError):  # torn or foreign: its records are reread
                self.broken.append(path)
                continue
            self.parts.append(Part(path, table.num_rows))
            tables.append(table)
        self.names, self.covered, self.pending, self.dropped = set(), [], {}, set()  # every row rechecked below
        for part, table in zip(self.parts, tables):
            keep = []
            for name, inode in zip(table.column("_file").to_pylist(), table.column("_inode").to_pylist()):
                ok = files.get(name) == inode and name not in self.names  # the file as indexed; a duplicate once
                keep.append(ok)
                if ok:
                    self.names.add(name)
            part.keep = None if all(keep) else keep
            self.covered.append(table if part.keep is None else table.filter(pa.array(keep)))
        self.dirty = bool(self.broken) or any(part.keep is not None for part in self.parts)
        return sorted(files.keys() - self.names)

    def meta(self) -> pd.DataFrame:
        """The check columns of every record known (valid parts' rows and pending records)."""
        fresh = pd.DataFrame(
            [
                {"_file": n, "_inode": i, **{c: r.get(c) for c in CHECK_COLUMNS[2:]}}
                for n, (i, r) in self.pending.items()
            ],
            columns=CHECK_COLUMNS,
        )
        covered = [t.to_pandas() for t in self.covered if t.num_rows]
        for frame in covered:  # categories of each part: plain values, so that parts concatenate
            for column in ("model", "task", "fingerprint"):
                frame[column] = frame[column].astype(object)
        return pd.concat([*covered, fresh], ignore_index=True) if covered else fresh

    def frame(self) -> pd.DataFrame:
        """Every record known as one frame: rows in file-name order, columns in name order (a column holding
        numbers and text is kept as objects)."""
        tables = [part.read() for part in self.parts]
        if self.dropped:
            tables = [t.filter(pc.invert(pc.is_in(t.column("_file"), pa.array(sorted(self.dropped))))) for t in tables]
        if self.pending:
            names = list(self.pending)
            inodes, records = zip(*self.pending.values())
            tables.append(part_table(list(records), names, list(inodes)))
        table = merge(tables)
        if not table.num_rows:
            return pd.DataFrame()
        if JSON_COLUMN not in table.column_names:
            table = table.take(pc.sort_indices(table, [("_file", "ascending")]))
            return table.select(sorted(c for c in table.column_names if c not in ("_file", "_inode"))).to_pandas()
        rows = sorted(_rows(table), key=lambda row: row["_file"])
        frame = pd.DataFrame(rows).drop(columns=["_file", "_inode"])
        return frame[sorted(frame.columns)]

    # -- writing ---------------------------------------------------------------------------------------------------
    def add(self, name: str, inode: int, record: dict[str, Any]) -> None:
        """A record just written (or read from its file): indexed at the next :meth:`flush`."""
        if self.files is not None:
            self.files[name] = inode
        if name in self.names:
            self.drop([name], keep_files=True)  # a rewritten record: its old row goes first
        self.pending[name] = (inode, record)

    def drop(self, names: Iterable[str], keep_files: bool = False) -> None:
        """Forget these records (their files are deleted by the caller unless ``keep_files``); rows of them on disk
        are removed now, before their names can be written again."""
        names = set(names)
        for name in names:
            self.pending.pop(name, None)
            if self.files is not None and not keep_files:
                self.files.pop(name, None)
        if names & self.names:
            gone = pa.array(sorted(names), pa.string())
            self.covered = [t.filter(pc.invert(pc.is_in(t.column("_file"), gone))) for t in self.covered]
            self.names -= names
            self.dirty = True
            if self.writable:
                self.rewrite(drop=names)
            else:
                self.dropped |= names

    def rewrite(self, drop: set[str] = frozenset()) -> None:
        """All valid rows of the parts (less ``drop``) as one part; the old parts are removed."""
        if not self.writable:
            return
        if self.parts:
            table = merge([part.read() for part in self.parts])
            if drop:
                table = table.filter(pc.invert(pc.is_in(table.column("_file"), pa.array(sorted(drop)))))
            self._replace(self.parts, table)
        for path in self.broken:
            path.unlink(missing_ok=True)
        self.broken, self.dirty = [], False

    def flush(self) -> None:
        """Write the pending records as a part (after rewriting dirty parts), then merge full tiers."""
        if not self.writable:
            return
        if self.dirty:
            self.rewrite()
        if not self.pending:
            return
        names = list(self.pending)
        inodes, records = zip(*self.pending.values())
        table = part_table(list(records), names, list(inodes))
        self._replace([], table)
        self.pending = {}
        while True:
            tiers: dict[int, list[Part]] = {}
            for part in self.parts:
                tiers.setdefault(part.tier, []).append(part)
            full = [parts for _, parts in sorted(tiers.items()) if len(parts) >= FANOUT]
            if not full:
                return
            self._replace(full[0], merge([part.read() for part in full[0]]))

    def _replace(self, old: list[Part], table: pa.Table) -> None:
        """Write ``table`` as a new part, then remove ``old`` parts (a crash between leaves duplicate rows, which a
        scan finds and rewrites)."""
        from painters.sweep.store import atomic_write

        self.folder.mkdir(parents=True, exist_ok=True)
        new = []
        if table.num_rows:
            numbers = [_number(p) for p in [*(p.path for p in self.parts), *self.broken]]
            path = self.folder / f"part-{1 + max(numbers, default=0):08d}.parquet"
            buffer = io.BytesIO()
            pq.write_table(table, buffer)
            atomic_write(path, buffer.getvalue())
            new = [Part(path, table.num_rows)]
        for part in old:
            part.path.unlink(missing_ok=True)
        self.parts = [p for p in self.parts if p not in old] + new
        if not old and table.num_rows:  # a new part: its rows join the covered ones (merges change no row)
            self.covered.append(table.select(CHECK_COLUMNS))
            self.names.update(table.column("_file").to_pylist())

    def clear(self) -> None:
        """Remove every part (the caller deletes the record files)."""
        for path in self.folder.glob("part-*.parquet") if self.folder.exists() else []:
            path.unlink()
        self.parts, self.pending, self.dirty, self.broken = [], {}, False, []
        self.covered, self.names, self.dropped = [], set(), set()
        if self.files is not None:
            self.files = {}
