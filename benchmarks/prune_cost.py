"""Greedy pruning cost: layer evaluations and wall time of the SLEB-style search with and without prefix sharing.

On the zoo's tiny-llama (perplexity on the shipped held-out text) and fashion-vit (top-1 on shipped test images),
``painters.prune(..., methods=["greedy"])`` runs K rounds twice: with sharing (each round runs the model with the
layers removed so far once, and each candidate resumes from the state entering it) and without (every candidate
runs all its layers). Both must pick the same layers with the same scores. Prints layer evaluations (layer calls,
summed over batches), seconds and the ratios.
Usage: python benchmarks/prune_cost.py [--remove 4] [--tokens 2048] [--images 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from painters.pruning import prune  # noqa: E402
from painters.zoo import load, scoring  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remove", type=int, default=4, help="K, the layers the greedy search removes")
    parser.add_argument("--tokens", type=int, default=2048, help="tiny-llama: held-out tokens scored")
    parser.add_argument("--images", type=int, default=200, help="fashion-vit: test images scored")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{'model':12} {'':8} {'layer evals':>12} {'seconds':>8}  picks")
    for name, limit in (("tiny-llama", args.tokens), ("fashion-vit", args.images)):
        model, processor = load(name)
        task = scoring.shipped_task(name, limit=limit)
        task.prepare(processor, 64, progress=False)  # preprocessing is not part of the search
        runs = {}
        for share in (True, False):
            start = time.perf_counter()
            result = prune(model, processor, task, args.remove, methods=["greedy"], batch_size=64, share=share,
                           progress=False)  # fmt: skip
            runs[share] = (result, time.perf_counter() - start)
        for share, (result, seconds) in runs.items():
            picks = result.plans["greedy"][args.remove]
            label = "shared" if share else "unshared"
            print(f"{name:12} {label:8} {result.costs['greedy']['layer_evaluations']:>12.0f} {seconds:>8.2f}  {picks}")
        (shared, t_shared), (naive, t_naive) = runs[True], runs[False]
        assert shared.plans == naive.plans, "sharing changed the picks"
        diff = (shared.table["score"] - naive.table["score"]).abs().max()
        ratio = naive.costs["greedy"]["layer_evaluations"] / shared.costs["greedy"]["layer_evaluations"]
        print(f"{name:12} ratio    {ratio:>12.2f}x {t_naive / t_shared:>7.2f}x  (max score difference {diff:.2g})")


if __name__ == "__main__":
    main()
