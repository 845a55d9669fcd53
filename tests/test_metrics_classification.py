import math

import torch

from painters.metrics.classification import majority_topk_accuracy, topk_accuracy, topk_correct


def test_topk_correct_and_accuracy_hand_computed():
    topk = torch.tensor([[3, 1, 2], [0, 2, 1], [-1, 4, 0], [2, 0, 1]])
    labels = torch.tensor([3, 1, 0, 5])
    assert topk_correct(topk, labels, 1).tolist() == [True, False, False, False]
    assert topk_correct(topk, labels, 3).tolist() == [True, True, True, False]
    assert topk_accuracy(topk, labels, ks=(1, 2, 3)) == {"top1": 0.25, "top2": 0.25, "top3": 0.75}


def test_topk_accuracy_of_nothing_is_nan():
    assert math.isnan(topk_accuracy(torch.zeros((0, 5), dtype=torch.long), torch.zeros(0, dtype=torch.long))["top1"])


def test_majority_topk_accuracy():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    assert majority_topk_accuracy(labels, 1) == 0.4
    assert majority_topk_accuracy(labels, 2) == 0.7
    assert majority_topk_accuracy(labels, 5) == 1.0
