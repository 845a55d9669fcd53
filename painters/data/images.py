"""Image datasets: image folders (through ``datasets``), COCO instances JSON, image + mask folders."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from painters.errors import ConfigError, DataError, DataNotFoundError, PaintersError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
SPLIT_FOLDERS = ("train", "training", "validation", "valid", "val", "dev", "test", "testing", "eval", "evaluation")


BadImages = Literal["skip", "error"]
BAD_IMAGES: tuple[str, ...] = ("error", "skip")


class BadImageError(PaintersError, ValueError):
    """Images that cannot be decoded, under ``bad_images="error"``; the message names each file and the fix."""


class BadImageWarning(UserWarning):
    """Examples left out under ``bad_images="skip"`` because their image cannot be decoded."""


def open_image(source: Any) -> Image.Image:
    """A fully decoded PIL image (mode unchanged) from a PIL image, a path, bytes, or a ``datasets`` image dict.

    Decoding happens here, not lazily later, so a truncated or corrupt file fails in this call.
    """
    if isinstance(source, Mapping):
        data, path = source.get("bytes"), source.get("path")
        if data is None and path is None:
            raise ValueError("the row holds no image (no bytes and no path)")
        source = data if data is not None else path  # hub rows: bytes, and a path naming a file in the archive
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
        except UnidentifiedImageError:
            head = f", starting {data[:16]!r}" if data else ""
            raise UnidentifiedImageError(f"cannot identify image data ({len(data)} bytes{head})") from None
        return image
    if isinstance(source, (str, Path)):
        with Image.open(source) as image:
            image.load()
        return image
    if isinstance(source, Image.Image):
        source.load()
        return source
    raise TypeError(f"cannot read an image from {type(source).__name__}")


def to_rgb(image: Any) -> Image.Image:
    """A PIL RGB image from a PIL image, a path, bytes, or a ``datasets`` image dict."""
    return open_image(image).convert("RGB")


def check_bad_images(value: Any) -> BadImages:
    """``value`` if it is a valid ``bad_images`` setting, else a ValueError naming the field, value and choices."""
    if not isinstance(value, str) or value not in BAD_IMAGES:
        raise ConfigError(
            f"bad_images must be 'error' (refuse data holding an image that cannot be decoded) or 'skip' (leave "
            f"such examples out, with their labels), got {value!r}"
        )
    return value  # type: ignore[return-value]


def describe_source(source: Any, index: int | None = None) -> str:
    """How to name an image in a message: its local path, else ``row N`` of the dataset (with the path it records)."""
    path = source.get("path") if isinstance(source, Mapping) else source if isinstance(source, (str, Path)) else None
    if index is None or (path and Path(path).is_file()):
        return str(path) if path else "an image"
    return f"row {index} ({path})" if path else f"row {index}"


def decode_error(exc: BaseException) -> str:
    """``"OSError: image file is truncated"``: the exception's type and message."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class ImageCheck:
    """Decodes every image of a task once, before any model work, and collects those that fail.

    One failure per example (a task decoding two images per example stops at the first that fails).
    ``decode`` returns the decoded image or None; ``finish`` then raises :class:`BadImageError`
    (``bad_images="error"``) naming every failing file, or warns how many examples were left out
    (``"skip"``) and returns their names.
    """

    def __init__(self, task: str, bad_images: Any) -> None:
        self.task = task
        self.bad_images = check_bad_images(bad_images)
        self.failures: list[tuple[str, str]] = []

    def decode(self, source: Any, what: str, loader: Callable[[Any], Any] | None = None) -> Any:
        """The decoded image (``loader(source)``, default :func:`open_image`), or None (recorded) if it cannot be
        decoded. ``source`` may be a callable returning the source."""
        try:
            return (loader or open_image)(source() if callable(source) else source)
        except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, EOFError, DecompressionBombError...
            self.failures.append((what, decode_error(exc)))
            return None

    def finish(self, total: int) -> list[str]:
        """Raise or warn about the failures among ``total`` examples; the names of the examples left out."""
        if not self.failures:
            return []
        count = len(self.failures)
        shown = "; ".join(f"{what} ({error})" for what, error in self.failures[:5])
        more = f"; and {count - 5} more" if count > 5 else ""
        listing = f"{count} of {total} images cannot be decoded: {shown}{more}"
        if self.bad_images == "error":
            raise BadImageError(
                f"{self.task}: {listing}. Fix: remove or replace the file(s), or pass bad_images='skip' (in a sweep "
                f"file: options: {{bad_images: skip}}) to leave those examples out."
            )
        if count >= total:
            raise BadImageError(
                f"{self.task}: {listing}; with bad_images='skip' no example is left to score: "
                f"check the data path and the files."
            )
        warnings.warn(
            f"{self.task}: skipped {count} of {total} examples whose image cannot be decoded (bad_images='skip'); "
            f"scores are over the other {total - count}. Skipped: {shown}{more}.",
            BadImageWarning,
            stacklevel=3,
        )
        return [what for what, _ in self.failures]


