"""Training a byte-level BPE tokenizer for a zoo language model."""

from __future__ import annotations

from typing import Any

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>")
"""Ids 0, 1, 2 (pad, BOS, EOS); the tokenizer adds none of them by itself."""


def train_tokenizer(corpus: str, vocab_size: int, context: int) -> Any:
    """A byte-level BPE ``PreTrainedTokenizerFast`` with ``vocab_size`` tokens (special tokens included) trained on
    ``corpus`` (deterministic), for windows of ``context`` tokens."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers, trainers
    from tokenizers.models import BPE
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(corpus.split("\n\n"), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        model_max_length=context,
        clean_up_tokenization_spaces=False,
    )
