"""Explicit, validated mapping between a dataset's label names and a model's ``id2label``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Literal

VOC_CLASSES: tuple[str, ...] = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip
"""The 20 Pascal VOC classes in their standard order (mask value i + 1)."""

VOC_SEGMENTATION_LABELS: tuple[str, ...] = ("background", *VOC_CLASSES)
"""Names of VOC mask values 0..20 (255 = ignore)."""

VOC_TO_COCO: dict[str, str] = {
    "aeroplane": "airplane",
    "diningtable": "dining table",
    "motorbike": "motorcycle",
    "pottedplant": "potted plant",
    "sofa": "couch",
    "tvmonitor": "tv",
}
"""VOC class names whose COCO counterpart is spelt differently; the other 14 are the same word."""

LABEL_SETS: dict[str, tuple[str, ...]] = {"voc": VOC_SEGMENTATION_LABELS}
"""Named label lists accepted wherever a list of label names is expected."""

LabelMap = Mapping[str, str | int] | Literal["identity"]
Unmatched = Literal["error", "drop"]


def canonical(name: str) -> str:
    """Lower case, with ``_``/``-`` as spaces and runs of spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-]", " ", str(name).lower())).strip()


def resolve_label_names(labels: Sequence[str] | str) -> tuple[str, ...]:
    """A list of names, or the name of a known set such as ``"voc"``."""
    if isinstance(labels, str):
        if labels not in LABEL_SETS:
            raise ValueError(f"unknown label set {labels!r}; known: {sorted(LABEL_SETS)}")
        return LABEL_SETS[labels]
    return tuple(str(label) for label in labels)


def _model_index(id2label: Mapping[int, str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for model_id, name in sorted((int(k), v) for k, v in id2label.items()):
        for synonym in [name, *str(name).split(",")]:  # ImageNet names list synonyms: "tench, Tinca tinca"
            index.setdefault(canonical(synonym), model_id)
    return index


def match_labels(
    dataset_labels: Sequence[str],
    id2label: Mapping[int, str],
    label_map: LabelMap | None = None,
    *,
    unmatched: Unmatched = "error",
) -> dict[int, int]:
    """Map each dataset label index to a model class id.

    A dataset label matches the model label of the same name (case, ``_`` and ``-`` ignored; any
    comma-separated synonym of a model label counts). ``label_map`` renames dataset labels first
    (``{"aeroplane": "airplane"}``) or pins them to model ids (``{"aeroplane": 5}``);
    ``label_map="identity"`` means dataset index i is model id i. Dataset labels left without a
    model label raise ValueError (``unmatched="error"``) or are left out (``unmatched="drop"``).
    """
    model_ids = {int(k) for k in id2label}
    if label_map == "identity":
        missing = [i for i in range(len(dataset_labels)) if i not in model_ids]
        if missing:
            raise ValueError(f"label_map='identity' but the model has no class ids {missing[:10]}")
        return {i: i for i in range(len(dataset_labels))}
    label_map = dict(label_map or {})
    unknown_keys = [key for key in label_map if key not in dataset_labels]
    if unknown_keys:
        raise ValueError(f"label_map names {unknown_keys}, which are not dataset labels {list(dataset_labels)}")
    index = _model_index(id2label)
    mapping: dict[int, int] = {}
    missing_names: list[str] = []
    for i, name in enumerate(dataset_labels):
        target = label_map.get(name, name)
        if isinstance(target, int):
            if target not in model_ids:
                raise ValueError(f"label_map sends {name!r} to id {target}, which the model does not have")
            mapping[i] = target
        elif canonical(target) in index:
            mapping[i] = index[canonical(target)]
        else:
            missing_names.append(name)
    if missing_names and unmatched == "error":
        raise ValueError(_unmatched_message(missing_names, label_map, id2label, index))
    _check_one_to_one(mapping, dataset_labels, id2label)
    return mapping


def _unmatched_message(
    missing: Sequence[str], label_map: Mapping[str, str | int], id2label: Mapping[int, str], index: Mapping[str, int]
) -> str:
    hints = []
    for name in missing:
        close = difflib.get_close_matches(canonical(label_map.get(name, name)), list(index), n=1, cutoff=0.6)
        hints.append(f"{name!r} (closest model label: {close[0]!r})" if close else repr(name))
    examples = ", ".join(repr(v) for _, v in sorted((int(k), v) for k, v in id2label.items())[:8])
    return (
        f"{len(missing)} dataset label(s) match no model label: {', '.join(hints)}. "
        f"The model's labels ({len(id2label)}) begin {examples}. Pass label_map={{dataset name: model name or id}}, "
        "label_map='identity' if the dataset uses the model's ids, or unmatched='drop' to leave them out."
    )


def _check_one_to_one(mapping: Mapping[int, int], dataset_labels: Sequence[str], id2label: Mapping[int, str]) -> None:
    seen: dict[int, int] = {}
    for i, model_id in mapping.items():
        if model_id in seen:
            raise ValueError(
                f"dataset labels {dataset_labels[seen[model_id]]!r} and {dataset_labels[i]!r} both map to "
                f"model label {id2label.get(model_id, model_id)!r}; pass label_map= to tell them apart"
            )
        seen[model_id] = i
