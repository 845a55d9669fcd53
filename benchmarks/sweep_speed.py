"""Sweep speed: the painters runner against a naive loop, in one process, on the same data.

For every contiguous skip range of a 12-layer ViT and a 12-layer Llama (built from configs, no download),
three ways of scoring all 78 variants + the baseline are timed:

* naive: for each variant, preprocess the data again and run a full forward under ``painters.apply``;
* cached inputs: the painters runner with work sharing off (inputs preprocessed once per sweep);
* painters: the runner with work sharing on (each variant resumes from the state before its first change).

All three must give the same scores. Prints layer evaluations and wall-time ratios.
Usage: python benchmarks/sweep_speed.py [--images 64] [--windows 24]
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
import transformers as T
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import painters  # noqa: E402
from painters.sweep.config import parse_sweep  # noqa: E402
from painters.sweep.runner import SweepRunner  # noqa: E402
from painters.tasks.registry import load  # noqa: E402

SIZE = dict(hidden_size=256, num_attention_heads=4, intermediate_size=1024, num_hidden_layers=12)


def build_vit(root: Path, images: int) -> tuple[Path, str]:
    torch.manual_seed(0)
    labels = ["a", "b", "c", "d"]
    config = T.ViTConfig(
        **SIZE,
        image_size=64,
        patch_size=8,
        num_labels=4,
        id2label=dict(enumerate(labels)),
        label2id={n: i for i, n in enumerate(labels)},
    )
    T.ViTForImageClassification(config).save_pretrained(root / "vit")
    T.ViTImageProcessor(size={"height": 64, "width": 64}).save_pretrained(root / "vit")
    rng = np.random.default_rng(0)
    for k in range(images):
        folder = root / "images" / "test" / labels[k % 4]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random((96, 96, 3)) * 255).astype("uint8")).save(folder / f"{k}.png")
    task = f"{{type: classification, data: {root / 'images'}, split: test, batch_size: 16}}"
    return root / "vit", task


def build_llama(root: Path, windows: int) -> tuple[Path, str]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    words = [f"w{i}" for i in range(400)]
    rng = np.random.default_rng(0)
    text = " ".join(rng.choice(words, size=64 * windows))
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator([text], trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>"]))
    fast = T.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>")
    torch.manual_seed(0)
    T.LlamaForCausalLM(
        T.LlamaConfig(vocab_size=len(fast), max_position_embeddings=128, **SIZE, num_key_value_heads=4)
    ).save_pretrained(root / "llama")
    fast.save_pretrained(root / "llama")
    (root / "text.txt").write_text(text)
    task = f"{{type: perplexity, data: {root / 'text.txt'}, batch_size: 8, options: {{max_length: 64, stride: 64}}}}"
    return root / "llama", task


def naive(model, processor, spec, variants) -> tuple[dict[str, float], int]:
    """A fresh preprocessing and a full forward per variant: what a hand-written loop does."""
    scores, evaluations = {}, 0
    for v in variants:
        task = load(spec.type, data=spec.data, split=spec.split, limit=spec.limit, **spec.options)
        batches = task.prepare(processor, spec.batch_size)
        acc = task.new_accumulator()
        with torch.no_grad(), painters.apply(model, *v.ops) as plan:
            for batch in batches:
                acc.update(batch, task.run(model, batch))
        evaluations += plan.num_calls * len(batches)
        scores[v.id] = acc.compute()[task.primary_metric]
    return scores, evaluations


def bench(name: str, model_dir: Path, task_yaml: str, root: Path) -> dict:
    cfg = parse_sweep(
        f"name: {name}\nmodel: {{id: {model_dir}}}\ntasks: [{task_yaml}]\nops: [skip: all]\nrunner: {{chunk: 100}}\n"
    )
    runner = SweepRunner(cfg, root / f"{name}-warm", progress=False)
    model, processor = runner.model()
    runner.run()  # warm-up (first-call overheads), not timed
    row = {"model": name}
    for label, share in (("painters", True), ("cached inputs", False)):
        out = root / f"{name}-{label.replace(' ', '-')}"
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        stats = SweepRunner(cfg, out, progress=False, share=share, model=model, processor=processor).run()
        row[f"{label} s"] = time.perf_counter() - t
        row[f"{label} layer evals"] = stats.layer_evaluations
        row[f"{label} scores"] = pd.read_parquet(out / "results.parquet").set_index("variant").score.to_dict()
    variants = runner.variants(runner.num_layers())
    t = time.perf_counter()
    scores, evaluations = naive(model, processor, cfg.tasks[0], variants)
    row["naive s"], row["naive layer evals"], row["naive scores"] = time.perf_counter() - t, evaluations, scores
    same = row["painters scores"] == row["cached inputs scores"] == scores
    print(f"\n{name}: {len(variants)} variants, identical scores in all three: {same}")
    for label in ("naive", "cached inputs", "painters"):
        print(f"  {label:14} {row[f'{label} s']:7.2f} s  {row[f'{label} layer evals']:6d} layer evaluations")
    print(f"  wall-time ratio naive / painters:          {row['naive s'] / row['painters s']:.2f}x")
    evals = row["cached inputs layer evals"] / row["painters layer evals"]
    print(
        f"  wall-time ratio cached inputs / painters:  {row['cached inputs s'] / row['painters s']:.2f}x "
        f"(work sharing alone; layer evaluations {evals:.2f}x)"
    )
    if not same:
        raise SystemExit(f"{name}: scores differ between the runner and the naive loop")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--windows", type=int, default=24)
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    root = Path(tempfile.mkdtemp(prefix="painters-bench-"))
    try:
        bench("vit-12", *build_vit(root, args.images), root)
        bench("llama-12", *build_llama(root, args.windows), root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
