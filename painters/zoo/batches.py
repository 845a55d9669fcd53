"""Seeded training batches of the zoo models: Fashion-MNIST images, Fashion-MNIST scenes, token windows.

Each builder returns ``(batches, steps)``: ``batches(epoch)`` yields model keyword arguments with ``labels``,
``steps`` is the number of batches per epoch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image

from painters.zoo import fashion_mnist, scenes, text
from painters.zoo.models import PIXEL_MEAN, PIXEL_STD, SCENE_SIZE
from painters.zoo.recipe import Recipe
from painters.zoo.registry import Batches

TRAIN_SCENE_SEED = 1000
"""Train scenes of epoch e are the stream ``TRAIN_SCENE_SEED + seed`` from index ``e * samples``."""


def normalise_pixels(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 grey (B, H, W) -> float (B, 3, H, W) exactly as the zoo image processors normalise RGB pixels."""
    x = torch.as_tensor(np.array(images, copy=True)).float() * (1 / 255)  # float32 as the processor's rescale
    mean, std = torch.tensor(PIXEL_MEAN).view(1, 3, 1, 1), torch.tensor(PIXEL_STD).view(1, 3, 1, 1)
    return (x[:, None].expand(-1, 3, -1, -1) - mean) / std


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 grey images (N, H, W) resized to (N, size, size) with PIL bilinear, as the image processors do."""
    if images.shape[1:] == (size, size):
        return images
    resample = Image.Resampling.BILINEAR
    return np.stack([np.asarray(Image.fromarray(image).resize((size, size), resample)) for image in images])


def shift(images: torch.Tensor, generator: torch.Generator, pad: int = 2) -> torch.Tensor:
    """Random translations by up to ``pad`` pixels (zero fill), one per image."""
    b, h, w = images.shape
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None]).view(b, h, 1).expand(b, h, w)
    cols = (dx[:, None] + torch.arange(w)[None]).view(b, 1, w).expand(b, h, w)
    return padded[torch.arange(b)[:, None, None], rows, cols]


def image_batches(recipe: Recipe, size: int) -> tuple[Batches, int]:
    """Shuffled Fashion-MNIST train batches at ``size`` pixels, randomly shifted by up to
    ``recipe.extra["shift"]`` pixels (default 2)."""
    images, labels = fashion_mnist.load("train")
    images, labels = torch.from_numpy(resize_images(images, size).copy()), torch.from_numpy(labels.copy())
    n = recipe.samples or len(images)
    pad = int(recipe.extra.get("shift", 2))

    def batches(epoch: int) -> Iterator[dict[str, Any]]:
        generator = torch.Generator().manual_seed(recipe.seed * 1000 + epoch)
        order = torch.randperm(len(images), generator=generator)[:n]
        for i in range(0, n - recipe.batch_size + 1, recipe.batch_size):
            index = order[i : i + recipe.batch_size]
            batch = shift(images[index], generator, pad) if pad else images[index]
            yield {"pixel_values": normalise_pixels(batch), "labels": labels[index]}

    return batches, n // recipe.batch_size


def scene_batches(recipe: Recipe, target: Literal["boxes", "masks"]) -> tuple[Batches, int]:
    """Fresh train scenes every epoch (``recipe.samples``, default 8000), as detection (``"boxes"``) or
    segmentation (``"masks"``) batches."""
    images, labels = fashion_mnist.load("train")
    config = scenes.SceneConfig(size=SCENE_SIZE)
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


def lm_batches(recipe: Recipe, tokenizer: Any, width: int) -> tuple[Batches, int]:
    """Random windows of ``width`` tokens over the tokenised training text (an epoch: as many windows as the
    text has ``width``-token blocks, unless ``recipe.samples`` says)."""
    ids = torch.tensor(tokenizer(text.train_text(), verbose=False)["input_ids"], dtype=torch.long)
    n = recipe.samples or len(ids) // width

    def batches(epoch: int) -> Iterator[dict[str, Any]]:
        generator = torch.Generator().manual_seed(recipe.seed * 1000 + epoch)
        starts = torch.randint(0, len(ids) - width, (n,), generator=generator)
        for i in range(0, n - recipe.batch_size + 1, recipe.batch_size):
            window = torch.stack([ids[s : s + width] for s in starts[i : i + recipe.batch_size].tolist()])
            yield {"input_ids": window, "labels": window}

    return batches, n // recipe.batch_size
