"""Last-word prediction (LAMBADA style): is the final word the model's greedy continuation?"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from painters.tasks.base import BaseTask, Batch, select
from painters.tasks.lm import (
    LM_HINT,
    LM_KINDS,
    continuation_batches,
    encode_requests,
    max_length_of,
    pad_id,
    score_spans,
    tokenizer_of,
)
from painters.tasks.registry import register
from painters.tasks.text_source import load_texts

LOCAL_HINT = "a text file (one passage per line) or a JSONL/TSV file with a text column"


@register("last_word", aliases=("last-word", "lambada"))
class LastWord(BaseTask):
    """LAMBADA-style accuracy: context = a passage minus its last word, target = " " + that word.

    ``acc``: every target token is the model's argmax; ``perplexity``: exp(-mean target log-likelihood)
    over passages (lm-evaluation-harness' lambada perplexity). Chance: accuracy 0.
    """

    name = "last_word"
    primary_metric = "acc"
    higher_is_better = True
    model_kinds = LM_KINDS
    model_hint = LM_HINT

    def __init__(
        self,
        data: Any,
        split: str = "test",
        limit: int | None = None,
        *,
        seed: int | None = 0,
        name: str | None = None,
        text_column: str | None = None,
        max_length: int | None = None,
    ) -> None:
        super().__init__()
        texts = [t for t in load_texts(data, split, name, text_column, LOCAL_HINT) if " " in t.strip()]
        self.examples = [tuple(texts[i].strip().rsplit(" ", 1)) for i in select(len(texts), limit, seed)]
        self.max_length = max_length

    def __len__(self) -> int:
        return len(self.examples)

    def _prepare(self, processor: Any, batch_size: int) -> list[Batch]:
        tokenizer = tokenizer_of(processor)
        requests = encode_requests(tokenizer, [(context, " " + word) for context, word in self.examples])
        return continuation_batches(requests, batch_size, pad_id(tokenizer), max_length_of(tokenizer, self.max_length))

    def run(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """(B, 3): log-likelihood, token count and greedy flag of each passage's last word."""
        return score_spans(model, batch)

    def new_accumulator(self) -> LastWordAccumulator:
        return LastWordAccumulator()

    def chance(self) -> dict[str, float]:
        return {"acc": 0.0}


class LastWordAccumulator:
    def __init__(self) -> None:
        self.loglik = 0.0
        self.hits = 0
        self.n = 0

    def update(self, batch: Batch, outputs: torch.Tensor) -> None:
        self.loglik += outputs[:, 0].sum().item()
        self.hits += int(outputs[:, 2].sum().item())
        self.n += len(outputs)

    def compute(self) -> dict[str, float]:
        if not self.n:
            return {"acc": float("nan"), "perplexity": float("nan"), "n": 0}
        return {"acc": self.hits / self.n, "perplexity": math.exp(-self.loglik / self.n), "n": self.n}
