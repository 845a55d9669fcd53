"""Perplexity of a text, with a sliding window for texts longer than the context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from painters.data.source import local_path
from painters.errors import ConfigError, DataError
from painters.metrics.language import perplexity
from painters.tasks.base import BaseTask, Batch
from painters.tasks.lm import LM_HINT, LM_KINDS, max_length_of, pad_id, score_spans, span_batches, tokenizer_of
from painters.tasks.registry import register
from painters.tasks.text_source import load_texts

LOCAL_HINT = "a plain text file (scored whole) or a JSONL/TSV file with a text column (rows joined)"


def windows(n_tokens: int, max_length: int, stride: int) -> list[tuple[int, int, int]]:
    """Sliding windows ``(begin, end, score_from)`` over ``n_tokens`` tokens (Hugging Face's recipe).

    Each window ``[begin, end)`` holds at most ``max_length`` tokens; the tokens from ``score_from``
    to ``end`` are scored, each once, with as much left context as the window gives (at least
    ``max_length - stride``). With ``stride < max_length`` every token but the first is scored exactly
    once; with ``stride == max_length`` (disjoint windows) each window's first token has no context
    and is not scored.
    """
    if max_length < 2 or not 0 < stride <= max_length:
        raise ConfigError(f"need max_length >= 2 and 0 < stride <= max_length, got {stride=}, {max_length=}")
    spans, previous_end = [], 0
    for begin in range(0, n_tokens, stride):
        end = min(begin + max_length, n_tokens)
        spans.append((begin, end, max(previous_end, begin + 1)))
        previous_end = end
        if end == n_tokens:
            break
    return spans


def _tokenize(tokenizer: Any, text: str, limit: int | None, margin: int = 64) -> list[int]:
    """Token ids of ``text``, or of its first ``limit`` tokens.

    With a limit only a prefix of the text is encoded, grown until it yields ``margin`` tokens more
    than needed, so that the cut (a possibly split last word) lies beyond the tokens kept.
    """
    if limit is None:
        return list(tokenizer(text, verbose=False)["input_ids"])
    size = 8 * (limit + margin)
    while True:
        ids = list(tokenizer(text[:size], verbose=False)["input_ids"])
        if size >= len(text) or len(ids) >= limit + margin:
            return ids[:limit]
        size *= 2


@register("perplexity", aliases=("ppl",))
class Perplexity(BaseTask):
    """Token-level perplexity of one text (``limit`` = the number of tokens to use).

    data: a text file (scored as one text), JSONL/TSV rows or a hub dataset's text column joined
    with ``separator`` (``"\\n\\n"``, as for WikiText). Windows of ``max_length`` tokens move by
    ``stride`` (default half the window). Normalised on the log scale with chance = the vocabulary
    size (a uniform distribution): (log V - log ppl) / (log V - log ppl_baseline).
    """

    name = "perplexity"
    primary_metric = "perplexity"
    higher_is_better = False
    log_metrics = frozenset({"perplexity"})
    model_kinds = LM_KINDS
    model_hint = LM_HINT

    def __init__(
        self,
        data: Any,
        split: str = "test",
        limit: int | None = None,
        *,
        name: str | None = None,
        text_column: str | None = None,
        separator: str = "\n\n",
        max_length: int | None = None,
        stride: int | None = None,
    ) -> None:
        super().__init__()
        path = data if isinstance(data, (str, Path)) and local_path(data) is not None else None
        if path is not None and Path(path).suffix.lower() not in {".jsonl", ".json", ".tsv", ".csv"}:
            self.text = Path(path).read_text(encoding="utf-8")
        else:
            self.text = separator.join(load_texts(data, split, name, text_column, LOCAL_HINT))
        self.limit, self.max_length, self.stride = limit, max_length, stride
        self.vocab_size: int | None = None

    def __len__(self) -> int:
        """One text (``limit`` counts its tokens; results report ``tokens`` and windows as ``n``)."""
        return 1

    def _prepare(self, processor: Any, batch_size: int) -> list[Batch]:
        tokenizer = tokenizer_of(processor)
        ids = _tokenize(tokenizer, self.text, self.limit)
        if len(ids) < 2:
            raise DataError("the text has fewer than 2 tokens: nothing to score")
        max_length = max_length_of(tokenizer, self.max_length)
        stride = self.stride or max(max_length // 2, 1)
        spans = windows(len(ids), max_length, stride)
        sequences = [ids[begin:end] for begin, end, _ in spans]
        scored = [(start - begin, end - begin) for begin, end, start in spans]
        self.vocab_size = len(tokenizer)
        return span_batches(sequences, scored, batch_size, pad_id(tokenizer))

    def run(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """(B, 3): summed log-likelihood and count of each window's scored tokens (and a greedy flag)."""
        return score_spans(model, batch)

    def new_accumulator(self) -> PerplexityAccumulator:
        return PerplexityAccumulator()

    def chance(self) -> dict[str, float]:
        if self.vocab_size is None:
            raise RuntimeError("the chance perplexity is the vocabulary size: call prepare() first")
        return {"perplexity": float(self.vocab_size)}


class PerplexityAccumulator:
    def __init__(self) -> None:
        self.loglik = 0.0
        self.tokens = 0
        self.windows = 0

    def update(self, batch: Batch, outputs: torch.Tensor) -> None:
        self.loglik += outputs[:, 0].sum().item()
        self.tokens += int(outputs[:, 1].sum().item())
        self.windows += len(outputs)

    def compute(self) -> dict[str, float]:
        nll = -self.loglik / self.tokens if self.tokens else float("nan")
        return {
            "perplexity": perplexity(-self.loglik, self.tokens),
            "nll": nll,
            "tokens": self.tokens,
            "n": self.windows,
        }
