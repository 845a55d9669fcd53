"""Models the layer finder once refused or mis-read (issue 11): towers of two-tower models, hybrid CNN+transformer DPT,
ALBERT's shared layers, XLM's parallel lists, staged backbones, encoder-decoders; each exact against a rebuilt model
(tests/arch_oracle.py) or refused with the reason, and all of them usable from sweeps and materialize."""

from __future__ import annotations

import pytest
import torch
import transformers as T

import painters
from painters.sweep.config import ModelSpec
from tests import arch_oracle, tiny_any

OPS = [painters.skip(2, 4), painters.reverse(1, 5), painters.repeat(2, 4), painters.swap(1, 4)]
_TOWER = dict(hidden_size=32, num_attention_heads=4, intermediate_size=64, num_hidden_layers=6)


def _scaled(model, layers, scale=3.0):
    with torch.no_grad():
        for layer in {id(m): m for m in layers}.values():
            for p in layer.parameters():
                if p.dim() >= 2:
                    p.mul_(scale)
    return model.eval()


def clip() -> T.CLIPModel:
    torch.manual_seed(0)
    config = T.CLIPConfig(
        text_config=dict(vocab_size=99, **_TOWER),
        vision_config=dict(image_size=32, patch_size=8, **_TOWER),
        projection_dim=16,
    )
    model = T.CLIPModel(config).eval()
    return _scaled(model, list(model.vision_model.encoder.layers) + list(model.text_model.encoder.layers))


def siglip() -> T.SiglipModel:
    torch.manual_seed(0)
    config = T.SiglipConfig(
        text_config=dict(vocab_size=99, **_TOWER), vision_config=dict(image_size=32, patch_size=8, **_TOWER)
    )
    model = T.SiglipModel(config).eval()
    return _scaled(model, list(model.vision_model.encoder.layers) + list(model.text_model.encoder.layers))


TWO_TOWER = {"clip": clip, "siglip": siglip}


def tower_inputs():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 99, (2, 7), generator=g)
    return {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "pixel_values": torch.randn(2, 3, 32, 32, generator=g),
    }


@pytest.mark.parametrize("name", TWO_TOWER)
def test_a_two_tower_model_needs_a_tower(name):
    model = TWO_TOWER[name]()
    with pytest.raises(painters.UnsupportedModelError, match=r"2 towers \(vision, text\).*tower='vision'"):
        painters.plan(model, painters.skip(0, 1))
    with pytest.raises(painters.UnsupportedModelError, match="tower='audio' is not one of"):
        painters.plan(model, painters.skip(0, 1), tower="audio")


@pytest.mark.parametrize("tower", ["vision", "text"])
@pytest.mark.parametrize("name", TWO_TOWER)
def test_tower_ops_equal_the_rebuilt_model(name, tower):
    model, x = TWO_TOWER[name](), tower_inputs()
    stack = painters.layers(model, tower=tower)
    assert stack.kind == ("vision" if tower == "vision" else "encoder") and len(stack.layers) == 6
    with torch.no_grad():
        untouched = model(**x)
    for op in OPS:
        plan = painters.plan(model, op, tower=tower)
        with torch.no_grad(), painters.apply(model, op, tower=tower):
            got = model(**x)
        oracle = arch_oracle.rebuild(
            model, f"{tower}_model.{stack.path}", list(plan.steps), config_path=f"{tower}_config"
        )
        with torch.no_grad():
            want = oracle(**x)
        embeds = f"{'image' if tower == 'vision' else 'text'}_embeds"
        other = f"{'text' if tower == 'vision' else 'image'}_embeds"
        assert torch.equal(got[embeds], want[embeds]), op
        assert not torch.equal(got[embeds], untouched[embeds]), op  # the plan changes this tower
        assert torch.equal(got[other], untouched[other]), op  # and leaves the other as it is
    with torch.no_grad():
        assert torch.equal(model(**x).logits_per_image, untouched.logits_per_image)  # restored


def test_a_tower_materializes_to_a_loadable_checkpoint(tmp_path):
    model, x = clip(), tower_inputs()
    op = painters.reverse(1, 5)
    with torch.no_grad(), painters.apply(model, op, tower="vision"):
        want = model(**x).image_embeds
    written = painters.materialize(model, op, tower="vision")
    assert written.config.vision_config.num_hidden_layers == 6 and model.config.vision_config.num_hidden_layers == 6
    written.save_pretrained(tmp_path)
    loaded = T.CLIPModel.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        assert torch.equal(loaded(**x).image_embeds, want)


def dpt_hybrid(num_labels: int = 3) -> T.DPTForSemanticSegmentation:
    torch.manual_seed(0)
    backbone = T.BitConfig(
        global_padding="same",
        layer_type="bottleneck",
        depths=[1, 1, 1],
        embedding_size=8,
        hidden_sizes=[8, 16, 32],
        num_groups=2,
        out_features=["stage1", "stage2", "stage3"],
    )
    config = T.DPTConfig(
        is_hybrid=True,
        hidden_size=48,
        num_attention_heads=4,
        intermediate_size=96,
        num_hidden_layers=6,
        image_size=64,
        patch_size=16,
        backbone_out_indices=[1, 2, 4, 5],
        neck_hidden_sizes=[8, 16, 24, 32],
        fusion_hidden_size=16,
        backbone_featmap_shape=[1, 32, 4, 4],
        num_labels=num_labels,
        backbone_config=backbone,
    )
    model = T.DPTForSemanticSegmentation(config).eval()
    return _scaled(model, model.dpt.encoder.layer, 6.0)


