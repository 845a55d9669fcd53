"""Real sizes on CPU: a ViT-B-sized classifier and a 24-layer ~374M-parameter Llama, built from configs (no download).

For each model:

* plain: ``task.run`` on the prepared batches with no plan installed (a variant's work, without painters);
* runner: the painters ``SweepRunner`` scoring variants that each run every layer once (adjacent swaps, work
  sharing off), so that its layer evaluations per second compare directly with the plain forwards. The overhead is
  reported twice: of the chunk scorer alone (executor + scorer, per forward), and of the whole run (task loading
  and preprocessing, record writing and consolidation included: fixed costs per run, amortised by longer sweeps);
* shared: the same sweep with work sharing on;
* memory: the bytes one batch's recorded boundary states hold (and with them the shared parallel-group outputs),
  and the prepared input batches against their in-memory budget (the rest spills to disk).

Times are the best of ``--repeat`` interleaved rounds, as wall time and as CPU time of this process: on a shared
machine wall time is noisy, CPU time much less so.
Usage: python benchmarks/real_size.py [--images 4] [--windows 2] [--tokens 32] [--variants 5] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import transformers as T
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from painters.apply import plan, session  # noqa: E402
from painters.ops import parallel  # noqa: E402
from painters.sweep.config import parse_sweep  # noqa: E402
from painters.sweep.generators import Variant  # noqa: E402
from painters.sweep.runner import SweepRunner  # noqa: E402
from painters.sweep.scoring import ChunkScorer  # noqa: E402
from painters.tasks.batches import nbytes  # noqa: E402

MiB = 2**20


def scale_linears(model: torch.nn.Module, factor: float) -> torch.nn.Module:
    """Random init scaled so that layers are far from the identity (their order and presence matter)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(factor)
    return model.eval()


def build_vit(root: Path, images: int, scale: float) -> tuple[torch.nn.Module, object, Path, str]:
    """ViT-B/16 at 224 px (12 layers, width 768, 86M parameters)."""
    torch.manual_seed(0)
    labels = ["a", "b", "c", "d"]
    config = T.ViTConfig(num_labels=4, id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)})
    model = scale_linears(T.ViTForImageClassification(config), scale)
    processor = T.ViTImageProcessor(size={"height": 224, "width": 224})
    config.save_pretrained(root / "vit-b")  # the runner is handed the model in memory: no weights written
    processor.save_pretrained(root / "vit-b")
    rng = np.random.default_rng(0)
    for k in range(images):
        folder = root / "images" / "test" / labels[k % 4]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random((256, 256, 3)) * 255).astype("uint8")).save(folder / f"{k}.png")
    task = f"{{type: classification, data: {root / 'images'}, split: test, batch_size: {images}}}"
    return model, processor, root / "vit-b", task


