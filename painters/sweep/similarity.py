"""The layer-similarity matrix: mean cosine similarity between the hidden states after each pair of layers."""

from __future__ import annotations

import torch


class SimilarityAccumulator:
    """Sums, over tokens, the cosine similarity of the states after layers ``a`` and ``b``."""

    def __init__(self) -> None:
        self.total: torch.Tensor | None = None
        self.count = 0

    def update(self, states: list[torch.Tensor], mask: torch.Tensor | None = None) -> None:
        """``states``: the state entering layer 0 then after each layer, each ``(batch, tokens, hidden)`` (or
        ``(batch, hidden, h, w)`` maps, flattened); ``mask`` (batch, tokens) keeps real tokens."""
        # layers that return tuples (Swin's blocks: hidden states first) are compared on their hidden states
        after = [(s[0] if isinstance(s, (tuple, list)) else s).detach().float() for s in states[1:]]
        if after[0].dim() == 4:  # (batch, channels, h, w) -> (batch, h*w, channels)
            after = [s.flatten(2).transpose(1, 2) for s in after]
        stacked = torch.stack(after, 0)  # (layers, batch, tokens, hidden)
        if mask is not None and mask.shape == stacked.shape[1:3]:
            stacked = stacked[:, mask.to(stacked.device).bool()]  # (layers, real tokens, hidden)
        else:
            stacked = stacked.flatten(1, -2)
        unit = torch.nn.functional.normalize(stacked, dim=-1)
        sims = torch.einsum("atd,btd->ab", unit, unit).cpu()
        self.total = sims if self.total is None else self.total + sims
        self.count += unit.shape[1]

    def compute(self) -> torch.Tensor:
        return self.total / max(self.count, 1)
