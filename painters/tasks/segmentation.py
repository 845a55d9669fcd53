"""Semantic segmentation: mIoU and pixel accuracy from one confusion matrix over the whole dataset."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from painters.data.images import (
    BadImages,
    ImageCheck,
    describe_source,
    find_mask_folder,
    image_mask_pairs,
    load_mask,
    to_rgb,
    undecoded,
)
from painters.data.labels import LabelMap, Unmatched, match_labels, resolve_label_names
from painters.data.source import open_source
from painters.errors import DataError
from painters.metrics.segmentation import confusion_matrix, majority_scores, segmentation_scores
from painters.tasks.base import BaseTask, Batch, chunks, id2label, pick_column, select, to_model
from painters.tasks.registry import register

LOCAL_HINT = "a folder with an images/ folder and a masks folder of class-index PNGs with the same file stems"


@dataclass
class Predictions:
    """Predicted class maps in dataset indices, one (H, W) tensor per image at its mask's size.

    ``num_classes`` marks "a class the dataset lacks"; ``ignored`` are dataset classes left out.
    """

    maps: list[torch.Tensor]
    num_classes: int
    ignored: tuple[int, ...] = ()


@register("segmentation", aliases=("semantic_segmentation", "semantic-segmentation"))
class SemanticSegmentation(BaseTask):
    """mIoU, pixel accuracy and mean class accuracy of a semantic segmenter (DPT, SegFormer, ...).

    data: a folder of images plus a folder of class-index masks matched by file stem (``images``,
    ``masks`` name them; found by name when omitted), or a hub dataset with image and mask columns.
    ``labels`` names the mask values 0..C-1 (a list, or ``"voc"``); they are matched to the model's
    ``id2label``; ``label_map="identity"`` says the mask values are the model's class ids.
    ``ignore_index`` pixels (255 in VOC) are not scored; ``reduce_labels`` maps 0 to ignore and
    shifts the rest down (ADE20K). Predictions go through the processor's
    ``post_process_semantic_segmentation`` at each mask's size (bilinear resize of the logits).
    Chance is predicting the most frequent class everywhere.
    Every selected image and mask is decoded once when the task is built (and their sizes compared): a
    pair with a file that cannot be decoded is refused (``bad_images="error"``) or left out
    (``"skip"``, listed in ``skipped_images``).
    """

    name = "segmentation"
    primary_metric = "miou"
    higher_is_better = True
    model_kinds = ("segmentation",)  # semantic, universal (Mask2Former) or DETR-style segmenters: class maps per pixel
    model_hint = "a semantic segmenter (a ...ForSemanticSegmentation checkpoint, e.g. Intel/dpt-large-ade)"

    def __init__(
        self,
        data: Any,
        split: str = "validation",
        limit: int | None = None,
        *,
        seed: int | None = 0,
        name: str | None = None,
        images: str | Path | None = None,
        masks: str | Path | None = None,
        labels: Sequence[str] | str | None = None,
        label_map: LabelMap | None = None,
        unmatched: Unmatched = "error",
        ignore_index: int = 255,
        reduce_labels: bool = False,
        image_column: str | None = None,
        mask_column: str | None = None,
        bad_images: BadImages = "error",
    ) -> None:
        super().__init__()
        check = ImageCheck(self.name, bad_images)
        if labels is None and label_map != "identity":
            raise DataError(
                "pass labels= naming the mask values 0..C-1 (a list of names, or 'voc'), "
                "or label_map='identity' if the masks hold the model's class ids"
            )
        dataset = open_source(data, split=split, name=name, local_hint=LOCAL_HINT)
        if isinstance(dataset, Path):
            self._pairs: list[Any] = _local_pairs(dataset, images, masks)
        else:
            image_col = pick_column(dataset.column_names, image_column, ("image", "img", "pixel_values"), "image")
            mask_col = pick_column(
                dataset.column_names, mask_column, ("annotation", "label", "mask", "semantic_map", "gt"), "mask"
            )
            dataset = undecoded(dataset, image_col, mask_col)
            self._pairs = [_RowPair(dataset, image_col, mask_col, i) for i in range(len(dataset))]
        selected = [self._pairs[i] for i in select(len(self._pairs), limit, seed)]
        self._pairs = [pair for pair in selected if _decodes(pair, check)]
        self.skipped_images: list[str] = check.finish(len(selected))
        self.label_names = None if labels is None else resolve_label_names(labels)
        self.label_map, self.unmatched = label_map, unmatched
        self.ignore_index, self.reduce_labels = ignore_index, reduce_labels
        self._class_pixels: torch.Tensor | None = None
        self._mappings: dict[tuple[tuple[int, str], ...], tuple[torch.Tensor, int, tuple[int, ...]]] = {}

    def __len__(self) -> int:
        return len(self._pairs)

    def _mask(self, source: Any) -> torch.Tensor:
        mask = torch.from_numpy(np.array(load_mask(source), dtype=np.int64))
        if self.reduce_labels:
            mask = torch.where(mask == 0, self.ignore_index, mask - 1)
            mask[mask == self.ignore_index - 1] = self.ignore_index
        return mask

    def _prepare(self, processor: Any, batch_size: int) -> Iterator[Batch]:
        seen: list[torch.Tensor] = []  # per-batch class pixel counts, so no mask outlives its batch here
        for chunk in tqdm(
            list(chunks(self._pairs, batch_size)),
            desc=f"preprocess {self.name}",
            leave=False,
            disable=not self.progress,
        ):
            pairs = [pair() if callable(pair) else pair for pair in chunk]
            images = [to_rgb(image) for image, _ in pairs]
            masks = [self._mask(mask).to(torch.int16) for _, mask in pairs]
            for image, mask in zip(images, masks):
                if (image.height, image.width) != tuple(mask.shape):
                    raise DataError(f"an image of size {image.size[::-1]} has a mask of size {tuple(mask.shape)}")
            inputs = processor(images=images, return_tensors="pt")
            meta = {"masks": masks, "sizes": [tuple(m.shape) for m in masks], "processor": processor}
            if self._class_pixels is None:
                seen.append(self._count(masks))
            yield Batch(inputs=dict(inputs), meta=meta)
        if self._class_pixels is None:
            self._class_pixels = self._add(seen)

    def class_pixels(self) -> torch.Tensor:
        """Gold pixel count per mask value (ignore pixels excluded), over the selected examples."""
        if self._class_pixels is None:
            self._class_pixels = self._count(self._mask((p() if callable(p) else p)[1]) for p in self._pairs)
        return self._class_pixels

    def _count(self, masks: Iterable[torch.Tensor]) -> torch.Tensor:
        found = []
        for mask in masks:
            mask = mask.flatten().long()
            found.append(torch.bincount(mask[(mask >= 0) & (mask != self.ignore_index)]))
        return self._add(found)

    @staticmethod
    def _add(counts: Iterable[torch.Tensor]) -> torch.Tensor:
        """Sum bincounts of different lengths."""
        total = torch.zeros(0, dtype=torch.long)
        for found in counts:
            size = max(len(total), len(found))
            total = F.pad(total, (0, size - len(total))) + F.pad(found, (0, size - len(found)))
        return total

    def label_mapping(self, model: nn.Module) -> tuple[torch.Tensor, int, tuple[int, ...]]:
        """(model id -> dataset index lookup, number of dataset classes, dataset classes left out)."""
        labels = id2label(model)
        key = tuple(sorted(labels.items()))
        if key not in self._mappings:
            names = self.label_names or tuple(labels.get(i, str(i)) for i in range(max(labels) + 1))
            mapping = match_labels(names, labels, self.label_map, unmatched=self.unmatched)
            lookup = torch.full((max(labels) + 1,), len(names), dtype=torch.long)
            for index, model_id in mapping.items():
                lookup[model_id] = index
            ignored = tuple(i for i in range(len(names)) if i not in mapping)
            self._mappings[key] = (lookup, len(names), ignored)
        return self._mappings[key]

    @torch.no_grad()
    def run(self, model: nn.Module, batch: Batch) -> Predictions:
        lookup, num_classes, ignored = self.label_mapping(model)
        outputs = model(**to_model(batch.inputs, model))
        processor = batch.meta["processor"]
        sizes = batch.meta["sizes"]
        if hasattr(processor, "post_process_semantic_segmentation"):
            maps = processor.post_process_semantic_segmentation(outputs, target_sizes=sizes)
        else:
            maps = [_resize_argmax(logits, size) for logits, size in zip(outputs.logits, sizes)]
        maps = [lookup[m.cpu().long()].to(torch.int16) for m in maps]
        return Predictions(maps=maps, num_classes=num_classes, ignored=ignored)

    def new_accumulator(self) -> ConfusionAccumulator:
        return ConfusionAccumulator(self.ignore_index)

    def chance(self) -> dict[str, float]:
        return majority_scores(self.class_pixels())


class ConfusionAccumulator:
    """Sums one confusion matrix over the whole dataset."""

    def __init__(self, ignore_index: int) -> None:
        self.ignore_index = ignore_index
        self.matrix: torch.Tensor | None = None
        self.n = 0

    def update(self, batch: Batch, outputs: Predictions) -> None:
        if self.matrix is None:
            self.matrix = torch.zeros(outputs.num_classes, outputs.num_classes + 1, dtype=torch.long)
        for prediction, mask in zip(outputs.maps, batch.meta["masks"]):
            mask = mask.long()
            for ignored in outputs.ignored:
                mask = torch.where(mask == ignored, self.ignore_index, mask)
            self.matrix += confusion_matrix(prediction, mask, outputs.num_classes, self.ignore_index)
        self.n += len(outputs.maps)

    def compute(self) -> dict[str, float]:
        if self.matrix is None:
            return {"miou": float("nan"), "pixel_acc": float("nan"), "mean_acc": float("nan"), "n": 0}
        return {**segmentation_scores(self.matrix), "n": self.n}


def _resize_argmax(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    resized = F.interpolate(logits[None].float(), size=size, mode="bilinear", align_corners=False)
    return resized[0].argmax(dim=0)


def _local_pairs(path: Path, images: str | Path | None, masks: str | Path | None) -> list[tuple[Path, Path]]:
    image_dir = path / images if images is not None else (path / "images" if (path / "images").is_dir() else path)
    mask_dir = path / masks if masks is not None else find_mask_folder(path, image_dir)
    return image_mask_pairs(image_dir, mask_dir)


def _decodes(pair: tuple[Path, Path] | _RowPair, check: ImageCheck) -> bool:
    """Whether the image and its mask decode (a failure is recorded in ``check``) and have the same size.

    Sizes that differ are an error whatever ``bad_images`` says: the files decode, but do not belong together.
    """
    if isinstance(pair, _RowPair):
        image, mask = pair()
        names = (describe_source(image, pair.index), describe_source(mask, pair.index))
        names = (f"{names[0]} (column {pair.image_column!r})", f"{names[1]} (column {pair.mask_column!r})")
    else:
        image, mask = pair
        names = (str(image), str(mask))
    decoded = check.decode(image, names[0])
    if decoded is None:
        return False
    decoded_mask = check.decode(mask, names[1], load_mask)
    if decoded_mask is None:
        return False
    if (decoded.height, decoded.width) != decoded_mask.shape[:2]:
        (w, h), (mh, mw) = decoded.size, decoded_mask.shape[:2]
        raise DataError(
            f"segmentation: image {names[0]} is {h}x{w} (HxW) but its mask {names[1]} is {mh}x{mw}: "
            f"each mask must have its image's size"
        )
    return True


@dataclass(frozen=True)
class _RowPair:
    """A lazily decoded (image, mask) pair of a ``datasets`` row."""

    dataset: Any
    image_column: str
    mask_column: str
    index: int

    def __call__(self) -> tuple[Any, Any]:
        row = self.dataset[self.index]
        return row[self.image_column], row[self.mask_column]
