"""What the zoo's Fashion-MNIST image classifiers share (fashion-vit, fashion-swin): data, training batches, loss,
scoring task and the card's data paragraph; each entry gives its model class, config, recipe and words."""

from __future__ import annotations

from typing import Any

from torch import nn

from painters.zoo import batches, data, models
from painters.zoo.fashion_mnist import CLASS_NAMES
from painters.zoo.recipe import Recipe
from painters.zoo.registry import Batches, ZooSpec
from painters.zoo.train import model_loss


def fashion_classifier(
    name: str, model_class: str, config: dict[str, Any], recipe: Recipe, description: str, card_extra: str = "",
    **fields: Any,
) -> ZooSpec:  # fmt: skip
    """The spec of a classifier of Fashion-MNIST at ``config["image_size"]`` pixels a side."""
    side = config["image_size"]

    def build_model(config: dict[str, Any], processor: Any) -> nn.Module:
        return models.vision_model(model_class, config, CLASS_NAMES)

    def build_processor() -> Any:
        return models.pil_image_processor("ViTImageProcessorPil", side)

    def train_batches(recipe: Recipe, processor: Any) -> tuple[Batches, int]:
        return batches.image_batches(recipe, side)

    return ZooSpec(
        name=name,
        model_class=model_class,
        description=description,
        source="fashion-mnist",
        config=config,
        build_model=build_model,
        processor_kind="image",
        build_processor=build_processor,
        recipe=recipe,
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
            f"images (random shifts of up to {recipe.extra['shift']} pixel), scored on the 10k test images. Input: "
            f"the 28x28 grey image resized to {side}x{side} (bilinear) as RGB, pixels mapped to [-1, 1]." + card_extra
        ),
        **fields,
    )
