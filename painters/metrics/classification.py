"""Top-k accuracy and its majority-class chance level."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def topk_correct(topk: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """Whether each label is among the first ``k`` predictions.

    topk: (N, K) predicted class ids, best first (K >= k; -1 marks "no class").
    labels: (N,) gold class ids. Returns a (N,) bool tensor.
    """
    if topk.ndim != 2 or labels.ndim != 1 or topk.shape[0] != labels.shape[0]:
        raise ValueError(f"expected topk (N, K) and labels (N,), got {tuple(topk.shape)} and {tuple(labels.shape)}")
    return (topk[:, :k] == labels[:, None]).any(dim=1)


def topk_accuracy(topk: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    """Top-k accuracy for each k in ``ks`` as ``{"top1": ..., "top5": ...}``."""
    n = labels.shape[0]
    if n == 0:
        return {f"top{k}": float("nan") for k in ks}
    return {f"top{k}": topk_correct(topk, labels, k).float().mean().item() for k in ks}


def majority_topk_accuracy(labels: torch.Tensor, k: int) -> float:
    """Accuracy of always answering the ``k`` most frequent labels (the majority-class chance level)."""
    if labels.numel() == 0:
        return float("nan")
    counts = torch.bincount(labels.long().flatten())
    top = counts.sort(descending=True).values[:k]
    return top.sum().item() / labels.numel()
