"""Zero-shot image classification (CLIP-style): class names as text prompts, scored by cosine similarity.

Each class name becomes one prompt per template (``"a photo of a {}."`` by default); the prompts go through the
model's text tower and are L2-normalised, averaged over the templates per class and normalised again (the CLIP
paper's prompt ensembling). Each image's embedding from the vision tower is matched to the class embeddings by
cosine similarity (the logit scale and bias change no ranking). Works on two-tower models with
``get_image_features`` / ``get_text_features``: ``CLIPModel``, ``SiglipModel`` and the like.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import torch
from torch import nn
from tqdm.auto import tqdm

from painters.data.images import BadImages, to_rgb
from painters.errors import ConfigError, UnsupportedModelError
from painters.tasks.base import BaseTask, Batch, chunks, model_device, to_model
from painters.tasks.classification import TopKAccumulator, labelled_images
from painters.tasks.registry import register

DEFAULT_TEMPLATES: tuple[str, ...] = ("a photo of a {}.",)
"""The CLIP paper's default prompt."""

Padding = Literal["longest", "max_length"]


def class_text(label: str) -> str:
    """The words a dataset label stands for in a prompt: underscores become spaces (``"T-shirt_top"`` ->
    ``"T-shirt top"``; folder names cannot hold a slash)."""
    return " ".join(label.replace("_", " ").split())


def check_templates(templates: Any) -> tuple[str, ...]:
    """The templates as a tuple, each holding exactly one ``{}`` (ConfigError otherwise)."""
    if isinstance(templates, str) or not templates:
        raise ConfigError(f"templates must be a non-empty list of strings with one '{{}}' each, got {templates!r}")
    for template in templates:
        if not isinstance(template, str) or template.count("{}") != 1:
            raise ConfigError(f"template {template!r} must hold exactly one '{{}}' (where the class name goes)")
        try:
            template.format("x")
        except (IndexError, KeyError, ValueError) as exc:
            raise ConfigError(f"template {template!r} does not format: {exc}; write literal braces as '{{{{'") from None
    return tuple(templates)


def features(output: Any) -> torch.Tensor:
    """The embedding tensor of ``get_image_features`` / ``get_text_features``: a tensor in transformers 4, a
    ``ModelOutput`` whose ``pooler_output`` holds the projected embedding in transformers 5."""
    if isinstance(output, torch.Tensor):
        return output
    pooled = getattr(output, "pooler_output", None)
    if isinstance(pooled, torch.Tensor):
        return pooled
    if isinstance(output, (tuple, list)) and len(output) > 1 and isinstance(output[1], torch.Tensor):
        return output[1]
    raise UnsupportedModelError(f"cannot find the embedding in a {type(output).__name__} (no pooler_output)")


def split_processor(processor: Any) -> tuple[Any, Any]:
    """``(image processor, tokenizer)`` of a two-tower processor (``CLIPProcessor``, ``SiglipProcessor``), of an
    ``(image processor, tokenizer)`` pair, or of a tokenizer alone (e.g. ``AutoTokenizer`` of a CLIP folder): its
    image processor is then read from the tokenizer's own folder."""
    if isinstance(processor, (tuple, list)):
        parts = list(processor)
        tokenizer = next((p for p in parts if _is_tokenizer(p)), None)
        images = next((p for p in parts if p is not tokenizer), None)
    else:
        images = getattr(processor, "image_processor", None)
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is None and _is_tokenizer(processor):
            tokenizer = processor
        elif images is None and not _is_tokenizer(processor) and callable(processor):
            images = processor
    if images is None and tokenizer is not None:
        images = _image_processor_beside(tokenizer)
    if images is None or tokenizer is None:
        missing = "a tokenizer" if tokenizer is None else "an image processor"
        raise ConfigError(
            f"zero_shot_classification needs an image processor and a tokenizer, and {type(processor).__name__} "
            f"gives no {missing.split(' ', 1)[1]}: pass the checkpoint's AutoProcessor (e.g. CLIPProcessor) or an "
            "(image_processor, tokenizer) pair"
        )
    return images, tokenizer


def _is_tokenizer(value: Any) -> bool:
    return callable(getattr(value, "convert_tokens_to_ids", None))


def _image_processor_beside(tokenizer: Any) -> Any:
    """The image processor saved in the folder (or hub repo) the tokenizer was loaded from, or None."""
    import transformers

    where = getattr(tokenizer, "name_or_path", None)
    if not where:
        return None
    for options in ({"backend": "pil"}, {}):
        try:
            return transformers.AutoImageProcessor.from_pretrained(where, **options)
        except (OSError, ValueError, TypeError):
            continue
    return None


def default_padding(*parts: Any) -> Padding:
    """SigLIP was trained on prompts padded to the tokenizer's maximum length and needs them so; others: longest.
    ``parts``: the processor and what it holds (any of them a SigLIP class: SigLIP)."""
    names = " ".join(type(part).__name__ for part in parts).lower()
    return "max_length" if "siglip" in names else "longest"


