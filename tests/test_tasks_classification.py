"""Image classification end to end on real VOC photos arranged as an image folder."""

import json
from collections import Counter

import pytest
import torch

from painters import tasks
from painters.evaluation import evaluate
from tests.task_helpers import Scripted, shared_data

CLASSES = ("aeroplane", "person", "sofa")
MODEL_LABELS = {0: "sofa", 1: "person", 2: "airplane", 3: "boat"}  # another order, other names, one extra


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """test/<class>/<image> symlinks: each VOC image filed under its largest box's class."""
    voc = shared_data() / "voc100"
    coco = json.loads((voc / "gts" / "coco_format_v2" / "instances_v2.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    files = {i["id"]: i["file_name"] for i in coco["images"]}
    largest = {}
    for ann in coco["annotations"]:
        if ann["image_id"] not in largest or ann["area"] > largest[ann["image_id"]]["area"]:
            largest[ann["image_id"]] = ann
    root = tmp_path_factory.mktemp("imagefolder")
    for image_id, ann in largest.items():
        label = names[ann["category_id"]]
        if label in CLASSES:
            (root / "test" / label).mkdir(parents=True, exist_ok=True)
            (root / "test" / label / files[image_id]).symlink_to(voc / "images" / files[image_id])
    return root


@pytest.fixture(scope="module")
def processor():
    from transformers import ViTImageProcessorPil

    return ViTImageProcessorPil(size={"height": 32, "width": 32})


@pytest.fixture(scope="module")
def task(folder):
    return tasks.load("classification", data=str(folder), split="test", label_map={"aeroplane": "airplane"}, top_k=2)


def _oracle(task, shift=0):
    """Logits with the true class (shifted by ``shift`` dataset classes) on top, in the model's ids."""
    to_model = {i: {v: k for k, v in MODEL_LABELS.items()}[n if n != "aeroplane" else "airplane"]
                for i, n in enumerate(task.label_names)}  # fmt: skip

    def make(start, count):
        logits = torch.zeros(count, len(MODEL_LABELS))
        for row, label in enumerate(task.labels[start : start + count].tolist()):
            logits[row, to_model[(label + shift) % len(CLASSES)]] = 5.0
            logits[row, 3] = 1.0  # "boat", a model class the dataset lacks, always second
        return type("Out", (), {"logits": logits})()

    return Scripted(make, MODEL_LABELS)


def test_labels_follow_alphabetical_folder_order(task):
    assert task.label_names == list(CLASSES)
    assert len(task) == 40
    assert Counter(task.labels.tolist()) == {1: 23, 0: 9, 2: 8}


def test_perfect_predictions_score_one(task, processor):
    result = evaluate(_oracle(task), processor, task, batch_size=16, progress=False)
    assert result["top1"] == 1.0 and result["top2"] == 1.0 and result["n"] == 40
    assert result["chance_top1"] == pytest.approx(23 / 40) and result["chance_top2"] == pytest.approx(32 / 40)
    assert result["normalised"] == 1.0


def test_wrong_predictions_score_zero_and_unmapped_classes_count_as_wrong(task, processor):
    result = evaluate(_oracle(task, shift=1), processor, task, batch_size=16, progress=False)
    assert result["top1"] == 0.0
    assert result["top2"] == 0.0  # the runner-up is "boat": not a dataset class


def test_restrict_ranks_only_dataset_classes(folder, processor):
    task = tasks.load("classification", data=str(folder), split="test", label_map={"aeroplane": "airplane"},
                      top_k=2, restrict=True)  # fmt: skip
    result = evaluate(_oracle(task, shift=1), processor, task, batch_size=16, progress=False)
    assert result["top1"] == 0.0 and result["top2"] > 0.0


def test_unmatched_label_names_raise(folder, processor):
    task = tasks.load("classification", data=str(folder), split="test")
    with pytest.raises(ValueError, match=r"'aeroplane' \(closest model label: 'airplane'\)"):
        evaluate(_oracle(task), processor, task, progress=False)


def test_prepare_runs_once_per_processor(task, processor):
    calls = []

    def counting(**kwargs):
        calls.append(1)
        return processor(**kwargs)

    first = task.prepare(counting, 16)
    assert task.prepare(counting, 16) is first
    assert len(calls) == 3  # 40 images in batches of 16
    assert task.prepare(counting, 8) is not first
    assert first[0].inputs["pixel_values"].shape == (16, 3, 32, 32)


def test_tiny_vit_end_to_end(task, processor):
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(0)
    config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                       image_size=32, patch_size=8, num_labels=4, id2label=MODEL_LABELS)  # fmt: skip
    model = ViTForImageClassification(config)
    result = evaluate(model, processor, task, batch_size=16, progress=False)
    assert 0.0 <= result["top1"] <= result["top2"] <= 1.0
    assert result["baseline_top1"] == result["top1"] and result["n"] == 40
    assert model.training  # evaluate restores the mode it found
