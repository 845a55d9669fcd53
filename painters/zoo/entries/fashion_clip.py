"""``fashion-clip``: a CLIP model (two 12-layer towers) trained contrastively on Fashion-MNIST images and captions,
scored by zero-shot classification with the CLIP paper's default prompt."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import transformers
from PIL import Image
from torch import nn

from painters.tasks.zero_shot import DEFAULT_TEMPLATES, class_text
from painters.zoo import data, fashion_mnist, models
from painters.zoo.batches import normalise_pixels, resize_images, shift
from painters.zoo.recipe import Recipe
from painters.zoo.registry import Batches, ZooSpec, register
from painters.zoo.tokenizer import train_clip_tokenizer

MODEL_CLASS = "CLIPModel"
SIDE = 32
CONTEXT = 32
"""Prompt length limit (the tokenizer's ``model_max_length`` and the text tower's positions)."""
VOCAB = 1024
"""Upper bound of the BPE vocabulary before the byte tokens are added (the captions need far fewer merges)."""

TOWER: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": models.LAYERS,
    "num_attention_heads": 4,
}
CONFIG: dict[str, Any] = {
    "vision_config": {**TOWER, "image_size": SIDE, "patch_size": 8, "num_channels": 3},
    "text_config": {**TOWER, "max_position_embeddings": CONTEXT},
    "projection_dim": 64,
}

TRAIN_TEMPLATES: tuple[str, ...] = (
    *DEFAULT_TEMPLATES,  # "a photo of a {}."
    "a picture of a {}.",
    "an image of a {}.",
    "a photo of the {}.",
    "a {}.",
    "{}",
    "a grey photo of a {}.",
    "a low resolution photo of a {}.",
    "a black and white photo of a {}.",
    "a small photo of a {}.",
    "a photo of one {}.",
    "this is a {}.",
    "a centered photo of a {}.",
    "a blurry photo of a {}.",
    "a close-up photo of a {}.",
    "a product photo of a {}.",
)
"""Caption templates of the training captions (one drawn at random per image and epoch)."""

UNSEEN_TEMPLATES: tuple[str, ...] = (
    "a bad photo of a {}.",
    "a cropped photo of the {}.",
    "a bright photo of a {}.",
    "a jpeg corrupted photo of a {}.",
    "a good photo of the {}.",
    "a photo of my {}.",
    "itap of a {}.",
    "art of the {}.",
)
"""Templates of the CLIP paper's ImageNet prompts that training never used (scored as an ensemble)."""

CLASS_TEXTS: tuple[str, ...] = tuple(class_text(name) for name in fashion_mnist.CLASS_NAMES)
"""The words of each class in label order, as the zero-shot task makes them from the class folder names."""

RECIPE = Recipe(epochs=6, batch_size=128, lr=2e-3, extra={"shift": 1})


def captions() -> list[str]:
    """Every training caption, template by template, class by class."""
    return [template.format(text) for template in TRAIN_TEMPLATES for text in CLASS_TEXTS]


def build_processor() -> Any:
    images = transformers.CLIPImageProcessorPil(
        size={"height": SIDE, "width": SIDE},
        do_center_crop=False,
        resample=Image.Resampling.BILINEAR,
        image_mean=list(models.PIXEL_MEAN),
        image_std=list(models.PIXEL_STD),
        do_rescale=True,
        do_normalize=True,
        do_convert_rgb=True,
    )
    tokenizer = train_clip_tokenizer(captions(), VOCAB, CONTEXT)
    return transformers.CLIPProcessor(image_processor=images, tokenizer=tokenizer)


