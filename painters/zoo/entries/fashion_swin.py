"""``fashion-swin``: a Swin classifier of Fashion-MNIST (28x28 images at 32x32, patch 2, four stages of 2, 2, 6 and
2 blocks: 12 in all)."""

from __future__ import annotations

from typing import Any

from painters.zoo.entries._classifier import fashion_classifier
from painters.zoo.recipe import Recipe
from painters.zoo.registry import register

MODEL_CLASS = "SwinForImageClassification"
DEPTHS = [2, 2, 6, 2]
CONFIG: dict[str, Any] = {
    "image_size": 32,
    "patch_size": 2,
    "num_channels": 3,
    "embed_dim": 32,
    "depths": DEPTHS,
    "num_heads": [1, 2, 4, 8],
    "window_size": 2,
    "mlp_ratio": 2.0,
    "drop_path_rate": 0.0,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}
SIDE = CONFIG["image_size"]
RECIPE = Recipe(epochs=8, batch_size=64, lr=5e-4, extra={"shift": 1})


SPEC = register(
    fashion_classifier(
        "fashion-swin",
        MODEL_CLASS,
        CONFIG,
        RECIPE,
        f"Fashion-MNIST classifier, Swin with four stages of {', '.join(map(str, DEPTHS))} blocks "
        "(28x28 images at 32x32, patch 2, window 2)",
        card_extra=(
            f" The 12 blocks sit in four stages of {', '.join(map(str, DEPTHS))} (16x16, 8x8, 4x4 and 2x2 "
            "patches); layer ops act on one stage (`stage=2`: the six blocks of the third)."
        ),
        stacks=tuple({"stage": stage} for stage in range(len(DEPTHS))),
    )
)
