"""The generic position mechanism (painters/positions.py) on hand-made modules and configs: what it rebinds, what it
re-indexes, what it refuses, and that it restores everything."""

from __future__ import annotations

import pytest
import torch
import transformers as T
from torch import nn

import painters
from painters.positions import (
    ConfigPatch,
    ModuleStates,
    check_position_math,
    find_positions,
    module_states,
    owner_marks,
    per_layer_fields,
)


class Attn(nn.Module):
    def __init__(self, layer_idx: int):
        super().__init__()
        self.proj = nn.Linear(2, 2)
        self.layer_idx = layer_idx


class Layer(nn.Module):
    def __init__(self, i: int, **extra):
        super().__init__()
        self.attn = Attn(i)
        self.layer_id = i
        self.kind = 7  # same on every layer: not a position
        for k, v in extra.items():
            setattr(self, k, v)


def test_every_position_attribute_of_every_layer_is_found_per_layer():
    layers = [Layer(i) for i in range(4)]
    layers[2].extra = Attn(2)  # only layer 2 has a second attention: its own index, found on that layer only
    found = find_positions(layers)
    names = [sorted((a.path, a.name) for a in per) for per in found.per_layer]
    assert names[0] == [("", "layer_id"), ("attn", "layer_idx")]
    assert names[2] == [("", "layer_id"), ("attn", "layer_idx"), ("extra", "layer_idx")]
    saved = found.bind(2, 5)
    assert layers[2].attn.layer_idx == 5 and layers[2].layer_id == 5 and layers[2].extra.layer_idx == 5
    assert layers[1].attn.layer_idx == 1  # other layers untouched
    found.unbind(saved)
    assert (layers[2].attn.layer_idx, layers[2].layer_id, layers[2].extra.layer_idx) == (2, 2, 2)


def test_two_slots_per_layer_scale():
    layers = [Layer(i) for i in range(3)]
    for i, layer in enumerate(layers):
        layer.attn.layer_idx = 2 * i + 1
    found = find_positions(layers)
    attr = next(a for a in found.per_layer[1] if a.path == "attn")
    assert (attr.scale, attr.offset, attr.value(4)) == (2, 1, 9)


def test_a_layer_pointing_at_another_layer_is_refused():
    layers = [Layer(i) for i in range(4)]
    for i, layer in enumerate(layers):
        layer.kv_shared_layer_index = min(i, 1)  # layers 2 and 3 read layer 1's cache
    with pytest.raises(painters.UnsupportedModelError, match=r"kv_shared_layer_index.*points at other layers"):
        find_positions(layers)


def test_a_weighted_module_shared_between_layers_is_refused():
    shared = nn.Linear(2, 2)
    layers = [Layer(i) for i in range(3)]
    for layer in layers:
        layer.block = shared
    with pytest.raises(painters.UnsupportedModelError, match=r"share the module 'block'"):
        find_positions(layers)


def test_per_layer_config_lists_including_properties_are_reindexed_and_restored():
    config = T.RecurrentGemmaConfig(num_hidden_layers=6, block_types=["recurrent", "recurrent", "attention"])
    fields = per_layer_fields(config, 6)
    assert "layers_block_type" in fields  # a read-only property
    before = (type(config), config.num_hidden_layers, list(config.layers_block_type), config.to_dict())
    patch = ConfigPatch(config, fields, [2, 0, 5], "num_hidden_layers")
    assert config.num_hidden_layers == 3
    assert config.layers_block_type == [fields["layers_block_type"][i] for i in (2, 0, 5)]
    assert config.layer_types == config.layers_block_type  # the attribute_map alias follows
    assert isinstance(config, before[0])
    patch.restore()
    assert (type(config), config.num_hidden_layers, list(config.layers_block_type), config.to_dict()) == before


