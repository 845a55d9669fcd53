"""Fashion-MNIST scenes: a few Fashion-MNIST items on a black canvas, with COCO boxes and class masks.

Each scene is a deterministic function of ``(seed, index)``; train scenes draw from the train images,
eval scenes from the test images. Items never touch (their footprints, the bounding boxes of their
non-zero pixels, keep a 1-pixel gap), so every pixel belongs to at most one item.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from painters.zoo.fashion_mnist import CLASS_NAMES

IGNORE = 255
"""Mask value of an item's faint fringe (pixels above 0 but below the foreground threshold)."""


@dataclass(frozen=True)
class SceneConfig:
    """How scenes are drawn: canvas side, items per scene, item side range and the foreground threshold."""

    size: int = 64
    min_items: int = 1
    max_items: int = 4
    min_scale: int = 20
    max_scale: int = 34
    threshold: int = 32
    tries: int = 30


@dataclass
class Scene:
    """One scene: ``image`` (H, W) uint8 grey, ``mask`` (H, W) uint8 (0 background, 1..10 class, 255 fringe),
    ``instances`` (H, W) uint8 (0 none, k = the k-th item, fringe included), ``boxes`` (K, 4) COCO
    ``[x, y, w, h]`` (tight around each item's class pixels), ``categories`` (K,) 1..10 and ``sources``
    (K,) the Fashion-MNIST image indices."""

    image: np.ndarray
    mask: np.ndarray
    instances: np.ndarray
    boxes: np.ndarray
    categories: np.ndarray
    sources: np.ndarray


def _footprint(item: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(y0, x0, y1, x1)`` half-open bounds of the non-zero pixels, or None for an empty item."""
    rows, cols = np.nonzero(item.any(axis=1))[0], np.nonzero(item.any(axis=0))[0]
    if len(rows) == 0:
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int], gap: int = 1) -> bool:
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1])


def make_scene(images: np.ndarray, labels: np.ndarray, seed: int, index: int, config: SceneConfig) -> Scene:
    """Scene ``index`` of the stream ``seed``, drawn from ``images`` (N, 28, 28) uint8 with ``labels`` 0..9."""
    rng = np.random.default_rng([seed, index])
    size = config.size
    image = np.zeros((size, size), dtype=np.uint8)
    instances = np.zeros((size, size), dtype=np.uint8)
    placed: list[tuple[int, int, int, int]] = []
    sources: list[int] = []
    for _ in range(int(rng.integers(config.min_items, config.max_items + 1))):
        source = int(rng.integers(len(images)))
        side = int(rng.integers(config.min_scale, config.max_scale + 1))
        item = np.asarray(Image.fromarray(images[source]).resize((side, side), Image.Resampling.BILINEAR))
        bounds = _footprint(item)
        if bounds is None:
            continue
        y0, x0, y1, x1 = bounds
        item = item[y0:y1, x0:x1]
        height, width = item.shape
        for _ in range(config.tries):
            top, left = int(rng.integers(size - height + 1)), int(rng.integers(size - width + 1))
            box = (top, left, top + height, left + width)
            if not any(_overlaps(box, other) for other in placed):
                break
        else:
            continue
        placed.append(box)
        sources.append(source)
        image[top : top + height, left : left + width] = item
        instances[top : top + height, left : left + width][item > 0] = len(placed)
    return _annotate(image, instances, np.asarray(sources, dtype=np.int64), labels, config.threshold)


def _annotate(
    image: np.ndarray, instances: np.ndarray, sources: np.ndarray, labels: np.ndarray, threshold: int
) -> Scene:
    """Class mask and tight boxes from the instance map (items without a foreground pixel are dropped)."""
    mask = np.zeros_like(image)
    boxes, categories, kept = [], [], []
    for k, source in enumerate(sources, start=1):
        pixels = instances == k
        foreground = pixels & (image >= threshold)
        if not foreground.any():
            instances[pixels] = 0
            continue
        category = int(labels[source]) + 1
        mask[pixels] = IGNORE
        mask[foreground] = category
        ys, xs = np.nonzero(foreground)
        boxes.append([float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)])
        categories.append(category)
        kept.append(source)
    return Scene(
        image=image, mask=mask, instances=instances,
        boxes=np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
        categories=np.asarray(categories, dtype=np.int64), sources=np.asarray(kept, dtype=np.int64),
    )  # fmt: skip


def generate(
    images: np.ndarray, labels: np.ndarray, count: int, seed: int, config: SceneConfig | None = None, start: int = 0
) -> Iterator[Scene]:
    """Scenes ``start .. start + count - 1`` of the stream ``seed``."""
    config = config or SceneConfig()
    for index in range(start, start + count):
        yield make_scene(images, labels, seed, index, config)


def categories() -> list[dict[str, object]]:
    """COCO categories: ids 1..10 named as the Fashion-MNIST classes."""
    return [{"id": i, "name": name, "supercategory": "fashion"} for i, name in enumerate(CLASS_NAMES, start=1)]


def segmentation_labels() -> list[str]:
    """Names of the mask values 0..10."""
    return ["background", *CLASS_NAMES]


def write(
    scenes: Sequence[Scene], folder: str | Path, config: SceneConfig | None = None, description: str = ""
) -> Path:
    """Write ``images/NNNNN.png``, ``masks/NNNNN.png`` (class-index PNGs) and ``instances.json`` (COCO).

    Returns the folder. Image ids are 1..N in order; annotation ids 1..M.
    """
    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    coco: dict[str, object] = {
        "info": {"description": description or "Fashion-MNIST scenes", "scene_config": asdict(config or SceneConfig())},
        "images": [], "annotations": [], "categories": categories(),
    }  # fmt: skip
    images, annotations = coco["images"], coco["annotations"]
    assert isinstance(images, list) and isinstance(annotations, list)
    for image_id, scene in enumerate(scenes, start=1):
        name = f"{image_id:05d}.png"
        Image.fromarray(scene.image, mode="L").save(folder / "images" / name, optimize=True)
        Image.fromarray(scene.mask, mode="L").save(folder / "masks" / name, optimize=True)
        height, width = scene.image.shape
        images.append({"id": image_id, "file_name": name, "height": height, "width": width})
        for box, category in zip(scene.boxes.tolist(), scene.categories.tolist()):
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": int(category),
                "bbox": [round(v, 2) for v in box], "area": round(box[2] * box[3], 2), "iscrowd": 0,
            })  # fmt: skip
    with (folder / "instances.json").open("w", encoding="utf-8") as handle:
        json.dump(coco, handle, indent=None, separators=(",", ":"))
    return folder
