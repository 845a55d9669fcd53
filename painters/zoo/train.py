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
from PIL import Image
from torch import nn
from tqdm.auto import tqdm

from painters.zoo import fashion_mnist, models, scenes, text
from painters.zoo.models import PIXEL_MEAN, PIXEL_STD


@dataclass(frozen=True)
class Recipe:
    """Optimisation settings of one zoo model. ``head_lr`` scales the learning rate of the task head's
    parameters (names starting with one of ``head_prefixes``); ``samples`` = training examples per epoch
    (None: the whole training set); ``init`` names the zoo classifier whose backbone starts the model."""

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
    init: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


RECIPES: dict[str, Recipe] = {
    "fashion-vit": Recipe(epochs=7, batch_size=64, lr=2e-3, extra={"shift": 1}),
    "fashion-yolos": Recipe(
        epochs=25,
        batch_size=64,
        lr=1e-3,
        samples=8000,
        head_lr=3.0,
        head_prefixes=("class_labels_classifier", "bbox_predictor"),
    ),
    "fashion-dpt": Recipe(epochs=8, batch_size=64, lr=2e-3, samples=8000, init="fashion-vit"),
    "tiny-llama": Recipe(epochs=5, batch_size=32, lr=3e-3, weight_decay=0.1),
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
    x = torch.as_tensor(np.array(images, copy=True)).float() * (1 / 255)  # float32 as the processor's rescale
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


def model_loss(model: nn.Module, inputs: dict[str, Any]) -> torch.Tensor:
    """The loss ``transformers`` computes when given ``labels``."""
    return model(**inputs).loss


def segmentation_loss(model: nn.Module, inputs: dict[str, Any]) -> torch.Tensor:
    """Cross-entropy of the logits upsampled to the mask size, 255 ignored (DPT's own loss, computed here
    because transformers 5.23's DPT raises on ``labels`` when it has no auxiliary head)."""
    logits = model(pixel_values=inputs["pixel_values"]).logits
    labels = inputs["labels"]
    logits = nn.functional.interpolate(logits, size=labels.shape[-2:], mode="bilinear", align_corners=False)
    return nn.functional.cross_entropy(logits, labels, ignore_index=scenes.IGNORE)


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


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 grey images (N, H, W) resized to (N, size, size) with PIL bilinear, as the image processors do."""
    if images.shape[1:] == (size, size):
        return images
    resample = Image.Resampling.BILINEAR
    return np.stack([np.asarray(Image.fromarray(image).resize((size, size), resample)) for image in images])


def vit_batches(recipe: Recipe, size: int) -> tuple[Callable[[int], Iterator[dict[str, Any]]], int]:
    """Shuffled Fashion-MNIST train batches at ``size`` pixels, randomly shifted; and the steps per epoch."""
    images, labels = fashion_mnist.load("train")
    images, labels = torch.from_numpy(resize_images(images, size).copy()), torch.from_numpy(labels.copy())
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
    ids = torch.tensor(tokenizer(text.train_text(), verbose=False)["input_ids"], dtype=torch.long)
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
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(corpus.split("\n\n"), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        model_max_length=models.LLAMA_CONTEXT,
        clean_up_tokenization_spaces=False,
    )


# ---- one entry point per zoo model ------------------------------------------------------------------------------


def train(
    name: str, folder: str | Path, recipe: Recipe | None = None, *, max_steps: int | None = None, progress: bool = True
) -> TrainLog:
    """Train zoo model ``name`` with ``recipe`` (default ``RECIPES[name]``) and save it to ``folder``.

    A recipe with ``init`` starts from the backbone of that zoo model, read from ``folder``'s parent.
    """
    recipe = recipe or RECIPES[name]
    folder = Path(folder)
    seed_everything(recipe.seed)
    start = time.perf_counter()
    if name == "tiny-llama":
        processor = train_tokenizer(text.train_text())
        model = models.build(name, vocab_size=len(processor))
        batches, steps = lm_batches(recipe, processor)
    else:
        processor = models.image_processor(name)
        model = models.build(name)
        if recipe.init:
            init_from_classifier(model, _load_classifier(folder.parent / recipe.init))
        if name == "fashion-vit":
            batches, steps = vit_batches(recipe, models.CONFIGS[name]["image_size"])
        else:
            batches, steps = scene_batches(recipe, "masks" if name == "fashion-dpt" else "boxes")
    loss_fn = segmentation_loss if name == "fashion-dpt" else model_loss
    log = fit(
        model, recipe, batches, steps, loss_fn=loss_fn, max_steps=max_steps, progress=progress, desc=f"train {name}"
    )
    save(model, processor, folder)
    log.seconds = time.perf_counter() - start
    return log


# ---- backbone transfer ------------------------------------------------------------------------------------------


def _load_classifier(folder: Path) -> nn.Module:
    import transformers

    if not (folder / "config.json").exists():
        raise FileNotFoundError(
            f"{folder} holds no model to start from: train {folder.name} first "
            f"(`python -m painters.zoo train {folder.name} --out {folder.parent}`)"
        )
    return transformers.ViTForImageClassification.from_pretrained(folder, dtype=torch.float32)


_VIT_TO_V4_NAMES = (
    ("attention.q_proj.", "attention.attention.query."), ("attention.k_proj.", "attention.attention.key."),
    ("attention.v_proj.", "attention.attention.value."), ("attention.o_proj.", "attention.output.dense."),
    ("mlp.fc1.", "intermediate.dense."), ("mlp.fc2.", "output.dense."),
)  # fmt: skip
"""ViT layer parameter names in transformers 5 -> the names YOLOS and DPT layers still use."""


def init_from_classifier(model: nn.Module, classifier: nn.Module) -> list[str]:
    """Copy a ``ViTForImageClassification`` backbone into a YOLOS or DPT model (as YOLOS starts from DeiT and
    DPT from ViT): patch embedding, CLS token, the 12 layers and the final norm; the patch position
    embeddings are resized (bicubic) to the new patch grid. Returns the target parameter names set."""
    prefix = "vit" if hasattr(model, "vit") else "dpt"
    target = model.state_dict()
    updates: dict[str, torch.Tensor] = {}
    for key, value in classifier.state_dict().items():
        if not key.startswith("vit."):
            continue  # the classification head
        name = key.removeprefix("vit.")
        if name.startswith("layers."):
            _, index, rest = name.split(".", 2)
            for new, old in _VIT_TO_V4_NAMES:
                rest = rest.replace(new, old) if rest.startswith(new) else rest
            name = f"encoder.layer.{index}.{rest}"
        destination = f"{prefix}.{name}"
        if destination not in target:
            raise KeyError(f"{key} of the classifier has no counterpart {destination} in {type(model).__name__}")
        if name == "embeddings.position_embeddings":
            value = _resize_positions(value, target[destination])
        if value.shape != target[destination].shape:
            shapes = f"{tuple(value.shape)} vs {tuple(target[destination].shape)}"
            raise ValueError(f"{key} does not fit {destination}: {shapes}")
        updates[destination] = value
    model.load_state_dict(updates, strict=False)
    return sorted(updates)


def _resize_positions(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(1, 1 + g*g, D) CLS + patch-grid position embeddings -> the target's (1, 1 + G*G [+ extra], D); extra
    trailing positions (YOLOS detection tokens) keep the target's values."""
    grid = math.isqrt(source.shape[1] - 1)
    patches = source[:, 1:].reshape(1, grid, grid, -1).permute(0, 3, 1, 2)
    extra = 0
    while math.isqrt(target.shape[1] - 1 - extra) ** 2 != target.shape[1] - 1 - extra:
        extra += 1
    size = math.isqrt(target.shape[1] - 1 - extra)
    resized = nn.functional.interpolate(patches, size=(size, size), mode="bicubic", align_corners=False)
    resized = resized.permute(0, 2, 3, 1).reshape(1, size * size, -1)
    return torch.cat([source[:, :1], resized, target[:, target.shape[1] - extra :]], dim=1)
