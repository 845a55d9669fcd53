"""``fashion-vit``: a ViT classifier of Fashion-MNIST (28x28 images at 32x32, patch 8)."""

from __future__ import annotations

from typing import Any

from painters.zoo import models
from painters.zoo.entries._classifier import fashion_classifier
from painters.zoo.recipe import Recipe
from painters.zoo.registry import register

MODEL_CLASS = "ViTForImageClassification"
CONFIG: dict[str, Any] = {**models.VISION, "image_size": 32, "patch_size": 8}
SIDE = CONFIG["image_size"]
RECIPE = Recipe(epochs=7, batch_size=64, lr=2e-3, extra={"shift": 1})

SPEC = register(
    fashion_classifier(
        "fashion-vit", MODEL_CLASS, CONFIG, RECIPE, "Fashion-MNIST classifier (28x28 images at 32x32, patch 8)"
    )
)
