"""Tiny models built from configs, with weights scaled up so that layer order matters (design.md trap 11),
and an independent rebuild of a model from a list of steps (the oracle the exactness tests compare against)."""

from __future__ import annotations

import copy

import torch
import transformers as T
from torch import nn

LAYERS = 6
SEQ = 12
VOCAB = 97


def _lm(cls_cfg, cls_model, **kw):
    def build():
        cfg = cls_cfg(vocab_size=VOCAB, num_hidden_layers=LAYERS, **kw)
        return cls_model(cfg)

    return build


_ATTN = dict(hidden_size=48, num_attention_heads=4, intermediate_size=96)
_VIS = dict(
    hidden_size=48,
    num_attention_heads=4,
    intermediate_size=96,
    image_size=32,
    patch_size=8,
    num_channels=3,
    num_hidden_layers=LAYERS,
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
)

FACTORIES = {
    "vit": lambda: T.ViTForImageClassification(T.ViTConfig(num_labels=5, **_VIS)),
    "deit": lambda: T.DeiTForImageClassification(T.DeiTConfig(num_labels=5, **_VIS)),
    "yolos": lambda: T.YolosForObjectDetection(
        T.YolosConfig(
            num_labels=5, num_detection_tokens=4, use_mid_position_embeddings=True, **{**_VIS, "image_size": [32, 32]}
        )
    ),
    "dpt": lambda: T.DPTForSemanticSegmentation(
        T.DPTConfig(
            num_labels=4,
            backbone_out_indices=[1, 2, 4, 5],
            neck_hidden_sizes=[8, 16, 24, 32],
            fusion_hidden_size=16,
            head_in_index=-1,
            use_auxiliary_head=False,
            **_VIS,
        )
    ),
    "segformer": lambda: T.SegformerForSemanticSegmentation(
        T.SegformerConfig(
            num_labels=4,
            depths=[1, 1, 6, 1],
            hidden_sizes=[8, 16, 24, 32],
            num_attention_heads=[1, 2, 4, 4],
            decoder_hidden_size=16,
            image_size=32,
        )
    ),
    "gpt2": lambda: T.GPT2LMHeadModel(
        T.GPT2Config(
            vocab_size=VOCAB, n_layer=LAYERS, n_embd=48, n_head=4, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0
        )
    ),
    "llama": _lm(T.LlamaConfig, T.LlamaForCausalLM, num_key_value_heads=2, **_ATTN),
    "mistral": _lm(T.MistralConfig, T.MistralForCausalLM, num_key_value_heads=2, sliding_window=5, **_ATTN),
    "qwen2": _lm(
        T.Qwen2Config,
        T.Qwen2ForCausalLM,
        num_key_value_heads=2,
        use_sliding_window=True,
        sliding_window=5,
        max_window_layers=3,
        **_ATTN,
    ),
    "gpt_neox": _lm(T.GPTNeoXConfig, T.GPTNeoXForCausalLM, hidden_dropout=0.0, attention_dropout=0.0, **_ATTN),
    "bert": lambda: T.BertForMaskedLM(
        T.BertConfig(
            vocab_size=VOCAB,
            num_hidden_layers=LAYERS,
            **_ATTN,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
        )
    ),
    "bert-cls": lambda: T.BertForSequenceClassification(
        T.BertConfig(vocab_size=VOCAB, num_hidden_layers=LAYERS, num_labels=3, **_ATTN)
    ),
    "bert-bare": lambda: T.BertModel(T.BertConfig(vocab_size=VOCAB, num_hidden_layers=LAYERS, **_ATTN)),
}
DECODERS = ["gpt2", "llama", "mistral", "qwen2", "gpt_neox"]
STAGE = {"segformer": 2}


def build(name: str, seed: int = 0, scale: float = 3.0) -> nn.Module:
    """A tiny model in eval mode whose Linear weights are scaled by ``scale`` so that layers are far from
    the identity and their order changes the output."""
    torch.manual_seed(seed)
    model = FACTORIES[name]().eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                module.weight.mul_(scale)
    return model


_CACHE: dict[str, nn.Module] = {}


