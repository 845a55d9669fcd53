"""Language metrics: perplexity, multiple-choice accuracy, rank correlation, pooled embeddings."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def perplexity(nll_sum: float, n_tokens: int) -> float:
    """exp(total negative log-likelihood / number of scored tokens)."""
    if n_tokens <= 0:
        return float("nan")
    return math.exp(nll_sum / n_tokens)


def multiple_choice_accuracy(
    logliks: Sequence[Sequence[float]],
    gold: Sequence[int],
    choice_lengths: Sequence[Sequence[int]] | None = None,
) -> dict[str, float]:
    """``acc``: argmax of the summed log-likelihood; ``acc_norm``: argmax of loglik / character length.

    As lm-evaluation-harness: ``acc_norm`` divides by the length in characters of each choice's
    continuation string. Ties go to the first choice.
    """
    if len(logliks) != len(gold):
        raise ValueError(f"{len(logliks)} items of log-likelihoods but {len(gold)} gold answers")
    if not gold:
        return {"acc": float("nan"), "acc_norm": float("nan")}
    lengths = choice_lengths if choice_lengths is not None else [[1] * len(ll) for ll in logliks]
    hits = hits_norm = 0
    for ll, length, answer in zip(logliks, lengths, gold):
        hits += _argmax(ll) == answer
        hits_norm += _argmax([value / max(n, 1) for value, n in zip(ll, length)]) == answer
    return {"acc": hits / len(gold), "acc_norm": hits_norm / len(gold)}


def _argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=lambda i: (values[i], -i))


def rankdata(x: torch.Tensor) -> torch.Tensor:
    """Ranks starting at 1, ties sharing their average rank (scipy's ``rankdata(method="average")``)."""
    _, inverse, counts = torch.unique(x.flatten().double(), return_inverse=True, return_counts=True)
    last = counts.cumsum(0).double()
    return (last - (counts.double() - 1) / 2)[inverse]


def pearson(x: torch.Tensor, y: torch.Tensor) -> float:
    """Pearson correlation of two 1-D tensors (NaN if either is constant)."""
    x = x.flatten().double() - x.double().mean()
    y = y.flatten().double() - y.double().mean()
    denominator = (x.square().sum() * y.square().sum()).sqrt()
    if denominator == 0:
        return float("nan")
    return ((x * y).sum() / denominator).item()


def spearman(x: torch.Tensor, y: torch.Tensor) -> float:
    """Spearman rank correlation: Pearson of the (tie-averaged) ranks."""
    if x.numel() != y.numel():
        raise ValueError(f"{x.numel()} and {y.numel()} values cannot be correlated")
    return pearson(rankdata(x), rankdata(y))


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average token states over the attention mask: (B, L, D), (B, L) -> (B, D)."""
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def cosine_pairs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise cosine similarity of two (N, D) tensors."""
    return torch.nn.functional.cosine_similarity(a.double(), b.double(), dim=-1)
