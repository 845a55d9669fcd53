"""The eval data shipped under ``zoo/data``: Fashion-MNIST test images, eval scenes, held-out text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from painters.zoo import fashion_mnist, models, scenes, text

EVAL_SCENE_SEED = 7
"""Eval scenes are the stream with this seed, drawn from the Fashion-MNIST test images."""

SHIPPED_IMAGES_PER_CLASS = 50
SHIPPED_SCENES = 200
FULL_SCENES = 1000
SHIPPED_TEXT_CHARS = 30_000


def scene_config() -> scenes.SceneConfig:
    """The scene settings every zoo scene (train and eval) uses."""
    return scenes.SceneConfig(size=models.SCENE_SIZE)


def eval_scenes(count: int) -> list[scenes.Scene]:
    """The first ``count`` eval scenes (test images, seed ``EVAL_SCENE_SEED``)."""
    images, labels = fashion_mnist.load("test")
    return list(scenes.generate(images, labels, count, EVAL_SCENE_SEED, scene_config()))


def write_scenes(folder: str | Path, count: int = SHIPPED_SCENES) -> Path:
    """``images/``, ``masks/`` and ``instances.json`` of the first ``count`` eval scenes."""
    return scenes.write(
        eval_scenes(count),
        folder,
        scene_config(),
        f"Fashion-MNIST eval scenes: seed {EVAL_SCENE_SEED}, test images, first {count}",
    )


def write_fashion_test(folder: str | Path, per_class: int = SHIPPED_IMAGES_PER_CLASS) -> Path:
    """``folder/test/<class name>/<test index>.png``: the first ``per_class`` test images of each class."""
    images, labels = fashion_mnist.load("test")
    folder = Path(folder)
    for label, name in enumerate(fashion_mnist.CLASS_NAMES):
        target = folder / "test" / name
        target.mkdir(parents=True, exist_ok=True)
        for index in np.nonzero(labels == label)[0][:per_class]:
            Image.fromarray(images[index], mode="L").save(target / f"{index:05d}.png", optimize=True)
    return folder


def write_heldout(path: str | Path, max_chars: int | None = SHIPPED_TEXT_CHARS) -> Path:
    """The held-out text (its first whole chapters up to ``max_chars``) as a UTF-8 file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.heldout_text(max_chars) + "\n", encoding="utf-8")
    return path


def write_all(root: str | Path, sources: tuple[str, ...] = ("fashion-mnist", "kjv")) -> list[Path]:
    """Write the shipped eval data under ``root/data`` for the given sources."""
    data = Path(root) / "data"
    written = []
    if "fashion-mnist" in sources:
        written += [write_fashion_test(data / "fashion-mnist-test"), write_scenes(data / "fashion-scenes")]
    if "kjv" in sources:
        written.append(write_heldout(data / "kjv-heldout.txt"))
    return written
