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


CLIP_SPECIAL_TOKENS = ("<|startoftext|>", "<|endoftext|>")
"""Ids 0, 1 of a CLIP tokenizer trained here: BOS, and EOS (which also pads and stands for unknown bytes)."""


def train_clip_tokenizer(corpus: list[str], vocab_size: int, context: int) -> Any:
    """A ``CLIPTokenizer`` (CLIP's byte-level BPE with ``</w>`` word ends, lower-cased) with merges learnt from the
    lines of ``corpus`` (:func:`learn_merges`: deterministic, unlike the ``tokenizers`` trainer, whose ties between
    equally frequent pairs fall in hash order) until every word of the corpus is one token or the vocabulary holds
    ``vocab_size`` tokens. Every byte, and every byte ending a word, is in the vocabulary too, so that any text
    tokenizes without unknown tokens. ``context``: its ``model_max_length``."""
    from collections import Counter

    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPTokenizer

    bos, eos = CLIP_SPECIAL_TOKENS
    reference = CLIPTokenizer(vocab={bos: 0, eos: 1}, merges=[])  # CLIP's normaliser and pre-tokeniser
    normalizer, pre_tokenizer = reference.backend_tokenizer.normalizer, reference.backend_tokenizer.pre_tokenizer
    words: Counter[tuple[str, ...]] = Counter()
    for line in corpus:
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(line)):
            words[(*word[:-1], word[-1] + "</w>")] += 1
    alphabet = sorted(ByteLevel.alphabet())
    vocab = {bos: 0, eos: 1}
    for token in [*alphabet, *(c + "</w>" for c in alphabet)]:
        vocab.setdefault(token, len(vocab))
    merges = learn_merges(words, max(0, vocab_size - len(vocab)))
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=context)


def learn_merges(words: dict[tuple[str, ...], int], limit: int) -> list[tuple[str, str]]:
    """Byte-pair merges learnt from ``words`` (symbol tuples -> counts): each step merges the most frequent adjacent
    pair (ties: the alphabetically first), until no word has two symbols left or ``limit`` merges are learnt."""
    from collections import Counter

    merges: list[tuple[str, str]] = []
    current = dict(words)
    while len(merges) < limit:
        pairs: Counter[tuple[str, str]] = Counter()
        for word, count in current.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        current = {_merge(word, best): count for word, count in current.items()}
    return merges


def _merge(word: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)
