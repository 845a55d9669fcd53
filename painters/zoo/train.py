"""Seeded training loops of the zoo models (CPU-friendly: in-memory tensors, AdamW, warmup + cosine)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from painters.zoo import fashion_mnist, models, scenes, text
from painters.zoo.models import PIXEL_MEAN, PIXEL_STD


@dataclass(frozen=True)
class Recipe:
    """Optimisation settings of one zoo model. ``head_lr`` scales the learning rate of the task head's
    parameters (names starting with one of ``head_prefixes``); ``samples`` = training examples per epoch
    (None: the whole training set)."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 0.05
    warmup: float = 0.05
    clip: float = 1.0
    seed: int = 0
    head_lr: float = 1.0
    head_prefixes: tuple[str, ...] = ()
    samples: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


RECIPES: dict[str, Recipe] = {
    "fashion-vit": Recipe(epochs=6, batch_size=128, lr=2e-3, weight_decay=0.05),
    "fashion-yolos": Recipe(epochs=20, batch_size=64, lr=1e-3, samples=8000, head_lr=3.0,
                            head_prefixes=("class_labels_classifier", "bbox_predictor")),
    "fashion-dpt": Recipe(epochs=8, batch_size=64, lr=2e-3, samples=8000),
    "tiny-llama": Recipe(epochs=1, batch_size=32, lr=3e-3, weight_decay=0.1),
}
"""The recipe each model is trained with (``--epochs`` overrides ``epochs``)."""