def undecoded(dataset: Any, *columns: str) -> Any:
    """A ``datasets`` dataset whose image ``columns`` give raw bytes / paths instead of decoded images, so that
    each row is decoded on its own (by :class:`ImageCheck`, then :func:`to_rgb`): one corrupt file then fails one
    row, with its name, not a whole batch. Columns that are not ``datasets.Image`` are left as they are."""
    import datasets

    features = getattr(dataset, "features", None) or {}
    for column in columns:
        feature = features.get(column)
        if isinstance(feature, datasets.Image) and feature.decode:
            dataset = dataset.cast_column(column, datasets.Image(mode=feature.mode, decode=False))
    return dataset


def load_imagefolder(path: Path, split: str) -> Any:
    """``datasets``' imagefolder: one subfolder per class, labels in alphabetical folder order.

    ``path/<split>/<class>/*`` is used when split folders exist; otherwise ``path/<class>/*`` is
    the whole dataset whatever ``split`` says.
    """
    import datasets

    splits = sorted(p.name for p in path.iterdir() if p.is_dir() and p.name.lower() in SPLIT_FOLDERS)
    if splits and split not in splits:
        raise ConfigError(f"{path} has split folders {splits} but no {split!r}: pass split= one of them")
    return datasets.load_dataset("imagefolder", data_dir=str(path), split=split if splits else "train")


def read_coco(annotations: str | Path) -> dict[str, Any]:
    """A COCO instances JSON, checked for the three lists detection needs."""
    with Path(annotations).open(encoding="utf-8") as handle:
        coco = json.load(handle)
    missing = [key for key in ("images", "annotations", "categories") if key not in coco]
    if missing:
        raise DataError(f"{annotations} is not a COCO instances file: no {missing}")
    return coco


def find_coco_json(folder: Path) -> Path:
    """The one COCO instances JSON under ``folder`` (searched recursively)."""
    candidates = [p for p in sorted(folder.rglob("*.json")) if _looks_like_coco(p)]
    if len(candidates) != 1:
        found = ", ".join(str(p.relative_to(folder)) for p in candidates) or "none"
        raise ConfigError(f"expected one COCO instances JSON under {folder}, found {found}: pass annotations=")
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
    raise DataNotFoundError(f"image {first!r} is not under {folder}: pass images=")


def image_mask_pairs(images: Path, masks: Path) -> list[tuple[Path, Path]]:
    """(image, mask) pairs matched by file stem; images without a mask are left out."""
    mask_by_stem = {p.stem: p for p in masks.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    pairs = [
        (p, mask_by_stem[p.stem])
        for p in sorted(images.iterdir())
        if p.suffix.lower() in IMAGE_SUFFIXES and p.stem in mask_by_stem
    ]
    if not pairs:
        raise DataError(f"no image in {images} has a mask with the same stem in {masks}")
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
    if isinstance(mask, (str, Path, Mapping, bytes, bytearray, memoryview)):
        mask = open_image(mask)
    array = np.asarray(mask)
    if array.ndim == 3:
        array = array[..., 0]
    return array
