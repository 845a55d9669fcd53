"""Tiny saved checkpoints and data folders for sweep tests (built once per session in a temp folder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import transformers as T
from PIL import Image

from tests import tiny

TEXT = (
    "the painters work on the canvas . each layer adds a little paint to the picture . "
    "the middle layers share a common space and the first and last layers are special . "
) * 12


def _scale_up(model: torch.nn.Module, factor: float = 3.0) -> torch.nn.Module:
    """Scale Linear weights so that layers are far from the identity and their order matters (trap 11)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(factor)
    return model


def save_vit(root: Path, layers: int = 12) -> Path:
    folder = root / "tiny-vit"
    if folder.exists():
        return folder
    torch.manual_seed(0)
    config = T.ViTConfig(
        **{**tiny._VIS, "num_hidden_layers": layers},
        num_labels=3,
        id2label={0: "circle", 1: "square", 2: "stripes"},
        label2id={"circle": 0, "square": 1, "stripes": 2},
    )
    _scale_up(T.ViTForImageClassification(config)).save_pretrained(folder)
    T.ViTImageProcessor(size={"height": 32, "width": 32}, do_resize=True).save_pretrained(folder)
    return folder


def save_swin(root: Path) -> Path:
    """A tiny Swin classifier (4 stages, depths [1, 1, 6, 1]) for the same three classes as :func:`save_vit`."""
    folder = root / "tiny-swin"
    if folder.exists():
        return folder
    torch.manual_seed(0)
    config = T.SwinConfig(
        image_size=32,
        patch_size=2,
        embed_dim=16,
        depths=[1, 1, 6, 1],
        num_heads=[1, 2, 2, 4],
        window_size=2,
        num_labels=3,
        id2label={0: "circle", 1: "square", 2: "stripes"},
        label2id={"circle": 0, "square": 1, "stripes": 2},
    )
    _scale_up(T.SwinForImageClassification(config)).save_pretrained(folder)
    T.ViTImageProcessor(size={"height": 32, "width": 32}, do_resize=True).save_pretrained(folder)
    return folder


def save_imagefolder(root: Path, per_class: int = 6) -> Path:
    folder = root / "shapes"
    if folder.exists():
        return folder
    rng = np.random.default_rng(0)
    for name in ("circle", "square", "stripes"):
        (folder / "test" / name).mkdir(parents=True)
        for k in range(per_class):
            pixels = (rng.random((40, 40, 3)) * 255).astype("uint8")
            Image.fromarray(pixels).save(folder / "test" / name / f"{k}.png")
    return folder


def save_llama(root: Path, layers: int = 12) -> Path:
    folder = root / "tiny-llama"
    if folder.exists():
        return folder
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator([TEXT], trainers.BpeTrainer(vocab_size=120, special_tokens=["<unk>", "<pad>", "</s>"]))
    fast = T.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="</s>")
    torch.manual_seed(0)
    config = T.LlamaConfig(
        vocab_size=len(fast),
        num_hidden_layers=layers,
        num_key_value_heads=2,
        max_position_embeddings=64,
        pad_token_id=1,
        eos_token_id=2,
        bos_token_id=2,
        **tiny._ATTN,
    )
    _scale_up(T.LlamaForCausalLM(config)).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def save_text(root: Path) -> Path:
    path = root / "text.txt"
    path.write_text(TEXT)
    return path


def sweep_config(files: dict, kind: str = "vit", ops: str = "[skip: all]", name: str = "t", chunk: int = 5):
    """A parsed one-model sweep over the saved tiny ViT (classification) or Llama (perplexity) of ``files``."""
    from painters.sweep.config import parse_sweep

    if kind == "vit":
        model, task = files["vit"], f"{{type: classification, data: {files['images']}, split: test, batch_size: 8}}"
    else:
        model, task = (
            files["llama"],
            f"{{type: perplexity, data: {files['text']}, batch_size: 4, options: {{max_length: 32}}}}",
        )
    return parse_sweep(
        f"name: {name}\nmodel: {{id: {model}}}\ntasks: [{task}]\nops: {ops}\nrunner: {{chunk: {chunk}}}\n"
    )
