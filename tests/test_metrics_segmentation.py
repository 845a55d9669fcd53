import pytest
import torch

from painters.metrics.segmentation import confusion_matrix, majority_scores, segmentation_scores


def test_confusion_matrix_honours_ignore_and_other():
    target = torch.tensor([[0, 0, 1], [1, 2, 255]])
    pred = torch.tensor([[0, 1, 1], [7, 2, 0]])  # 7: a class the dataset does not have
    cm = confusion_matrix(pred, target, num_classes=3, ignore_index=255)
    assert cm.tolist() == [[1, 1, 0, 0], [0, 1, 0, 1], [0, 0, 1, 0]]


def test_scores_hand_computed():
    target = torch.tensor([0, 0, 1, 1, 2, 255])
    pred = torch.tensor([0, 1, 1, 9, 2, 1])
    scores = segmentation_scores(confusion_matrix(pred, target, 3))
    # IoU: class 0 = 1/2, class 1 = 1/(2 + 2 - 1) = 1/3, class 2 = 1/1
    assert scores["miou"] == pytest.approx((1 / 2 + 1 / 3 + 1) / 3)
    assert scores["pixel_acc"] == pytest.approx(3 / 5)
    assert scores["mean_acc"] == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)


def test_absent_classes_are_left_out_of_the_mean():
    target = torch.tensor([0, 0, 2, 2])
    scores = segmentation_scores(confusion_matrix(target.clone(), target, num_classes=4))
    assert scores == {"miou": 1.0, "pixel_acc": 1.0, "mean_acc": 1.0}


def test_accumulating_over_images_equals_one_big_image():
    g = torch.Generator().manual_seed(0)
    targets = [torch.randint(0, 4, (5, 7), generator=g) for _ in range(3)]
    preds = [torch.randint(0, 4, (5, 7), generator=g) for _ in range(3)]
    summed = sum(confusion_matrix(p, t, 4) for p, t in zip(preds, targets))
    whole = confusion_matrix(torch.cat([p.flatten() for p in preds]), torch.cat([t.flatten() for t in targets]), 4)
    assert torch.equal(summed, whole)


def test_majority_scores_match_predicting_the_majority_everywhere():
    target = torch.tensor([0, 0, 0, 0, 1, 1, 3, 255])
    counts = torch.bincount(target[target != 255])
    expected = segmentation_scores(confusion_matrix(torch.zeros_like(target), target, 4))
    assert majority_scores(counts) == pytest.approx(expected)
    assert majority_scores(counts)["miou"] == pytest.approx((4 / 7) / 3)
