"""Semantic segmentation: one confusion matrix over the whole dataset, then mIoU and pixel accuracy."""

from __future__ import annotations

import torch


def confusion_matrix(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int | None = 255
) -> torch.Tensor:
    """A (C, C + 1) int64 confusion matrix: rows = gold class, columns = predicted class.

    Pixels whose target is ``ignore_index`` (or outside [0, C)) are left out. Predictions outside
    [0, C) (a class the dataset does not have) land in the extra last column "other": wrong for
    every gold class, never a class of their own.
    """
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    target = target.reshape(-1).long()
    pred = pred.reshape(-1).long()
    keep = (target >= 0) & (target < num_classes)
    if ignore_index is not None:
        keep &= target != ignore_index
    target, pred = target[keep], pred[keep]
    pred = torch.where((pred >= 0) & (pred < num_classes), pred, torch.full_like(pred, num_classes))
    counts = torch.bincount(target * (num_classes + 1) + pred, minlength=num_classes * (num_classes + 1))
    return counts.reshape(num_classes, num_classes + 1)


def segmentation_scores(cm: torch.Tensor) -> dict[str, float]:
    """mIoU, pixel accuracy and mean class accuracy from a (C, C [+ 1]) confusion matrix.

    IoU_c = TP / (TP + FP + FN); classes absent from both gold and prediction are left out of the
    mean (like ``evaluate``'s mean_iou and torchmetrics' MulticlassJaccardIndex).
    """
    cm = cm.double()
    num_classes = cm.shape[0]
    tp = cm.diagonal()[:num_classes]
    gold = cm.sum(dim=1)
    predicted = cm[:, :num_classes].sum(dim=0)
    union = gold + predicted - tp
    iou = tp / union
    class_acc = tp / gold
    total = gold.sum()
    return {
        "miou": iou.nanmean().item(),
        "pixel_acc": (tp.sum() / total).item() if total > 0 else float("nan"),
        "mean_acc": class_acc.nanmean().item(),
    }


def majority_scores(class_pixels: torch.Tensor) -> dict[str, float]:
    """The scores of predicting the most frequent class everywhere, given gold pixel counts per class."""
    counts = class_pixels.double()
    total = counts.sum()
    if total == 0:
        return {"miou": float("nan"), "pixel_acc": float("nan"), "mean_acc": float("nan")}
    present = int((counts > 0).sum())
    top = counts.max() / total
    return {"miou": (top / present).item(), "pixel_acc": top.item(), "mean_acc": 1.0 / present}
