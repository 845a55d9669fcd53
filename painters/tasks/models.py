"""Which kind of model a checkpoint is, read from its config alone (no weights), and whether a task can score it.

Kinds come from transformers' own auto-class tables (``MODEL_FOR_CAUSAL_LM_MAPPING_NAMES``, ...), so a new
architecture is classified as soon as transformers knows it. A model of no known kind (remote code, a two-tower or
vision-language model) is never refused: a false refusal is worse than a late error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

KINDS = {
    "causal-lm": "a causal LM",
    "masked-lm": "a masked LM",
    "seq2seq": "an encoder-decoder (seq2seq) model",
    "text": "a text model without an LM head",
    "image-classification": "an image classifier",
    "object-detection": "an object detector",
    "segmentation": "an image segmenter",
    "vision": "a vision model without a classification, detection or segmentation head",
    "audio": "an audio model",
    "image-text": "a two-tower image-text model",
}
"""Every kind a model can be classified as, with the words messages use for it. ``"image-text"`` (CLIP, SigLIP) is a
kind a task can declare; ``model_kind`` still leaves two-tower models unclassified, so that no task is refused them
from the config alone."""

_TABLES: tuple[tuple[str | None, tuple[str, ...]], ...] = (  # first match wins; None: not classified
    ("seq2seq", ("SEQ_TO_SEQ_CAUSAL_LM", "SPEECH_SEQ_2_SEQ")),
    ("causal-lm", ("CAUSAL_LM",)),  # before the vision-language tables: Gemma 3 is both, and scores text alone
    (None, ("ZERO_SHOT_IMAGE_CLASSIFICATION", "ZERO_SHOT_OBJECT_DETECTION", "IMAGE_TEXT_TO_TEXT", "MULTIMODAL_LM")),
    ("audio", ("CTC", "AUDIO_CLASSIFICATION", "AUDIO_FRAME_CLASSIFICATION", "AUDIO_XVECTOR")),
    ("object-detection", ("OBJECT_DETECTION",)),
    ("segmentation", ("SEMANTIC_SEGMENTATION", "UNIVERSAL_SEGMENTATION", "IMAGE_SEGMENTATION")),
    ("image-classification", ("IMAGE_CLASSIFICATION",)),
    ("masked-lm", ("MASKED_LM",)),
    ("text", ("SEQUENCE_CLASSIFICATION", "TOKEN_CLASSIFICATION", "QUESTION_ANSWERING", "MULTIPLE_CHOICE")),
    ("text", ("TEXT_ENCODING",)),
    ("vision", ("IMAGE", "DEPTH_ESTIMATION", "MASKED_IMAGE_MODELING", "BACKBONE", "VIDEO_CLASSIFICATION")),
)

_SUFFIXES = (  # classes transformers has but files in no table
    ("ForCausalLM", "causal-lm"),
    ("LMHeadModel", "causal-lm"),
    ("ForMaskedLM", "masked-lm"),
    ("ForImageClassification", "image-classification"),
    ("ForImageClassificationWithTeacher", "image-classification"),
    ("ForObjectDetection", "object-detection"),
    ("ForSemanticSegmentation", "segmentation"),
    ("ForUniversalSegmentation", "segmentation"),
    ("ForSequenceClassification", "text"),
)


@functools.cache
def _table(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(class names, model types) of transformers' ``MODEL_FOR_<name>_MAPPING_NAMES`` (empty if this version has
    no such table)."""
    from transformers.models.auto import modeling_auto

    mapping = getattr(modeling_auto, f"MODEL_FOR_{name}_MAPPING_NAMES", None) or {}
    classes = {c for value in mapping.values() for c in (value if isinstance(value, (list, tuple)) else [value])}
    return frozenset(classes), frozenset(mapping)


def model_kind(class_name: str | None, model_type: str | None = None) -> str | None:
    """The kind (a key of :data:`KINDS`) of the model class ``class_name``, or None when it is not known.

    A bare base model (``LlamaModel``) is a ``"text"`` model when its ``model_type`` has a language-model head in
    transformers, and is not classified otherwise."""
    if not class_name:
        return None
    for kind, tables in _TABLES:
        if any(class_name in _table(name)[0] for name in tables):
            return kind
    from transformers.models.auto import modeling_auto

    bases = modeling_auto.MODEL_MAPPING_NAMES.values()
    if any(class_name == base or (isinstance(base, tuple) and class_name in base) for base in bases):
        if model_type in _table("CAUSAL_LM")[1] | _table("MASKED_LM")[1]:
            return "text"
        return None
    return next((kind for suffix, kind in _SUFFIXES if class_name.endswith(suffix)), None)


def task_models(factory: Callable[..., Any]) -> tuple[tuple[str, ...] | None, str]:
    """(kinds of model the task can score, or None when it does not say; what to use instead, in words)."""
    return getattr(factory, "model_kinds", None), getattr(factory, "model_hint", "")


def mismatch(task_type: str, class_name: str, kind: str | None, *, head: str = "auto") -> str | None:
    """Why task ``task_type`` cannot score a model of class ``class_name`` (of kind ``kind``), with the fix, or None
    when it can (or when either side does not say)."""
    from painters.tasks.registry import TASKS

    accepted, hint = task_models(TASKS[task_type])
    if kind is None or accepted is None or kind in accepted:
        return None
    what = KINDS.get(kind, kind) + (f"; model.task_head is {head!r}" if head != "auto" else "")
    others = [name for name in TASKS.names() if kind in (task_models(TASKS[name])[0] or ())]
    instead = f"use {_words(others)}; or " if others else "no registered task scores it: "
    return f"{task_type!r} cannot score {class_name!r} ({what}): {instead}use {hint or 'another model'}"


def _words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
