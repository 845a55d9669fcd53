"""Tiny models of any ``model_type`` of the installed transformers, built from its config with the sizes shrunk
(for the architecture coverage test, ``tests/test_architecture_coverage.py``), which types are in its scope, and
inputs for them."""

from __future__ import annotations

import importlib.util
import inspect
import re

import torch
import transformers
from torch import nn
from transformers.models.auto import modeling_auto as ma
from transformers.models.auto.configuration_auto import CONFIG_MAPPING, CONFIG_MAPPING_NAMES

LAYERS = 6
SEQ = 10
VOCAB = 99
IMAGE = 32

# heads in the order we prefer them (the first that exists for a type is built)
HEADS = [
    ("causal-lm", "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES"),
    ("masked-lm", "MODEL_FOR_MASKED_LM_MAPPING_NAMES"),
    ("image-classification", "MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES"),
    ("semantic-segmentation", "MODEL_FOR_SEMANTIC_SEGMENTATION_MAPPING_NAMES"),
    ("object-detection", "MODEL_FOR_OBJECT_DETECTION_MAPPING_NAMES"),
    ("bare", "MODEL_MAPPING_NAMES"),
]
# a type with a class in one of these is out of scope (seq2seq, speech, video, multimodal composites, time series)
OUT_OF_SCOPE = {
    "seq2seq": ["MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES"],
    "speech": [
        "MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES",
        "MODEL_FOR_CTC_MAPPING_NAMES",
        "MODEL_FOR_AUDIO_CLASSIFICATION_MAPPING_NAMES",
        "MODEL_FOR_AUDIO_FRAME_CLASSIFICATION_MAPPING_NAMES",
        "MODEL_FOR_AUDIO_XVECTOR_MAPPING_NAMES",
        "MODEL_FOR_TEXT_TO_SPECTROGRAM_MAPPING_NAMES",
        "MODEL_FOR_TEXT_TO_WAVEFORM_MAPPING_NAMES",
        "MODEL_FOR_RNNT_MAPPING_NAMES",
        "MODEL_FOR_TDT_MAPPING_NAMES",
    ],
    "video": ["MODEL_FOR_VIDEO_CLASSIFICATION_MAPPING_NAMES"],
    "multimodal": [
        "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES",
        "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES",
        "MODEL_FOR_VISUAL_QUESTION_ANSWERING_MAPPING_NAMES",
        "MODEL_FOR_DOCUMENT_QUESTION_ANSWERING_MAPPING_NAMES",
        "MODEL_FOR_ZERO_SHOT_IMAGE_CLASSIFICATION_MAPPING_NAMES",
        "MODEL_FOR_ZERO_SHOT_OBJECT_DETECTION_MAPPING_NAMES",
        "MODEL_FOR_RETRIEVAL_MAPPING_NAMES",
        "MODEL_FOR_MASK_GENERATION_MAPPING_NAMES",  # sam family: image + point/box prompts
    ],
    "time-series": [
        "MODEL_FOR_TIME_SERIES_CLASSIFICATION_MAPPING_NAMES",
        "MODEL_FOR_TIME_SERIES_PREDICTION_MAPPING_NAMES",
        "MODEL_FOR_TIME_SERIES_REGRESSION_MAPPING_NAMES",
    ],
}
# main inputs (first forward argument or ``main_input_name``) that make a type speech / video / time series
AUDIO_INPUTS = {"input_features", "input_values", "audio_values", "audio_mel", "audio_codes", "input_audio"}
VIDEO_INPUTS = {"pixel_values_videos", "inference_session"}
TIME_SERIES_INPUTS = {"past_values"}
# audio models, codecs and tokenizers whose main input is not named like audio (decoders taking latents, ...)
AUDIO_NAMES = re.compile(
    r"audio|speech|tts|(^|_)asr|transcribe|diariz|codec|wav|voice|mimi|(^|_)dac($|_)|univnet|clvp|moshi|musicgen|bark"
)
VIDEO_NAMES = re.compile(r"_video(_encoder)?$")
# sub-config names -> modality; a config composing two or more modalities is a multimodal composite
MODALITIES = {
    "audio": ("audio", "speech", "acoustic", "semantic_model", "dac"),
    "vision": ("vision", "image", "backbone", "video", "patch_model", "fov", "keypoint", "vq"),
    "text": ("text", "qformer"),
    "prompt": ("prompt", "mask_decoder", "geometry", "detector", "tracker"),
}
# composites that do not show it in their sub-configs (generic perceiver, text + video grounding)
MULTIMODAL_TYPES = {"perceiver", "tvp"}
# the inputs our tests can make; any other required forward argument puts a type out of scope ("needs inputs ...")
MADE_INPUTS = {"input_ids", "pixel_values"}
# arguments that are optional in the signature but without which the forward does not run at all
NEEDS_ARGS = {
    "grid_thw", "image_grid_thw", "spatial_shapes", "pixel_position_ids", "query_embeds", "prompt_pixel_values",
    "prompt_masks", "task_inputs", "target_sizes", "merge_sizes", "visual_feats", "noise_embeds",
}  # fmt: skip
NEEDS_BY_TYPE = {"bros": "bbox", "efficientloftr": "image pairs", "lightglue": "image pairs"}
# types whose classes need a package that is not installed (timm, torchaudio, natten) stay IN scope: they are
# models the coverage test is meant for, reported by build as not buildable ("needs timm (not installed)") rather
# than silently dropped


