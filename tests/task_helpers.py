"""Shared pieces of the task tests: the shared-data locator, a tiny tokenizer, scripted fake models."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

torch.set_num_threads(1)  # the test machines have 2 cores shared by concurrent jobs: contention costs 100x


def shared_data() -> Path:
    """``../shared/data`` beside the checkout (or $PAINTERS_SHARED_DATA); skips the test when absent."""
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    path = Path(os.environ.get("PAINTERS_SHARED_DATA", default))
    if not path.is_dir():
        pytest.skip(f"shared sample data not found at {path} (set PAINTERS_SHARED_DATA)")
    return path


def coco_id2label() -> dict[int, str]:
    """COCO's 91-slot detection label list (ids 1..90 with 'N/A' gaps), from the sample's categories."""
    categories = json.loads((shared_data() / "coco-val2017-sample" / "panoptic_coco_categories.json").read_text())
    things = {c["id"]: c["name"] for c in categories if c["isthing"]}
    return {i: things.get(i, "N/A") for i in range(91)}


class Config:
    """A minimal stand-in for a transformers config."""

    def __init__(self, id2label: dict[int, str] | None = None) -> None:
        self.id2label = id2label or {}
        self.num_labels = len(self.id2label)


class Scripted(nn.Module):
    """A fake model: ``make(start, count)`` gives the outputs for examples start..start+count-1.

    Examples are numbered in the order the task's batches come, so one evaluation = one pass.
    """

    def __init__(self, make: Callable[[int, int], Any], id2label: dict[int, str] | None = None) -> None:
        super().__init__()
        self.config = Config(id2label)
        self.anchor = nn.Parameter(torch.zeros(1))
        self.make = make
        self.seen = 0

    def forward(self, pixel_values: torch.Tensor) -> Any:
        out = self.make(self.seen, pixel_values.shape[0])
        self.seen += pixel_values.shape[0]
        return out


class TokenOracle(nn.Module):
    """A fake causal LM: at each position, logit ``value`` on the NEXT input token (0 elsewhere).

    ``value=0`` makes it uniform. It peeks ahead, so windows and spans must line up exactly.
    """

    def __init__(self, vocab_size: int, value: float = 30.0) -> None:
        super().__init__()
        self.vocab_size, self.value = vocab_size, value
        self.anchor = nn.Parameter(torch.zeros(1))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> Any:
        logits = torch.zeros(*input_ids.shape, self.vocab_size)
        nxt = torch.roll(input_ids, -1, dims=1)
        logits.scatter_(2, nxt[..., None], self.value)
        return type("Out", (), {"logits": logits})()


@cache
def tiny_tokenizer() -> Any:
    """A byte-level BPE tokenizer (vocab 400) trained in memory; adds BOS like Llama's."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = [
        "The quick brown fox jumps over the lazy dog.",
        "Question: How do I open a jar?\nAnswer: Twist the lid counterclockwise.",
        "A man is playing the guitar. A woman is slicing an onion. Robert is an English actor.",
    ] * 20
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<pad>", "<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(corpus, trainer)
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>", model_max_length=1024
    )


def tiny_llama(vocab_size: int, seed: int = 0) -> nn.Module:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=1024,
    )  # fmt: skip
    return LlamaForCausalLM(config).eval()
