"""One-pass layer importance predictors, from the hidden states of one unmodified pass (no extra forward):

- Block Influence (ShortGPT, Men et al. 2024): ``BI_i = 1 - mean_t cos(x_i,t, x_i+1,t)``, the input and output of
  layer ``i`` over every token (padding left out);
- angular distance (Gromov et al. 2024): ``d(l, n) = arccos(cos(x_l, x_l+n)) / pi`` for the span ``[l, l + n)``,
  on the last token for causal LMs (the last non-padding one) and on the first token (CLS) for encoders and
  vision transformers; averaged over the examples;
- per sublayer (LLM-Drop, He et al. 2024): ``cos(x, x + f(norm(x)))`` for the attention and for the MLP, i.e. the
  cosine between what enters the sublayer's residual add and what leaves it (pre-norm layers only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn

from painters.analysis.inputs import model_batches
from painters.errors import ConfigError, UnsupportedModelError

PER_LAYER = ("block_influence", "attention_cosine", "mlp_cosine")
METRICS = (*PER_LAYER, "angular")


def _cos(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return nn.functional.cosine_similarity(a.double(), b.double(), dim=-1)


class ImportanceAccumulator:
    """Sums, batch by batch, what the predictors average: per layer the token cosines of its input and output (and,
    given sublayer outputs, of each residual add), and per span the angular distance of the picked token (the last
    real token for causal LMs, the first for encoders and ViTs). :func:`importance` and the sweep's baseline pass
    (which records the same boundary states) both use it."""

    def __init__(self, count: int, causal: bool) -> None:
        self.count, self.causal = count, causal
        self.sums = torch.zeros(count, 3, dtype=torch.float64)
        self.tokens = 0.0
        self.angular = torch.zeros(count + 1, count + 1, dtype=torch.float64)
        self.examples = 0

    def update(
        self,
        states: Sequence[Any],
        mask: torch.Tensor | None = None,
        sublayers: dict[str, list[torch.Tensor]] | None = None,
        *,
        spans: bool = True,
    ) -> None:
        """``states``: the state entering layer 0 then after each layer (``(batch, tokens, hidden)``; tuples give
        their first element); ``mask`` ``(batch, tokens)`` keeps real tokens; ``sublayers``: per layer the attention
        and MLP outputs added to the residual stream."""
        states = [s[0] if isinstance(s, (tuple, list)) else s for s in states]
        if states[0].dim() != 3:  # (batch, channels, h, w) maps: tokens are positions
            states = [s.flatten(2).transpose(1, 2) for s in states]
        keep = (
            mask.bool().to(states[0].device)
            if isinstance(mask, torch.Tensor) and mask.shape == states[0].shape[:2]
            else None
        )
        weight = torch.ones(states[0].shape[:2], dtype=torch.bool, device=states[0].device) if keep is None else keep
        self.tokens += float(weight.sum())
        for i in range(self.count):
            x, y = states[i], states[i + 1]
            self.sums[i, 0] += float((_cos(x, y) * weight).sum())
            if sublayers:
                mid = x + sublayers["attention"][i]
                self.sums[i, 1] += float((_cos(x, mid) * weight).sum())
                self.sums[i, 2] += float((_cos(mid, mid + sublayers["mlp"][i]) * weight).sum())
        if not spans:
            return
        if self.causal:
            width = weight.shape[1]  # the last real token, whichever side the padding is on
            last = width - 1 - weight.flip(1).long().argmax(1) if keep is not None else torch.full((len(weight),), -1)
            picks = torch.stack([s[torch.arange(s.shape[0]), last.to(s.device)] for s in states])
        else:
            picks = torch.stack([s[:, 0] for s in states])  # (count + 1, batch, hidden)
        unit = nn.functional.normalize(picks.double(), dim=-1)
        cos = torch.einsum("abd,cbd->acb", unit, unit).clamp(-1.0, 1.0)
        self.angular += (torch.arccos(cos) / torch.pi).sum(-1).triu(1).cpu()
        self.examples += states[0].shape[0]

    def per_layer(self, metrics: Sequence[str] = ("block_influence",)) -> pd.DataFrame:
        """One row per layer: ``layer`` and the asked per-layer metrics."""
        means = self.sums / max(self.tokens, 1.0)
        frame = pd.DataFrame({"layer": range(self.count), "block_influence": (1 - means[:, 0]).tolist()})
        if "attention_cosine" in metrics:
            frame["attention_cosine"] = means[:, 1].tolist()
        if "mlp_cosine" in metrics:
            frame["mlp_cosine"] = means[:, 2].tolist()
        return frame[["layer", *[m for m in PER_LAYER if m in metrics]]]

    def table(self) -> pd.DataFrame:
        """What a sweep stores: one row per span ``[start, end)`` with its ``angular_distance``, and for one-layer
        spans the layer's ``block_influence`` (NaN on wider spans)."""
        frame = self.per_span()
        influence = dict(enumerate(self.per_layer()["block_influence"]))
        single = frame.end - frame.start == 1
        frame["block_influence"] = frame.start.map(influence).where(single)
        return frame

    def per_span(self) -> pd.DataFrame:
        """One row per span ``[start, end)``: ``start``, ``end``, ``angular_distance``."""
        a, b = torch.triu_indices(self.count + 1, self.count + 1, offset=1)
        return pd.DataFrame(
            {
                "start": a.tolist(),
                "end": b.tolist(),
                "angular_distance": (self.angular[a, b] / max(self.examples, 1)).tolist(),
            }
        )


