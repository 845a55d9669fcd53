"""Fashion-MNIST from its four IDX files (Debian's ``dataset-fashion-mnist`` puts them in /usr/share/datasets)."""

from __future__ import annotations

import gzip
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from painters.errors import PaintersError

DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where ``apt-get install dataset-fashion-mnist`` puts the files; ``PAINTERS_FASHION_MNIST`` overrides it."""

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
"""The 10 classes in label order ("T-shirt/top" spelt without the slash, so that it can name a folder)."""

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
Split = Literal["train", "test"]


class FashionMNISTMissing(PaintersError, FileNotFoundError):
    """The IDX files are not where they were looked for."""


def data_dir() -> Path:
    """The folder holding the IDX files (``$PAINTERS_FASHION_MNIST`` or /usr/share/datasets/fashion-mnist)."""
    return Path(os.environ.get("PAINTERS_FASHION_MNIST", DEFAULT_DIR))


def available() -> bool:
    """Whether all four IDX files can be found."""
    try:
        for split in _FILES:
            _paths(split)
    except FashionMNISTMissing:
        return False
    return True


def _paths(split: Split) -> tuple[Path, Path]:
    if split not in _FILES:
        raise ValueError(f"split must be one of {sorted(_FILES)}, got {split!r}")
    folder = data_dir()
    found = []
    for stem in _FILES[split]:
        candidates = [folder / f"{stem}.gz", folder / stem]
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            raise FashionMNISTMissing(
                f"Fashion-MNIST file {stem}(.gz) not found in {folder}. Install it with "
                "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu, MIT licence), or set "
                "PAINTERS_FASHION_MNIST to a folder holding the four IDX files."
            )
        found.append(path)
    return found[0], found[1]


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX array (uint8 data, gzipped or not), shaped as its header says."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape} but holds {array.size} bytes")
    return array.reshape(shape)


@lru_cache(maxsize=2)
def load(split: Split) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: uint8 (N, 28, 28) and int64 (N,) for ``"train"`` (60k) or ``"test"`` (10k)."""
    images_path, labels_path = _paths(split)
    images, labels = read_idx(images_path), read_idx(labels_path).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"{images_path} has {len(images)} images but {labels_path} {len(labels)} labels")
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels
