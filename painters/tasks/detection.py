"""Object detection: COCO mAP through the model's image processor post-processing and faster-coco-eval."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image
from torch import nn
from tqdm.auto import tqdm

from painters.data.images import (
    BadImages,
    ImageCheck,
    describe_source,
    find_coco_json,
    find_image_folder,
    read_coco,
    to_rgb,
    undecoded,
)
from painters.data.labels import LabelMap, Unmatched, match_labels
from painters.data.source import open_source
from painters.errors import DataNotFoundError
from painters.metrics.detection import COCO_STAT_NAMES, coco_metrics
from painters.tasks.base import BaseTask, Batch, chunks, id2label, pick_column, select, to_model
from painters.tasks.registry import register

LOCAL_HINT = "a COCO instances JSON (data=the JSON or a folder holding it, images= the image folder)"


@dataclass
class Detections:
    """One batch's detections as rows ``[image_id, x, y, w, h, score, category_id]`` (dataset ids)."""

    rows: np.ndarray
    categories: tuple[int, ...]


@register("detection", aliases=("object_detection", "object-detection"))
class ObjectDetection(BaseTask):
    """COCO box AP/AR (``map``, ``map_50``, ``map_75``, size breakdown, ``mar_*``) of an HF detector.

    data: a COCO instances JSON (or a folder holding exactly one) plus ``images`` (the image folder;
    found by file name under the data folder when omitted), or a hub dataset with an image column
    and an ``objects`` column of ``bbox`` (``bbox_format``) and ``category`` lists.
    The processor's ``post_process_object_detection`` turns outputs into boxes; dataset category
    names are matched to the model's ``id2label`` (e.g. ``label_map=VOC_TO_COCO`` for VOC on a COCO
    model); detections of model classes the dataset lacks are dropped. Chance is 0.
    Every selected image is decoded once when the task is built: one that cannot be decoded is refused
    (``bad_images="error"``) or left out with its boxes (``"skip"``, listed in ``skipped_images``).
    """

    name = "detection"
    primary_metric = "map"
    higher_is_better = True
    model_kinds = ("object-detection",)  # boxes come from the processor's post_process_object_detection
    model_hint = "an object detector (a ...ForObjectDetection checkpoint, e.g. hustvl/yolos-small)"

    def __init__(
        self,
        data: Any,
        split: str = "validation",
        limit: int | None = None,
        *,
        seed: int | None = 0,
        name: str | None = None,
        annotations: str | Path | None = None,
        images: str | Path | None = None,
        label_map: LabelMap | None = None,
        unmatched: Unmatched = "error",
        threshold: float = 0.0,
        max_detections: int = 100,
        image_column: str | None = None,
        objects_column: str = "objects",
        bbox_format: Literal["xywh", "xyxy"] = "xywh",
        bad_images: BadImages = "error",
    ) -> None:
        super().__init__()
        check = ImageCheck(self.name, bad_images)
        source = open_source(data, split=split, name=name, local_hint=LOCAL_HINT)
        if isinstance(source, Path):
            coco, self._images = _local_coco(source, annotations, images)
        else:
            coco, self._images = _hub_coco(source, image_column, objects_column, bbox_format)
        selected = select(len(coco["images"]), limit, seed)
        keep = [i for i in selected if _decodes(self._images[i], check)]
        self.skipped_images: list[str] = check.finish(len(selected))
        self.gt = _restrict(coco, [coco["images"][i]["id"] for i in keep])
        self._images = [self._images[i] for i in keep]
        self.categories = sorted(self.gt["categories"], key=lambda c: c["id"])
        self.label_map, self.unmatched = label_map, unmatched
        self.threshold, self.max_detections = threshold, max_detections
        self._mappings: dict[tuple[tuple[int, str], ...], torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.gt["images"])

    def _prepare(self, processor: Any, batch_size: int) -> Iterator[Batch]:
        records = list(zip(self.gt["images"], self._images))
        for chunk in tqdm(
            list(chunks(records, batch_size)), desc=f"preprocess {self.name}", leave=False, disable=not self.progress
        ):
            images = [source() if callable(source) else to_rgb(source) for _, source in chunk]
            inputs = processor(images=images, return_tensors="pt")
            meta = {
                "image_ids": [info["id"] for info, _ in chunk],
                "sizes": torch.tensor([[image.height, image.width] for image in images]),
                "processor": processor,
            }
            yield Batch(inputs=dict(inputs), meta=meta)

    def label_mapping(self, model: nn.Module) -> torch.Tensor:
        """A lookup from model class id to dataset category id (-1: not a dataset category)."""
        labels = id2label(model)
        key = tuple(sorted(labels.items()))
        if key not in self._mappings:
            names = [c["name"] for c in self.categories]
            mapping = match_labels(names, labels, self.label_map, unmatched=self.unmatched)
            lookup = torch.full((max(labels) + 2,), -1, dtype=torch.long)  # + "no object" class
            for index, model_id in mapping.items():
                lookup[model_id] = self.categories[index]["id"]
            self._mappings[key] = lookup
        return self._mappings[key]

    @torch.no_grad()
    def run(self, model: nn.Module, batch: Batch) -> Detections:
        lookup = self.label_mapping(model)
        outputs = model(**to_model(batch.inputs, model))
        results = batch.meta["processor"].post_process_object_detection(
            outputs, threshold=self.threshold, target_sizes=batch.meta["sizes"]
        )
        rows = [self._rows(image_id, result, lookup) for image_id, result in zip(batch.meta["image_ids"], results)]
        categories = tuple(sorted(int(c) for c in lookup[lookup >= 0].tolist()))
        return Detections(rows=np.concatenate(rows) if rows else np.zeros((0, 7)), categories=categories)

    def _rows(self, image_id: int, result: dict[str, torch.Tensor], lookup: torch.Tensor) -> np.ndarray:
        labels = result["labels"].cpu().long().clamp(0, len(lookup) - 1)
        category = lookup[labels]
        keep = category >= 0
        scores, boxes, category = (
            result["scores"].cpu().float()[keep],
            result["boxes"].cpu().double()[keep],
            category[keep],
        )
        order = scores.argsort(descending=True)[: self.max_detections]
        scores, boxes, category = scores[order], boxes[order], category[order]
        xywh = torch.cat([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], dim=1)
        ids = torch.full((len(order), 1), float(image_id), dtype=torch.float64)
        return torch.cat([ids, xywh, scores[:, None].double(), category[:, None].double()], dim=1).numpy()

    def new_accumulator(self) -> DetectionAccumulator:
        return DetectionAccumulator(self.gt)

    def chance(self) -> dict[str, float]:
        return dict.fromkeys(COCO_STAT_NAMES, 0.0)


