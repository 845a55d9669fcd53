"""Token ops (isolate_cls, keep_cls_only): outputs equal a model whose layers are wrapped by hand (split the
sequence, run each part, join), to the bit, on every vision transformer painters knows the special tokens of."""

from __future__ import annotations

import copy

import pytest
import torch
import transformers as T
from torch import nn

import painters
from painters.errors import PlanError, UnsupportedModelError
from tests import tiny_any

VISION = ["vit", "deit", "dinov2", "dinov2_with_registers", "beit", "data2vec-vision", "vit_msn", "dpt", "clip"]
LEADING = {"deit": 2, "dinov2_with_registers": 1 + 2}
"""Special tokens at the start of the sequence (CLS first), where not 1."""
READS_PATCHES = {"dinov2", "dinov2_with_registers", "beit", "data2vec-vision", "dpt"}


def _scaled(model: nn.Module) -> nn.Module:
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.mul_(3.0)
    return model.eval()


_MODELS: dict[str, nn.Module] = {}


def build(name: str) -> nn.Module:
    if name not in _MODELS:
        if name == "clip":
            torch.manual_seed(0)
            small = {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 2, "num_hidden_layers": 6}
            config = T.CLIPConfig(
                text_config={**small, "vocab_size": 99, "max_position_embeddings": 16},
                vision_config={**small, "image_size": 32, "patch_size": 8},
                projection_dim=16,
            )
            model = T.CLIPModel(config)
        else:
            overrides = {"num_register_tokens": 2} if name == "dinov2_with_registers" else {}
            model, _ = tiny_any.build(name)
            if overrides:
                config = copy.deepcopy(model.config)
                config.num_register_tokens = 2
                torch.manual_seed(0)
                model = type(model)(config)
        _MODELS[name] = _scaled(model)
    return _MODELS[name]


def inputs(name: str, model: nn.Module) -> dict:
    if name == "clip":
        torch.manual_seed(1)
        return {"pixel_values": torch.randn(2, 3, 32, 32), "input_ids": torch.randint(0, 99, (3, 7))}
    return tiny_any.inputs_for(model)


def where(name: str) -> dict:
    return {"tower": "vision"} if name == "clip" else {}


def layer_list(model: nn.Module, name: str) -> tuple[nn.Module, str]:
    from painters.architectures import locate

    located = locate(model, **where(name))
    return located.parent, located.attr


class Apart(nn.Module):
    """By hand: the layer on the first ``s`` tokens and on the rest, separately, outputs joined."""

    def __init__(self, layer: nn.Module, s: int):
        super().__init__()
        self.layer, self.s = layer, s

    def forward(self, h, *args, **kwargs):
        a, b = self.layer(h[:, : self.s], *args, **kwargs), self.layer(h[:, self.s :], *args, **kwargs)
        if isinstance(a, tuple):
            return (torch.cat([a[0], b[0]], 1), *a[1:])
        return torch.cat([a, b], 1)


class Cut(nn.Module):
    """By hand: the layer on the first ``s`` tokens only."""

    def __init__(self, layer: nn.Module, s: int):
        super().__init__()
        self.layer, self.s = layer, s

    def forward(self, h, *args, **kwargs):
        return self.layer(h[:, : self.s], *args, **kwargs)


def rebuilt(model: nn.Module, name: str, wrap: dict[int, type]) -> nn.Module:
    """A copy of ``model`` whose layer ``i`` is wrapped in ``wrap[i]`` (Apart or Cut)."""
    copied = copy.deepcopy(model)
    parent, attr = layer_list(copied, name)
    layers = getattr(parent, attr)
    s = LEADING.get(name, 1)
    setattr(parent, attr, nn.ModuleList([wrap[i](m, s) if i in wrap else m for i, m in enumerate(layers)]))
    return copied


def outputs(model: nn.Module, x: dict) -> list[torch.Tensor]:
    with torch.no_grad():
        if isinstance(model, T.DPTForSemanticSegmentation):
            # the backbone's output: the neck reads hidden states that hooks record per layer module, which the
            # hand-wrapped layers would record twice (painters keeps them per original layer; tested elsewhere)
            return [model.dpt(**x).last_hidden_state]
        out = model(**x)
    keys = ("logits_per_image", "image_embeds") if "input_ids" in x else ("logits",)
    return [getattr(out, k) for k in keys]