@dataclass
class TrainLog:
    """What a training run did: steps, final running loss, seconds."""

    steps: int = 0
    loss: float = math.nan
    seconds: float = 0.0
    history: list[float] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def normalise_pixels(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 grey (B, H, W) -> float (B, 3, H, W) exactly as the zoo image processors normalise RGB pixels."""
    x = torch.as_tensor(np.asarray(images)).float() * (1 / 255)  # float32 as the processor's rescale
    mean, std = torch.tensor(PIXEL_MEAN).view(1, 3, 1, 1), torch.tensor(PIXEL_STD).view(1, 3, 1, 1)
    return (x[:, None].expand(-1, 3, -1, -1) - mean) / std


def _param_groups(model: nn.Module, recipe: Recipe) -> list[dict[str, Any]]:
    """AdamW groups: no weight decay for biases, norms and embeddings; ``head_lr`` for the head."""
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        no_decay = param.ndim < 2 or "embeddings" in name or "norm" in name or "detection_tokens" in name
        head = any(name.startswith(prefix) for prefix in recipe.head_prefixes)
        groups.setdefault((no_decay, head), []).append(param)
    return [
        {"params": params, "weight_decay": 0.0 if no_decay else recipe.weight_decay,
         "lr": recipe.lr * (recipe.head_lr if head else 1.0)}
        for (no_decay, head), params in groups.items()
    ]  # fmt: skip


def fit(model: nn.Module, recipe: Recipe, batches: Callable[[int], Iterator[dict[str, Any]]], steps_per_epoch: int,
        *, max_steps: int | None = None, progress: bool = True, desc: str = "train") -> TrainLog:
    """Train ``model`` with AdamW and linear warmup + cosine decay; ``batches(epoch)`` yields model kwargs."""
    total = recipe.epochs * steps_per_epoch if max_steps is None else min(max_steps, recipe.epochs * steps_per_epoch)
    optimizer = torch.optim.AdamW(_param_groups(model, recipe), betas=(0.9, 0.98))
    base = [group["lr"] for group in optimizer.param_groups]
    warmup = max(1, int(recipe.warmup * total))
    log, start, running = TrainLog(), time.perf_counter(), math.nan
    model.train()
    bar = tqdm(total=total, desc=desc, disable=not progress, mininterval=2.0)
    for epoch in range(recipe.epochs):
        for inputs in batches(epoch):
            if log.steps >= total:
                break
            scale = (log.steps + 1) / warmup if log.steps < warmup else 0.5 * (
                1 + math.cos(math.pi * (log.steps - warmup) / max(1, total - warmup)))
            for group, lr in zip(optimizer.param_groups, base):
                group["lr"] = lr * scale
            loss = model(**inputs).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if recipe.clip:
                nn.utils.clip_grad_norm_(model.parameters(), recipe.clip)
            optimizer.step()
            value = float(loss.detach())
            running = value if math.isnan(running) else 0.98 * running + 0.02 * value
            log.steps += 1
            if log.steps % max(1, steps_per_epoch // 10) == 0:
                log.history.append(round(running, 4))
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{running:.4f}", refresh=False)
    bar.close()
    model.eval()
    log.loss, log.seconds = running, time.perf_counter() - start
    return log


# ---- per-model data ---------------------------------------------------------------------------------------------


def _shift(images: torch.Tensor, generator: torch.Generator, pad: int = 2) -> torch.Tensor:
    """Random translations by up to ``pad`` pixels (zero fill), one per image."""
    b, h, w = images.shape
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None]).view(b, h, 1).expand(b, h, w)
    cols = (dx[:, None] + torch.arange(w)[None]).view(b, 1, w).expand(b, h, w)
    return padded[torch.arange(b)[:, None, None], rows, cols]


def vit_batches(recipe: Recipe) -> tuple[Callable[[int], Iterator[dict[str, Any]]], int]:
    """Shuffled Fashion-MNIST train batches with random shifts; and the steps per epoch."""
    images, labels = fashion_mnist.load("train")
    images, labels = torch.from_numpy(images.copy()), torch.from_numpy(labels.copy())
    n = recipe.samples or len(images)
    shift = int(recipe.extra.get("shift", 2))

    def batches(epoch: int) -> Iterator[dict[str, Any]]:
        generator = torch.Generator().manual_seed(recipe.seed * 1000 + epoch)
        order = torch.randperm(len(images), generator=generator)[:n]
        for i in range(0, n - recipe.batch_size + 1, recipe.batch_size):
            index = order[i : i + recipe.batch_size]
            batch = _shift(images[index], generator, shift) if shift else images[index]
            yield {"pixel_values": normalise_pixels(batch), "labels": labels[index]}

    return batches, n // recipe.batch_size


TRAIN_SCENE_SEED = 1000
"""Train scenes of epoch e are the stream ``TRAIN_SCENE_SEED + seed`` from index ``e * samples``."""


def scene_batches(recipe: Recipe, target: str) -> tuple[Callable[[int], Iterator[dict[str, Any]]], int]:
    """Fresh train scenes every epoch, as detection (``"boxes"``) or segmentation (``"masks"``) batches."""
    images, labels = fashion_mnist.load("train")
    config = scenes.SceneConfig(size=models.SCENE_SIZE)
    n = recipe.samples or 8000

    def batches(epoch: int) -> Iterator[dict[str, Any]]:
        stream = scenes.generate(images, labels, n, TRAIN_SCENE_SEED + recipe.seed, config, start=epoch * n)
        for _ in range(n // recipe.batch_size):
            chunk = [next(stream) for _ in range(recipe.batch_size)]
            pixels = normalise_pixels(np.stack([s.image for s in chunk]))
            if target == "masks":
                yield {"pixel_values": pixels, "labels": torch.from_numpy(np.stack([s.mask for s in chunk])).long()}
            else:
                yield {"pixel_values": pixels, "labels": [detection_target(s, config.size) for s in chunk]}

    return batches, n // recipe.batch_size


def detection_target(scene: scenes.Scene, size: int) -> dict[str, torch.Tensor]:
    """DETR-style target: class ids 0..9 and boxes as normalised (cx, cy, w, h)."""
    boxes = torch.from_numpy(scene.boxes).float() / size
    cxcywh = torch.cat([boxes[:, :2] + boxes[:, 2:] / 2, boxes[:, 2:]], dim=1)
    return {"class_labels": torch.from_numpy(scene.categories - 1).long(), "boxes": cxcywh}


def lm_batches(recipe: Recipe, tokenizer: Any) -> tuple[Callable[[int], Iterator[dict[str, Any]]], int]:
    """Random windows of ``LLAMA_CONTEXT`` tokens over the tokenised training text."""
    ids = torch.tensor(tokenizer(text.train_text())["input_ids"], dtype=torch.long)
    width = models.LLAMA_CONTEXT
    n = recipe.samples or len(ids) // width

    def batches(epoch: int) -> Iterator[dict[str, Any]]:
        generator = torch.Generator().manual_seed(recipe.seed * 1000 + epoch)
        starts = torch.randint(0, len(ids) - width, (n,), generator=generator)
        for i in range(0, n - recipe.batch_size + 1, recipe.batch_size):
            window = torch.stack([ids[s : s + width] for s in starts[i : i + recipe.batch_size].tolist()])
            yield {"input_ids": window, "labels": window}

    return batches, n // recipe.batch_size


# ---- saving -----------------------------------------------------------------------------------------------------


def save(model: nn.Module, processor: Any, folder: str | Path) -> Path:
    """``save_pretrained`` with float16 weights; the config keeps ``dtype: float32`` so loading upcasts."""
    import json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.to(torch.float16).save_pretrained(folder)
    model.to(torch.float32)
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["dtype"] = "float32"
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    processor.save_pretrained(folder)
    return folder


def resolve(name: str, epochs: int | None = None, seed: int | None = None, samples: int | None = None) -> Recipe:
    """The recipe of ``name`` with optional overrides."""
    recipe = RECIPES[name]
    overrides = {k: v for k, v in {"epochs": epochs, "seed": seed, "samples": samples}.items() if v is not None}
    return replace(recipe, **overrides)


# ---- tokenizer --------------------------------------------------------------------------------------------------

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>")
"""Ids 0, 1, 2 (pad, BOS, EOS); the tokenizer adds none of them by itself."""


def train_tokenizer(corpus: str, vocab_size: int = models.LLAMA_VOCAB) -> Any:
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on ``corpus`` (deterministic)."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers, trainers
    from tokenizers.models import BPE
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus.split("\n\n"), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                   model_max_length=models.LLAMA_CONTEXT, clean_up_tokenization_spaces=False)


# ---- one entry point per zoo model ------------------------------------------------------------------------------


def train(name: str, folder: str | Path, recipe: Recipe | None = None, *, max_steps: int | None = None,
          progress: bool = True) -> TrainLog:
    """Train zoo model ``name`` with ``recipe`` (default ``RECIPES[name]``) and save it to ``folder``."""
    recipe = recipe or RECIPES[name]
    seed_everything(recipe.seed)
    start = time.perf_counter()
    if name == "tiny-llama":
        processor = train_tokenizer(text.train_text())
        model = models.build(name, vocab_size=len(processor))
        batches, steps = lm_batches(recipe, processor)
    else:
        processor = models.image_processor(name)
        model = models.build(name)
        if name == "fashion-vit":
            batches, steps = vit_batches(recipe)
        else:
            batches, steps = scene_batches(recipe, "masks" if name == "fashion-dpt" else "boxes")
    log = fit(model, recipe, batches, steps, max_steps=max_steps, progress=progress, desc=f"train {name}")
    save(model, processor, folder)
    log.seconds = time.perf_counter() - start
    return log
