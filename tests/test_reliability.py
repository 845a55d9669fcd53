"""Reliability: kill -9 at random moments, concurrent runs, foreign records, blow-ups, out-of-memory."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import painters
from painters.sweep.config import parse_sweep
from painters.sweep.guard import has_nonfinite, split_batch
from painters.sweep.runner import SweepRunner
from painters.sweep.store import ResultStore, StoreError
from painters.tasks.base import Batch
from tests import sweep_fixtures as F

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(saved):
    return {"vit": saved.vit(6), "images": saved.images(per_class=4), "root": saved.root}


def sweep_yaml(files, ops="[skip: all, swap: {pairs: adjacent}]") -> str:
    return (
        f"name: rel\nmodel: {{id: {files['vit']}}}\ntasks: [{{type: classification, data: {files['images']}, "
        f"split: test, batch_size: 4}}]\nops: {ops}\nrunner: {{chunk: 2}}\n"
    )


def cli(args, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "painters.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def records(folder: Path) -> dict[str, float]:
    out = {}
    for path in (folder / "records").glob("*.json"):
        record = json.loads(path.read_text())  # a truncated file would fail here
        out[record["variant"]] = record["score"]
    return out


def _run_with_small_index(text: str, out: str) -> None:
    """A sweep in a forked process, the index flushed every 4 records and merged 2 parts at a time and
    results.parquet rebuilt every 0.2 s: kills land in index writes, merges and refreshes, not only record writes."""
    from painters.sweep import store, store_index

    store_index.FLUSH_RECORDS, store_index.FANOUT, store.REFRESH_SECONDS = 4, 2, 0.2
    SweepRunner(parse_sweep(text), out, progress=False).run()


class Forked:
    """A sweep run in a forked child (no interpreter start-up: torch is already imported), killed like a command."""

    def __init__(self, sweep: Path, out: Path):
        import multiprocessing

        self.proc = multiprocessing.get_context("fork").Process(
            target=_run_with_small_index, args=(sweep.read_text(), str(out))
        )
        self.proc.start()

    def poll(self):
        return None if self.proc.is_alive() else self.proc.exitcode

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def communicate(self, timeout=None):
        self.proc.join(timeout)
        return "", ""

    @property
    def returncode(self):
        return self.proc.exitcode


def kill_9_and_rerun(start, expected: dict[str, float], out: Path, kills: int, step: int, rng: random.Random) -> list:
    """Start the sweep (``start()``: a process) ``kills`` times, each killed (SIGKILL) at a random moment: the first
    early (start-up, opening the store), the others after 1 to ``step`` new records plus a random delay. After
    each kill every record file must parse and the store read without the lock must give exactly the record files.
    Then one run to the end. Returns the record count after each kill."""
    killed, seen = 0, []
    for attempt in range(kills):
        proc = start()
        if attempt == 0:
            time.sleep(rng.uniform(0.0, 0.5))  # opening the store, or in the first chunks
        else:  # mid-chunk, mid-write, mid-flush
            target = min(len(expected) - 1, len(records(out)) + rng.randint(1, step))
            while proc.poll() is None and len(list((out / "records").glob("*.json"))) < target:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.05))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate()
        on_disk = records(out) if (out / "records").exists() else {}
        if on_disk:
            table = ResultStore(out).table()  # parts + files left by the kill: nothing lost, nothing stale
            assert dict(zip(table.variant, table.score)) == on_disk, attempt
        seen.append(len(on_disk))
    assert killed >= kills - 1 and sum(0 < n < len(expected) for n in seen) >= kills * 3 // 5, seen
    final = start()
    final.communicate(timeout=1800)
    assert final.returncode == 0, f"the run after the kills failed (exit code {final.returncode}; traceback above)"
    return seen


def check_same_as_uninterrupted(out: Path, expected: dict[str, float]) -> None:
    assert records(out) == expected  # same variants, no loss, no duplicate, same scores
    assert len(list((out / "records").glob("*.json"))) == len(expected)
    table = pd.read_parquet(out / "results.parquet")
    assert dict(zip(table.variant, table.score)) == expected and len(table) == len(expected)
    indexed = [n for p in (out / "index").glob("part-*.parquet") for n in pd.read_parquet(p, columns=["_file"])._file]
    assert sorted(indexed) == sorted(p.name for p in (out / "records").glob("*.json"))  # one row per record


def test_kill_9_at_random_moments_then_rerun_gives_exactly_the_uninterrupted_records(files, tmp_path):
    sweep = tmp_path / "s.yaml"  # 57 records in chunks of 2 over 36 images: kills land mid-sweep
    ops = "[skip: all, swap: {pairs: adjacent}, shuffle: {start: 1, end: 5, seeds: 30}]"
    sweep.write_text(sweep_yaml({**files, "images": F.save_imagefolder(tmp_path, per_class=12)}, ops))
    clean = tmp_path / "clean"
    SweepRunner(parse_sweep(sweep.read_text()), clean, progress=False).run()
    expected = records(clean)
    assert len(expected) == 1 + 21 + 5 + 30
    out = tmp_path / "killed"
    seen = kill_9_and_rerun(lambda: Forked(sweep, out), expected, out, kills=6, step=8, rng=random.Random(0))
    print(f"records on disk after each kill: {seen} of {len(expected)}")
    check_same_as_uninterrupted(out, expected)


@pytest.mark.slow
def test_kill_9_twenty_times_in_a_10000_record_sweep(files, tmp_path):
    sweep = tmp_path / "s.yaml"
    ops = "[skip: all, shuffle: {start: 0, end: 6, seeds: 9978}]"
    sweep.write_text(sweep_yaml(files, ops).replace("chunk: 2", "chunk: 32"))
    clean = tmp_path / "clean"
    SweepRunner(parse_sweep(sweep.read_text()), clean, progress=False).run()
    expected = records(clean)
    assert len(expected) == 10_000
    out = tmp_path / "killed"
    seen = kill_9_and_rerun(lambda: Forked(sweep, out), expected, out, kills=20, step=800, rng=random.Random(1))
    print(f"records on disk after each of the 20 kills: {seen}")
    check_same_as_uninterrupted(out, expected)


def test_two_concurrent_runs_on_one_folder(files, tmp_path):
    sweep = tmp_path / "s.yaml"  # a sweep long enough (~10 s) to still hold the folder when the second starts
    images = F.save_imagefolder(tmp_path, per_class=40)
    sweep.write_text(sweep_yaml({**files, "images": images}, "[skip: all, swap: all, reverse: all]"))
    first = cli(["run", str(sweep), "--out", str(tmp_path / "o"), "--quiet", "--no-plot"])
    lock = tmp_path / "o" / ".lock"
    deadline = time.time() + 60
    while time.time() < deadline and not (lock.exists() and lock.read_text().startswith("pid")):
        time.sleep(0.2)
    second = cli(["run", str(sweep), "--out", str(tmp_path / "o"), "--quiet", "--no-plot"])
    _, err = second.communicate(timeout=120)
    first.communicate(timeout=300)
    assert second.returncode == 2 and f"in use by a running sweep (pid {first.pid})" in err
    assert first.returncode == 0 and len(records(tmp_path / "o")) == 1 + 21 + 15 + 21


def test_foreign_and_old_schema_records_are_detected_not_mixed_in(files, tmp_path):
    cfg = parse_sweep(sweep_yaml(files, "[skip: [1, 2]]"))
    SweepRunner(cfg, tmp_path, progress=False).run()
    path = next((tmp_path / "records").glob("*skip-1-2*"))
    old = json.loads(path.read_text())
    old["schema"] = 0
    (tmp_path / "records" / "tiny-vit__skip-3-4__x.json").write_text(json.dumps(old))
    with pytest.raises(StoreError, match=r"1 record\(s\) do not belong to this sweep.*skip-3-4.*--force"):
        SweepRunner(cfg, tmp_path, progress=False).run()
    (tmp_path / "records" / "tiny-vit__skip-3-4__x.json").write_text('{"truncat')
    with pytest.raises(StoreError, match="unreadable"):
        ResultStore(tmp_path).open(cfg.producers(), "s.yaml")
    SweepRunner(cfg, tmp_path, progress=False, force=True).run()
    assert len(records(tmp_path)) == 2


def test_nonfinite_variant_is_recorded_and_the_sweep_goes_on(files, tmp_path):
    cfg = parse_sweep(sweep_yaml(files, "[repeat: {start: 2, end: 3, times: 40}, skip: [1, 2]]"))
    runner = SweepRunner(cfg, tmp_path, progress=False)
    model, _ = runner.model()
    # layer 2 multiplies its output by 1e4: harmless once (the final layer norm rescales), inf when run 40 times
    model.vit.layers[2].register_forward_hook(lambda module, args, output: output * 1e4)
    stats = runner.run()
    frame = pd.read_parquet(tmp_path / "results.parquet").set_index("variant")
    assert frame.loc["repeat-2-3-x40", "status"] == "nonfinite"
    assert frame.loc["skip-1-2", "status"] == "ok" and frame.loc["baseline", "status"] == "ok"
    assert stats.written == 3 and stats.failed == 1


def test_a_variant_that_raises_is_recorded_as_an_error(files, tmp_path, monkeypatch):
    cfg = parse_sweep(sweep_yaml(files, "[skip: [1, 2], skip: [3, 4]]"))
    real = painters.executor.PlanRunner.run_step

    def flaky(self, k, step, args, kwargs):
        if self.plan.steps[:3] == (0, 2, 3):  # only skip(1, 2) breaks
            raise RuntimeError("simulated kernel failure")
        return real(self, k, step, args, kwargs)

    monkeypatch.setattr(painters.executor.PlanRunner, "run_step", flaky)
    SweepRunner(cfg, tmp_path, progress=False, share=False).run()
    frame = pd.read_parquet(tmp_path / "results.parquet").set_index("variant")
    assert frame.loc["skip-1-2", "status"] == "error" and "simulated kernel failure" in frame.loc["skip-1-2", "error"]
    assert frame.loc["skip-3-4", "status"] == "ok"


def test_out_of_memory_halves_the_batch_and_retries(files, tmp_path, monkeypatch):
    cfg = parse_sweep(sweep_yaml(files, "[skip: all]"))
    reference = SweepRunner(cfg, tmp_path / "ref", progress=False).run()
    runner = SweepRunner(cfg, tmp_path / "oom", progress=False)
    model, _ = runner.model()
    real_forward = type(model).forward

    def forward(self, pixel_values=None, **kw):
        if pixel_values is not None and pixel_values.shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_forward(self, pixel_values=pixel_values, **kw)

    monkeypatch.setattr(type(model), "forward", forward)
    stats = runner.run()
    assert stats.oom_retries > 0 and stats.failed == 0
    a = pd.read_parquet(tmp_path / "ref" / "results.parquet").sort_values("variant")
    b = pd.read_parquet(tmp_path / "oom" / "results.parquet").sort_values("variant")
    assert np.array_equal(a.score.to_numpy(), b.score.to_numpy()) and reference.written == stats.written


def test_status_looks_at_the_primary_metric_only():
    """COCO reports NaN (-1) for a size bin without ground truth: that is a defined result, not a blow-up."""
    from painters.sweep.scoring import record_status

    detection = {"map": 0.4, "map_50": 0.52, "map_large": float("nan"), "n": 200}
    assert record_status(detection, "map") == "ok"
    assert record_status({**detection, "map": float("nan")}, "map") == "nonfinite"
    assert record_status({"perplexity": float("inf")}, "perplexity") == "nonfinite"
    assert record_status(detection, "map", flagged=True) == "nonfinite"
    assert record_status(detection, "map", error="ValueError: x") == "error"


def test_split_batch_and_nonfinite_helpers():
    batch = Batch(inputs={"pixel_values": torch.zeros(4, 3, 2, 2)}, meta={"labels": torch.arange(4), "p": object()})
    halves = split_batch(batch)
    assert [len(h) for h in halves] == [2, 2] and halves[1].meta["labels"].tolist() == [2, 3]
    assert split_batch(Batch(inputs={"x": torch.zeros(1, 2)})) is None
    assert split_batch(Batch(inputs={"x": torch.zeros(4, 2)}, meta={"index": [0, 1]})) is None
    assert has_nonfinite({"a": [torch.tensor([1.0, float("nan")])]}) and not has_nonfinite((torch.ones(2), 3))