def build_llama(root: Path, windows: int, tokens: int, scale: float) -> tuple[torch.nn.Module, object, Path, str]:
    """A 24-layer Llama (hidden 1024, intermediate 2816, 16 heads, vocabulary 32000: 374M parameters)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    words = [f"w{i}" for i in range(400)]
    text = " ".join(np.random.default_rng(0).choice(words, size=tokens * windows + 16))
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator([text], trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>"]))
    fast = T.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>")
    torch.manual_seed(0)
    config = T.LlamaConfig(
        vocab_size=32000,
        hidden_size=1024,
        intermediate_size=2816,
        num_attention_heads=16,
        num_key_value_heads=16,
        num_hidden_layers=24,
        max_position_embeddings=2048,
        pad_token_id=1,
    )
    model = scale_linears(T.LlamaForCausalLM(config), scale)
    config.save_pretrained(root / "llama-350m")
    fast.save_pretrained(root / "llama-350m")
    (root / "text.txt").write_text(text)
    options = f"{{max_length: {tokens}, stride: {tokens}}}"
    data = root / "text.txt"
    task = f"{{type: perplexity, data: {data}, limit: {tokens * windows}, batch_size: {windows}, options: {options}}}"
    return model, fast, root / "llama-350m", task


class Clock:
    """Best wall and CPU seconds over repeated measurements."""

    def __init__(self) -> None:
        self.wall = self.cpu = math.inf

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = min(self.wall, time.perf_counter() - self._wall)
        self.cpu = min(self.cpu, time.process_time() - self._cpu)


def bench(name: str, model, processor, model_dir: Path, task_yaml: str, root: Path, args) -> None:
    num_layers = model.config.num_hidden_layers
    firsts = np.linspace(1, num_layers - 2, args.variants).round().astype(int)  # spread over the stack
    pairs = [[int(i), int(i) + 1] for i in dict.fromkeys(firsts)]
    cfg = parse_sweep(
        f"name: {name}\nmodel: {{id: {model_dir}}}\ntasks: [{task_yaml}]\n"
        f"ops: [swap: {{pairs: {json.dumps(pairs)}}}]\nrunner: {{chunk: 100}}\n"
    )
    spec = cfg.runs[0].tasks[0]
    task = SweepRunner(cfg, root / "tasks", progress=False, model=model, processor=processor).load_tasks()[spec.display]
    batches = task.prepare(processor, spec.batch_size, progress=False)
    params = sum(p.numel() for p in model.parameters())
    print(f"\n{name}: {params / 1e6:.0f}M parameters, {num_layers} layers, {len(batches)} batch(es), swaps {pairs}")

    runner = SweepRunner(cfg, root / "plans", progress=False, model=model, processor=processor)
    variants = runner.variants(num_layers)
    plans = {v.id: plan(model, *v.ops) for v in variants}
    group = [v for v in variants if v.ops]

    def plain() -> None:
        with torch.no_grad():
            for batch in batches:
                task.run(model, batch)

    def scorer() -> None:
        ChunkScorer(model, task, group, plans, share=False).score(batches)

    def sweep(label: str, share: bool) -> None:
        out = root / f"{name}-{label}"
        shutil.rmtree(out, ignore_errors=True)
        stats[label] = SweepRunner(cfg, out, progress=False, share=share, model=model, processor=processor).run()

    plain()  # warm-up (first-call overheads), not timed
    clocks = {label: Clock() for label in ("plain", "scorer", "runner", "shared")}
    stats: dict[str, object] = {}
    for _ in range(args.repeat):  # interleaved, so that a busy spell of the machine hits every way alike
        for label, run in (("plain", plain), ("scorer", scorer)):
            with clocks[label]:
                run()
        for label, share in (("runner", False), ("shared", True)):
            with clocks[label]:
                sweep(label, share)
    forwards = len(group) + 1  # the baseline and every swap, all layers each
    plain_evals = num_layers * len(batches)
    runner_evals = stats["runner"].layer_evaluations
    assert runner_evals == forwards * plain_evals, (runner_evals, forwards * plain_evals)
    rows = {"plain forward": ("plain", plain_evals), "scorer (sharing off)": ("scorer", runner_evals)}
    rows |= {"sweep runner (sharing off)": ("runner", runner_evals)}
    rows |= {"sweep runner (sharing on)": ("shared", stats["shared"].layer_evaluations)}
    for title, (label, evals) in rows.items():
        clock = clocks[label]
        print(
            f"  {title:27} {evals / clock.cpu:7.2f} layer evaluations/s CPU {evals / clock.wall:7.2f} /s wall "
            f"({evals} in {clock.cpu:.2f} s CPU, {clock.wall:.2f} s wall)"
        )
    ideal = Clock()
    ideal.wall, ideal.cpu = forwards * clocks["plain"].wall, forwards * clocks["plain"].cpu
    for title, label in (("executor + scorer", "scorer"), ("whole sweep run", "runner")):
        clock = clocks[label]
        print(
            f"  overhead, {title:18} {clock.cpu / ideal.cpu - 1:+6.1%} CPU {clock.wall / ideal.wall - 1:+6.1%} wall "
            f"(sharing off, every variant runs all {num_layers} layers; target at most +5%)"
        )
    fixed = clocks["runner"].cpu - clocks["scorer"].cpu
    print(
        f"  fixed cost per sweep run (task loading, records, consolidation): {fixed:.2f} s CPU "
        f"= {fixed / (clocks['plain'].cpu / len(batches)):.1f} plain batch forwards"
    )
    print(
        f"  work sharing on: {runner_evals / stats['shared'].layer_evaluations:.2f}x fewer layer evaluations, "
        f"{clocks['runner'].cpu / clocks['shared'].cpu:.2f}x less CPU time"
    )
    memory(model, task, batches, num_layers)


def memory(model, task, batches, num_layers: int) -> None:
    """Bytes held by one batch's recorded boundary states, and by the prepared batches against their budget."""
    with torch.no_grad(), session(model, capture=True) as runner:
        task.run(model, batches[0])
    states = nbytes(list(runner.captured))
    widest = Variant((parallel(0, num_layers),))  # a group over every layer: the most shared outputs held at once
    scorer = ChunkScorer(model, task, [widest], {"baseline": runner.plan, widest.id: plan(model, *widest.ops)})
    held = scorer.score(batches[:1]).state_bytes
    print(
        f"  boundary states of one batch: {states / MiB:.1f} MiB ({num_layers + 1} states of "
        f"{tuple(runner.captured[0].shape)}); with the widest parallel group's shared outputs: {held / MiB:.1f} MiB. "
        f"Held while that batch is scored, never spilled; no limit but the batch size"
    )
    budget, in_memory = batches.budget, batches.bytes_in_memory
    print(
        f"  prepared input batches: {in_memory / MiB:.3f} MiB in memory of a {budget / MiB:.0f} MiB budget "
        f"(PAINTERS_BATCH_MEMORY_MB), {batches.spilled} of {len(batches)} spilled to disk"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4, help="ViT images (one batch; at least 2: two classes)")
    parser.add_argument("--windows", type=int, default=2, help="Llama text windows (one batch)")
    parser.add_argument("--tokens", type=int, default=32, help="tokens per Llama window")
    parser.add_argument("--variants", type=int, default=5, help="adjacent swaps scored by the runner")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--scale", type=float, default=2.0, help="factor on the random Linear weights")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=["vit", "llama"], choices=["vit", "llama"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp(prefix="painters-real-"))
    try:
        if "vit" in args.models:
            bench("vit-b", *build_vit(root, args.images, args.scale), root, args)
        if "llama" in args.models:
            bench("llama-350m", *build_llama(root, args.windows, args.tokens, args.scale), root, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
