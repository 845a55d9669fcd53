"""The results store and its index: the table equals the record files, resume reads only the index, torn or stale
index parts and folders of the older layout (records only) read right, deletions never revive a stale row."""

from __future__ import annotations

import fcntl
import json
import math
import pathlib

import pandas as pd
import pyarrow.parquet as pq
import pytest

import painters
from painters.plan import resolve
from painters.sweep import store as store_module
from painters.sweep import store_index
from painters.sweep.generators import Variant
from painters.sweep.scoring import TaskInfo, make_record
from painters.sweep.store import ResultStore, StoreError, integer_columns, producer_id

SPECS = {
    ("vit", "cls"): {"model": {"id": "vit"}, "task": {"type": "classification", "limit": 4}},
    ("vit", "lm"): {"model": {"id": "vit"}, "task": {"type": "perplexity"}},
}
TASKS = {
    "cls": (TaskInfo("classification", "top1", True, frozenset(), {"top1": 0.25}), {"top1": 0.75, "top5": 1.0, "n": 4}),
    "lm": (TaskInfo("perplexity", "perplexity", False, frozenset({"perplexity"}), {"perplexity": 100.0}), {
        "perplexity": 20.0, "n": 64,
    }),
}  # fmt: skip


def record(k: int, task: str = "cls", model: str = "vit", specs: dict = SPECS, **metrics) -> dict:
    """A record as the runner makes it: variant k of a 12-layer model (0: the baseline; then skips, then shuffles)."""
    info, base = TASKS[task]
    ops = () if k == 0 else (painters.skip(k % 11, k % 11 + 1),) if k < 12 else (painters.shuffle(2, 9, seed=k),)
    variant = Variant(ops)
    return make_record(
        sweep="s",
        fingerprint=producer_id(specs.get((model, task), {"other": model})),
        model=model,
        task=info,
        task_name=task,
        task_type=info.name,
        variant=variant,
        plan=resolve(12, variant.ops),
        metrics={**base, **{m: (v * (1 + k % 7)) for m, v in base.items() if m != "n"}, **metrics},
        reference=None if k == 0 else base,
        seconds=0.01 * k,
    )


def reference(store: ResultStore) -> pd.DataFrame:
    """The table as the store built it before the index: every record file read, in file order."""
    records = [json.loads(p.read_text()) for p in sorted(store.records_dir.glob("*.json"))]
    frame = pd.DataFrame([r for r in records if store.in_sweep(r)])
    frame = frame[sorted(frame.columns)]
    rank = {task: k for k, task in enumerate(store.task_order)}
    frame = frame.sort_values("task", key=lambda t: t.map(rank).fillna(len(rank)), kind="stable").reset_index(drop=True)
    for column in integer_columns():
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


def opened(root, specs=SPECS, force=False) -> ResultStore:
    return ResultStore(root, ["cls", "lm"]).open(specs, "s.yaml", force=force, sweep="s")


def abandon(store: ResultStore) -> None:
    """What kill -9 leaves: the lock released, nothing flushed."""
    store.index.writable = False
    fcntl.flock(store._lock_file, fcntl.LOCK_UN)
    store._lock_file.close()
    store._lock_file = None


def part_names(root) -> set[str]:
    """The record names the index parts on disk hold rows of."""
    parts = (root / "index").glob("part-*.parquet")
    return {n for p in parts for n in pq.read_table(p, columns=["_file"]).column("_file").to_pylist()}


@pytest.fixture
def small_parts(monkeypatch):
    """Parts of 4 records merged 2 at a time, so a few dozen records exercise every path of the index."""
    monkeypatch.setattr(store_index, "FLUSH_RECORDS", 4)
    monkeypatch.setattr(store_index, "FANOUT", 2)


def test_the_table_equals_the_record_files_across_sessions_merges_and_a_crash(tmp_path, small_parts):
    odd = {"top1": float("nan")}  # a non-finite score, then an error record without metrics, then another model
    batches = [
        [record(k) for k in range(20)],
        [record(k, "lm") for k in range(15)] + [record(40, **odd)],
        [{**record(41), "status": "error", "error": "boom", "score": None, "m_top1": None}],
        [record(k, model="retired") for k in range(3)] + [record(k) for k in range(50, 63)],
    ]
    for n, batch in enumerate(batches):
        store = opened(tmp_path)
        store.set_current("vit", [r["variant"] for b in batches for r in b])
        for r in batch:
            store.write(r)
            store.checkpoint()
        if n == 2:
            abandon(store)  # killed: its records are read back from their files on the next open
        else:
            store.close()
    with opened(tmp_path) as store:
        table = store.consolidate()
        expected = reference(store)
        pd.testing.assert_frame_equal(table, expected)
        assert store.retired == 3 and len(table) == 20 + 16 + 1 + 13
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), expected)
    assert part_names(tmp_path) == {p.name for p in (tmp_path / "records").glob("*.json")}
    parts = len(list((tmp_path / "index").glob("part-*.parquet")))
    assert parts <= 1 + math.log2(53 / 4), parts  # merged: O(log n) parts, not one per flush


