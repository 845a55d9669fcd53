"""The same sweep locally and on a local Ray cluster of N workers (CPU), in one process: wall times and a check
that both give identical scores. Usage: python benchmarks/ray_scaleout.py [--workers 2] [--images 96]"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from painters.sweep.config import parse_sweep  # noqa: E402
from painters.sweep.distributed import RayExecutor  # noqa: E402
from painters.sweep.runner import SweepRunner  # noqa: E402
from tests import sweep_fixtures as F  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--images", type=int, default=96)
    args = parser.parse_args()
    import ray

    root = Path(tempfile.mkdtemp(prefix="painters-ray-"))
    try:
        vit, images = F.save_vit(root, layers=12), F.save_imagefolder(root, per_class=args.images // 3)
        cfg = parse_sweep(
            f"name: bench\nmodel: {{id: {vit}}}\ntasks: [{{type: classification, data: {images}, "
            f"split: test, batch_size: 16}}]\nops: [skip: all, reverse: all]\nrunner: {{chunk: 8}}\n"
        )
        torch.set_num_threads(args.workers)
        t = time.perf_counter()
        SweepRunner(cfg, root / "local", progress=False).run()
        local = time.perf_counter() - t
        ray.init(
            num_cpus=args.workers,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}},
        )
        t = time.perf_counter()
        RayExecutor(SweepRunner(cfg, root / "ray", progress=False), workers=args.workers).run()
        remote = time.perf_counter() - t
        ray.shutdown()
        a = pd.read_parquet(root / "local" / "results.parquet").sort_values("variant")
        b = pd.read_parquet(root / "ray" / "results.parquet").sort_values("variant")
        same = np.array_equal(a.score.to_numpy(), b.score.to_numpy())
        print(f"{len(a)} records; identical scores: {same}")
        print(
            f"local ({args.workers} torch threads): {local:.1f} s; Ray ({args.workers} workers x 1 thread, "
            f"start-up and model loading included): {remote:.1f} s; ratio {local / remote:.2f}x"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
