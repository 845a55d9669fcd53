"""Parallel sharing: every contiguous parallel span of a 12-layer ViT and Llama, scored three ways on the same data.

* naive: work sharing off, every variant runs in full;
* prefix: each variant resumes from the state entering its first changed layer;
* prefix + parallel: besides, parallel groups entering the same layer compute their first iteration's layer
  outputs once per batch (design.md section 4: 948 -> 662 -> 376 layer evaluations per input, baseline included).

All three must give the same scores. Prints layer evaluations (measured, and planned per input), wall time and
CPU time of this process (the best of ``--repeat`` interleaved rounds: on a shared machine wall time is noisy, CPU
time much less so).
Usage: python benchmarks/parallel_sharing.py [--images 16] [--windows 6] [--iterations 1] [--repeat 1] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sweep_speed import build_llama, build_vit  # noqa: E402
from painters.apply import plan  # noqa: E402
from painters.sweep.config import parse_sweep  # noqa: E402
from painters.sweep.runner import SweepRunner, order_variants  # noqa: E402
from painters.sweep.scoring import ChunkScorer  # noqa: E402
from painters.sweep.sharing import layer_evaluations  # noqa: E402

MODES = {"naive": (False, False), "prefix": (True, False), "prefix + parallel": (True, True)}


def bench(name: str, model_dir: Path, task_yaml: str, root: Path, iterations: list[int], repeat: int) -> None:
    cfg = parse_sweep(
        f"name: {name}\nmodel: {{id: {model_dir}}}\ntasks: [{task_yaml}]\n"
        f"ops: [parallel: {{ranges: all, iterations: {iterations}}}]\n"
    )
    runner = SweepRunner(cfg, root / name, progress=False)
    model, processor = runner.model()
    spec = cfg.runs[0].tasks[0]
    task = runner.load_tasks()[spec.display]
    batches = task.prepare(processor, spec.batch_size, progress=False)
    num_layers = runner.num_layers()
    variants = runner.variants(num_layers)
    plans = {v.id: plan(model, *v.ops) for v in variants}
    group = [v for v in order_variants(variants, plans) if v.ops]
    ChunkScorer(model, task, group[:3], plans).score(batches[:1])  # warm-up (first-call overheads), not timed
    rows: dict[str, dict] = {label: {"wall": math.inf, "cpu": math.inf} for label in MODES}
    for _ in range(repeat):
        for label, (share, parallel) in MODES.items():
            wall, cpu = time.perf_counter(), time.process_time()
            result = ChunkScorer(model, task, group, plans, share=share, share_parallel=parallel).score(batches)
            row = rows[label]
            row["wall"] = min(row["wall"], time.perf_counter() - wall)
            row["cpu"] = min(row["cpu"], time.process_time() - cpu)
            row["evals"], row["metrics"] = result.layer_evaluations, result.metrics
            row["planned"] = layer_evaluations([plans[v.id] for v in group], share, num_layers, parallel)
    same = len({repr(r["metrics"]) for r in rows.values()}) == 1
    print(f"\n{name}: {len(group)} parallel variants + baseline, {len(batches)} batches; identical scores: {same}")
    for label, r in rows.items():
        print(
            f"  {label:18} {r['wall']:7.2f} s wall {r['cpu']:7.2f} s CPU  {r['evals']:6d} layer evaluations "
            f"({r['planned']} per input)"
        )
    for other in ("prefix", "naive"):
        a, b = rows[other], rows["prefix + parallel"]
        print(
            f"  {other} / prefix + parallel: {a['wall'] / b['wall']:.2f}x wall, {a['cpu'] / b['cpu']:.2f}x CPU, "
            f"{a['evals'] / b['evals']:.2f}x layer evaluations"
        )
    if not same:
        raise SystemExit(f"{name}: scores differ between the sharing modes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--iterations", type=int, nargs="+", default=[1])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=["vit", "llama"], choices=["vit", "llama"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp(prefix="painters-bench-"))
    try:
        if "vit" in args.models:
            bench("vit-12", *build_vit(root, args.images), root, args.iterations, args.repeat)
        if "llama" in args.models:
            bench("llama-12", *build_llama(root, args.windows), root, args.iterations, args.repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
