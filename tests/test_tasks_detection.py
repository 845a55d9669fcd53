"""Object detection end to end on the real VOC boxes, through YOLOS's own post-processing."""

import random

import pytest
import torch

from painters import tasks
from painters.data.labels import VOC_TO_COCO
from painters.evaluation import evaluate
from tests.task_helpers import Scripted, coco_id2label, shared_data


@pytest.fixture(scope="module")
def processor():
    from transformers import YolosImageProcessorPil

    return YolosImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 96})


@pytest.fixture(scope="module")
def voc():
    return tasks.load("detection", data=str(shared_data() / "voc100"), label_map=VOC_TO_COCO)


def _replay(task, relabel=None):
    """A fake detector answering each image's ground truth boxes as YOLOS outputs (cx, cy, w, h in [0, 1])."""
    id2label = coco_id2label()
    model_id = {}
    for category in task.categories:
        name = VOC_TO_COCO.get(category["name"], category["name"])
        model_id[category["id"]] = next((i for i, n in id2label.items() if n == name), None)
    by_image = {}
    for ann in task.gt["annotations"]:
        if not ann.get("iscrowd") and model_id.get(ann["category_id"]) is not None:
            by_image.setdefault(ann["image_id"], []).append(ann)
    relabel = relabel or {}

    def make(start, count):
        images = task.gt["images"][start : start + count]
        queries = max(len(by_image.get(i["id"], [])) for i in images) + 1
        logits = torch.zeros(count, queries, len(id2label) + 1)
        logits[:, :, -1] = 10.0  # "no object"
        boxes = torch.full((count, queries, 4), 0.5)
        for row, image in enumerate(images):
            for q, ann in enumerate(by_image.get(image["id"], [])):
                x, y, w, h = ann["bbox"]
                logits[row, q, -1] = 0.0
                logits[row, q, model_id[relabel.get(ann["id"], ann["category_id"])]] = 10.0
                boxes[row, q] = torch.tensor([(x + w / 2) / image["width"], (y + h / 2) / image["height"],
                                              w / image["width"], h / image["height"]])  # fmt: skip
        from transformers.models.yolos.modeling_yolos import YolosObjectDetectionOutput

        return YolosObjectDetectionOutput(logits=logits, pred_boxes=boxes)

    return Scripted(make, id2label)


def test_voc_ground_truth_loads(voc):
    assert len(voc) == 100 and len(voc.gt["annotations"]) == 273 and len(voc.categories) == 20


def test_perfect_detections_score_one(voc, processor):
    result = evaluate(_replay(voc), processor, voc, batch_size=25, progress=False)
    for metric in ("map", "map_50", "map_75", "map_medium", "map_large", "mar_100"):
        assert result[metric] == pytest.approx(1.0, abs=1e-6), metric
    assert result["n"] == 100 and result["chance"] == 0.0 and result["normalised"] == 1.0


def test_shuffled_labels_score_lower(voc, processor):
    anns = voc.gt["annotations"]
    shuffled = [a["category_id"] for a in anns]
    random.Random(0).shuffle(shuffled)
    result = evaluate(_replay(voc, {a["id"]: c for a, c in zip(anns, shuffled)}), processor, voc, batch_size=25,
                      progress=False)  # fmt: skip
    assert 0.0 < result["map"] < 0.5


def test_voc_names_without_a_mapping_fail_clearly(processor):
    task = tasks.load("detection", data=str(shared_data() / "voc100"), limit=4)
    with pytest.raises(ValueError, match=r"'aeroplane' \(closest model label: 'airplane'\).*label_map="):
        evaluate(_replay(task), processor, task, progress=False)


def test_limit_restricts_images_and_ground_truth(processor):
    task = tasks.load("detection", data=str(shared_data() / "voc100"), label_map=VOC_TO_COCO, limit=10)
    ids = {i["id"] for i in task.gt["images"]}
    assert len(ids) == 10 and all(a["image_id"] in ids for a in task.gt["annotations"])
    assert evaluate(_replay(task), processor, task, batch_size=4, progress=False)["map"] == pytest.approx(1.0)


def test_coco_sample_drops_unmatched_stuff_categories(processor):
    data = shared_data() / "coco-val2017-sample" / "sample_data" / "panoptic_coco_detection_format.json"
    task = tasks.load("detection", data=str(data), unmatched="drop")
    result = evaluate(_replay(task), processor, task, progress=False)
    assert result["map"] == pytest.approx(1.0, abs=1e-6) and result["n"] == 2
    assert min(a["id"] for a in task.gt["annotations"]) == 1  # the file's id 0 would read as "unmatched"
    strict = tasks.load("detection", data=str(data))
    with pytest.raises(ValueError, match="match no model label"):
        evaluate(_replay(strict), processor, strict, progress=False)


def test_tiny_yolos_end_to_end(processor):
    from transformers import YolosConfig, YolosForObjectDetection

    torch.manual_seed(0)
    config = YolosConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                         image_size=[64, 96], patch_size=16, num_detection_tokens=10)  # fmt: skip
    config.id2label = coco_id2label()
    task = tasks.load("detection", data=str(shared_data() / "voc100"), label_map=VOC_TO_COCO, limit=6)
    result = evaluate(YolosForObjectDetection(config), processor, task, batch_size=3, progress=False)
    assert set(result) >= {"map", "map_50", "map_75", "map_small", "mar_100", "baseline_map", "normalised"}
    assert 0.0 <= result["map"] <= 1.0 and result["n"] == 6
