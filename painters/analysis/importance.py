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
    count = len(stack.layers)
    causal = stack.kind == "decoder"
    sums = torch.zeros(count, 3, dtype=torch.float64)
    tokens = 0.0
    angular = torch.zeros(count + 1, count + 1, dtype=torch.float64)
    examples = 0
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
        mask = inputs.get("attention_mask")
        keep = mask.bool() if isinstance(mask, torch.Tensor) and mask.shape == states[0].shape[:2] else None
        weight = torch.ones(states[0].shape[:2], dtype=torch.bool, device=states[0].device) if keep is None else keep
        n = float(weight.sum())
        tokens += n
        for i in range(count):
            x, y = states[i], states[i + 1]
            sums[i, 0] += float((_cos(x, y) * weight).sum())
            if parts:
                mid = x + outputs["attention"][i]
                sums[i, 1] += float((_cos(x, mid) * weight).sum())
                sums[i, 2] += float((_cos(mid, mid + outputs["mlp"][i]) * weight).sum())
        if "angular" in metrics:
            if causal:
                last = weight.long().sum(1) - 1 if keep is not None else torch.full((weight.shape[0],), -1)
                picks = [s[torch.arange(s.shape[0]), last.to(s.device)] for s in states]
            else:
                picks = [s[:, 0] for s in states]
            for a in range(count + 1):
                for b in range(a + 1, count + 1):
                    cos = _cos(picks[a], picks[b]).clamp(-1.0, 1.0)
                    angular[a, b] += float((torch.arccos(cos) / torch.pi).sum())
            examples += states[0].shape[0]
    if "angular" in metrics:
        rows = [
            {"start": a, "end": b, "angular_distance": float(angular[a, b] / examples)}
            for a in range(count)
            for b in range(a + 1, count + 1)
        ]
        return pd.DataFrame(rows)
    means = sums / tokens
    frame = pd.DataFrame({"layer": range(count), "block_influence": (1 - means[:, 0]).tolist()})
    if "attention_cosine" in metrics:
        frame["attention_cosine"] = means[:, 1].tolist()
    if "mlp_cosine" in metrics:
        frame["mlp_cosine"] = means[:, 2].tolist()
    return frame[["layer", *[m for m in PER_LAYER if m in metrics]]]