@pytest.mark.parametrize("until", [0, 1, 3, 6])
@pytest.mark.parametrize("name", VISION)
def test_isolate_cls_equals_layers_run_apart_by_hand(name, until):
    model = build(name)
    x = inputs(name, model)
    with painters.apply(model, painters.isolate_cls(until), **where(name)):
        got = outputs(model, x)
    expected = outputs(rebuilt(model, name, {i: Apart for i in range(until)}), x)
    for a, b in zip(got, expected):
        assert a.shape == b.shape and torch.equal(a, b), (a - b).abs().max()
    if until:
        assert not torch.equal(got[0], outputs(model, x)[0])  # the isolation changes the output


@pytest.mark.parametrize("after", [0, 2, 5, 6])
@pytest.mark.parametrize("name", [n for n in VISION if n not in READS_PATCHES])
def test_keep_cls_only_equals_layers_cut_by_hand(name, after):
    model = build(name)
    x = inputs(name, model)
    with painters.apply(model, painters.keep_cls_only(after), **where(name)):
        got = outputs(model, x)
    expected = outputs(rebuilt(model, name, {i: Cut for i in range(after, 6)}), x)
    for a, b in zip(got, expected):
        assert torch.equal(a, b), (a - b).abs().max()
    if after < 6:
        assert not torch.equal(got[0], outputs(model, x)[0])


def test_token_ops_compose_with_span_ops_on_the_boundaries_of_original_layers():
    model = build("vit")
    x = inputs("vit", model)
    ops = (painters.skip(1, 2), painters.reverse(3, 5), painters.isolate_cls(4))
    assert painters.plan(model, *ops).describe() == (
        "0[isolate_cls] 2[isolate_cls] 4[isolate_cls] 3[isolate_cls] 5"
    )  # the state after original layer 3 is after the reversed span
    with painters.apply(model, *ops):
        got = outputs(model, x)
    by_hand = copy.deepcopy(model)
    parent, attr = layer_list(by_hand, "vit")
    layers = getattr(parent, attr)
    setattr(parent, attr, nn.ModuleList([Apart(layers[i], 1) for i in (0, 2, 4, 3)] + [layers[5]]))
    by_hand.config.num_hidden_layers = 5
    assert torch.equal(got[0], outputs(by_hand, x)[0])


def test_token_ops_are_refused_with_the_reason():
    with pytest.raises(UnsupportedModelError, match="needs a vision transformer whose sequence starts with a CLS"):
        painters.plan(tiny_any.build("llama")[0], painters.isolate_cls(2))
    with pytest.raises(UnsupportedModelError, match=r"drops the patch tokens, but its classifier concatenates"):
        painters.plan(build("dinov2"), painters.keep_cls_only(2))
    with pytest.raises(PlanError, match="two modifiers cannot change how the same step runs"):
        painters.plan(build("vit"), painters.isolate_cls(3), painters.keep_cls_only(2))
    with pytest.raises(PlanError, match="until must be at most the layer count 6"):
        painters.plan(build("vit"), painters.isolate_cls(7))
    with pytest.raises(PlanError, match="cannot be written as a plain layer stack"):
        painters.materialize(build("vit"), painters.isolate_cls(2))
    config = copy.deepcopy(build("beit").config)
    config.use_relative_position_bias = True
    with pytest.raises(UnsupportedModelError, match="relative position bias"):
        painters.plan(T.BeitForImageClassification(config), painters.isolate_cls(2))


def test_a_sweep_over_until_expands_every_k():
    from painters.sweep.generators import expand_op
    from painters.sweep.op_specs import validate_op_spec

    ids = [v.id for v in expand_op(validate_op_spec({"op": "isolate_cls", "until": "all"}), 12)]
    assert ids == [f"isolate_cls-{k}" for k in range(13)]
    ids = [v.id for v in expand_op(validate_op_spec({"op": "keep_cls_only", "after": [10, 11]}), 12)]
    assert ids == ["keep_cls_only-10", "keep_cls_only-11"]
