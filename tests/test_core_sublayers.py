"""Sublayer ops (skip with part="attention" or "mlp"): outputs equal a model whose sublayer modules are replaced by
hand with modules returning zeros, to the bit, on every pre-norm tiny architecture; generate with the KV cache too;
post-norm layers (BERT) and layers without a recognised part are refused."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import painters
from painters.architectures import locate
from painters.errors import UnsupportedModelError
from tests import tiny

PRE_NORM = ["llama", "mistral", "qwen2", "gpt2", "gpt_neox", "vit", "deit", "segformer"]
ATTENTION = {"llama": "self_attn", "mistral": "self_attn", "qwen2": "self_attn", "gpt2": "attn"}
MLP_LESS = {"dpt", "yolos"}  # intermediate + output (the residual is added inside): no MLP part to drop


class Zero(nn.Module):
    """By hand: what the sublayer adds to the residual stream is zero (same form as the real module's output)."""

    def __init__(self, pair: bool):
        super().__init__()
        self.pair = pair

    def forward(self, hidden_states=None, *args, **kwargs):
        zeros = torch.zeros_like(hidden_states)
        return (zeros, None) if self.pair else zeros


def rebuilt(model: nn.Module, name: str, part: str, layers: range) -> nn.Module:
    copied = copy.deepcopy(model)
    stack = locate(copied, **tiny_kwargs(name)).modules
    child = ATTENTION.get(name, "attention") if part == "attention" else "mlp"
    for i in layers:
        setattr(stack[i], child, Zero(pair=part == "attention"))
    return copied


def tiny_kwargs(name: str) -> dict:
    return {"stage": tiny.STAGE[name]} if name in tiny.STAGE else {}


def forward(model: nn.Module, name: str, x: dict) -> torch.Tensor:
    with torch.no_grad():
        out = model(**x, **({"use_cache": False} if name in tiny.DECODERS else {}))
    return tiny.primary(name, out)


@pytest.mark.parametrize("part", ["attention", "mlp"])
@pytest.mark.parametrize("name", PRE_NORM)
def test_a_dropped_sublayer_equals_a_zero_module_put_in_by_hand(name, part, tiny_model):
    model, x = tiny_model(name), tiny.inputs(name)
    depth = len(painters.layers(model, **tiny_kwargs(name)).layers)
    span = range(1, min(3, depth))
    op = painters.skip(span.start, span.stop, part=part)
    with painters.apply(model, op, **tiny_kwargs(name)):
        got = forward(model, name, x)
    expected = forward(rebuilt(model, name, part, span), name, x)
    assert torch.equal(got, expected), (got - expected).abs().max()
    assert not torch.equal(got, forward(model, name, x))  # the sublayer mattered
    with painters.apply(model, painters.skip(span.start, span.stop), **tiny_kwargs(name)):
        assert not torch.equal(got, forward(model, name, x))  # and is not the whole layer


def test_generate_with_the_kv_cache_equals_the_rebuilt_model(tiny_model):
    model, x = tiny_model("llama"), tiny.inputs("llama")
    op = painters.skip(1, 3, part="attention")
    with painters.apply(model, op):
        got = model.generate(x["input_ids"], max_new_tokens=6, do_sample=False)
    expected = rebuilt(model, "llama", "attention", range(1, 3)).generate(
        x["input_ids"], max_new_tokens=6, do_sample=False
    )
    assert torch.equal(got, expected)


def test_post_norm_and_unrecognised_layers_are_refused(tiny_model):
    with pytest.raises(UnsupportedModelError, match=r"post-norm layer.*refuses"):
        painters.plan(tiny_model("bert"), painters.skip(1, 2, part="attention"))
    with pytest.raises(UnsupportedModelError, match="has no mlp submodule painters recognises"):
        painters.plan(tiny_model("dpt"), painters.skip(1, 2, part="mlp"))


def test_sweeps_and_ids_of_sublayer_skips():
    from painters.sweep.generators import expand_op
    from painters.sweep.op_specs import validate_op_spec

    ids = [v.id for v in expand_op(validate_op_spec({"op": "skip", "paper_n": [4], "part": ["attention", "mlp"]}), 12)]
    assert ids == ["skip-5-8-attention", "skip-5-8-mlp"]
    assert painters.skip(4, 8).to_dict() == {"op": "skip", "start": 4, "end": 8}  # records written before `part`
    assert painters.op_from_dict({"op": "skip", "start": 4, "end": 8, "part": "mlp"}) == painters.skip(4, 8, "mlp")
