"""Image classification: top-1 / top-5 accuracy, dataset labels matched to the model's ``id2label``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn
from tqdm.auto import tqdm

from painters.data.images import BadImages, ImageCheck, describe_source, load_imagefolder, to_rgb, undecoded
from painters.data.labels import LabelMap, match_labels
from painters.data.source import open_source
from painters.errors import DataError
from painters.metrics.classification import majority_topk_accuracy, topk_correct
from painters.tasks.base import BaseTask, Batch, chunks, id2label, pick_column, select, to_model
from painters.tasks.registry import register

LOCAL_HINT = "an image folder with one subfolder per class (optionally inside train/ validation/ test/ folders)"


@register("classification", aliases=("image_classification", "image-classification"))
class ImageClassification(BaseTask):
    """Top-k accuracy of an image classifier.

    data: an image folder (``datasets``' imagefolder: labels are the class folder names, in
    alphabetical order) or a hub dataset id with an image column and a label column.
    Dataset label names are matched to the model's ``id2label`` (see ``match_labels``; pass
    ``label_map`` where the names differ). A prediction of a model class the dataset does not
    have counts as wrong; ``restrict=True`` instead ranks only the dataset's classes.
    Chance is the majority class (the k most frequent labels for top-k).
    Every selected image is decoded once when the task is built: one that cannot be decoded is refused
    (``bad_images="error"``) or left out with its label (``"skip"``, listed in ``skipped_images``).
    """

    name = "classification"
    primary_metric = "top1"
    higher_is_better = True
    model_kinds = ("image-classification",)  # run() reads logits over the model's id2label
    model_hint = "an image classifier (a ...ForImageClassification checkpoint, e.g. facebook/deit-small-patch16-224)"

    def __init__(
        self,
        data: Any,
        split: str = "test",
        limit: int | None = None,
        *,
        seed: int | None = 0,
        name: str | None = None,
        image_column: str | None = None,
        label_column: str | None = None,
        label_map: LabelMap | None = None,
        restrict: bool = False,
        top_k: int = 5,
        bad_images: BadImages = "error",
    ) -> None:
        super().__init__()
        self.image_column, self.dataset, self.label_names, self.labels, self.skipped_images = labelled_images(
            self.name, data, split, limit, seed, name, image_column, label_column, bad_images
        )
        self.label_map, self.restrict, self.top_k = label_map, restrict, top_k
        self._mappings: dict[tuple[tuple[int, str], ...], tuple[torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.labels)

    def _prepare(self, processor: Any, batch_size: int) -> Iterator[Batch]:
        for indices in tqdm(
            list(chunks(range(len(self)), batch_size)),
            desc=f"preprocess {self.name}",
            leave=False,
            disable=not self.progress,
        ):
            rows = self.dataset[indices.start : indices.stop]
            images = [to_rgb(image) for image in rows[self.image_column]]
            inputs = processor(images=images, return_tensors="pt")
            yield Batch(inputs=dict(inputs), meta={"labels": self.labels[indices.start : indices.stop]})

    def label_mapping(self, model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """(model id -> dataset index or -1, dataset index -> model id), validated once per label set."""
        labels = id2label(model)
        key = tuple(sorted(labels.items()))
        if key not in self._mappings:
            mapping = match_labels(self.label_names, labels, self.label_map)
            to_dataset = torch.full((max(labels) + 1,), -1, dtype=torch.long)
            for dataset_index, model_id in mapping.items():
                to_dataset[model_id] = dataset_index
            to_model_ids = torch.tensor([mapping[i] for i in range(len(self.label_names))], dtype=torch.long)
            self._mappings[key] = (to_dataset, to_model_ids)
        return self._mappings[key]

    @torch.no_grad()
    def run(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """The top-k predictions as dataset label indices, (B, k) (-1 = a class the dataset lacks)."""
        to_dataset, to_model_ids = self.label_mapping(model)
        logits = model(**to_model(batch.inputs, model)).logits.float().cpu()
        if self.restrict:
            logits = logits[:, to_model_ids]
            return logits.topk(min(self.top_k, logits.shape[1]), dim=1).indices
        top = logits.topk(min(self.top_k, logits.shape[1]), dim=1).indices
        return to_dataset[top]

    def new_accumulator(self) -> TopKAccumulator:
        return TopKAccumulator(self.top_k)

    def chance(self) -> dict[str, float]:
        return {f"top{k}": majority_topk_accuracy(self.labels, k) for k in sorted({1, self.top_k})}


class TopKAccumulator:
    """Counts top-1 and top-k hits."""

    def __init__(self, top_k: int) -> None:
        self.ks = sorted({1, top_k})
        self.hits = dict.fromkeys(self.ks, 0)
        self.n = 0

    def update(self, batch: Batch, outputs: torch.Tensor) -> None:
        labels = batch.meta["labels"]
        for k in self.ks:
            self.hits[k] += int(topk_correct(outputs, labels, k).sum())
        self.n += len(labels)

    def compute(self) -> dict[str, float]:
        scores = {f"top{k}": (hits / self.n if self.n else float("nan")) for k, hits in self.hits.items()}
        return {**scores, "n": self.n}


def _decodable(rows: Any, column: str, indices: list[int], check: ImageCheck, chunk: int = 256) -> list[int]:
    """Positions in ``rows`` whose image decodes (failures go to ``check``, named by path or dataset row)."""
    good = []
    for start in range(0, len(rows), chunk):
        for position, image in enumerate(rows[start : start + chunk][column], start=start):
            if check.decode(image, describe_source(image, indices[position])) is not None:
                good.append(position)
    return good


def _label_names(dataset: Any, column: str, values: list[Any]) -> tuple[list[str], list[int]]:
    """Names of the label classes and the examples' label indices (string labels are sorted)."""
    feature = dataset.features[column]
    names = getattr(feature, "names", None)
    if names is not None:
        return list(names), [int(v) for v in values]
    if values and isinstance(values[0], str):
        names = sorted(set(values))
        return names, [names.index(v) for v in values]
    raise DataError(
        f"label column {column!r} has no class names: use a dataset whose labels are a ClassLabel or strings"
    )


class LabelledImages(NamedTuple):
    """What the image tasks read: the image column, the kept rows (undecoded), class names, labels, skipped."""

    image_column: str
    dataset: Any
    label_names: list[str]
    labels: torch.Tensor
    skipped_images: list[str]


def labelled_images(
    task: str,
    data: Any,
    split: str,
    limit: int | None,
    seed: int | None,
    name: str | None,
    image_column: str | None,
    label_column: str | None,
    bad_images: BadImages,
) -> LabelledImages:
    """An image folder or hub dataset with a label column: ``limit`` rows drawn with ``seed``, every image checked
    decodable (``bad_images`` says what to do with one that is not), the class names and labels."""
    check = ImageCheck(task, bad_images)
    source = open_source(data, split=split, name=name, local_hint=LOCAL_HINT)
    dataset = load_imagefolder(source, split) if isinstance(source, Path) else source
    column = pick_column(dataset.column_names, image_column, ("image", "img", "pixel_values"), "image")
    label_col = pick_column(dataset.column_names, label_column, ("label", "labels", "fine_label", "class"), "label")
    dataset = undecoded(dataset, column)
    keep = select(len(dataset), limit, seed)
    good = _decodable(dataset.select(keep), column, keep, check)
    skipped = check.finish(len(keep))
    kept = dataset.select([keep[i] for i in good])
    label_names, labels = _label_names(dataset, label_col, kept[label_col])
    return LabelledImages(column, kept, label_names, torch.tensor(labels, dtype=torch.long), skipped)
