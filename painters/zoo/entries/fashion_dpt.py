"""``fashion-dpt``: a DPT semantic segmenter of Fashion-MNIST scenes (64x64, patch 8), started from the
backbone of ``fashion-vit``."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from painters.zoo import batches, data, models, scenes
from painters.zoo.recipe import Recipe
from painters.zoo.registry import Batches, ZooSpec, register

MODEL_CLASS = "DPTForSemanticSegmentation"
CONFIG: dict[str, Any] = {
    **models.VISION,
    "image_size": models.SCENE_SIZE,
    "patch_size": 8,
    "backbone_out_indices": [2, 5, 8, 11],
    "neck_hidden_sizes": [16, 32, 64, 64],
    "reassemble_factors": [2, 1, 0.5, 0.25],
    "fusion_hidden_size": 32,
    "use_auxiliary_head": False,
    "semantic_classifier_dropout": 0.0,
}


def build_model(config: dict[str, Any], processor: Any) -> nn.Module:
    return models.randomise_embeddings(models.vision_model(MODEL_CLASS, config, scenes.segmentation_labels()))


def build_processor() -> Any:
    return models.pil_image_processor(
        "DPTImageProcessorPil", models.SCENE_SIZE, keep_aspect_ratio=False, do_reduce_labels=False
    )


def train_batches(recipe: Recipe, processor: Any) -> tuple[Batches, int]:
    return batches.scene_batches(recipe, "masks")


def segmentation_loss(model: nn.Module, inputs: dict[str, Any]) -> torch.Tensor:
    """Cross-entropy of the logits upsampled to the mask size, 255 ignored (DPT's own loss, computed here
    because transformers 5.23's DPT raises on ``labels`` when it has no auxiliary head)."""
    logits = model(pixel_values=inputs["pixel_values"]).logits
    labels = inputs["labels"]
    logits = nn.functional.interpolate(logits, size=labels.shape[-2:], mode="bilinear", align_corners=False)
    return nn.functional.cross_entropy(logits, labels, ignore_index=scenes.IGNORE)


SPEC = register(
    ZooSpec(
        name="fashion-dpt",
        model_class=MODEL_CLASS,
        description="semantic segmenter of Fashion-MNIST scenes (64x64, patch 8)",
        source="fashion-mnist",
        config=CONFIG,
        build_model=build_model,
        processor_kind="image",
        build_processor=build_processor,
        recipe=Recipe(epochs=8, batch_size=64, lr=2e-3, samples=8000, init="fashion-vit"),
        batches=train_batches,
        loss=segmentation_loss,
        task="segmentation",
        task_kwargs={"label_map": "identity", "labels": scenes.segmentation_labels()},
        metric="miou",
        higher_is_better=True,
        data="fashion-scenes",
        full_data=data.full_scenes,
        card=data.scene_card("masks: 0 background, 1-10 class, 255 the faint fringe (pixels 1-31) of each item"),
    )
)
