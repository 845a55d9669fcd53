"""Every supported architecture x every op: outputs equal an independently rebuilt model, to the bit."""

from __future__ import annotations

import pytest
import torch

import painters
from tests import tiny

# (id, ops, hand-computed positions of "the state after original layer b" for b = 0..5, in steps executed)
CASES = [
    ("identity", (), [1, 2, 3, 4, 5, 6]),
    ("skip", (painters.skip(2, 4),), [1, 2, 2, 2, 3, 4]),
    ("skip-first", (painters.skip(0, 2),), [0, 0, 1, 2, 3, 4]),
    ("swap", (painters.swap(1, 4),), [1, 5, 3, 4, 5, 6]),
    ("repeat", (painters.repeat(2, 4, times=3),), [1, 2, 7, 8, 9, 10]),
    ("reverse", (painters.reverse(1, 5),), [1, 5, 4, 3, 5, 6]),
    ("shuffle", (painters.shuffle(0, 6, seed=3),), [1, 6, 2, 3, 5, 6]),
    ("parallel", (painters.parallel(1, 3),), [1, 2, 2, 3, 4, 5]),
    ("looped-parallel", (painters.parallel(3, 6, iterations=3),), [1, 2, 3, 4, 4, 4]),
    ("middle-repeat", (painters.middle_repeat(2, 4),), [1, 2, 2, 4, 5, 6]),
    ("order", (painters.order([5, (0, 1), 2, 2, 4]),), [2, 2, 4, 4, 5, 5]),
    ("combined", (painters.skip(0, 1), painters.reverse(2, 4), painters.repeat(4, 6)), [0, 1, 3, 3, 6, 7]),
]
ARCHS = list(tiny.FACTORIES)


def oracle_steps(plan: painters.Plan) -> list:
    return [s if isinstance(s, int) else (s.layers, s.iterations) for s in plan.steps]


def forward_kwargs(name: str) -> dict:
    return {"use_cache": False} if name in tiny.DECODERS else {}


def raw_step_states(model, name, x) -> list[torch.Tensor]:
    """The state entering the first layer and after every layer of a plain (rebuilt) model, via hooks."""
    parent, attr = tiny.layer_list(model, name)
    layers = list(getattr(parent, attr))
    states: list[torch.Tensor] = []
    handles = [
        layers[0].register_forward_pre_hook(
            lambda m, a, k: states.append(a[0] if a else k["hidden_states"]), with_kwargs=True
        )
    ]
    handles += [layer.register_forward_hook(lambda m, a, o: states.append(o)) for layer in layers]
    try:
        with torch.no_grad():
            model.base_model(**x, **forward_kwargs(name))
    finally:
        for h in handles:
            h.remove()
    return states


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("name", ARCHS)
def test_output_equals_rebuilt_model(name, case, tiny_model):
    _, ops, _ = case
    model, x, stage = tiny_model(name), tiny.inputs(name), tiny.STAGE.get(name)
    kw = forward_kwargs(name)
    plan = painters.plan(model, *ops, stage=stage)
    with torch.no_grad():
        with painters.apply(model, *ops, stage=stage):
            got = model(**x, **kw, output_hidden_states=name == "dpt")
        if name == "dpt":  # the neck reads the states after the ORIGINAL layers in backbone_out_indices
            features = [got.hidden_states[b + 1] for b in model.config.backbone_out_indices]
            expected = model.head(model.neck(hidden_states=features))
            assert torch.equal(got.logits, expected)
            return
        expected = tiny.primary(name, tiny.rebuild(model, name, oracle_steps(plan))(**x, **kw))
        untouched = tiny.primary(name, model(**x, **kw))
    diff = (tiny.primary(name, got) - expected).abs().max().item()
    assert diff == 0.0, f"{name} {ops}: max |diff| = {diff}"
    if not plan.is_identity:  # the test can fail: the plan changes the output (layer order matters here)
        assert not torch.equal(tiny.primary(name, got), untouched)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("name", [a for a in ARCHS if a != "segformer"])
def test_hidden_states_follow_original_layers(name, case, tiny_model):
    _, ops, positions = case
    model, x, stage = tiny_model(name), tiny.inputs(name), tiny.STAGE.get(name)
    plan = painters.plan(model, *ops, stage=stage)
    assert list(plan.boundaries) == positions
    rebuilt = tiny.rebuild(model, name, oracle_steps(plan))
    states = raw_step_states(rebuilt, name, x)
    kw = {**forward_kwargs(name), "output_hidden_states": True}
    with torch.no_grad():  # base models, so that DPT's neck does not run on per-step states
        with painters.apply(model, *ops, stage=stage):
            hs = model.base_model(**x, **kw).hidden_states
        with painters.apply(model, *ops, stage=stage, hidden_states="steps"):
            steps = model.base_model(**x, **kw).hidden_states
        out = rebuilt.base_model(**x, **kw)
    # the last entry is the model's final output (LMs tie it to the normed last_hidden_state; ViTs do not)
    final = out.last_hidden_state if torch.equal(out.hidden_states[-1], out.last_hidden_state) else states[-1]
    assert len(hs) == tiny.LAYERS + 1
    assert torch.equal(hs[0], states[0])
    for b, p in enumerate(positions[:-1]):
        assert torch.equal(hs[b + 1], states[p]), f"entry {b + 1} should be the state after {p} steps"
    assert torch.equal(hs[-1], final)
    assert len(steps) == plan.num_steps + 1
    for k in range(plan.num_steps):
        assert torch.equal(steps[k], states[k])
    assert torch.equal(steps[-1], final)


def test_segformer_hidden_states_are_stage_outputs(tiny_model):
    model, x = tiny_model("segformer"), tiny.inputs("segformer")
    with torch.no_grad(), painters.apply(model, painters.reverse(0, 5), stage=2):
        out = model(**x, output_hidden_states=True)
    assert len(out.hidden_states) == 4  # one per stage, as without a plan