def test_plain_config_lists_are_reindexed_whatever_the_model_kind():
    config = T.Qwen2Config(num_hidden_layers=4, use_sliding_window=True, max_window_layers=2)
    types = list(config.layer_types)
    patch = ConfigPatch(config, per_layer_fields(config, 4), [3, 3, 0], "num_hidden_layers")
    assert config.layer_types == [types[3], types[3], types[0]]
    patch.restore()
    assert config.layer_types == types and config.num_hidden_layers == 4


def test_lists_that_are_not_per_layer_are_left_alone():
    config = T.DPTConfig(num_hidden_layers=4, backbone_out_indices=[0, 1, 2, 3])
    assert "backbone_out_indices" not in per_layer_fields(config, 4)


@pytest.mark.parametrize(
    "flag, value, why",
    [
        ("scale_attn_by_inverse_layer_idx", True, "divides attention scores"),
        ("num_kv_shared_layers", 2, "reuse the KV cache"),
        ("hidden_size_per_layer_input", 8, "per-layer embedding"),
        ("rescale_every", 6, "halves the hidden state"),
        ("kv_sharing_modes", [None, "reuse"], "reuse the KV cache"),
        ("loop_layer_index_start", 0, "loops over a span"),
    ],
)
def test_position_dependent_math_is_refused(flag, value, why):
    config = T.LlamaConfig()
    object.__setattr__(config, flag, value)
    with pytest.raises(painters.UnsupportedModelError, match=why):
        check_position_math(config)


def test_owner_marks_follow_the_plan_or_are_refused():
    owner = nn.Module()
    owner.n_layers = 6
    owner.rope_types = ["a", "b", "a", "b", "a", "b"]
    owner.first_kv_shared_layer_idx = 6
    marks = {name: value for _, name, value in owner_marks(owner, 6)}
    assert marks == {"n_layers": 6, "rope_types": owner.rope_types, "first_kv_shared_layer_idx": 6}
    owner.first_kv_shared_layer_idx = 4
    with pytest.raises(painters.UnsupportedModelError, match="marks layer 4"):
        owner_marks(owner, 6)


def test_module_state_is_kept_per_slot_and_reset_from_outside():
    class Stateful(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.conv_state = None

    layer = Stateful()
    states = module_states(layer)
    assert isinstance(states, ModuleStates)
    states.bind(0)
    layer.conv_state = torch.ones(1)
    states.unbind(0)
    states.bind(1)  # a second call of the same layer starts from the reset value, not from slot 0's state
    assert layer.conv_state is None
    layer.conv_state = torch.full((1,), 2.0)
    states.unbind(1)
    states.bind(0)
    assert float(layer.conv_state) == 1.0
    states.unbind(0)
    layer.conv_state = torch.zeros(1)  # the model resets its cache for a new sequence
    states.bind(1)
    assert float(layer.conv_state) == 0.0


def test_positions_are_found_once_per_stack_and_refound_when_it_changes():
    from painters.positions import _POSITIONS

    model, _ = __import__("tests.tiny_any", fromlist=["build"]).build("llama")
    container = model.model.layers
    painters.plan(model, painters.skip(1, 2))
    first = _POSITIONS[container][1]
    painters.plan(model, painters.reverse(0, 3))
    assert _POSITIONS[container][1] is first  # a second plan reuses the walk over the submodules
    model.model.layers[2].self_attn.layer_idx = 7  # a user edit: the cached positions no longer hold
    with pytest.raises(painters.UnsupportedModelError, match="points at other layers"):
        painters.plan(model, painters.skip(1, 2))
    model.model.layers[2].self_attn.layer_idx = 2  # consistent again: the cached positions hold again
    painters.plan(model, painters.skip(1, 2))
    assert _POSITIONS[container][1] is first
    container[2] = __import__("copy").deepcopy(container[2])  # another module in the stack: found anew
    painters.plan(model, painters.skip(1, 2))
    assert _POSITIONS[container][1] is not first
    assert _POSITIONS[container][1].per_layer[2][0].module is container[2].self_attn
