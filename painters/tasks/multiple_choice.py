"""Multiple choice by log-likelihood (PIQA / HellaSwag / ARC style): acc and length-normalised acc_norm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from painters.data.source import open_source
from painters.data.text import read_lines, read_records
from painters.errors import DataError
from painters.metrics.language import multiple_choice_accuracy
from painters.tasks import mc_formats
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

LOCAL_HINT = "a JSONL file (PIQA, HellaSwag, ARC or {context, choices, label} records)"


@register("multiple_choice", aliases=("multiple-choice", "mc"))
class MultipleChoice(BaseTask):
    """Pick the choice with the highest log-likelihood given the context.

    ``acc`` compares summed log-likelihoods; ``acc_norm`` divides each by its continuation's length
    in characters, as lm-evaluation-harness does. Records are converted by ``format`` (detected
    from their keys when omitted; see ``mc_formats``). PIQA's labels may sit in a separate file:
    ``labels_file``, or ``<stem>-labels.lst`` beside the JSONL. Chance: 1 / number of choices.
    """

    name = "multiple_choice"
    primary_metric = "acc"
    higher_is_better = True
    model_kinds = LM_KINDS
    model_hint = LM_HINT

    def __init__(
        self,
        data: Any,
        split: str = "validation",
        limit: int | None = None,
        *,
        seed: int | None = 0,
        name: str | None = None,
        format: str | None = None,
        labels_file: str | Path | None = None,
        max_length: int | None = None,
    ) -> None:
        super().__init__()
        path = open_source(data, split=split, name=name, local_hint=LOCAL_HINT)
        if isinstance(path, Path):
            records: Any = read_records(path)
            labels_path = Path(labels_file) if labels_file else path.with_name(f"{path.stem}-labels.lst")
            if labels_path.exists():
                labels = read_lines(labels_path)
                if len(labels) != len(records):
                    raise DataError(f"{labels_path} has {len(labels)} labels for {len(records)} records")
                records = [{**r, "label": int(label)} for r, label in zip(records, labels)]
        else:
            records = path
        if len(records) == 0:
            raise DataError(f"no records in {data!r}")
        keep = select(len(records), limit, seed)
        fmt = format or mc_formats.detect(records[keep[0]])
        self.items = [mc_formats.convert(records[i], fmt) for i in keep]
        self.max_length = max_length

    def __len__(self) -> int:
        return len(self.items)

    def _prepare(self, processor: Any, batch_size: int) -> list[Batch]:
        tokenizer = tokenizer_of(processor)
        pairs = [(item.context, choice) for item in self.items for choice in item.choices]
        requests = encode_requests(tokenizer, pairs)
        return continuation_batches(requests, batch_size, pad_id(tokenizer), max_length_of(tokenizer, self.max_length))

    def run(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """(B, 3): log-likelihood, token count and greedy flag of each (item, choice) continuation."""
        return score_spans(model, batch)

    def new_accumulator(self) -> ChoiceAccumulator:
        return ChoiceAccumulator(self.items)

    def chance(self) -> dict[str, float]:
        expected = sum(1 / len(item.choices) for item in self.items) / max(len(self.items), 1)
        return {"acc": expected, "acc_norm": expected}


class ChoiceAccumulator:
    """Collects one log-likelihood per (item, choice) request, in request order."""

    def __init__(self, items: list[mc_formats.Item]) -> None:
        self.items = items
        self.logliks = torch.full((sum(len(item.choices) for item in items),), float("nan"), dtype=torch.float64)

    def update(self, batch: Batch, outputs: torch.Tensor) -> None:
        self.logliks[torch.tensor(batch.meta["index"])] = outputs[:, 0]

    def compute(self) -> dict[str, float]:
        logliks, lengths, start = [], [], 0
        for item in self.items:
            logliks.append(self.logliks[start : start + len(item.choices)].tolist())
            lengths.append([len(choice) for choice in item.choices])
            start += len(item.choices)
        scores = multiple_choice_accuracy(logliks, [item.gold for item in self.items], lengths)
        return {**scores, "n": len(self.items)}