def importance(
    model: nn.Module,
    processor: Any = None,
    data: Any = None,
    *,
    metrics: str | Sequence[str] = PER_LAYER,
    stage: int | None = None,
    tower: str | None = None,
    batch_size: int = 16,
) -> pd.DataFrame:
    """Importance predictors of ``model``'s layers from one unmodified pass over ``data``.

    Args:
        data: model inputs (a dict of tensors), a list of them, or a painters task (its examples prepared as a
            sweep prepares them, with ``processor``).
        metrics: any of ``"block_influence"``, ``"attention_cosine"``, ``"mlp_cosine"`` (one row per layer:
            columns ``layer`` and the metrics), or ``"angular"`` (one row per span: ``start``, ``end``,
            ``angular_distance``; ranges half-open ``[start, end)``, 0-indexed).
    """
    from painters.apply import layers, session
    from painters.sublayers import part_module

    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics or ("angular" in metrics and len(metrics) > 1):
        raise ConfigError(
            f"metrics={list(metrics)!r}: give per-layer metrics from {list(PER_LAYER)}, or 'angular' alone"
        )
    if data is None:
        raise ConfigError("importance needs data: model inputs (a dict of tensors), or a painters task")
    stack = layers(model, stage=stage, tower=tower)
    causal = stack.kind == "decoder"
    acc = ImportanceAccumulator(len(stack.layers), causal)
    parts: dict[str, list[nn.Module]] = {}
    if "attention_cosine" in metrics or "mlp_cosine" in metrics:
        try:
            parts = {p: [part_module(layer, p, "importance") for layer in stack.layers] for p in ("attention", "mlp")}
        except UnsupportedModelError as exc:
            raise UnsupportedModelError(f"sublayer cosines need pre-norm layers: {exc}") from None
    device = next(model.parameters()).device
    for inputs in model_batches(data, processor, batch_size):
        inputs = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
        outputs: dict[str, list[torch.Tensor]] = {"attention": [], "mlp": []}
        hooks = [
            module.register_forward_hook(
                lambda m, a, o, p=p, out=outputs: out[p].append(o[0] if isinstance(o, tuple) else o)
            )
            for p, modules in parts.items()
            for module in modules
        ]
        try:
            with torch.no_grad(), session(model, stage=stage, tower=tower, capture=True) as runner:
                kwargs = {"use_cache": False} if causal else {}
                model(**inputs, **kwargs)
                states = [s[0] if isinstance(s, (tuple, list)) else s for s in runner.captured]
        finally:
            for hook in hooks:
                hook.remove()
        acc.update(states, inputs.get("attention_mask"), outputs if parts else None, spans="angular" in metrics)
    return acc.per_span() if "angular" in metrics else acc.per_layer(metrics)
