"""``fashion-swin``: a Swin classifier of Fashion-MNIST (28x28 images at 32x32, patch 2, four stages of 2, 2, 6 and
2 blocks: 12 in all)."""

from __future__ import annotations

from typing import Any

from torch import nn

from painters.zoo import batches, data, models
from painters.zoo.fashion_mnist import CLASS_NAMES
from painters.zoo.recipe import Recipe
from painters.zoo.registry import Batches, ZooSpec, register
from painters.zoo.train import model_loss

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


def build_model(config: dict[str, Any], processor: Any) -> nn.Module:
    return models.vision_model(MODEL_CLASS, config, CLASS_NAMES)


def build_processor() -> Any:
    return models.pil_image_processor("ViTImageProcessorPil", SIDE)


def train_batches(recipe: Recipe, processor: Any) -> tuple[Batches, int]:
    return batches.image_batches(recipe, SIDE)


SPEC = register(
    ZooSpec(
        name="fashion-swin",
        model_class=MODEL_CLASS,
        description=f"Fashion-MNIST classifier, Swin with four stages of {', '.join(map(str, DEPTHS))} blocks "
        "(28x28 images at 32x32, patch 2, window 2)",
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
        stacks=tuple({"stage": stage} for stage in range(len(DEPTHS))),
        card=(
            "Fashion-MNIST (Zalando; MIT licence) from Debian's `dataset-fashion-mnist`: trained on the 60k train "
            f"images (random shifts of up to {RECIPE.extra['shift']} pixel), scored on the 10k test images. Input: "
            f"the 28x28 grey image resized to {SIDE}x{SIDE} (bilinear) as RGB, pixels mapped to [-1, 1]. The 12 "
            f"blocks sit in four stages of {', '.join(map(str, DEPTHS))} (16x16, 8x8, 4x4 and 2x2 patches); layer "
            "ops act on one stage (`stage=2`: the six blocks of the third)."
        ),
    )
)
