"""The zoo's eval data: what ships under ``zoo/data`` (Fashion-MNIST test images, eval scenes, held-out text),
the full eval sets, and the card paragraph the two scene models share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def fashion_test_dataset() -> Any:
    """The 10k Fashion-MNIST test images as a ``datasets.Dataset`` (``image``, ``label`` ClassLabel)."""
    import datasets

    images, labels = fashion_mnist.load("test")
    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=list(fashion_mnist.CLASS_NAMES))}
    )
    return datasets.Dataset.from_dict(
        {"image": [Image.fromarray(image, mode="L") for image in images], "label": labels.tolist()}, features=features
    )


def full_scenes(workdir: str | Path) -> Path:
    """The first ``FULL_SCENES`` eval scenes, written to ``workdir/scenes`` unless already there."""
    folder = Path(workdir) / "scenes"
    if not (folder / "instances.json").exists():
        write_scenes(folder, FULL_SCENES)
    return folder


def full_heldout(workdir: str | Path) -> Path:
    """The whole held-out text, written to ``workdir/heldout.txt`` unless already there."""
    path = Path(workdir) / "heldout.txt"
    if not path.exists():
        write_heldout(path, None)
    return path


def scene_card(annotations: str) -> str:
    """The data paragraph of a scene model's card, ``annotations`` saying what it learns from each scene."""
    return (
        "Fashion-MNIST scenes (`painters/zoo/scenes.py`): 1-4 Fashion-MNIST items, each resized to 20-34 "
        f"pixels, on a black 64x64 canvas, never touching; {annotations}. "
        "Train scenes come from the train images (fresh scenes every epoch), eval scenes from the test images "
        f"(seed {EVAL_SCENE_SEED})."
    )


def write_all(root: str | Path, sources: tuple[str, ...] = ("fashion-mnist", "kjv")) -> list[Path]:
    """Write the shipped eval data under ``root/data`` for the given sources."""
    data = Path(root) / "data"
    written = []
    if "fashion-mnist" in sources:
        written += [write_fashion_test(data / "fashion-mnist-test"), write_scenes(data / "fashion-scenes")]
    if "kjv" in sources:
        written.append(write_heldout(data / "kjv-heldout.txt"))
    return written
