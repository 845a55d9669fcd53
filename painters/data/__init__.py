"""Data loading: local files and folders, or hub ids through ``datasets`` (failing fast offline)."""

from painters.data.images import (
    image_mask_pairs,
    load_imagefolder,
    load_mask,
    read_coco,
    to_rgb,
)
from painters.data.labels import (
    LABEL_SETS,
    VOC_CLASSES,
    VOC_SEGMENTATION_LABELS,
    VOC_TO_COCO,
    canonical,
    match_labels,
    resolve_label_names,
)
from painters.data.source import (
    HubUnavailableError,
    hub_unavailable_reason,
    load_hub_dataset,
    local_path,
    open_source,
)
from painters.data.text import read_jsonl, read_lines, read_records, read_table

__all__ = [
    "LABEL_SETS",
    "VOC_CLASSES",
    "VOC_SEGMENTATION_LABELS",
    "VOC_TO_COCO",
    "HubUnavailableError",
    "canonical",
    "hub_unavailable_reason",
    "image_mask_pairs",
    "load_hub_dataset",
    "load_imagefolder",
    "load_mask",
    "local_path",
    "open_source",
    "match_labels",
    "read_coco",
    "read_jsonl",
    "read_lines",
    "read_records",
    "read_table",
    "resolve_label_names",
    "to_rgb",
]