def test_hybrid_dpt_manipulates_the_transformer_and_runs_the_cnn_as_is():
    model = dpt_hybrid()
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    stack = painters.layers(model)
    assert stack.path == "encoder.layer" and len(stack.layers) == 6
    with torch.no_grad():
        untouched = model(pixel_values=x).logits
    for op in OPS:
        plan = painters.plan(model, op)
        with torch.no_grad(), painters.apply(model, op):
            got = model(pixel_values=x, output_hidden_states=True)
            base = model.dpt(pixel_values=x).last_hidden_state
        oracle = arch_oracle.rebuild(model, "dpt.encoder.layer", list(plan.steps))
        with torch.no_grad():
            assert torch.equal(base, oracle.dpt(pixel_values=x).last_hidden_state), op
        assert not torch.equal(got.logits, untouched), op
    with torch.no_grad():
        assert torch.equal(model(pixel_values=x).logits, untouched)


def test_albert_manipulates_the_calls_of_its_shared_layer():
    model, _ = tiny_any.build("albert")
    stack = painters.layers(model)
    groups = model.albert.encoder.albert_layer_groups
    assert len(stack.layers) == model.config.num_hidden_layers == 6
    assert {id(m) for m in stack.layers} == {id(g) for g in groups}  # T calls of the shared group(s)
    x = tiny_any.inputs_for(model)
    op = painters.repeat(2, 4)
    with torch.no_grad(), painters.apply(model, op):
        want = model(**x).logits
    written = painters.materialize(model, op)
    assert written.config.num_hidden_layers == written.config.num_hidden_groups == 8
    assert model.config.num_hidden_layers == 6 and model.config.num_hidden_groups == 1
    with torch.no_grad():
        assert torch.equal(written(**x).logits, want)


@pytest.mark.parametrize("model_type", ["xlm", "flaubert"])
def test_parallel_lists_materialize_and_refuse_parallel_groups(model_type):
    model, _ = tiny_any.build(model_type)
    x = tiny_any.inputs_for(model)
    op = painters.reverse(1, 5)
    with torch.no_grad(), painters.apply(model, op):
        want = model(**x).logits
    with torch.no_grad():
        assert torch.equal(painters.materialize(model, op)(**x).logits, want)
    with pytest.raises(painters.PlanError, match="parallel lists"):
        painters.plan(model, painters.parallel(1, 3))


@pytest.mark.parametrize(
    "model_type, depths",
    [("swin", [1, 1, 6, 1]), ("swinv2", [1, 1, 6, 1]), ("hiera", None), ("focalnet", None), ("pvt_v2", None)],
)
def test_staged_backbones_need_a_stage(model_type, depths):
    model, _ = tiny_any.build(model_type)
    with pytest.raises(painters.UnsupportedModelError, match=r"stages with depths \[.*name one with stage="):
        painters.layers(model)
    if depths is not None:
        with pytest.raises(painters.UnsupportedModelError, match=rf"depths {depths}".replace("[", r"\[")):
            painters.layers(model)


@pytest.mark.parametrize(
    "model_type, why",
    [
        ("resnet", "convolutional network, not a transformer"),
        ("convnext", "convolutional network, not a transformer"),
        ("detr", "encoder-decoder model"),
        ("rwkv", "rescale_every"),
        ("gemma3n_text", "reuse the KV cache"),
    ],
)
def test_refusals_say_why_before_touching_the_model(model_type, why):
    model, _ = tiny_any.build(model_type, scope_check=False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = model.config.to_dict()
    with pytest.raises(painters.UnsupportedModelError, match=why):
        with painters.apply(model, painters.skip(1, 2)):
            pass
    assert model.config.to_dict() == config
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_sweeps_take_the_tower_and_stage_options():
    spec = ModelSpec(id="openai/clip-vit-base-patch32", tower="vision")
    assert spec.where == {"stage": None, "tower": "vision"}
    with pytest.raises(ValueError, match="tower"):
        ModelSpec(id="x", tower="audio")


def test_a_plan_that_runs_no_block_of_a_stage_is_refused():
    from painters.errors import PlanError

    model, _ = tiny_any.build("swin")
    depth = len(painters.layers(model, stage=1).layers)
    with pytest.raises(PlanError, match=r"runs none of stage 1's .* at least one block must run"):
        painters.plan(model, painters.skip(0, depth), stage=1)


class _MeanOfBlocks(torch.nn.Module):
    """By hand: every block reads the same input; the hidden states are averaged (Swin blocks return tuples)."""

    def __init__(self, blocks, iterations: int):
        super().__init__()
        self.blocks, self.iterations = torch.nn.ModuleList(blocks), iterations

    def forward(self, hidden_states, *args, **kwargs):
        for _ in range(self.iterations):
            outs = [block(hidden_states, *args, **kwargs) for block in self.blocks]
            hidden_states = torch.stack([o[0] for o in outs]).mean(0)
        return (hidden_states, *outs[0][1:])


@pytest.mark.parametrize("iterations", [1, 3])
def test_parallel_groups_of_tuple_returning_blocks_equal_a_hand_mean(iterations):
    import copy

    model, _ = tiny_any.build("swin")
    model.eval()
    x = tiny_any.inputs_for(model)
    stage = 2  # the tiny Swin's stage with 6 blocks
    with torch.no_grad(), painters.apply(model, painters.parallel(1, 3, iterations), stage=stage):
        got = model(**x).logits
    rebuilt = copy.deepcopy(model)
    blocks = rebuilt.swin.encoder.layers[stage].blocks
    rebuilt.swin.encoder.layers[stage].blocks = torch.nn.ModuleList(
        [blocks[0], _MeanOfBlocks([blocks[1], blocks[2]], iterations), *blocks[3:]]
    )
    with torch.no_grad():
        expected = rebuilt(**x).logits
    assert torch.equal(got, expected)
    with torch.no_grad():
        assert not torch.equal(got, model(**x).logits)
