"""Image datasets: image folders (through ``datasets``), COCO instances JSON, image + mask folders."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
SPLIT_FOLDERS = ("train", "training", "validation", "valid", "val", "dev", "test", "testing", "eval", "evaluation")


def to_rgb(image: Any) -> Image.Image:
    """A PIL RGB image from a PIL image, a path, or a ``datasets`` image dict."""
    if isinstance(image, Mapping):
        image = image.get("path") or image.get("bytes")
    if isinstance(image, (str, Path)):
        image = Image.open(image)
    if not isinstance(image, Image.Image):
        raise TypeError(f"cannot read an image from {type(image).__name__}")
    return image.convert("RGB")


def load_imagefolder(path: Path, split: str) -> Any:
    """``datasets``' imagefolder: one subfolder per class, labels in alphabetical folder order.

    ``path/<split>/<class>/*`` is used when split folders exist; otherwise ``path/<class>/*`` is
    the whole dataset whatever ``split`` says.
    """
    import datasets

    splits = sorted(p.name for p in path.iterdir() if p.is_dir() and p.name.lower() in SPLIT_FOLDERS)
    if splits and split not in splits:
        raise ValueError(f"{path} has split folders {splits} but no {split!r}: pass split= one of them")
    return datasets.load_dataset("imagefolder", data_dir=str(path), split=split if splits else "train")


def read_coco(annotations: str | Path) -> dict[str, Any]:
    """A COCO instances JSON, checked for the three lists detection needs."""
    with Path(annotations).open(encoding="utf-8") as handle:
        coco = json.load(handle)
    missing = [key for key in ("images", "annotations", "categories") if key not in coco]
    if missing:
        raise ValueError(f"{annotations} is not a COCO instances file: no {missing}")
    return coco


def find_coco_json(folder: Path) -> Path:
    """The one COCO instances JSON under ``folder`` (searched recursively)."""
    candidates = [p for p in sorted(folder.rglob("*.json")) if _looks_like_coco(p)]
    if len(candidates) != 1:
        found = ", ".join(str(p.relative_to(folder)) for p in candidates) or "none"
        raise ValueError(f"expected one COCO instances JSON under {folder}, found {found}: pass annotations=")
    return candidates[0]


def _looks_like_coco(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    return b'"annotations"' in head or (b'"images"' in head and b'"categories"' in head)


def find_image_folder(folder: Path, file_names: Iterable[str]) -> Path:
    """The folder (``folder`` itself or a descendant) that holds the first of ``file_names``."""
    first = next(iter(file_names), None)
    if first is None or (folder / first).exists():
        return folder
    for candidate in sorted(folder.rglob(Path(first).name)):
        return candidate.parent
    raise FileNotFoundError(f"image {first!r} is not under {folder}: pass images=")


def image_mask_pairs(images: Path, masks: Path) -> list[tuple[Path, Path]]:
    """(image, mask) pairs matched by file stem; images without a mask are left out."""
    mask_by_stem = {p.stem: p for p in masks.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    pairs = [
        (p, mask_by_stem[p.stem])
        for p in sorted(images.iterdir())
        if p.suffix.lower() in IMAGE_SUFFIXES and p.stem in mask_by_stem
    ]
    if not pairs:
        raise ValueError(f"no image in {images} has a mask with the same stem in {masks}")
    return pairs


def find_mask_folder(folder: Path, images: Path) -> Path:
    """The subfolder of ``folder`` holding the most files named like the images in ``images``."""
    stems = {p.stem for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    best, best_count = None, 0
    for candidate in sorted(p for p in folder.iterdir() if p.is_dir() and p != images):
        count = sum(p.stem in stems for p in candidate.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if count > best_count:
            best, best_count = candidate, count
    if best is None:
        raise FileNotFoundError(f"no folder in {folder} holds masks named like the images in {images}: pass masks=")
    return best


def load_mask(mask: Any) -> np.ndarray:
    """A class-index mask as an (H, W) integer array (palette PNGs give their indices, not colours)."""
    if isinstance(mask, (str, Path)):
        mask = Image.open(mask)
    array = np.asarray(mask)
    if array.ndim == 3:
        array = array[..., 0]
    return array
