"""Every task on in-memory ``datasets.Dataset`` objects: the code path hub datasets take, run offline."""

import numpy as np
import pytest
import torch
from PIL import Image

from painters import tasks
from painters.evaluation import evaluate
from tests.task_helpers import Scripted, TokenOracle, tiny_tokenizer

datasets = pytest.importorskip("datasets")


def _images(n, size=(24, 32), seed=0):
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)) for _ in range(n)]


def _vit_processor():
    from transformers import ViTImageProcessorPil

    return ViTImageProcessorPil(size={"height": 16, "width": 16})


def test_classification_from_a_dataset_with_class_labels():
    features = datasets.Features({"img": datasets.Image(), "fine_label": datasets.ClassLabel(names=["cat", "dog"])})
    data = datasets.Dataset.from_dict({"img": _images(6), "fine_label": [0, 1, 1, 0, 1, 1]}, features=features)
    task = tasks.load("classification", data=data)
    assert task.label_names == ["cat", "dog"] and task.chance()["top1"] == pytest.approx(4 / 6)

    def make(start, count):
        logits = torch.zeros(count, 2)
        logits[torch.arange(count), 1 - task.labels[start : start + count]] = 1.0  # model ids: 0 dog, 1 cat
        return type("Out", (), {"logits": logits})()

    result = evaluate(Scripted(make, {0: "Dog", 1: "Cat"}), _vit_processor(), task, batch_size=4, progress=False)
    assert result["top1"] == 1.0 and result["n"] == 6


@pytest.mark.parametrize("layout", ["dict_of_lists", "list_of_dicts"])
def test_detection_from_a_dataset_with_objects(layout):
    from transformers import YolosImageProcessorPil
    from transformers.models.yolos.modeling_yolos import YolosObjectDetectionOutput

    names = datasets.ClassLabel(names=["cat", "dog"])
    boxes = [[[2.0, 3.0, 10.0, 8.0], [12.0, 4.0, 14.0, 16.0]], [[0.0, 0.0, 20.0, 20.0]]]  # xyxy
    categories = [[0, 1], [1]]
    if layout == "dict_of_lists":
        objects = datasets.Features({"bbox": datasets.List(datasets.List(datasets.Value("float32"))),
                                     "category": datasets.List(names)})  # fmt: skip
        rows = [{"bbox": b, "category": c} for b, c in zip(boxes, categories)]
    else:
        objects = datasets.List({"bbox": datasets.List(datasets.Value("float32")), "category": names})
        rows = [[{"bbox": x, "category": y} for x, y in zip(b, c)] for b, c in zip(boxes, categories)]
    features = datasets.Features({"image": datasets.Image(), "objects": objects})
    data = datasets.Dataset.from_dict({"image": _images(2), "objects": rows}, features=features)
    task = tasks.load("detection", data=data, bbox_format="xyxy")
    assert task.gt["annotations"][1]["bbox"] == [12.0, 4.0, 2.0, 12.0]

    def make(start, count):
        logits = torch.zeros(count, 3, 3)
        logits[:, :, 2] = 10.0
        pred = torch.full((count, 3, 4), 0.5)
        for row in range(count):
            for q, ((x0, y0, x1, y1), c) in enumerate(zip(boxes[start + row], categories[start + row])):
                logits[row, q, 2], logits[row, q, c] = 0.0, 10.0
                pred[row, q] = torch.tensor([(x0 + x1) / 64, (y0 + y1) / 48, (x1 - x0) / 32, (y1 - y0) / 24])
        return YolosObjectDetectionOutput(logits=logits, pred_boxes=pred)

    processor = YolosImageProcessorPil(size={"shortest_edge": 24, "longest_edge": 32})
    result = evaluate(Scripted(make, {0: "cat", 1: "dog"}), processor, task, batch_size=2, progress=False)
    assert result["map"] == pytest.approx(1.0) and result["n"] == 2


def test_segmentation_from_a_dataset_with_masks():
    from transformers import SegformerImageProcessorPil

    rng = np.random.default_rng(0)
    masks = [rng.integers(0, 3, (24, 32), dtype=np.uint8) for _ in range(3)]
    masks[0][:4] = 255
    features = datasets.Features({"image": datasets.Image(), "annotation": datasets.Image()})
    data = datasets.Dataset.from_dict({"image": _images(3), "annotation": [Image.fromarray(m) for m in masks]},
                                      features=features)  # fmt: skip
    task = tasks.load("segmentation", data=data, label_map="identity")

    def make(start, count):
        mask = torch.from_numpy(masks[start].astype(np.int64)).clamp(max=2)
        return type("Out", (), {"logits": torch.nn.functional.one_hot(mask, 3).permute(2, 0, 1)[None].float()})()

    processor = SegformerImageProcessorPil(size={"height": 16, "width": 16})
    result = evaluate(Scripted(make, {0: "a", 1: "b", 2: "c"}), processor, task, batch_size=1, progress=False)
    assert result["miou"] == 1.0 and result["n"] == 3


def test_text_tasks_from_datasets():
    tokenizer = tiny_tokenizer()
    oracle = TokenOracle(len(tokenizer))
    texts = datasets.Dataset.from_dict({"text": ["The quick brown fox jumps over the lazy dog.", "A man is playing."]})
    assert evaluate(oracle, tokenizer, tasks.load("last_word", data=texts), progress=False)["acc"] == 1.0
    result = evaluate(oracle, tokenizer, tasks.load("perplexity", data=texts, max_length=8), progress=False)
    assert result["perplexity"] == pytest.approx(1.0, abs=1e-6)
    piqa = datasets.Dataset.from_list([{"goal": "Open a jar", "sol1": "Twist the lid.", "sol2": "Sing.", "label": 0}])
    assert len(tasks.load("multiple_choice", data=piqa).items[0].choices) == 2
    sts = datasets.Dataset.from_dict({"sentence1": ["a", "b", "c"], "sentence2": ["a", "c", "d"], "label": [5, 2, 1]})
    assert tasks.load("sentence_similarity", data=sts).gold.tolist() == [5.0, 2.0, 1.0]
