"""``fashion-vit``: a ViT classifier of Fashion-MNIST (28x28 images at 32x32, patch 8)."""

from __future__ import annotations

from typing import Any

from torch import nn

from painters.zoo import batches, data, models
from painters.zoo.fashion_mnist import CLASS_NAMES
from painters.zoo.recipe import Recipe
from painters.zoo.registry import Batches, ZooSpec, register
from painters.zoo.train import model_loss

MODEL_CLASS = "ViTForImageClassification"
CONFIG: dict[str, Any] = {**models.VISION, "image_size": 32, "patch_size": 8}
SIDE = CONFIG["image_size"]
RECIPE = Recipe(epochs=7, batch_size=64, lr=2e-3, extra={"shift": 1})


def build_model(config: dict[str, Any], processor: Any) -> nn.Module:
    return models.vision_model(MODEL_CLASS, config, CLASS_NAMES)


def build_processor() -> Any:
    return models.pil_image_processor("ViTImageProcessorPil", SIDE)


def train_batches(recipe: Recipe, processor: Any) -> tuple[Batches, int]:
    return batches.image_batches(recipe, SIDE)


SPEC = register(
    ZooSpec(
        name="fashion-vit",
        model_class=MODEL_CLASS,
        description="Fashion-MNIST classifier (28x28 images at 32x32, patch 8)",
        source="fashion-mnist",
        config=CONFIG,
        build_model=build_model,
        processor_kind="image",
        build_processor=build_processor,
        recipe=RECIPE,
        batches=train_batches,
        loss=model_loss,
        task="classification",
        task_kwargs={"split": "test"},
        metric="top1",
        higher_is_better=True,
        data="fashion-mnist-test",
        full_data=lambda workdir: data.fashion_test_dataset(),
        card=(
            "Fashion-MNIST (Zalando; MIT licence) from Debian's `dataset-fashion-mnist`: trained on the 60k train "
            f"images (random shifts of up to {RECIPE.extra['shift']} pixel), scored on the 10k test images. Input: "
            f"the 28x28 grey image resized to {SIDE}x{SIDE} (bilinear) as RGB, pixels mapped to [-1, 1]."
        ),
    )
)