def counting_reads(monkeypatch, root) -> list[str]:
    """The names of the record files opened from now on."""
    opened_files: list[str] = []
    real_open = pathlib.Path.open

    def open_(self, *a, **k):  # Path.read_text opens through Path.open
        if self.parent.name == "records" and self.suffix == ".json":
            opened_files.append(self.name)
        return real_open(self, *a, **k)

    monkeypatch.setattr(pathlib.Path, "open", open_)
    return opened_files


def test_resume_and_consolidation_read_only_the_index(tmp_path, small_parts, monkeypatch):
    with opened(tmp_path) as store:
        for k in range(30):
            store.write(record(k))
            store.checkpoint()
    reads = counting_reads(monkeypatch, tmp_path)
    with opened(tmp_path) as store:
        assert all(store.has("vit", record(k)["variant"], "cls") for k in range(30))
        assert not store.has("vit", record(99)["variant"], "cls")
        assert len(store.consolidate()) == 30
    assert reads == []


def test_records_written_after_the_last_flush_are_read_from_their_files_only(tmp_path, small_parts, monkeypatch):
    store = opened(tmp_path)
    for k in range(10):
        store.write(record(k))
        store.checkpoint()  # flushes every 4 records
    abandon(store)
    unindexed = {p.name for p in (tmp_path / "records").glob("*.json")} - part_names(tmp_path)
    assert 0 < len(unindexed) < 4
    reads = counting_reads(monkeypatch, tmp_path)
    with opened(tmp_path) as store:
        table = store.consolidate()
        read = sorted(reads)
        pd.testing.assert_frame_equal(table, reference(store))
    assert read == sorted(unindexed)


def test_a_torn_part_and_leftover_temp_files_are_ignored_and_recovered(tmp_path, small_parts):
    with opened(tmp_path) as store:
        for k in range(12):
            store.write(record(k))
            store.checkpoint()
    part = sorted((tmp_path / "index").glob("part-*.parquet"))[-1]
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])  # torn (disk trouble: parts are atomic)
    (tmp_path / "index" / ".part-00000099.parquet.123.tmp").write_bytes(b"PAR1 half")  # a write cut by kill -9
    (tmp_path / "records" / ".vit__skip-3-4__cls.json.123.tmp").write_text('{"model": "vit", "trunc')
    with opened(tmp_path) as store:
        table = store.consolidate()
        pd.testing.assert_frame_equal(table, reference(store))
    assert len(table) == 12 and not list(tmp_path.glob("*/.*.tmp"))
    assert part.name not in {p.name for p in (tmp_path / "index").iterdir()}  # rebuilt without the torn part
    assert part_names(tmp_path) == {p.name for p in (tmp_path / "records").glob("*.json")}


def test_a_folder_of_the_older_layout_reads_as_is_and_is_indexed_once(tmp_path, monkeypatch):
    (tmp_path / "records").mkdir()
    for k in range(25):  # what the store wrote before the index: record files and sweep.json only
        r = record(k, "lm" if k % 3 == 0 else "cls")
        name = f"vit__{r['variant']}__{r['task']}.json"
        (tmp_path / "records" / name).write_text(json.dumps(r, sort_keys=True))
    meta = {"schema": 2, "sweep": "s", "source": "s.yaml", "producers": {producer_id(s): s for s in SPECS.values()}}
    (tmp_path / "sweep.json").write_text(json.dumps(meta))
    with opened(tmp_path) as store:
        pd.testing.assert_frame_equal(store.consolidate(), reference(store))
    reads = counting_reads(monkeypatch, tmp_path)
    with opened(tmp_path) as store:
        assert len(store.consolidate()) == 25
    assert reads == []


