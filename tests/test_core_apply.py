"""apply(): generation with the KV cache, clean restore, gradients, errors, materialize."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import painters
from tests import tiny
from tests.test_core_exactness import oracle_steps
from tests.tiny import cached as model_for

GEN_OPS = {
    "skip-first": (painters.skip(0, 2),),
    "skip": (painters.skip(2, 4),),
    "repeat": (painters.repeat(1, 4, times=2),),
    "reverse": (painters.reverse(1, 5),),
    "shuffle": (painters.shuffle(0, 6, seed=3),),
    "swap": (painters.swap(0, 5),),
    "looped-parallel": (painters.parallel(3, 6, iterations=2),),
}


def _generate(model, ids, scores=False, **kw):
    out = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=8,
        do_sample=False,
        pad_token_id=0,
        return_dict_in_generate=True,
        output_scores=True,
        **kw,
    )
    return (out.sequences, torch.stack(out.scores)) if scores else out.sequences


@pytest.mark.parametrize("op_id", list(GEN_OPS))
@pytest.mark.parametrize("name", tiny.DECODERS)
def test_generate_with_kv_cache_matches_rebuilt_model(name, op_id):
    ops = GEN_OPS[op_id]
    model = model_for(name)
    ids = tiny.inputs(name, batch=2)["input_ids"][:, :6]
    plan = painters.plan(model, *ops)
    rebuilt = tiny.rebuild(model, name, oracle_steps(plan))
    with torch.no_grad():
        with painters.apply(model, *ops):
            cached, cached_scores = _generate(model, ids, scores=True, use_cache=True)
            uncached = _generate(model, ids, use_cache=False)
        expected, expected_scores = _generate(rebuilt, ids, scores=True, use_cache=False)
        _, untouched_scores = _generate(model, ids, scores=True, use_cache=True)
    assert torch.equal(cached, expected), f"{name} {ops}: cached generation differs from the rebuilt model"
    assert torch.equal(uncached, expected)
    torch.testing.assert_close(cached_scores, expected_scores, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(cached_scores, untouched_scores, atol=1e-3)  # the plan does change the model


def _snapshot(model):
    return (
        {k: v.clone() for k, v in model.state_dict().items()},
        model.config.to_dict(),
        [id(m) for m in model.modules()],
        [(n, id(m)) for n, m in model.named_modules()],
    )


def _same(model, snap):
    state, config, ids, names = snap
    now = model.state_dict()
    assert list(now) == list(state) and all(torch.equal(now[k], state[k]) for k in state)
    assert model.config.to_dict() == config
    assert [id(m) for m in model.modules()] == ids and [(n, id(m)) for n, m in model.named_modules()] == names


@pytest.mark.parametrize("name", ["llama", "qwen2", "yolos", "gpt2", "segformer"])
def test_model_is_restored_after_exit_and_after_exceptions(name):
    model, x, stage = model_for(name), tiny.inputs(name), tiny.STAGE.get(name)
    snap = _snapshot(model)
    with torch.no_grad():
        before = tiny.primary(name, model(**x))
        keys_before = list(model.state_dict())
        with painters.apply(model, painters.repeat(1, 4, times=3), stage=stage):
            assert list(model.state_dict()) == keys_before  # state_dict keys unchanged while active
            model(**x)
        _same(model, snap)
        for exc in (RuntimeError("boom"), KeyboardInterrupt()):
            with pytest.raises(type(exc)):
                with painters.apply(model, painters.parallel(3, 6), stage=stage):
                    model(**x)
                    raise exc
            _same(model, snap)
        after = tiny.primary(name, model(**x))
    assert torch.equal(before, after)


def test_exception_inside_a_layer_restores_the_model():
    model, x = model_for("llama"), tiny.inputs("llama")
    snap = _snapshot(model)
    bad = {"input_ids": x["input_ids"] + 1000}  # out of vocabulary: the embedding raises inside the forward
    with pytest.raises(IndexError), painters.apply(model, painters.reverse(0, 6)):
        model(**bad)
    _same(model, snap)


def test_identity_plan_equals_untouched_model():
    for name in ("llama", "vit", "bert"):
        model, x = model_for(name), tiny.inputs(name)
        with torch.no_grad():
            with painters.apply(model):
                a = tiny.primary(name, model(**x))
            b = tiny.primary(name, model(**x))
        assert torch.equal(a, b)


def test_gradients_flow_through_repeated_layers():
    model = copy.deepcopy(model_for("llama")).train()
    x = tiny.inputs("llama")
    ops = (painters.repeat(1, 4, times=2),)
    rebuilt = tiny.rebuild(model, "llama", oracle_steps(painters.plan(model, *ops)))
    with painters.apply(model, *ops):
        model(**x, labels=x["input_ids"], use_cache=False).loss.backward()
    rebuilt(**x, labels=x["input_ids"], use_cache=False).loss.backward()
    # the shared layer's gradient is the sum over its two uses (copies 1..3 and 4..6 in the rebuilt stack)
    for layer in (1, 2, 3):
        got = model.model.layers[layer].mlp.down_proj.weight.grad
        want = sum(rebuilt.model.layers[k].mlp.down_proj.weight.grad for k in (layer, layer + 3))
        assert got is not None and got.abs().sum() > 0
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    assert model.model.layers[0].mlp.down_proj.weight.grad is not None


def test_layers_and_plan_do_not_touch_the_model():
    model = model_for("gpt2")
    stack = painters.layers(model)
    assert stack.kind == "decoder" and stack.path == "h" and len(stack.layers) == tiny.LAYERS
    assert stack.layers[0] is model.transformer.h[0]
    snap = _snapshot(model)
    plan = painters.plan(model, painters.reverse(2, 6))
    assert list(plan.steps) == [0, 1, 5, 4, 3, 2]
    _same(model, snap)
    with painters.apply(model, painters.skip(0, 3)):
        assert painters.layers(model).layers[0] is stack.layers[0]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: painters.apply(m, painters.skip(2, 9)).__enter__(), r"\[2, 9\).*6 layers"),
        (lambda m: painters.apply(m, painters.skip(1, 3), painters.swap(2, 5)).__enter__(), r"overlap"),
        (lambda m: painters.apply(m, painters.skip(1, 3), hidden_states="all").__enter__(), r"hidden_states='all'"),
    ],
)
def test_errors_are_raised_before_touching_the_model(call, message):
    model = model_for("llama")
    snap = _snapshot(model)
    with pytest.raises(ValueError, match=message):
        call(model)
    _same(model, snap)


def test_nested_apply_is_refused():
    model = model_for("vit")
    with painters.apply(model, painters.skip(1, 2)):
        with pytest.raises(ValueError, match="already active"):
            painters.apply(model, painters.skip(3, 4)).__enter__()


def test_parallel_group_mixing_attention_types_is_refused():
    model = model_for("qwen2")  # layers 0-2 full attention, 3-5 sliding window
    with pytest.raises(ValueError, match=r"mixes config.layer_types"):
        painters.plan(model, painters.parallel(2, 4))


def test_staged_model_needs_a_stage():
    model = model_for("segformer")
    with pytest.raises(ValueError, match=r"4 stages with depths \[1, 1, 6, 1\].*stage=0..3"):
        painters.plan(model, painters.skip(0, 1))


def test_unsupported_model_error_names_what_is_supported():
    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4)])

    with pytest.raises(ValueError, match=r"not a supported architecture.*Supported by name: albert, bert, deit"):
        painters.plan(Plain(), painters.skip(0, 1))


MAT_OPS = [
    (painters.skip(0, 2),),
    (painters.repeat(1, 4, times=2),),
    (painters.reverse(1, 5),),
    (painters.shuffle(0, 6, seed=3),),
    (painters.middle_repeat(2, 4), painters.swap(4, 5)),
]


@pytest.mark.parametrize("ops", MAT_OPS, ids=lambda o: "+".join(map(str, o)))
@pytest.mark.parametrize("name", ["vit", "yolos", "gpt2", "llama", "qwen2", "gpt_neox", "bert", "segformer"])
def test_materialize_equals_apply(name, ops):
    model, x, stage = model_for(name), tiny.inputs(name), tiny.STAGE.get(name)
    kw = {"use_cache": False} if name in tiny.DECODERS else {}
    plain = painters.materialize(model, *ops, stage=stage)
    with torch.no_grad():
        with painters.apply(model, *ops, stage=stage):
            expected = tiny.primary(name, model(**x, **kw))
        got = tiny.primary(name, plain(**x, **kw))
    assert torch.equal(got, expected)
    assert not any(p1.data_ptr() == p2.data_ptr() for p1 in plain.parameters() for p2 in model.parameters())


def test_materialized_model_saves_and_loads(tmp_path):
    model, x = model_for("llama"), tiny.inputs("llama")
    plain = painters.materialize(model, painters.repeat(2, 4, times=2))
    plain.save_pretrained(tmp_path)
    loaded = type(plain).from_pretrained(tmp_path).eval()
    assert loaded.config.num_hidden_layers == 8
    with torch.no_grad():
        assert torch.equal(loaded(**x, use_cache=False).logits, plain(**x, use_cache=False).logits)
        a = _generate(loaded, x["input_ids"][:, :6], use_cache=True)
        with painters.apply(model, painters.repeat(2, 4, times=2)):
            b = _generate(model, x["input_ids"][:, :6], use_cache=True)
    assert torch.equal(a, b)


def test_materialize_refuses_parallel():
    with pytest.raises(ValueError, match="parallel groups cannot be written"):
        painters.materialize(model_for("llama"), painters.parallel(1, 3))


@pytest.mark.parametrize("name", ["llama", "vit", "gpt2", "bert"])
def test_resuming_from_a_recorded_prefix_is_bit_identical(name):
    from painters.apply import session

    model, x = model_for(name), tiny.inputs(name)
    kw = {"use_cache": False} if name in tiny.DECODERS else {}
    with torch.no_grad():
        with session(model, capture=True) as runner:
            base = tiny.primary(name, model(**x, **kw))
        states = list(runner.captured)
        assert len(states) == tiny.LAYERS + 1 and torch.equal(tiny.primary(name, model(**x, **kw)), base)
        for ops in [(painters.skip(3, 5),), (painters.reverse(2, 6),), (painters.skip(4, 6),)]:
            plan = painters.plan(model, *ops)
            k = plan.shared_prefix
            with session(model, *ops, resume=(k, states)):
                shared = tiny.primary(name, model(**x, **kw))
            with painters.apply(model, *ops):
                full = tiny.primary(name, model(**x, **kw))
            assert torch.equal(shared, full)
            # and the resumed run really used the recorded state: a wrong state gives a different output
            with session(model, *ops, resume=(k, [s + 1.0 for s in states])):
                assert not torch.equal(tiny.primary(name, model(**x, **kw)), full)


@pytest.mark.parametrize("name", ["llama", "vit"])
def test_other_dtypes_are_exact_too(name):
    model = copy.deepcopy(model_for(name)).to(torch.bfloat16)
    x = {k: (v.to(torch.bfloat16) if v.is_floating_point() else v) for k, v in tiny.inputs(name).items()}
    kw = {"use_cache": False} if name in tiny.DECODERS else {}
    ops = (painters.reverse(1, 5), painters.repeat(5, 6, times=2))
    rebuilt = tiny.rebuild(model, name, oracle_steps(painters.plan(model, *ops)))
    with torch.no_grad():
        with painters.apply(model, *ops):
            got = tiny.primary(name, model(**x, **kw))
        expected = tiny.primary(name, rebuilt(**x, **kw))
    assert got.dtype == torch.bfloat16 and torch.equal(got, expected)


def test_save_pretrained_is_refused_while_a_plan_is_active(tmp_path):
    model = model_for("gpt2")
    with painters.apply(model, painters.repeat(1, 3)):
        with pytest.raises(ValueError, match="use painters.materialize"):
            model.save_pretrained(tmp_path)
    model.save_pretrained(tmp_path)  # restored: the real method again
    assert (tmp_path / "config.json").exists() and "save_pretrained" not in vars(model)
