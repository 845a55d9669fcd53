"""Shared language-model plumbing: encoding (context, continuation) pairs and scoring token spans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from painters.tasks.base import Batch, chunks, to_model

DEFAULT_MAX_LENGTH = 2048
LM_KINDS = ("causal-lm", "masked-lm")
"""Models the language-model tasks score: next-token logits (a masked LM runs, though it was not trained for it)."""
LM_HINT = "a causal LM (a ...ForCausalLM checkpoint, e.g. meta-llama/Llama-2-7b-hf)"


@dataclass(frozen=True)
class Request:
    """Token ids of a context and the continuation to score after it."""

    context: tuple[int, ...]
    continuation: tuple[int, ...]


def tokenizer_of(processor: Any) -> Any:
    """The tokenizer itself, or the ``.tokenizer`` of a multimodal processor."""
    return getattr(processor, "tokenizer", None) or processor


def max_length_of(tokenizer: Any, max_length: int | None) -> int:
    """``max_length`` if given, else the tokenizer's ``model_max_length`` when it is a real limit."""
    if max_length is not None:
        return max_length
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit < 1_000_000 else DEFAULT_MAX_LENGTH


def pad_id(tokenizer: Any) -> int:
    for name in ("pad_token_id", "eos_token_id", "bos_token_id"):
        value = getattr(tokenizer, name, None)
        if value is not None:
            return int(value)
    return 0


def _prefix(tokenizer: Any) -> tuple[list[int], int]:
    """(tokens the tokenizer puts in front of a text by default: BOS or nothing, a token for an empty context)."""
    bos = getattr(tokenizer, "bos_token_id", None)
    adds_bos = bos is not None and tokenizer("a")["input_ids"][:1] == [bos]
    fallback = next(
        (int(v) for v in (bos, tokenizer.eos_token_id, getattr(tokenizer, "cls_token_id", None)) if v is not None), 0
    )
    return ([int(bos)] if adds_bos else []), fallback


def encode_requests(tokenizer: Any, pairs: Sequence[tuple[str, str]]) -> list[Request]:
    """Encode (context, continuation) strings as lm-evaluation-harness does.

    Trailing spaces of the context move to the continuation; the continuation's tokens are those
    of ``context + continuation`` after the context's, so a merge across the boundary is not lost.
    The context gets the BOS token when the tokenizer adds one by default; an empty context is
    replaced by a single BOS/EOS token so that the first continuation token has a prediction.
    """
    prefix, fallback = _prefix(tokenizer)
    requests = []
    for context, continuation in pairs:
        stripped = context.rstrip(" ")
        continuation = context[len(stripped) :] + continuation
        context_ids = list(tokenizer(stripped, add_special_tokens=False)["input_ids"]) if stripped else []
        whole = list(tokenizer(stripped + continuation, add_special_tokens=False)["input_ids"])
        if whole[: len(context_ids)] == context_ids:
            continuation_ids = whole[len(context_ids) :]
        else:  # the boundary merged differently: fall back to encoding the continuation alone
            continuation_ids = list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
        if not continuation_ids:
            raise ValueError(f"continuation {continuation!r} encodes to no tokens")
        context_ids = (prefix + context_ids) or [fallback]
        requests.append(Request(tuple(context_ids), tuple(continuation_ids)))
    return requests


def span_batches(
    sequences: Sequence[Sequence[int]], spans: Sequence[tuple[int, int]], batch_size: int, pad: int
) -> list[Batch]:
    """Right-padded batches of token sequences, longest first; ``meta`` keeps the spans to score.

    ``spans[i] = (start, end)``: score tokens ``start..end-1`` of sequence i (start >= 1).
    ``meta["index"]`` gives each row's position in ``sequences``.
    """
    order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
    batches = []
    for rows in chunks(order, batch_size):
        width = max(len(sequences[i]) for i in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, i in enumerate(rows):
            ids[r, : len(sequences[i])] = torch.tensor(sequences[i], dtype=torch.long)
            mask[r, : len(sequences[i])] = 1
        meta = {"index": list(rows), "spans": [spans[i] for i in rows]}
        batches.append(Batch(inputs={"input_ids": ids, "attention_mask": mask}, meta=meta))
    return batches


def continuation_batches(requests: Sequence[Request], batch_size: int, pad: int, max_length: int) -> list[Batch]:
    """Batches of ``context + continuation`` (cut from the left to ``max_length``) scoring the continuation."""
    sequences, spans = [], []
    for request in requests:
        ids = (request.context + request.continuation)[-max_length:]
        sequences.append(ids)
        spans.append((max(len(ids) - len(request.continuation), 1), len(ids)))
    return span_batches(sequences, spans, batch_size, pad)


@torch.no_grad()
def score_spans(model: nn.Module, batch: Batch) -> torch.Tensor:
    """(B, 3) float64: summed log-probability of each row's span, its token count, and 1.0 if greedy.

    "Greedy" means every span token is the model's argmax prediction (LAMBADA-style accuracy).
    """
    logits = model(**to_model(batch.inputs, model)).logits
    ids = batch.inputs["input_ids"]
    out = torch.zeros((len(ids), 3), dtype=torch.float64)
    for row, (start, end) in enumerate(batch.meta["spans"]):
        logprobs = torch.log_softmax(logits[row, start - 1 : end - 1].float(), dim=-1).cpu()
        targets = ids[row, start:end]
        out[row, 0] = logprobs.gather(1, targets[:, None]).sum().item()
        out[row, 1] = end - start
        out[row, 2] = float(bool((logprobs.argmax(dim=-1) == targets).all()))
    return out
