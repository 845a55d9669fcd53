"""Model cards (``README.md`` in each model folder) and the zoo's ``scores.json``."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from painters.zoo import models, registry
from painters.zoo.recipe import Recipe

SCORES_FILE = "scores.json"

DATA_NOTES: registry.ZooField[str] = registry.ZooField("card")
"""The data paragraph of each model's card, by name (a view of ``ZOO``)."""

METRIC_NAMES = {"top1": "top-1 accuracy", "map_50": "COCO mAP@50", "miou": "mIoU", "perplexity": "perplexity"}


def read_scores(root: str | Path | None = None) -> dict[str, Any]:
    """``zoo/scores.json`` as a dict (empty if absent)."""
    path = Path(root or registry.zoo_dir()) / SCORES_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def update_scores(name: str, entry: dict[str, Any], root: str | Path | None = None, *, replace: bool = False) -> Path:
    """Merge ``entry`` into ``scores.json[name]`` (or replace it), written atomically."""
    root = Path(root or registry.zoo_dir())
    scores = read_scores(root)
    scores[name] = entry if replace else {**scores.get(name, {}), **entry}
    path = root / SCORES_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(scores, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def folder_bytes(folder: str | Path) -> int:
    """Total size of the files in ``folder``."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def model_card(name: str, entry: dict[str, Any], recipe: Recipe | None = None) -> str:
    """The ``README.md`` of a zoo model from its scores entry."""
    spec = registry.spec(name)
    recorded = entry.get("train", {}).get("recipe")
    recipe = recipe or (
        Recipe(**{**recorded, "head_prefixes": tuple(recorded["head_prefixes"])}) if recorded else spec.recipe
    )
    metric = METRIC_NAMES.get(spec.metric, spec.metric)
    shipped, full = entry.get("shipped", {}), entry.get("full", {})
    training = entry.get("train", {})
    lines = [
        f"# {name}", "",
        f"A `{spec.model_class}` with {models.LAYERS} layers: {spec.description}. Part of the painters zoo "
        "(GitHub issue 5): small trained models shipped in the repository so that layer experiments run "
        "without a download.", "",
        "```python", "import painters.zoo", "", f'model, processor = painters.zoo.load("{name}")',
        f"# or: transformers.{spec.model_class}.from_pretrained(\"zoo/{name}\")", "```", "",
        "## Data", "", spec.card, "",
        "## Recipe", "",
        f"- architecture: `{json.dumps(spec.config, sort_keys=True)}`",
        f"- parameters: {entry.get('params', '?'):,}" if isinstance(entry.get("params"), int) else "- parameters: ?",
        f"- optimiser: AdamW (betas 0.9, 0.98), lr {recipe.lr:g} (head x{recipe.head_lr:g}), weight decay "
        f"{recipe.weight_decay:g}, {recipe.warmup:.0%} linear warmup then cosine decay, gradient clip {recipe.clip:g}",
        f"- {training.get('epochs', recipe.epochs)} epochs of "
        f"{'the full train set' if recipe.samples is None else f'{recipe.samples} examples'}, "
        f"batch {recipe.batch_size}, "
        f"{training.get('steps', '?')} steps, seed {recipe.seed}",
        f"- recipe as data: `{json.dumps({k: v for k, v in asdict(recipe).items() if v}, sort_keys=True)}`",
        f"- weights stored as float16 safetensors (`config.json` says float32, so loading upcasts): "
        f"{entry.get('size_bytes', 0) / 1e6:.2f} MB on disk",
        "", "Retrain (2 CPU threads):", "", "```bash", f"python -m painters.zoo train {name} --out zoo/", "```", "",
        f"Retrain time on a 2-core CPU machine: {training.get('seconds', 0) / 60:.1f} min "
        f"(final training loss {_fmt(training.get('loss', float('nan')))}).", "",
        "## Scores", "",
        "Computed with painters' own task (`painters.zoo.scoring`, i.e. `painters.tasks.load` + "
        "`painters.evaluate`), after the float16 round trip:", "",
        "| eval set | examples | " + metric + " | other |", "| --- | --- | --- | --- |",
    ]  # fmt: skip
    for label, scores in (("full", full), ("shipped (`zoo/data`)", shipped)):
        if scores:
            others = ", ".join(f"{k} {_fmt(v)}" for k, v in scores.items() if k not in (spec.metric, "n", "chance"))
            count = scores.get("tokens", scores.get("n", "?"))
            lines.append(f"| {label} | {count} | {_fmt(scores.get(spec.metric))} | {others} |")
    if entry.get("skip_layer"):
        lines += [
            "",
            f"{metric} on the shipped data with one layer skipped {_skipped(spec.stacks)}:",
            "",
            "`" + " ".join(_fmt(v) for v in entry["skip_layer"]) + "`",
        ]
    return "\n".join(lines) + "\n"


def _skipped(stacks: tuple[dict[str, Any], ...]) -> str:
    """How the card's single-layer profile skips each layer, in words."""
    if stacks == ({},):
        return "(`painters.skip(i, i + 1)`), i = 0..11"
    names = ", ".join("`" + ", ".join(f"{k}={v!r}" for k, v in where.items()) + "`" for where in stacks)
    if len(stacks) == 1:
        return f"(`painters.skip(i, i + 1)` with {names}), i = 0..11"
    return f"(`painters.skip(i, i + 1)` with {names} in turn: every layer of each stack, in order)"


def write_card(name: str, root: str | Path | None = None, recipe: Recipe | None = None) -> Path:
    """Write ``zoo/<name>/README.md`` from ``scores.json``."""
    path = registry.model_dir(name, root) / "README.md"
    path.write_text(model_card(name, read_scores(root).get(name, {}), recipe), encoding="utf-8")
    return path


def write_index(root: str | Path | None = None) -> Path:
    """``zoo/README.md``: the models, their scores, sizes and retrain times, and the shipped eval data."""
    root = Path(root or registry.zoo_dir())
    scores = read_scores(root)
    lines = [
        "# painters zoo", "",
        "Small trained transformers with 12 layers each, shipped so that layer experiments run anywhere without a "
        "download (GitHub issue 5). Each folder loads with `from_pretrained` and carries its processor or "
        "tokenizer; `painters.zoo.load(name)` returns `(model, processor)`. Scores come from painters' own tasks "
        "(`python -m painters.zoo eval NAME`) and are recorded in `scores.json`.", "",
        "| model | class | params | weights | metric | full eval set | shipped eval data | retrain |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for name, spec in registry.ZOO.items():
        entry = scores.get(name, {})
        full, shipped = entry.get("full", {}), entry.get("shipped", {})
        metric = METRIC_NAMES.get(spec.metric, spec.metric)
        extra = ""
        if "unigram_perplexity" in full:
            extra = f" (unigram {full['unigram_perplexity']:.1f})"
        lines.append(
            f"| [{name}]({name}/README.md) | `{spec.model_class}` | {entry.get('params', 0) / 1e6:.2f} M | "
            f"{entry.get('weights_bytes', 0) / 1e6:.2f} MB | {metric} | {_fmt(full.get(spec.metric, float('nan')))}"
            f"{extra} | {_fmt(shipped.get(spec.metric, float('nan')))} | "
            f"{entry.get('train', {}).get('seconds', 0) / 60:.1f} min |"
        )
    lines += [
        "", "Full eval sets: the 10,000 Fashion-MNIST test images; the first 1,000 eval scenes (seed 7, test "
        "images); the whole held-out text (59 chapters). Retrain times: the training run that made the shipped "
        "weights, on 2 CPU threads of a 2-core machine (`train.seconds` in `scores.json`). A second `painters zoo "
        "train` run of fashion-vit, fashion-yolos, fashion-dpt and tiny-llama gave byte-identical weights; "
        "fashion-clip and fashion-swin were trained once, and shortened recipes of them retrain byte-identically.", "",
        "## Shipped eval data (`data/`)", "",
        "- `fashion-mnist-test/test/<class>/<test index>.png`: the first 50 test images of each class (500), class "
        "folders named as the classifier's `id2label`: `painters.tasks.load(\"classification\", "
        "data=\"zoo/data/fashion-mnist-test\", split=\"test\")`",
        "- `fashion-scenes/`: the first 200 eval scenes: `images/*.png` (64x64 grey), `masks/*.png` (class "
        "indices: 0 background, 1-10 classes, 255 ignore) and `instances.json` (COCO boxes `[x, y, w, h]`, "
        "category ids 1-10): `painters.tasks.load(\"detection\", data=\"zoo/data/fashion-scenes\")`, "
        "`painters.tasks.load(\"segmentation\", data=\"zoo/data/fashion-scenes\", labels=[\"background\", ...])`",
        "- `kjv-heldout.txt`: the first held-out chapters of the King James Bible (30 KB): "
        "`painters.tasks.load(\"perplexity\", data=\"zoo/data/kjv-heldout.txt\")`", "",
        "Sources: Fashion-MNIST (MIT licence) from Debian's `dataset-fashion-mnist`; the King James Bible (public "
        "domain) from Debian's `bible-kjv-text`.", "",
        "## Retrain", "", "```bash", "apt-get install -y dataset-fashion-mnist bible-kjv",
        "python -m painters.zoo train all --out zoo/      # or one NAME; --epochs N overrides the recipe",
        "python -m painters.zoo eval all                  # rescore, update scores.json and the cards",
        "python -m painters.zoo data --out zoo/           # rewrite zoo/data (deterministic)", "```",
    ]  # fmt: skip
    path = root / "README.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