@register("zero_shot_classification", aliases=("zero-shot", "zero_shot"))
class ZeroShotClassification(BaseTask):
    """Top-1 (and top-5 with at least 5 classes) accuracy of zero-shot classification by a two-tower model.

    data: as for ``classification`` (an image folder whose class folders name the classes, or a hub dataset with
    an image column and a ClassLabel or string label column). The prompt of class ``c`` under template ``t`` is
    ``t.format(class_names[c])``; ``class_names`` (a list in label order, or a dict label -> words for some labels)
    defaults to the label names with underscores as spaces. ``templates``: several are averaged (normalised text
    embeddings, mean per class, normalised again). ``padding``: how prompts are padded (default ``"max_length"``
    for SigLIP processors, as SigLIP needs, ``"longest"`` otherwise).
    The class embeddings are computed in every ``run`` call, so that a plan on the text tower (or on the vision
    tower) is always the one that scores. Chance: 1 / classes (5 / classes for top-5).
    """

    name = "zero_shot_classification"
    primary_metric = "top1"
    higher_is_better = True
    model_kinds = ("image-text",)  # run() calls get_image_features and get_text_features
    model_hint = (
        "a two-tower image-text model (a CLIPModel or SiglipModel checkpoint, e.g. openai/clip-vit-base-patch32)"
    )

    def __init__(
        self,
        data: Any,
        split: str = "test",
        limit: int | None = None,
        *,
        seed: int | None = 0,
        name: str | None = None,
        image_column: str | None = None,
        label_column: str | None = None,
        templates: list[str] | None = None,
        class_names: list[str] | dict[str, str] | None = None,
        padding: Padding | None = None,
        bad_images: BadImages = "error",
    ) -> None:
        super().__init__()
        self.templates = check_templates(list(DEFAULT_TEMPLATES) if templates is None else templates)
        if padding not in (None, "longest", "max_length"):
            raise ConfigError(f"padding must be 'longest' or 'max_length', got {padding!r}")
        self.padding = padding
        self.image_column, self.dataset, self.label_names, self.labels, self.skipped_images = labelled_images(
            self.name, data, split, limit, seed, name, image_column, label_column, bad_images
        )
        self.class_texts = _class_texts(self.label_names, class_names)
        self.prompts = [template.format(text) for text in self.class_texts for template in self.templates]
        """Every prompt, class by class (``len(templates)`` consecutive prompts per class)."""
        self.top_k = 5 if len(self.label_names) >= 5 else 1

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def tokenize(self, tokenizer: Any, padding: Padding) -> dict[str, torch.Tensor]:
        """The prompts as ``input_ids`` and ``attention_mask`` (prompts longer than the text tower's limit are
        cut to it)."""
        limit = getattr(tokenizer, "model_max_length", None)
        if padding == "max_length" and not (isinstance(limit, int) and 0 < limit < 1_000_000):
            raise ConfigError(
                f"padding='max_length' pads to the tokenizer's model_max_length, and {type(tokenizer).__name__} has "
                f"none ({limit!r}): set it when saving the tokenizer, or pass padding='longest'"
            )
        encoded = tokenizer(self.prompts, padding=padding, truncation=True, return_tensors="pt")
        return {key: encoded[key] for key in ("input_ids", "attention_mask") if key in encoded}

    def _prepare(self, processor: Any, batch_size: int) -> Iterator[Batch]:
        images, tokenizer = split_processor(processor)
        text = self.tokenize(tokenizer, self.padding or default_padding(processor, images, tokenizer))
        for indices in tqdm(
            list(chunks(range(len(self)), batch_size)),
            desc=f"preprocess {self.name}",
            leave=False,
            disable=not self.progress,
        ):
            rows = self.dataset[indices.start : indices.stop]
            pixels = images(images=[to_rgb(image) for image in rows[self.image_column]], return_tensors="pt")
            meta = {"labels": self.labels[indices.start : indices.stop], **{f"text_{k}": v for k, v in text.items()}}
            yield Batch(inputs={"pixel_values": pixels["pixel_values"]}, meta=meta)

    @torch.no_grad()
    def class_embeddings(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """(classes, D) unit class embeddings: each prompt embedded and normalised, averaged over the templates of
        its class, normalised again."""
        device = model_device(model)
        text = {
            key.removeprefix("text_"): value.to(device) for key, value in batch.meta.items() if key.startswith("text_")
        }
        embedded = features(model.get_text_features(**text)).float()
        embedded = nn.functional.normalize(embedded, dim=-1).view(self.num_classes, len(self.templates), -1)
        return nn.functional.normalize(embedded.mean(dim=1), dim=-1)

    @torch.no_grad()
    def image_embeddings(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """(B, D) unit image embeddings."""
        pixels = to_model({"pixel_values": batch.inputs["pixel_values"]}, model)  # device and dtype as the model's
        return nn.functional.normalize(features(model.get_image_features(**pixels)).float(), dim=-1)

    @torch.no_grad()
    def run(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """The top-k class indices of each image, (B, k), best first, by cosine similarity. The class embeddings
        are computed here, under whatever plan is active."""
        if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
            raise UnsupportedModelError(
                f"{self.name} needs a two-tower model with get_image_features and get_text_features "
                f"(CLIPModel, SiglipModel, ...), not {type(model).__name__}"
            )
        similarity = self.image_embeddings(model, batch) @ self.class_embeddings(model, batch).T
        return similarity.cpu().topk(self.top_k, dim=1).indices

    def new_accumulator(self) -> TopKAccumulator:
        return TopKAccumulator(self.top_k)

    def chance(self) -> dict[str, float]:
        return {f"top{k}": min(1.0, k / self.num_classes) for k in sorted({1, self.top_k})}


def _class_texts(labels: list[str], class_names: list[str] | Mapping[str, str] | None) -> list[str]:
    """The words each class is prompted with, in label order."""
    if class_names is None:
        return [class_text(label) for label in labels]
    if isinstance(class_names, Mapping):
        unknown = sorted(set(class_names) - set(labels))
        if unknown:
            raise ConfigError(f"class_names names labels the data does not have: {unknown}; its labels: {labels}")
        return [str(class_names.get(label, class_text(label))) for label in labels]
    if isinstance(class_names, str) or len(class_names) != len(labels):
        raise ConfigError(
            f"class_names must be a list of {len(labels)} names in label order ({labels}) or a dict label -> name"
        )
    return [str(name) for name in class_names]