class DetectionAccumulator:
    """Collects detections; COCO evaluation runs once, in ``compute``."""

    def __init__(self, gt: dict[str, Any]) -> None:
        self.gt = gt
        self.rows: list[np.ndarray] = []
        self.categories: set[int] | None = None
        self.n = 0

    def update(self, batch: Batch, outputs: Detections) -> None:
        self.rows.append(outputs.rows)
        self.categories = set(outputs.categories)
        self.n += len(batch.meta["image_ids"])

    def compute(self) -> dict[str, float]:
        gt = self.gt
        if self.categories is not None and len(self.categories) < len(gt["categories"]):
            gt = _restrict(gt, [i["id"] for i in gt["images"]], self.categories)
        detections = np.concatenate(self.rows) if self.rows else np.zeros((0, 7))
        return {**coco_metrics(gt, detections), "n": self.n}


def _restrict(coco: dict[str, Any], image_ids: list[int], categories: set[int] | None = None) -> dict[str, Any]:
    """A COCO dict with only the given images (and categories)."""
    wanted = set(image_ids)
    by_id = {image["id"]: image for image in coco["images"]}
    return {
        "images": [by_id[i] for i in image_ids],
        "annotations": [
            a
            for a in coco["annotations"]
            if a["image_id"] in wanted and (categories is None or a["category_id"] in categories)
        ],
        "categories": [c for c in coco["categories"] if categories is None or c["id"] in categories],
    }


