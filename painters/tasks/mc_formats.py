"""Record formats of multiple-choice benchmarks, as lm-evaluation-harness prompts them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from painters.errors import DataError
from painters.registry import Registry


@dataclass(frozen=True)
class Item:
    """One question: a context, its candidate continuations (with their leading space), the gold index."""

    context: str
    choices: tuple[str, ...]
    gold: int


Converter = Callable[[Mapping[str, Any]], Item]


class Format(NamedTuple):
    """A multiple-choice record format: the keys a record must have, and its converter to an :class:`Item`."""

    keys: frozenset[str]
    convert: Converter

    def summary(self) -> str:
        doc = (self.convert.__doc__ or "").strip().split("\n")[0]
        return doc or f"records with keys {', '.join(sorted(self.keys))}"


FORMATS: Registry[Format] = Registry("multiple-choice format")
"""Record formats by name: the keys a record must have, and its converter (``painters ls formats``)."""


def register_format(name: str, keys: set[str]) -> Callable[[Converter], Converter]:
    """Register a converter for records that have all of ``keys``."""

    def decorator(convert: Converter) -> Converter:
        FORMATS.register(name, Format(frozenset(keys), convert))
        return convert

    return decorator


def detect(record: Mapping[str, Any]) -> str:
    """The first registered format whose keys the record has."""
    for name, (keys, _) in FORMATS.items():
        if keys <= set(record):
            return name
    known = {name: sorted(keys) for name, (keys, _) in FORMATS.items()}
    raise DataError(f"cannot tell the format of a record with keys {sorted(record)}; known formats: {known}")


def convert(record: Mapping[str, Any], name: str) -> Item:
    return FORMATS[name][1](record)


@register_format("piqa", {"goal", "sol1", "sol2", "label"})
def piqa(record: Mapping[str, Any]) -> Item:
    """PIQA (goal, sol1, sol2, label): context "Question: {goal}\\nAnswer:", choices " {sol1}", " {sol2}"."""
    choices = (f" {record['sol1']}", f" {record['sol2']}")
    return Item(f"Question: {record['goal']}\nAnswer:", choices, int(record["label"]))


def _hellaswag_clean(text: str) -> str:
    text = text.strip().replace(" [title]", ". ")
    return re.sub(r"\[.*?\]", "", text).replace("  ", " ")


@register_format("hellaswag", {"ctx_a", "ctx_b", "endings", "label"})
def hellaswag(record: Mapping[str, Any]) -> Item:
    """HellaSwag (ctx_a, ctx_b, endings, label): lm-eval's preprocessing of context and endings."""
    context = record["ctx_a"] + " " + record["ctx_b"].capitalize()
    query = _hellaswag_clean(record.get("activity_label", "") + ": " + context)
    return Item(query, tuple(" " + _hellaswag_clean(e) for e in record["endings"]), int(record["label"]))


@register_format("arc", {"question", "choices", "answerKey"})
def arc(record: Mapping[str, Any]) -> Item:
    """ARC (question, choices {text, label}, answerKey): context "Question: {question}\\nAnswer:"."""
    choices = record["choices"]
    labels = [str(label) for label in choices["label"]]
    return Item(
        f"Question: {record['question']}\nAnswer:",
        tuple(f" {text}" for text in choices["text"]),
        labels.index(str(record["answerKey"])),
    )


@register_format("generic", {"context", "choices", "label"})
def generic(record: Mapping[str, Any]) -> Item:
    """``{"context", "choices": [...], "label": int}``; choices are used as written."""
    return Item(str(record["context"]), tuple(str(c) for c in record["choices"]), int(record["label"]))
