"""Mean attention distance: hand-computed cases, and equal to a plain loop over the attention maps of an
unmodified (or materialised) model, under plans, on ViT-family models and the CLIP and SigLIP vision towers."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import transformers as T

import painters
from painters.analysis import mean_distance
from painters.errors import PlanError
from tests import tiny_any
from tests.test_core_tokens import build as token_model


def by_hand(attention: torch.Tensor, side: int, patch: float) -> list[float]:
    """Per head: plain loops over images, queries and keys (patch tokens are the last side*side)."""
    batch, heads, n, _ = attention.shape
    special = n - side * side
    cells = [(r, c) for r in range(side) for c in range(side)]
    out = []
    for h in range(heads):
        total = 0.0
        for b in range(batch):
            for q, (qr, qc) in enumerate(cells):
                row = attention[b, h, special + q, special:].double()
                row = row / row.sum()
                total += sum(float(w) * math.dist((qr, qc), cell) * patch for w, cell in zip(row, cells)) / len(cells)
        out.append(total / batch)
    return out


def test_uniform_attention_on_a_14x14_grid_of_16px_patches_is_116_5_px():
    uniform = torch.full((1, 1, 197, 197), 1 / 197)
    assert float(mean_distance(uniform, 14, 14, 16)) == pytest.approx(116.49, abs=0.01)
    pairs = list(itertools.product(itertools.product(range(14), repeat=2), repeat=2))
    assert float(mean_distance(uniform, 14, 14, 16)) == pytest.approx(
        sum(math.dist(a, b) for a, b in pairs) / len(pairs) * 16, rel=1e-9
    )


def test_attention_to_self_is_zero_and_cls_mass_is_renormalised_away():
    assert float(mean_distance(torch.eye(197)[None, None], 14, 14, 16)) == 0.0
    half = torch.full((1, 1, 197, 197), 0.5 / 196)
    half[..., 0] = 0.5  # every query puts half its weight on CLS
    assert float(mean_distance(half, 14, 14, 16)) == pytest.approx(116.49, abs=0.01)
    corner = torch.zeros(1, 1, 17, 17)
    corner[..., 1] = 1.0  # everyone looks at the top-left patch of a 4x4 grid of 8 px patches
    expected = sum(math.dist((r, c), (0, 0)) for r in range(4) for c in range(4)) / 16 * 8
    assert float(mean_distance(corner, 4, 4, 8)) == pytest.approx(expected)


def _tower(name: str):
    torch.manual_seed(0)
    small = {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 2, "num_hidden_layers": 4}
    config_cls, model_cls = (T.CLIPConfig, T.CLIPModel) if name == "clip" else (T.SiglipConfig, T.SiglipModel)
    config = config_cls(
        text_config={**small, "vocab_size": 99, "max_position_embeddings": 16},
        vision_config={**small, "image_size": 32, "patch_size": 8},
    )
    model = model_cls(config).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(3.0)
    return model


@pytest.mark.parametrize("name", ["vit", "deit", "dinov2", "beit", "clip", "siglip"])
@pytest.mark.parametrize("ops", [(), (painters.repeat(1, 3), painters.skip(3, 4))], ids=["plain", "plan"])
def test_equals_a_plain_loop_over_the_maps_of_the_materialised_model(name, ops):
    if name in ("clip", "siglip"):
        model, where = _tower(name), {"tower": "vision"}
        x = {"pixel_values": torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))}
    else:
        model, where = token_model(name), {}
        x = {"pixel_values": tiny_any.inputs_for(model)["pixel_values"]}
    side = 4 if where else x["pixel_values"].shape[-1] // model.config.patch_size
    df = painters.attention_distance(model, None, x, *ops, **where)
    plan = painters.plan(model, *ops, **where)
    assert list(df.drop_duplicates("step")[["step", "layer"]].itertuples(index=False, name=None)) == list(plan.calls)
    plain = painters.materialize(model, *ops, **where) if ops else model
    plain.set_attn_implementation("eager")
    module = plain.vision_model if where else plain
    with torch.no_grad():
        maps = module(pixel_values=x["pixel_values"], output_attentions=True).attentions
    patch = (module.config if where else plain.config).patch_size
    for step, attention in enumerate(maps):
        got = df[df["step"] == step].sort_values("head")["distance_px"].tolist()
        assert got == pytest.approx(by_hand(attention, side, patch), rel=1e-6)


def test_token_ops_are_refused():
    with pytest.raises(PlanError, match="attention distances under token ops are not defined"):
        painters.attention_distance(token_model("vit"), None, {"pixel_values": torch.randn(1, 3, 32, 32)},
                                    painters.isolate_cls(2))  # fmt: skip