def build_model(config: dict[str, Any], processor: Any) -> nn.Module:
    tokenizer = processor.tokenizer
    text = {
        **config["text_config"],
        "vocab_size": len(tokenizer),
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    clip = transformers.CLIPConfig(
        text_config=text, vision_config=config["vision_config"], projection_dim=config["projection_dim"]
    )
    return transformers.CLIPModel(clip)


def train_batches(recipe: Recipe, processor: Any) -> tuple[Batches, int]:
    """Shuffled Fashion-MNIST train images at ``SIDE`` pixels (random shifts of up to ``recipe.extra["shift"]``
    pixels), each with a caption of its class from a template drawn at random."""
    images, labels = fashion_mnist.load("train")
    images, labels = torch.from_numpy(resize_images(images, SIDE).copy()), torch.from_numpy(labels.copy())
    ids, mask = pad_tokens(processor.tokenizer(captions())["input_ids"], processor.tokenizer.pad_token_id)
    ids = ids.view(len(TRAIN_TEMPLATES), len(CLASS_TEXTS), -1)
    mask = mask.view(len(TRAIN_TEMPLATES), len(CLASS_TEXTS), -1)
    n = recipe.samples or len(images)
    pad = int(recipe.extra.get("shift", 1))

    def batches(epoch: int) -> Iterator[dict[str, Any]]:
        generator = torch.Generator().manual_seed(recipe.seed * 1000 + epoch)
        order = torch.randperm(len(images), generator=generator)[:n]
        templates = torch.randint(0, len(TRAIN_TEMPLATES), (n,), generator=generator)
        for i in range(0, n - recipe.batch_size + 1, recipe.batch_size):
            index, chosen = order[i : i + recipe.batch_size], templates[i : i + recipe.batch_size]
            batch = shift(images[index], generator, pad) if pad else images[index]
            yield {
                "pixel_values": normalise_pixels(batch),
                "input_ids": ids[chosen, labels[index]],
                "attention_mask": mask[chosen, labels[index]],
                "labels": labels[index],
            }

    return batches, n // recipe.batch_size


def pad_tokens(sequences: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(input_ids, attention_mask)`` of token lists padded on the right to the longest (padding here, not through
    the tokenizer, which would keep the padding setting and save it with the processor)."""
    width = max(len(ids) for ids in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, tokens in enumerate(sequences):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
    return ids, mask


def contrastive_loss(model: nn.Module, inputs: dict[str, Any]) -> torch.Tensor:
    """CLIP's symmetric cross-entropy over the batch's image-caption similarities, where every caption of an
    image's class is a positive (the target spreads evenly over them): with ten classes a batch holds many."""
    out = model(
        input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], pixel_values=inputs["pixel_values"]
    )
    labels = inputs["labels"]
    same = (labels[:, None] == labels[None, :]).float()
    target = same / same.sum(dim=1, keepdim=True)  # symmetric: the same for captions -> images
    logits = out.logits_per_image
    images_to_text = -(target * logits.log_softmax(dim=1)).sum(dim=1).mean()
    text_to_images = -(target * logits.T.log_softmax(dim=1)).sum(dim=1).mean()
    return (images_to_text + text_to_images) / 2


SPEC = register(
    ZooSpec(
        name="fashion-clip",
        model_class=MODEL_CLASS,
        description="zero-shot Fashion-MNIST classifier: CLIP with 12-layer vision and text towers (32x32, patch 8)",
        source="fashion-mnist",
        config=CONFIG,
        build_model=build_model,
        processor_kind="processor",
        build_processor=build_processor,
        recipe=RECIPE,
        batches=train_batches,
        loss=contrastive_loss,
        task="zero_shot_classification",
        task_kwargs={"split": "test"},
        metric="top1",
        higher_is_better=True,
        data="fashion-mnist-test",
        full_data=lambda workdir: data.fashion_test_dataset(),
        stacks=({"tower": "vision"},),
        task_variants={"unseen_templates": {"templates": list(UNSEEN_TEMPLATES)}},
        card=(
            "Fashion-MNIST (Zalando; MIT licence) from Debian's `dataset-fashion-mnist`: trained contrastively on the "
            f"60k train images (random shifts of up to {RECIPE.extra['shift']} pixel), each paired with a caption of "
            f"its class from one of {len(TRAIN_TEMPLATES)} templates drawn at random (`a photo of a {{}}.`, "
            "`a picture of a {}.`, ...; class words from the folder names, `T-shirt_top` -> `t-shirt top`); every "
            "caption of the image's class counts as a positive in the symmetric CLIP loss. Tokenizer: CLIP's "
            "byte-level BPE (`CLIPTokenizer`, lower-cased, `</w>` word ends) trained on the captions, plus every "
            "byte. Scored by zero-shot classification (`zero_shot_classification`) on the 10k test images with the "
            "CLIP paper's default prompt `a photo of a {}.`; `unseen_templates_*`: the ensemble of "
            f"{len(UNSEEN_TEMPLATES)} templates of the CLIP paper's ImageNet prompts that training never used "
            f"({', '.join(f'`{t}`' for t in UNSEEN_TEMPLATES)}). Input: the 28x28 grey image resized to "
            f"{SIDE}x{SIDE} (bilinear) as RGB, pixels mapped to [-1, 1]. Layer ops act on one tower "
            '(`tower="vision"` or `"text"`); the single-layer profile below is the vision tower\'s.'
        ),
    )
)