def cached(name: str) -> nn.Module:
    """:func:`build` once per test process (the ``tiny_model`` session fixture); callers leave it unchanged."""
    if name not in _CACHE:
        _CACHE[name] = build(name)
    return _CACHE[name]


def inputs(name: str, batch: int = 2, seed: int = 1) -> dict:
    g = torch.Generator().manual_seed(seed)
    if name in ("vit", "deit", "yolos", "dpt", "segformer"):
        return {"pixel_values": torch.randn(batch, 3, 32, 32, generator=g)}
    ids = torch.randint(0, VOCAB, (batch, SEQ), generator=g)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def primary(name: str, out) -> torch.Tensor:
    for key in ("logits", "last_hidden_state"):
        if getattr(out, key, None) is not None:
            value = getattr(out, key)
            return torch.cat([value.flatten(), out.pred_boxes.flatten()]) if name == "yolos" else value
    raise AssertionError(f"no output tensor for {name}")


def layer_list(model: nn.Module, name: str) -> tuple[nn.Module, str]:
    """(parent, attribute) of the layer list, written out by hand per architecture."""
    paths = {
        "vit": "vit.layers",
        "deit": "deit.layers",
        "yolos": "vit.encoder.layer",
        "dpt": "dpt.encoder.layer",
        "segformer": "segformer.stages.2.blocks",
        "gpt2": "transformer.h",
        "llama": "model.layers",
        "mistral": "model.layers",
        "qwen2": "model.layers",
        "gpt_neox": "gpt_neox.layers",
        "bert": "bert.encoder.layer",
        "bert-cls": "bert.encoder.layer",
        "bert-bare": "encoder.layer",
    }
    *parents, attr = paths[name].split(".")
    obj = model
    for p in parents:
        obj = obj[int(p)] if p.isdigit() else getattr(obj, p)
    return obj, attr


class MeanOf(nn.Module):
    """Test oracle for a parallel group: every layer gets the same input; the output is the mean, K times."""

    def __init__(self, layers: list[nn.Module], iterations: int):
        super().__init__()
        self.group = nn.ModuleList(layers)
        self.iterations = iterations

    def forward(self, hidden_states, *args, **kwargs):
        h = hidden_states
        for _ in range(self.iterations):
            h = torch.stack([layer(h, *args, **kwargs) for layer in self.group], 0).mean(0)
        return h


ATTENTION = {
    "gpt2": "attn",
    "llama": "self_attn",
    "mistral": "self_attn",
    "qwen2": "self_attn",
    "gpt_neox": "attention",
}


def rebuild(model: nn.Module, name: str, steps) -> nn.Module:
    """A copy of ``model`` whose layer list is rebuilt from copied layers in the order ``steps`` (ints, or
    ``(layers, iterations)`` pairs for parallel groups). Decoders must then be run with ``use_cache=False``
    unless the steps contain no group."""
    new = copy.deepcopy(model)
    parent, attr = layer_list(new, name)
    old = list(getattr(parent, attr))
    built = []
    for s in steps:
        if isinstance(s, tuple):
            layers, iterations = s
            built.append(MeanOf([copy.deepcopy(old[i]) for i in layers], iterations))
        else:
            built.append(copy.deepcopy(old[s]))
    parent._modules[attr] = nn.ModuleList(built)
    for slot, layer in enumerate(built):
        if name in ATTENTION and not isinstance(layer, MeanOf):
            getattr(layer, ATTENTION[name]).layer_idx = slot
    cfg = new.config
    if name == "segformer":
        return new
    if getattr(cfg, "layer_types", None) is not None:
        types = [model.config.layer_types[s if isinstance(s, int) else s[0][0]] for s in steps]
        cfg.layer_types = types
    cfg.num_hidden_layers = len(steps)
    if name == "yolos":
        interp = parent.interpolation
        mid = interp.mid_position_embeddings.data
        rows = [mid[s] if isinstance(s, int) and s < LAYERS - 1 else torch.zeros_like(mid[0]) for s in steps[:-1]]
        interp.mid_position_embeddings = nn.Parameter(torch.stack(rows) if rows else mid[:0].clone())
    return new
