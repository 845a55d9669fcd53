"""Semantic segmentation end to end on the real VOC masks (255 = ignore), through real post-processing."""

import pytest
import torch

from painters import tasks
from painters.data.labels import VOC_SEGMENTATION_LABELS
from painters.evaluation import evaluate
from tests.task_helpers import Scripted, shared_data

MODEL_LABELS = dict(enumerate(reversed(VOC_SEGMENTATION_LABELS)))  # the model's ids run the other way


@pytest.fixture(scope="module")
def processor():
    from transformers import SegformerImageProcessorPil

    return SegformerImageProcessorPil(size={"height": 64, "width": 64})


def _voc(**kwargs):
    return tasks.load("segmentation", data=str(shared_data() / "voc100"), labels="voc", **kwargs)


def _replay(task, processor, permutation=None):
    """A fake segmenter whose logits are the one-hot ground truth (in the model's ids) at the mask's size."""
    masks = [m for batch in task.prepare(processor, 1) for m in batch.meta["masks"]]
    to_model = torch.tensor([len(VOC_SEGMENTATION_LABELS) - 1 - i for i in range(len(VOC_SEGMENTATION_LABELS))])
    if permutation is not None:
        to_model = to_model[permutation]

    def make(start, count):
        assert count == 1, "masks differ in size: replay one image per batch"
        mask = masks[start].long()
        mask = torch.where(mask == 255, 0, mask)
        logits = torch.nn.functional.one_hot(to_model[mask], len(MODEL_LABELS)).permute(2, 0, 1).float()
        return type("Out", (), {"logits": logits[None]})()

    return Scripted(make, MODEL_LABELS)


def test_voc_pairs_images_with_masks():
    task = _voc()
    assert len(task) == 93  # 7 of the 100 photos have no mask
    counts = task.class_pixels()
    assert len(counts) == 21 and counts[0] == counts.max()  # background is the majority class


def test_perfect_masks_score_one_with_remapped_model_ids(processor):
    task = _voc(limit=30)
    result = evaluate(_replay(task, processor), processor, task, batch_size=1, progress=False)
    assert result["miou"] == 1.0 and result["pixel_acc"] == 1.0 and result["mean_acc"] == 1.0
    assert result["n"] == 30
    assert 0 < result["chance_miou"] < result["chance_pixel_acc"] < 1
    assert result["normalised"] == 1.0


def test_shuffled_classes_score_lower(processor):
    task = _voc(limit=30)
    permutation = torch.cat([torch.tensor([0]), torch.roll(torch.arange(1, 21), 1)])  # background kept
    result = evaluate(_replay(task, processor, permutation), processor, task, batch_size=1, progress=False)
    assert result["miou"] < 0.8 and result["pixel_acc"] < 1.0


def test_labels_are_required_and_matched():
    with pytest.raises(ValueError, match="pass labels="):
        tasks.load("segmentation", data=str(shared_data() / "voc100"))
    task = tasks.load("segmentation", data=str(shared_data() / "voc100"), labels=["background", "plane"], limit=2)
    with pytest.raises(ValueError, match="'plane'"):
        task.label_mapping(Scripted(lambda s, c: None, MODEL_LABELS))


@pytest.mark.parametrize("kind", ["segformer", "dpt"])
def test_tiny_random_models_end_to_end(kind):
    import transformers as T

    torch.manual_seed(0)
    common = {"num_labels": 21, "id2label": MODEL_LABELS}
    if kind == "segformer":
        processor = T.SegformerImageProcessorPil(size={"height": 64, "width": 64})
        model = T.SegformerForSemanticSegmentation(T.SegformerConfig(
            depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 24, 32], num_attention_heads=[1, 2, 4, 4],
            decoder_hidden_size=16, **common))  # fmt: skip
    else:
        processor = T.DPTImageProcessorPil(size={"height": 64, "width": 64}, keep_aspect_ratio=False)
        model = T.DPTForSemanticSegmentation(T.DPTConfig(
            hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, image_size=64,
            patch_size=16, backbone_out_indices=[0, 1, 2, 3], neck_hidden_sizes=[8, 16, 24, 32],
            fusion_hidden_size=16, use_auxiliary_head=False, **common))  # fmt: skip
    task = _voc(limit=6)
    result = evaluate(model, processor, task, batch_size=3, progress=False)
    assert 0.0 <= result["miou"] <= 1.0 and 0.0 <= result["pixel_acc"] <= 1.0 and result["n"] == 6