def _renumber(coco: dict[str, Any]) -> dict[str, Any]:
    """Annotation ids 1..N when the file has id 0 or duplicates (COCOeval reads id 0 as "unmatched")."""
    ids = [a.get("id") for a in coco["annotations"]]
    if 0 in ids or None in ids or len(set(ids)) != len(ids):
        coco = {**coco, "annotations": [{**a, "id": i} for i, a in enumerate(coco["annotations"], start=1)]}
    return coco


def _local_coco(path: Path, annotations: str | Path | None, images: str | Path | None) -> tuple[dict, list[Path]]:
    folder = path if path.is_dir() else path.parent
    if annotations is not None:
        json_path = Path(annotations) if Path(annotations).is_absolute() else folder / annotations
    else:
        json_path = path if path.is_file() else find_coco_json(path)
    coco = _renumber(read_coco(json_path))
    names = [image["file_name"] for image in coco["images"]]
    if images is not None:
        image_dir = Path(images) if Path(images).is_absolute() else folder / images
    else:
        image_dir = find_image_folder(folder, names)
    paths = [image_dir / name for name in names]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise DataNotFoundError(f"{len(missing)} images of {json_path} are missing, e.g. {missing[0]}")
    return coco, paths


def _hub_coco(dataset: Any, image_column: str | None, objects_column: str, bbox_format: str) -> tuple[dict, list]:
    """COCO ground truth from a hub dataset whose ``objects`` hold ``bbox`` and ``category`` lists.

    Images stay in the dataset (decoded at ``prepare``); the returned sources are loaders.
    """
    image_col = pick_column(dataset.column_names, image_column, ("image", "img"), "image")
    dataset = undecoded(dataset, image_col)  # decoded row by row: one bad file fails one row
    objects = dataset.features[objects_column]
    category_feature = objects["category"] if isinstance(objects, dict) else objects.feature["category"]
    names = getattr(category_feature, "feature", category_feature).names
    coco: dict[str, Any] = {"images": [], "annotations": [], "categories": []}
    coco["categories"] = [{"id": i, "name": n} for i, n in enumerate(names)]
    for index, row in enumerate(dataset.select_columns([objects_column])):
        coco["images"].append({"id": index, "file_name": str(index)})
        objects = row[objects_column]  # a dict of lists, or a list of dicts
        if isinstance(objects, list):
            objects = {"bbox": [o["bbox"] for o in objects], "category": [o["category"] for o in objects]}
        for box, category in zip(objects["bbox"], objects["category"]):
            x, y, a, b = (float(v) for v in box)
            w, h = (a - x, b - y) if bbox_format == "xyxy" else (a, b)
            coco["annotations"].append(
                {"id": len(coco["annotations"]) + 1, "image_id": index, "category_id": int(category),
                 "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0}
            )  # fmt: skip
    return coco, [_RowImage(dataset, image_col, i) for i in range(len(dataset))]


@dataclass(frozen=True)
class _RowImage:
    """A lazily decoded image of a ``datasets`` row."""

    dataset: Any
    column: str
    index: int

    def __call__(self) -> Image.Image:
        return to_rgb(self.raw())

    def raw(self) -> Any:
        """The row's undecoded image (bytes / path dict) or whatever the column holds."""
        return self.dataset[self.index][self.column]


def _decodes(source: Path | _RowImage, check: ImageCheck) -> bool:
    """Whether the image decodes (a failure is recorded in ``check``, named by its path or dataset row)."""
    if isinstance(source, _RowImage):
        raw = source.raw()
        return check.decode(raw, describe_source(raw, source.index)) is not None
    return check.decode(source, str(source)) is not None
