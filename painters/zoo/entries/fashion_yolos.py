"""``fashion-yolos``: a YOLOS detector of Fashion-MNIST scenes (64x64, patch 8, 10 detection tokens)."""

from __future__ import annotations

from typing import Any

from torch import nn

from painters.zoo import batches, data, models
from painters.zoo.fashion_mnist import CLASS_NAMES
from painters.zoo.recipe import Recipe
from painters.zoo.registry import Batches, ZooSpec, register
from painters.zoo.train import model_loss

MODEL_CLASS = "YolosForObjectDetection"
CONFIG: dict[str, Any] = {
    **models.VISION,
    "image_size": [models.SCENE_SIZE, models.SCENE_SIZE],
    "patch_size": 8,
    "num_detection_tokens": 10,
    "use_mid_position_embeddings": True,
}


def build_model(config: dict[str, Any], processor: Any) -> nn.Module:
    return models.randomise_embeddings(models.vision_model(MODEL_CLASS, config, CLASS_NAMES))


def build_processor() -> Any:
    return models.pil_image_processor("YolosImageProcessorPil", models.SCENE_SIZE, do_pad=False)


def train_batches(recipe: Recipe, processor: Any) -> tuple[Batches, int]:
    return batches.scene_batches(recipe, "boxes")


SPEC = register(
    ZooSpec(
        name="fashion-yolos",
        model_class=MODEL_CLASS,
        description="detector of Fashion-MNIST scenes (64x64, patch 8, 10 detection tokens)",
        source="fashion-mnist",
        config=CONFIG,
        build_model=build_model,
        processor_kind="image",
        build_processor=build_processor,
        recipe=Recipe(
            epochs=25,
            batch_size=64,
            lr=1e-3,
            samples=8000,
            head_lr=3.0,
            head_prefixes=("class_labels_classifier", "bbox_predictor"),
        ),
        batches=train_batches,
        loss=model_loss,
        task="detection",
        metric="map_50",
        higher_is_better=True,
        data="fashion-scenes",
        full_data=data.full_scenes,
        card=data.scene_card("COCO boxes tight around each item's pixels >= 32"),
    )
)
