"""Seeded training of the zoo models (CPU-friendly: in-memory tensors, AdamW, warmup + cosine), driven by each
model's ``ZooSpec``: its processor, model, recipe, batches and loss."""

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

from painters.zoo import registry, transfer
from painters.zoo.batches import normalise_pixels, resize_images  # noqa: F401  (re-exported for older imports)
from painters.zoo.recipe import Recipe
from painters.zoo.transfer import init_from_classifier  # noqa: F401  (re-exported for older imports)

RECIPES: registry.ZooField[Recipe] = registry.ZooField("recipe")
"""The recipe each model is trained with, by name (a view of ``ZOO``; ``--epochs`` overrides ``epochs``)."""


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


def model_loss(model: nn.Module, inputs: dict[str, Any]) -> torch.Tensor:
    """The loss ``transformers`` computes when given ``labels``."""
    return model(**inputs).loss


def fit(
    model: nn.Module,
    recipe: Recipe,
    batches: Callable[[int], Iterator[dict[str, Any]]],
    steps_per_epoch: int,
    *,
    loss_fn: Callable[[nn.Module, dict[str, Any]], torch.Tensor] = model_loss,
    max_steps: int | None = None,
    progress: bool = True,
    desc: str = "train",
) -> TrainLog:
    """Train ``model`` with AdamW and linear warmup + cosine decay; ``batches(epoch)`` yields model kwargs
    (with ``labels``) and ``loss_fn(model, kwargs)`` gives the loss."""
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
            scale = (
                (log.steps + 1) / warmup
                if log.steps < warmup
                else 0.5 * (1 + math.cos(math.pi * (log.steps - warmup) / max(1, total - warmup)))
            )
            for group, lr in zip(optimizer.param_groups, base):
                group["lr"] = lr * scale
            loss = loss_fn(model, inputs)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if recipe.clip:
                nn.utils.clip_grad_norm_(model.parameters(), recipe.clip)
            optimizer.step()
            value = float(loss.detach())
            running = value if math.isnan(running) else 0.98 * running + 0.02 * value
            log.steps += 1
            if log.steps % steps_per_epoch == 0:
                log.history.append(round(running, 4))
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{running:.4f}", refresh=False)
    bar.close()
    model.eval()
    log.loss, log.seconds = running, time.perf_counter() - start
    return log


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
    recipe = registry.spec(name).recipe
    overrides = {k: v for k, v in {"epochs": epochs, "seed": seed, "samples": samples}.items() if v is not None}
    return replace(recipe, **overrides)


def train(
    name: str, folder: str | Path, recipe: Recipe | None = None, *, max_steps: int | None = None, progress: bool = True
) -> TrainLog:
    """Train zoo model ``name`` with ``recipe`` (default: its spec's) and save it to ``folder``.

    A recipe with ``init`` starts from the backbone of that zoo model, read from ``folder``'s parent.
    """
    entry = registry.spec(name)
    recipe = recipe or entry.recipe
    folder = Path(folder)
    seed_everything(recipe.seed)
    start = time.perf_counter()
    processor = entry.build_processor()
    model = entry.build_model(entry.config, processor)
    if recipe.init:
        init_from_classifier(model, transfer.load_init(recipe.init, folder.parent))
    batches, steps = entry.batches(recipe, processor)
    log = fit(
        model, recipe, batches, steps, loss_fn=entry.loss, max_steps=max_steps, progress=progress, desc=f"train {name}"
    )
    save(model, processor, folder)
    log.seconds = time.perf_counter() - start
    return log