def _mapping(name: str) -> dict:
    return getattr(ma, name, {})


def _modality(key: str) -> str | None:
    for modality, words in MODALITIES.items():
        if any(w in key for w in words):
            return modality
    return None


def _missing_backends(cls) -> list[str]:
    return [b for b in getattr(cls, "_backends", ()) if importlib.util.find_spec(b) is None]


def _forward_inputs(cls) -> tuple[str, list[str], set[str]]:
    """(main input, required arguments, all arguments) of a model class's forward."""
    params = [
        p
        for n, p in inspect.signature(cls.forward).parameters.items()
        if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    main = getattr(cls, "main_input_name", None)
    first = params[0].name if params else main
    if not isinstance(main, str) or first in AUDIO_INPUTS | VIDEO_INPUTS | MADE_INPUTS:
        main = first
    required = [p.name for p in params if p.default is p.empty]
    return main, required, {p.name for p in params}


def _is_encoder_decoder(model_type: str) -> bool:
    try:
        return bool(getattr(CONFIG_MAPPING[model_type](), "is_encoder_decoder", False))
    except Exception:  # a default config its own validation rejects: decided when it is built
        return False


def scope(model_type: str) -> tuple[str | None, str]:
    """(head, class name) to build for an in-scope type, or (None, why it is out of scope)."""
    for why, names in OUT_OF_SCOPE.items():
        if any(model_type in _mapping(n) for n in names):
            return None, why
    head, cls_name = next(((h, _mapping(n)[model_type]) for h, n in HEADS if _mapping(n).get(model_type)), (None, None))
    if head is None:
        return None, "no causal-LM, masked-LM, image classification, segmentation, detection or bare-model class"
    cls_name = cls_name if isinstance(cls_name, str) else cls_name[0]
    cls = getattr(transformers, cls_name, None)
    if cls is None:
        return None, f"{cls_name} is not exported by transformers"
    if AUDIO_NAMES.search(model_type):
        return None, "speech"
    if VIDEO_NAMES.search(model_type):
        return None, "video"
    sub_configs = getattr(CONFIG_MAPPING[model_type], "sub_configs", None) or {}
    if model_type in MULTIMODAL_TYPES or len({_modality(k) for k in sub_configs} - {None}) >= 2:
        return None, "multimodal"
    if _is_encoder_decoder(model_type):
        return None, "seq2seq"  # encoder-decoder (the DETR family): two stacks joined by cross-attention
    if cls.forward is nn.Module.forward:
        return None, f"{cls_name} has no forward"
    if _missing_backends(cls):
        return head, cls_name  # in scope, build reports what is missing
    main, required, params = _forward_inputs(cls)
    if main in AUDIO_INPUTS:
        return None, "speech"
    if main in VIDEO_INPUTS:
        return None, "video"
    if main in TIME_SERIES_INPUTS:
        return None, "time-series"
    needs = [a for a in [main, *required] if a not in MADE_INPUTS] + sorted(params & NEEDS_ARGS)
    if model_type in NEEDS_BY_TYPE:
        needs.append(NEEDS_BY_TYPE[model_type])
    if needs:
        return None, "needs inputs " + ", ".join(dict.fromkeys(needs))
    return head, cls_name


def model_types() -> list[str]:
    return sorted(CONFIG_MAPPING_NAMES)


SIZES = {
    "hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 8, "vocab_size": VOCAB, "num_hidden_layers": LAYERS, "image_size": IMAGE, "patch_size": 8,
    "num_channels": 3, "max_position_embeddings": 64, "embedding_size": 32, "num_labels": 3,
    "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "hidden_dropout": 0.0,
    "attention_dropout": 0.0, "dropout": 0.0, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
    "drop_path_rate": 0.0, "layerdrop": 0.0, "moe_intermediate_size": 32, "num_experts": 4, "num_local_experts": 4,
    "num_experts_per_tok": 2, "n_routed_experts": 4, "shared_expert_intermediate_size": 32,
    "kv_lora_rank": 16, "q_lora_rank": 16, "qk_rope_head_dim": 8, "qk_nope_head_dim": 8, "v_head_dim": 8,
    "sliding_window": 4, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2,
}  # fmt: skip
# other int / float fields are capped (never grown) by the first pattern their name matches
CAPS = [
    (r"vocab_size(_per_layer_input)?$", VOCAB),
    (r"^hidden_size_per_layer_input$", 8),  # per-layer-input embeddings (gemma3n, gemma4): layers x this wide
    (r"head_dim$|^(kv_channels|dim_head|attention_head_dim|key_dim|headdim)$", 8),
    (r"intermediate_size|ffn_dim$|ffn_hidden_size$|feedforward|feed_forward|intermediate_dim$|^(dim_ff|d_ff|dff)$", 64),
    (r"^(d_inner|mlp_dim|decoder_intermediate_size|mlp_hidden_size)$", 64),
    (r"^(d_model|n_embd|embed_dim|hidden_dim|dim|emb_dim|word_embed_proj_dim|projection_dim|embedding_dim)$", 32),
    (r"_hidden_size$|_hidden_dim$|_embed_dim$|_channels$|^(d_latents|mask_feature_size|feature_size|conv_dim)$", 32),
    (r"^(mask_dim|output_dim|lru_width|fpn_feature_size|num_pos_feats|aspp_out_channels|auxiliary_channels)$", 32),
    (r"^(max_position_embeddings|n_positions|n_ctx|max_seq_len|max_sequence_length)$", 64),
    (r"^(n_layer|n_layers|num_layers|depth|encoder_layers|decoder_layers|num_encoder_layers)$", LAYERS),
    (r"^(n_head|n_heads|num_heads|num_kv_heads|encoder_attention_heads|decoder_attention_heads)$", 4),
    (r"experts$|^moe_num_experts$|_expert_num$", 4),
    (r"^(moe_top_k|num_experts_per_token)$", 2),
    (r"^(n_group|topk_group|num_expert_group)$", 1),
    (r"lora_rank$", 16),
    (r"^(num_queries|num_denoising|two_stage_num_proposals|d_state|mamba_d_state|state_size|mamba_chunk_size)$", 16),
    (r"^(width_coefficient|depth_coefficient)$", 1.0),
    (r"^num_groups$", 4),
]
CAPS = [(re.compile(p), v) for p, v in CAPS]
# list-valued stage fields of hierarchical vision models (one entry per stage): keep the length, shrink the entries
DEPTH_LISTS = re.compile(r"^(depths|depth|num_block_repeats|block_repeats|blocks_per_stage|stage_num_blocks)$")
WIDTH_LISTS = re.compile(
    r"^(hidden_sizes|embed_dims?|embed_dim_per_stage|neck_hidden_sizes|(stage_)?(in|mid|out)_channels|"
    r"(encoder|decoder)_in_channels|backbone_channel_list|embedding_dimension|stem_channels)$"
)
HEAD_LISTS = re.compile(r"^(num_heads|num_attention_heads|num_attention_heads_per_stage)$")
# lists of layer indices (which layers are global, output, ...): rescaled onto the LAYERS layers
INDEX_LISTS = re.compile(r"(indexes|idxs|_ids|indices|_layers)$")
# M-RoPE text models whose default config leaves ``mrope_section`` to a default in the modeling code
MROPE_TYPES = {
    "qwen2_vl_text", "qwen2_5_vl_text", "glm4v_text", "glm4v_moe_text", "glm_image_text", "glm_ocr_text",
    "hunyuan_vl_text",
}  # fmt: skip
# per-type values that the generic rules cannot derive
OVERRIDES = {
    "zaya": {"num_experts_per_tok": 1},
    "cvt": {"depth": [1, 2, LAYERS]},  # CvtStage indexes its per-block drop-path rates by the stage index
    "esmc": {"num_key_value_heads": 4},
    "lilt": {"hidden_size": 48},  # the 2-D layout embeddings split hidden_size in six
    "neomme": {"head_dim": 16},  # partial rotary factor 0.25 must rotate a multiple of 4 dims
    "reformer": {"is_decoder": True, "axial_pos_embds_dim": [16, 16], "axial_pos_shape": [8, 8]},
    "gpt_neo": {"attention_types": [[["global", "local"], LAYERS // 2]]},
    # the config's dict lists (attention, mlp) pairs as two entries; the input / recurrent / output split is explicit
    "dory": {
        "num_hidden_layers": LAYERS,
        "layer_types": None,
        "n_input_layers": 2,
        "n_recurrent_layers": 2,
        "n_output_layers": 2,
    },
    # every kind of layer of the default pattern (M E * -), with an attention layer left outside each op's range
    "nemotron_h": {
        "layers_block_type": ["linear_attention", "moe", "full_attention", "mlp", "linear_attention", "full_attention"]
    },
    "cohere_compass_text": {"rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 10000.0}}},
    "dots1": {"n_shared_experts": 1},  # the default config leaves it None, which the MoE block multiplies by
    "lfm2_moe": {"layer_types": ["conv", "conv", "full_attention", "conv", "conv", "full_attention"]},
    # the indexed-attention layers need the QSA indexer sizes the default config leaves None; one of them is left
    # outside each op's range (the mask needs one)
    "qwen4_exp_text": {
        "layer_types": ["linear_attention"] * 3 + ["indexed_attention", "linear_attention", "indexed_attention"],
        "indexer_n_heads": 2,
        "indexer_kv_heads": 1,
        "indexer_head_dim": 8,
        "indexer_budget": 8,
        "indexer_compress_ratio": 2,
        "hc_lowrank": 8,
    },
    # DbrxAttention reads rope_theta from attn_config (as hub configs have it) and clamps q, k, v by clip_qkv
    "dbrx": {"attn_config": {"rope_theta": 10000.0, "clip_qkv": 8.0}},
    # the shared attention block (tied into >= 2 hybrid layers, also after skip(2, 4)) reads [hidden, embeddings]:
    # twice hidden_size
    "zamba": {
        "layers_block_type": ["linear_attention", "linear_attention", "hybrid", "linear_attention", "hybrid", "hybrid"],
        "attention_hidden_size": 64,
        "attention_head_dim": 16,
        "mamba_dt_rank": 8,
    },
    "mobilenet_v1": {"depth_multiplier": 0.25},  # channel widths
    # the PP-OCRv5 mobile backbones (a sub-config): narrower channels, and the four scales the detector's neck fuses
    "pp_lcnet_v3": {"scale": 0.5, "out_indices": [2, 3, 4, 5]},
    "gemma3n_text": {"layer_types": ["sliding_attention", "full_attention"] * 3, "num_kv_shared_layers": 2},
}


def _stage_depths(depths: list[int]) -> list[int]:
    """One block per stage except the deepest stage, which gets LAYERS blocks (the stack the layer ops act on)."""
    out = [1] * len(depths)
    out[max(range(len(depths)), key=lambda i: depths[i])] = LAYERS
    return out


def _pattern(values: list, n: int) -> list:
    """A per-layer list for ``n`` layers: its shortest repeating pattern, repeated (or its head, if it has none)."""
    period = next(p for p in range(1, len(values) + 1) if all(v == values[i % p] for i, v in enumerate(values)))
    out = [values[i % period] for i in range(n)]
    missing = list(dict.fromkeys(v for v in values if v not in out))
    if len(set(out) | set(missing)) <= n:  # keep every kind of layer
        out[n - len(missing) :] = missing
    # the rarest kind (e.g. the one attention layer of a hybrid stack) also sits at the last layer, which the
    # coverage check's ops never remove
    if not all(isinstance(v, str) for v in out):
        return out
    rarest = min(dict.fromkeys(out), key=out.count)
    if out[-1] != rarest and out.count(out[-1]) > 1:
        out[-1] = rarest
    return out


def _mrope(sections: list[int], total: int) -> list[int]:
    """M-RoPE sections scaled to sum to ``total`` (each kept >= 1)."""
    out = [max(1, s * total // sum(sections)) for s in sections]
    out[0] += total - sum(out)
    return out


def _shrink(config: transformers.PreTrainedConfig) -> dict:
    """The init arguments that shrink ``config`` (a default config) to a tiny one."""
    cls = type(config)
    attribute_map = getattr(cls, "attribute_map", {}) or {}
    default = config.to_dict()
    params = set(inspect.signature(cls.__init__).parameters)
    settable = params | set(default)
    # staged (hierarchical) models: the stage lists set the layers, and the patch size sets the feature-map sizes
    staged = any(DEPTH_LISTS.search(k) and isinstance(v, (list, tuple)) for k, v in default.items())
    layers = default.get(attribute_map.get("num_hidden_layers", "num_hidden_layers"))
    if layers is None:  # a read-only property derived from a per-layer list (nemotron_h: its layers_block_type)
        layers = getattr(config, "num_hidden_layers", None)
    kwargs = {}
    for key, value in SIZES.items():
        if staged and key in ("num_hidden_layers", "patch_size"):
            continue
        key = key if key in params else attribute_map.get(key, key)
        if key in settable:
            old = default.get(key)
            if isinstance(old, (list, tuple)) and not isinstance(value, (list, tuple)):
                if isinstance(value, float) or key == "image_size":
                    value = [value] * len(old)
                else:  # a per-layer size (gemma3n_text: intermediate_size) is set for every layer
                    value = [value] * LAYERS if not staged and len(old) == layers and layers > 1 else None
            elif isinstance(old, (int, float)) and not isinstance(old, bool) and isinstance(value, (int, float)):
                value = type(old)(value)
            if value is not None:
                kwargs[key] = value
    # fields stored under an attribute_map target but set through its source name (bailing_hybrid: n_group)
    aliases = {v: k for k, v in attribute_map.items() if k in params}
    for key, old in default.items():
        key = key if key in params else aliases.get(key, key)
        if key in kwargs or key not in params:
            continue
        if isinstance(old, (int, float)) and not isinstance(old, bool):
            cap = next((v for p, v in CAPS if p.search(key)), None)
            if cap is not None and old > cap:
                kwargs[key] = type(old)(cap)
        elif (
            isinstance(old, (list, tuple)) and old and all(isinstance(v, int) and not isinstance(v, bool) for v in old)
        ):
            if DEPTH_LISTS.search(key):
                kwargs[key] = _stage_depths(list(old))
            elif WIDTH_LISTS.search(key):
                kwargs[key] = [v if v <= 16 else max(16, -(-v // 256) * 16) for v in old]
            elif HEAD_LISTS.search(key):
                kwargs[key] = [min(h, 2 ** min(i, 2)) for i, h in enumerate(old)]
            elif INDEX_LISTS.search(key) and isinstance(layers, int) and max(old) >= LAYERS and len(old) <= LAYERS:
                scaled = [min(LAYERS - 1, v * LAYERS // layers) for v in old]
                kwargs[key] = scaled if len(set(scaled)) == len(old) else list(range(LAYERS - len(old), LAYERS))
        if (
            not staged
            and isinstance(layers, int)
            and layers != LAYERS
            and isinstance(old, list)
            and len(old) == layers > 1
        ):
            kwargs.setdefault(key, _pattern(old, LAYERS))
    if staged and "window_size" in default and isinstance(default["window_size"], int):
        kwargs.update(image_size=64, window_size=2)  # patch 4: 16x16 ... 2x2 feature maps, all split into 2x2 windows
    if "kv_lora_rank" in default:  # MLA: no grouped kv heads, head_dim is the rotary part
        heads = kwargs.get("num_attention_heads", default.get("num_attention_heads"))
        kwargs.update({k: v for k, v in (("num_key_value_heads", heads), ("qk_head_dim", 16)) if k in settable})
    rope = default.get("rope_parameters")
    if isinstance(rope, dict) and ("mrope_section" in rope or config.model_type in MROPE_TYPES):
        # M-RoPE: the (time, height, width) sections sum to half the rotary dims; >= 1 each needs >= 6 of them
        partial = rope.get("partial_rotary_factor", default.get("partial_rotary_factor", 1.0)) or 1.0
        head_dim = 8 if int(8 * partial) >= 6 or "qk_rope_head_dim" in default else 16
        if head_dim != 8:
            kwargs["head_dim"] = head_dim
        sections = _mrope(rope.get("mrope_section") or [2, 1, 1], int(head_dim * partial) // 2)
        kwargs["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0, **rope, "mrope_section": sections}
    if isinstance(rope, dict) and rope.get("original_max_position_embeddings", 0) > SIZES["max_position_embeddings"]:
        kwargs["rope_parameters"] = {**kwargs.get("rope_parameters", rope), "original_max_position_embeddings": 32}
    if "rotary_dim" in default and default["rotary_dim"]:
        kwargs["rotary_dim"] = 4
    for heads, dim, expand in (
        ("mamba_n_heads", "mamba_d_head", "mamba_expand"),
        ("num_heads", "head_dim", "expand"),
        ("n_mamba_heads", "mamba_headdim", "mamba_expand"),
    ):  # mamba: heads * head dim == expand * hidden
        if heads in default and expand in default and dim in settable:
            hidden = kwargs.get("hidden_size", SIZES["hidden_size"])
            kwargs.update({heads: int(default[expand] * hidden) // 8, dim: 8})
            if default.get("mamba_d_ssm"):  # falcon_h1: an explicit mamba width, else expand * hidden
                kwargs["mamba_d_ssm"] = None
    for key, sub in vars(config).items():  # sub-configs, shrunk by the same rules
        if isinstance(sub, transformers.PreTrainedConfig) and key in params:
            if sub.model_type == "timm_backbone":  # timm is not installed: the same stages from transformers' ResNet
                sub = transformers.ResNetConfig(out_indices=list(sub.out_indices or [4]))
            kwargs[key] = type(sub)(**{**_kept(sub), **_shrink(sub)})
    kwargs.update(OVERRIDES.get(config.model_type, {}))
    return kwargs


def _kept(sub: transformers.PreTrainedConfig) -> dict:
    """The non-default settings of a sub-config (what its parent chose), to keep when shrinking it."""
    params = set(inspect.signature(type(sub).__init__).parameters)
    base = type(sub)().to_dict()
    return {k: v for k, v in sub.to_dict().items() if k in params and base.get(k) != v and k not in ("model_type",)}


def config_for(model_type: str) -> transformers.PreTrainedConfig:
    cls = CONFIG_MAPPING[model_type]
    return cls(**_shrink(cls()))


MAX_PARAMS = 3_000_000


class TooLarge(Exception):
    """The config could not be shrunk below MAX_PARAMS."""


def build(model_type: str, seed: int = 0, scope_check: bool = True) -> tuple[nn.Module, str]:
    """A tiny model of ``model_type`` and the head built; ``scope_check=False`` builds out-of-scope types too (the
    first head class that exists), for tests of refusals."""
    head, cls_name = scope(model_type)
    if head is None and not scope_check:
        head, cls_name = next((h, _mapping(n)[model_type]) for h, n in HEADS if _mapping(n).get(model_type))
        cls_name = cls_name if isinstance(cls_name, str) else cls_name[0]
    if head is None:
        raise LookupError(cls_name)
    cls = getattr(transformers, cls_name)
    missing = _missing_backends(cls)
    if missing:
        raise ImportError(f"needs {', '.join(missing)} (not installed)")
    config = config_for(model_type)
    config._attn_implementation = "eager"
    try:
        with torch.device("meta"):
            size = sum(p.numel() for p in cls(config).parameters())
    except ImportError as e:  # a (sub-)model that needs a package which is not installed
        needs = re.findall(r"requires the (\w+) library", str(e))
        raise ImportError(f"needs {', '.join(dict.fromkeys(needs)) or e} (not installed)") from e
    if size > MAX_PARAMS:
        raise TooLarge(f"{size / 1e6:.1f}M parameters after shrinking the config (limit {MAX_PARAMS / 1e6:.0f}M)")
    torch.manual_seed(seed)
    model = cls(config).eval()
    if hasattr(model, "set_default_language") and getattr(config, "languages", None):  # xmod: adapters per language
        model.set_default_language(config.languages[0])
    return model, head


def scale_layers(model: nn.Module, layer_params: list[nn.Parameter], scale: float) -> None:
    with torch.no_grad():
        for p in layer_params:
            if p.dim() >= 2:
                p.mul_(scale)


def _pair(value, default: int) -> tuple[int, int]:
    value = default if value is None else value
    return tuple(value[:2]) if isinstance(value, (list, tuple)) else (value, value)


def inputs_for(model: nn.Module, batch: int = 2, seed: int = 1) -> dict:
    """Deterministic inputs for the model's forward: token ids (and mask) for text, an image batch for vision."""
    g = torch.Generator().manual_seed(seed)
    cfg = model.config
    main, required, params = _forward_inputs(type(model))
    if main == "pixel_values":
        height, width = _pair(getattr(cfg, "image_size", None), IMAGE)
        x = {"pixel_values": torch.randn(batch, getattr(cfg, "num_channels", 3) or 3, height, width, generator=g)}
        if "noise" in params:  # ViT-MAE masks patches at random: fix the noise that picks them
            ph, pw = _pair(getattr(cfg, "patch_size", None), 16)
            x["noise"] = torch.rand(batch, (height // ph) * (width // pw), generator=g)
        return x
    vocab = getattr(cfg, "vocab_size", VOCAB) or VOCAB
    ids = torch.randint(3, min(vocab, VOCAB), (batch, SEQ), generator=g)
    x = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if "token_type_ids" in required:
        x["token_type_ids"] = torch.zeros_like(ids)
    return x