def test_records_changed_or_deleted_behind_the_index_are_never_served_stale(tmp_path, small_parts):
    with opened(tmp_path) as store:
        for k in range(8):
            store.write(record(k))
        store.index.flush()
        store.write({**record(3), "score": 0.123})  # rewritten through the store: its old row leaves the index now
        assert store.record_path("vit", record(3)["variant"], "cls").name not in part_names(tmp_path)
        assert store.table().set_index("variant").loc[record(3)["variant"], "score"] == 0.123
    gone = tmp_path / "records" / f"vit__{record(5)['variant']}__cls.json"
    changed = tmp_path / "records" / f"vit__{record(6)['variant']}__cls.json"
    gone.unlink()  # by hand, behind the index
    changed.unlink()
    changed.write_text(json.dumps({**record(6), "score": 0.456}, sort_keys=True))
    with opened(tmp_path) as store:
        assert gone.name not in part_names(tmp_path) and changed.name in part_names(tmp_path)
        table = store.consolidate().set_index("variant")
    assert record(5)["variant"] not in table.index and len(table) == 7
    assert table.loc[record(3)["variant"], "score"] == 0.123 and table.loc[record(6)["variant"], "score"] == 0.456
    assert part_names(tmp_path) == {p.name for p in (tmp_path / "records").glob("*.json")}


def test_a_record_rewritten_before_the_store_is_opened_stays_in_its_table(tmp_path, small_parts):
    """A store object that read the table unopened, then had a record rewritten, then was opened: the record's
    fresh row is in the table (names dropped while unopened are rechecked on open, not left out for good)."""
    with opened(tmp_path) as store:
        for k in range(3):
            store.write(record(k))
    store = ResultStore(tmp_path, ["cls", "lm"])
    assert len(store.table()) == 3  # read without the lock
    store.write({**record(1), "score": 0.5})
    with store.open(SPECS, "s.yaml", sweep="s"):
        table = store.table().set_index("variant")
    assert len(table) == 3 and table.loc[record(1)["variant"], "score"] == 0.5


def test_stale_and_foreign_records_are_refused_from_the_index_and_force_removes_only_those(tmp_path, small_parts):
    with opened(tmp_path) as store:
        for k in range(10):
            store.write(record(k))
            store.write(record(k, "lm"))
    changed = {**SPECS, ("vit", "cls"): {**SPECS[("vit", "cls")], "task": {"type": "classification", "limit": 8}}}
    with pytest.raises(StoreError, match=r"10 record\(s\) of model 'vit' on task 'cls'.*limit: 4 -> 8.*--force"):
        opened(tmp_path, changed)
    with opened(tmp_path, changed, force=True) as store:
        assert set(store.consolidate().task) == {"lm"}
        assert not any(n.endswith("__cls.json") for n in part_names(tmp_path))
        store.write(record(1, specs=changed))
    with opened(tmp_path, changed) as store:
        assert sorted(store.consolidate().task) == ["cls"] + ["lm"] * 10


def test_a_column_of_numbers_and_text_is_kept_as_is(tmp_path, small_parts):
    with opened(tmp_path) as store:
        for k in range(6):
            store.write({**record(k), "note": k if k % 2 else f"text {k}"})
            store.index.flush()
        table = store.table()  # (parquet cannot hold such a column: results.parquet never could)
        pd.testing.assert_frame_equal(table, reference(store))
    assert sorted(table["note"], key=str) == sorted([k if k % 2 else f"text {k}" for k in range(6)], key=str)
    with opened(tmp_path) as store:
        pd.testing.assert_frame_equal(store.table(), table)


def test_reading_without_the_lock_writes_nothing(tmp_path, small_parts):
    store = opened(tmp_path)
    for k in range(10):
        store.write(record(k))
        store.checkpoint()
    abandon(store)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    table = ResultStore(tmp_path).table()
    assert len(table) == 10 and sorted(p.name for p in tmp_path.rglob("*")) == before
    assert ResultStore(tmp_path).has("vit", "baseline", "cls") and len(ResultStore(tmp_path).keys()) == 10


def test_results_parquet_is_rebuilt_after_the_first_chunk_then_only_now_and_then(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "REFRESH_SECONDS", 1e9)
    results = tmp_path / "results.parquet"
    with opened(tmp_path) as store:
        store.write(record(0))
        store.checkpoint()
        first = results.stat().st_ino
        store.write(record(1))
        store.checkpoint()
        assert results.stat().st_ino == first and len(pd.read_parquet(results)) == 1
        monkeypatch.setattr(store_module, "REFRESH_SECONDS", 0.0)
        monkeypatch.setattr(store_module, "REFRESH_SHARE", math.inf)
        store.checkpoint()
        assert len(pd.read_parquet(results)) == 2
