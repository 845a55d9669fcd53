"""One-pass importance predictors equal plain computations over states captured by hand (hooks on the layers),
on a causal LM with padding (last real token, padded tokens left out) and on a ViT (CLS)."""

from __future__ import annotations

import math

import pytest
import torch

import painters
from painters.architectures import locate
from painters.errors import ConfigError, UnsupportedModelError
from tests import tiny


def by_hand(model, name, x):
    """Layer inputs/outputs and attention/MLP outputs of every layer, from hooks (no painters)."""
    stack = locate(model).modules
    ins, outs, attn, mlp = [], [], [], []
    attn_name = "self_attn" if name == "llama" else "attention"
    hooks = []
    for layer in stack:
        hooks.append(layer.register_forward_pre_hook(lambda m, a, k: ins.append(a[0] if a else k["hidden_states"]),
                                                     with_kwargs=True))  # fmt: skip
        hooks.append(layer.register_forward_hook(lambda m, a, o: outs.append(o[0] if isinstance(o, tuple) else o)))
        hooks.append(getattr(layer, attn_name).register_forward_hook(lambda m, a, o: attn.append(o[0])))
        hooks.append(layer.mlp.register_forward_hook(lambda m, a, o: mlp.append(o)))
    with torch.no_grad():
        model(**x, **({"use_cache": False} if name == "llama" else {}))
    for h in hooks:
        h.remove()
    return ins, outs, attn, mlp


def cos(a, b):
    return float(torch.dot(a.double(), b.double()) / (a.double().norm() * b.double().norm()))


@pytest.mark.parametrize("name", ["llama", "vit"])
def test_per_layer_metrics_equal_plain_loops(name, tiny_model):
    model, x = tiny_model(name), dict(tiny.inputs(name))
    if name == "llama":
        x["attention_mask"] = torch.ones_like(x["input_ids"])
        x["attention_mask"][0, -3:] = 0  # right padding on the first example
    got = painters.importance(model, None, x, metrics=["block_influence", "attention_cosine", "mlp_cosine"])
    ins, outs, attn, mlp = by_hand(model, name, x)
    mask = x.get("attention_mask", torch.ones(ins[0].shape[:2], dtype=torch.long))
    real = [(b, t) for b in range(mask.shape[0]) for t in range(mask.shape[1]) if mask[b, t]]
    for i in range(len(ins)):
        mid = ins[i] + attn[i]
        assert torch.allclose(mid + mlp[i], outs[i], atol=1e-5)  # pre-norm: the layer is x + attn + mlp
        bi = 1 - sum(cos(ins[i][b, t], outs[i][b, t]) for b, t in real) / len(real)
        attention = sum(cos(ins[i][b, t], mid[b, t]) for b, t in real) / len(real)
        mlp_cos = sum(cos(mid[b, t], mid[b, t] + mlp[i][b, t]) for b, t in real) / len(real)
        row = got.iloc[i]
        assert row.layer == i
        assert row.block_influence == pytest.approx(bi, abs=1e-9)
        assert row.attention_cosine == pytest.approx(attention, abs=1e-9)
        assert row.mlp_cosine == pytest.approx(mlp_cos, abs=1e-9)


@pytest.mark.parametrize("name", ["llama", "llama-left-padded", "vit"])
def test_angular_distance_per_span_on_the_last_real_token_or_cls(name, tiny_model):
    padded_left = name == "llama-left-padded"
    name = name.removesuffix("-left-padded")
    model, x = tiny_model(name), dict(tiny.inputs(name))
    if name == "llama":
        x["attention_mask"] = torch.ones_like(x["input_ids"])
        if padded_left:  # padding first: the last real token is the last position
            x["attention_mask"][0, :3] = 0
        else:
            x["attention_mask"][0, -3:] = 0
    got = painters.importance(model, None, x, metrics="angular").set_index(["start", "end"])["angular_distance"]
    ins, outs, _, _ = by_hand(model, name, x)
    states = [ins[0], *outs]
    count = len(ins)
    assert len(got) == count * (count + 1) // 2
    for start, end in [(0, 1), (2, 5), (0, count), (count - 1, count)]:
        values = []
        for b in range(states[0].shape[0]):
            real = torch.nonzero(x["attention_mask"][b]).flatten() if name == "llama" else None
            t = int(real[-1]) if name == "llama" else 0
            c = max(-1.0, min(1.0, cos(states[start][b, t], states[end][b, t])))
            values.append(math.acos(c) / math.pi)
        assert got[(start, end)] == pytest.approx(sum(values) / len(values), abs=1e-9)


def test_bad_requests_are_refused(tiny_model):
    x = tiny.inputs("llama")
    with pytest.raises(ConfigError, match="'angular' alone"):
        painters.importance(tiny_model("llama"), None, x, metrics=["angular", "block_influence"])
    with pytest.raises(ConfigError, match="give per-layer metrics"):
        painters.importance(tiny_model("llama"), None, x, metrics="bi")
    with pytest.raises(UnsupportedModelError, match="sublayer cosines need pre-norm layers"):
        painters.importance(tiny_model("bert"), None, tiny.inputs("bert"), metrics="attention_cosine")
    bert = painters.importance(tiny_model("bert"), None, tiny.inputs("bert"), metrics="block_influence")
    assert list(bert.columns) == ["layer", "block_influence"] and len(bert) == 6


def test_agreement_with_too_few_spans_is_nan_not_an_error():
    """One measured skip (width 4): no predictor has 3 spans to rank, so every correlation is NaN."""
    import math

    import pandas as pd

    from painters.analysis import predictor_agreement

    table = pd.DataFrame(
        {"model": ["m"] * 2, "task": ["t"] * 2, "op": ["baseline", "skip"], "start": [None, 4], "end": [None, 8],
         "normalised": [1.0, 0.5], "status": ["ok", "ok"]}
    )  # fmt: skip
    importance = pd.DataFrame(
        {"model": "m", "task": "t", "start": [4, 4], "end": [5, 8], "angular_distance": [0.1, 0.3],
         "block_influence": [0.2, math.nan]}
    )  # fmt: skip
    got = predictor_agreement(table, importance).set_index("predictor")
    assert got["spans"].to_dict() == {"angular_distance": 1, "angular_same_width": 0, "block_influence": 0}
    assert got["spearman"].isna().all()
