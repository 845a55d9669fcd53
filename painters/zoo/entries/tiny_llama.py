"""``tiny-llama``: a Llama causal LM of the King James Bible (byte-level BPE, 2048 tokens)."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import transformers
from torch import nn

from painters.zoo import batches, data, models, text
from painters.zoo.recipe import Recipe
from painters.zoo.registry import Batches, ZooSpec, register
from painters.zoo.tokenizer import train_tokenizer
from painters.zoo.train import model_loss

VOCAB = 2048
"""Byte-level BPE vocabulary size (special tokens included)."""

CONTEXT = 128
"""Training and scoring window (the tokenizer's ``model_max_length``)."""

CONFIG: dict[str, Any] = {
    "hidden_size": 96,
    "num_hidden_layers": models.LAYERS,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "intermediate_size": 256,
    "max_position_embeddings": 256,
    "tie_word_embeddings": True,
    "rope_theta": 10000.0,
}


def build_model(config: dict[str, Any], tokenizer: Any) -> nn.Module:
    llama = transformers.LlamaConfig(
        vocab_size=len(tokenizer), bos_token_id=1, eos_token_id=2, pad_token_id=0, **config
    )
    return transformers.LlamaForCausalLM(llama)


def build_processor() -> Any:
    return train_tokenizer(text.train_text(), VOCAB, CONTEXT)


def train_batches(recipe: Recipe, tokenizer: Any) -> tuple[Batches, int]:
    return batches.lm_batches(recipe, tokenizer, CONTEXT)


def unigram_perplexity(tokenizer: Any, train: str, heldout: str) -> float:
    """Perplexity of an add-one-smoothed unigram model of ``train``'s tokens on ``heldout``'s tokens.

    Tokens 2..N of the held-out text are scored, as the perplexity task scores them (the first has no context).
    """
    counts = Counter(tokenizer(train, verbose=False)["input_ids"])
    vocab, total = len(tokenizer), sum(counts.values())
    ids = tokenizer(heldout, verbose=False)["input_ids"][1:]
    nll = -sum(math.log((counts[i] + 1) / (total + vocab)) for i in ids) / len(ids)
    return math.exp(nll)


def unigram_baseline(tokenizer: Any, heldout: Path) -> dict[str, float]:
    """The unigram perplexity of the held-out text file ``heldout`` (the baseline the LM must beat)."""
    perplexity = unigram_perplexity(tokenizer, text.train_text(), Path(heldout).read_text(encoding="utf-8"))
    return {"unigram_perplexity": round(perplexity, 3)}


SPEC = register(
    ZooSpec(
        name="tiny-llama",
        model_class="LlamaForCausalLM",
        description="causal LM of the King James Bible (byte-level BPE, 2048 tokens)",
        source="kjv",
        config=CONFIG,
        build_model=build_model,
        processor_kind="tokenizer",
        build_processor=build_processor,
        recipe=Recipe(epochs=5, batch_size=32, lr=3e-3, weight_decay=0.1),
        batches=train_batches,
        loss=model_loss,
        task="perplexity",
        metric="perplexity",
        higher_is_better=False,
        data="kjv-heldout.txt",
        full_data=data.full_heldout,
        reference_scores=unigram_baseline,
        card=(
            "The King James Bible (public domain) from Debian's `bible-kjv-text`, one verse per line, chapters "
            "separated by blank lines; every 20th chapter (i % 20 == 10: 59 of 1189) is held out. Tokenizer: "
            f"byte-level BPE with {VOCAB} tokens trained on the train split (`<pad>`, `<s>`, `</s>` = 0, 1, 2; none "
            f"added automatically). Training: random {CONTEXT}-token windows; an epoch is as many windows as the "
            f"train split has {CONTEXT}-token blocks (about 1.1M tokens)."
        ),
    )
)
