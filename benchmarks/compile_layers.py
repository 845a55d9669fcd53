"""Per-layer torch.compile in a sweep (``runner: {compile: true}``) against eager, in one process, on CPU.

A ViT-B-sized classifier and the 24-layer Llama of ``real_size.py`` (built from configs, no download) are swept over
adjacent swaps and single-layer skips, eager and then compiled (inductor). Prints wall time of both runs (the
compiled one includes compiling), the graphs dynamo built (1-2 means no recompile per plan or per layer), and the
largest score difference (compiled kernels may round differently). On CPU inductor mostly fuses element-wise work;
on a GPU (bf16) is where per-layer compile is meant to pay off: this script runs there unchanged with ``--device``.
Usage: python benchmarks/compile_layers.py [--images 4] [--windows 2] [--models vit llama]
"""

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from real_size import build_llama, build_vit  # noqa: E402

from painters.sweep.config import parse_sweep  # noqa: E402
from painters.sweep.runner import SweepRunner  # noqa: E402

OPS = "[swap: {pairs: adjacent}, skip: {ranges: {max_width: 1}}]"


def sweep(name: str, model_dir: Path, task: str, root: Path, model, processor, compile_: bool, device: str):
    runner = f"runner: {{compile: {str(compile_).lower()}}}\n"
    cfg = parse_sweep(
        f"name: {name}\nmodel: {{id: {model_dir}, device: {device}}}\ntasks: [{task}]\nops: {OPS}\n{runner}"
    )
    out = root / f"{name}-{'compiled' if compile_ else 'eager'}"
    start = time.perf_counter()
    stats = SweepRunner(cfg, out, model=model, processor=processor, progress=False).run()
    seconds = time.perf_counter() - start
    table = pd.read_parquet(out / "results.parquet").sort_values("variant").reset_index(drop=True)
    return seconds, stats, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--windows", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", nargs="+", default=["vit", "llama"], choices=["vit", "llama"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp(prefix="painters-compile-"))
    try:
        for kind in args.models:
            if kind == "vit":
                model, processor, model_dir, task = build_vit(root, args.images, 2.0)
            else:
                model, processor, model_dir, task = build_llama(root, args.windows, args.tokens, 2.0)
            model = model.to(args.device).eval()
            eager_s, _, eager = sweep(kind, model_dir, task, root, model, processor, False, args.device)
            compiled_s, stats, compiled = sweep(kind, model_dir, task, root, model, processor, True, args.device)
            a, b = eager.score.to_numpy(), compiled.score.to_numpy()
            diff = float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(a), 1e-12)))
            print(
                f"{kind}: {len(eager)} records; eager {eager_s:.1f} s, compiled {compiled_s:.1f} s (compiling "
                f"included), ratio {eager_s / compiled_s:.2f}x; graphs {list(stats.compiled.values())}; "
                f"largest relative score difference {diff:.1e}"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
