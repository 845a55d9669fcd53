"""Store scale: the results store's cost per record as a sweep grows to 100k records, reopening it, showing it.

1. One sweep of ``--records`` records (default 100,000) written through the store's API exactly as the runner
   calls it (``open``, ``set_current``, ``has`` for every variant, then per chunk of 32: ``write`` per record and
   ``checkpoint``; ``consolidate`` at the end). Records are real records (``make_record``) of shuffles of a
   12-layer model. Prints the store's time per record over the records [0, 1k), [5k, 10k) and [50k, 100k)
   (amortised: index flushes, part merges and ``results.parquet`` refreshes included) and their ratios.
2. Reopening the 100k-record folder as a resumed run does (``open`` + ``has`` for every variant), and
   ``consolidate`` of it.
3. ``painters show`` of it: in this process (``painters.cli.main``) and as a command (interpreter start included).
4. End to end (``--e2e N``, default 20,000; 0 skips it): ``SweepRunner`` on a tiny 12-layer ViT and 4 images,
   shuffles with thousands of seeds; ms per record over the first 1k records and around record N.

Usage: python benchmarks/store_scale.py [--records 100000] [--e2e 20000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import painters  # noqa: E402
from painters.plan import resolve  # noqa: E402
from painters.sweep.generators import Variant  # noqa: E402
from painters.sweep.scoring import TaskInfo, make_record  # noqa: E402
from painters.sweep.store import ResultStore, producer_id  # noqa: E402

CHUNK = 32
FSYNC = [0.0]  # seconds spent in os.fsync so far: disk latency, which other processes' writes make vary


def _timed_fsync(fd, _real=os.fsync):
    t = time.perf_counter()
    try:
        _real(fd)
    finally:
        FSYNC[0] += time.perf_counter() - t


os.fsync = _timed_fsync
SPEC = {"model": {"id": "tiny-vit"}, "task": {"type": "classification", "limit": 4}}
SPANS = [(n + 1, 12 - n) for n in range(5)]  # the paper's spans [N+1, T-N) of a 12-layer model


def variants(n: int) -> list[Variant]:
    """The baseline, then shuffles of the paper's spans with seeds 0, 1, ... (n in all)."""
    out = [Variant(())]
    for k in range(n - 1):
        start, end = SPANS[k % len(SPANS)]
        out.append(Variant((painters.shuffle(start, end, seed=k // len(SPANS)),)))
    return out


def make(variant: Variant, k: int, info: TaskInfo, fingerprint: str) -> dict:
    base = {"top1": 0.75, "top5": 1.0, "n": 4}
    metrics = base if not variant.ops else {"top1": (k % 4 + 1) / 4, "top5": 1.0, "n": 4}
    return make_record(
        sweep="scale",
        fingerprint=fingerprint,
        model="tiny-vit",
        task=info,
        task_name="classification",
        task_type="classification",
        variant=variant,
        plan=resolve(12, variant.ops),
        metrics=metrics,
        reference=None if not variant.ops else base,
        seconds=0.01,
    )


def open_store(out: Path) -> ResultStore:
    return ResultStore(out, ["classification"]).open({("tiny-vit", "classification"): SPEC}, "s.yaml", sweep="scale")


def write_sweep(out: Path, n: int) -> dict[str, float]:
    """Write ``n`` records through the store as the runner does; returns store seconds per record by window."""
    info = TaskInfo("classification", "top1", True, frozenset(), {"top1": 0.25})
    fingerprint = producer_id(SPEC)
    all_variants = variants(n)
    ids = [v.id for v in all_variants]
    spent = [0.0] * n  # store seconds charged to each record (a chunk's checkpoint shared by its records)
    synced = [0.0] * n  # of which in fsync
    t = time.perf_counter()
    store = open_store(out)
    store.set_current("tiny-vit", ids)
    pending = [v for v in all_variants if not store.has("tiny-vit", v.id, "classification")]
    setup = time.perf_counter() - t
    slowest = 0.0
    for first in range(0, len(pending), CHUNK):
        chunk = pending[first : first + CHUNK]
        records = [make(v, first + j, info, fingerprint) for j, v in enumerate(chunk)]  # not timed: the model's work
        t, f = time.perf_counter(), FSYNC[0]
        for record in records:
            store.write(record)
        store.checkpoint()
        took, fsync = time.perf_counter() - t, FSYNC[0] - f
        slowest = max(slowest, took)
        for j in range(len(chunk)):
            spent[first + j], synced[first + j] = took / len(chunk), fsync / len(chunk)
        if (first // CHUNK) % 300 == 0:
            print(f"  {first + len(chunk):>7} records written", flush=True)
    t = time.perf_counter()
    table = store.consolidate()
    store.close()
    final = time.perf_counter() - t
    assert len(table) == n, (len(table), n)
    windows = {"1k": (0, 1_000), "10k": (5_000, 10_000), "100k": (50_000, 100_000)}
    scale = n / 100_000
    out_ms = {}
    for label, (a, b) in windows.items():
        a, b = (a, b) if label == "1k" else (int(a * scale), int(b * scale))
        if b > n or b <= a:
            continue
        out_ms[label] = 1000 * sum(spent[a:b]) / (b - a)
        out_ms[label + " without fsync"] = out_ms[label] - 1000 * sum(synced[a:b]) / (b - a)
        print(
            f"  store ms/record over records [{a}, {b}): {out_ms[label]:.3f} "
            f"(without fsync: {out_ms[label + ' without fsync']:.3f})"
        )
    print(f"  open + has() of {n} variants on the empty folder: {setup:.2f} s; slowest chunk {slowest:.3f} s")
    print(f"  final consolidate of {n} records: {final:.2f} s ({1000 * final / n:.3f} ms/record amortised)")
    return out_ms


def reopen(out: Path, n: int) -> None:
    ids = [v.id for v in variants(n)]
    t = time.perf_counter()
    store = open_store(out)
    store.set_current("tiny-vit", ids)
    pending = [i for i in ids if not store.has("tiny-vit", i, "classification")]
    opened = time.perf_counter() - t
    t = time.perf_counter()
    table = store.consolidate()
    consolidated = time.perf_counter() - t
    store.close()
    assert not pending and len(table) == n
    print(f"  reopen of {n} records (open + has() for every variant, as a resumed run): {opened:.2f} s")
    print(f"  consolidate of {n} records (results.parquet rebuilt): {consolidated:.2f} s")


def show(out: Path) -> None:
    from painters.cli import main

    for args in (["show", str(out)], ["show", str(out), "--aggregate", "median"]):
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(args)
        took = time.perf_counter() - t
        assert code == 0
        print(f"  painters {' '.join(args[:1] + args[2:])} (in process): {took:.2f} s")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "painters.cli", "show", str(out)], check=True, capture_output=True, env=env)
    print(f"  painters show (command, interpreter start included): {time.perf_counter() - t:.2f} s")


def end_to_end(root: Path, n: int) -> None:
    import numpy as np
    import torch
    import transformers as T
    from PIL import Image

    from painters.sweep.config import parse_sweep
    from painters.sweep.runner import SweepRunner

    torch.manual_seed(0)
    labels = ["a", "b", "c", "d"]
    config = T.ViTConfig(
        hidden_size=32, num_hidden_layers=12, num_attention_heads=2, intermediate_size=64, image_size=32,
        patch_size=8, num_labels=4, id2label=dict(enumerate(labels)), label2id={x: i for i, x in enumerate(labels)},
    )  # fmt: skip
    T.ViTForImageClassification(config).save_pretrained(root / "vit")
    T.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(root / "vit")
    rng = np.random.default_rng(0)
    for k in range(4):
        folder = root / "images" / "test" / labels[k]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random((32, 32, 3)) * 255).astype("uint8")).save(folder / f"{k}.png")
    ops = [f"shuffle: {{start: 1, end: 12, seeds: {min(n - 1, 10_000)}}}"]  # at most 10,000 seeds per op
    if n > 10_001:
        ops.append(f"shuffle: {{start: 1, end: 11, seeds: {n - 10_001}}}")
    sweep = parse_sweep(  # spans that all start at layer 1, so every variant costs the model the same
        f"name: e2e\nmodel: {{id: {root / 'vit'}}}\ntasks: [{{type: classification, data: {root / 'images'}, "
        f"split: test, batch_size: 4}}]\nops: [{', '.join(ops)}]\n"
        f"runner: {{chunk: {CHUNK}}}\n"
    )
    in_store = [0.0]  # seconds spent in the store's write / checkpoint / consolidate so far
    for name in ("write", "checkpoint", "consolidate"):
        real = getattr(ResultStore, name)

        def timed(self, *a, _real=real, **k):
            t = time.perf_counter()
            try:
                return _real(self, *a, **k)
            finally:
                in_store[0] += time.perf_counter() - t

        setattr(ResultStore, name, timed)
    stamps: list[tuple[float, float, float]] = []
    runner = SweepRunner(
        sweep,
        root / "out",
        progress=False,
        on_record=lambda r: stamps.append((time.perf_counter(), in_store[0], FSYNC[0])),
    )
    t = time.perf_counter()
    stats = runner.run()
    total = time.perf_counter() - t
    m = len(stamps)

    def rates(a: int, b: int) -> tuple[float, float, float]:
        (t0, s0, f0), (t1, s1, f1) = stamps[a], stamps[b]
        return 1000 * (t1 - t0) / (b - a), 1000 * (s1 - s0) / (b - a), 1000 * (s1 - s0 - f1 + f0) / (b - a)

    late = max(1_000, m - 2_000)
    (a, a_store, a_cpu), (b, b_store, b_cpu) = rates(0, min(1_000, m - 1)), rates(late, m - 1)
    print(f"  {stats.written} records in {total:.0f} s (chunks of {CHUNK})")
    for (lo, hi), (t, st, cpu) in (((0, 1_000), (a, a_store, a_cpu)), ((late, m), (b, b_store, b_cpu))):
        print(f"  records [{lo}, {hi}): {t:.1f} ms/record, of which store {st:.2f} (without fsync {cpu:.2f})")
    print(
        f"  ratio late / first: {b / a:.2f}x overall, {b_store / a_store:.2f}x store, "
        f"{b_cpu / a_cpu:.2f}x store without fsync"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--e2e", type=int, default=20_000, help="records of the end-to-end sweep (0: skip it)")
    parser.add_argument("--keep", type=Path, help="write the folders here and keep them")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="store_scale_"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        out = root / "store"
        shutil.rmtree(out, ignore_errors=True)
        print(f"1. writing {args.records} records through the store API (chunks of {CHUNK}):")
        ms = write_sweep(out, args.records)
        for label in ("10k", "100k"):
            if label in ms and "1k" in ms:
                print(
                    f"  per-record store overhead at {label} / at 1k: {ms[label] / ms['1k']:.2f}x "
                    f"(without fsync: {ms[label + ' without fsync'] / ms['1k without fsync']:.2f}x)"
                )
        print(f"2. reopening the {args.records}-record folder:")
        reopen(out, args.records)
        print(f"3. painters show of the {args.records}-record folder:")
        show(out)
        if args.e2e:
            print(f"4. end to end through SweepRunner ({args.e2e} records, tiny 12-layer ViT, 4 images):")
            end_to_end(root / "e2e", args.e2e)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
