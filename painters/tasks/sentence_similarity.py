"""Sentence similarity for encoders (STS-B style): Spearman of embedding cosines against gold scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from painters.data.source import open_source
from painters.data.text import read_records, read_table
from painters.metrics.language import cosine_pairs, mean_pool, pearson, spearman
from painters.tasks.base import BaseTask, Batch, chunks, pick_column, select, to_model
from painters.tasks.lm import tokenizer_of
from painters.tasks.registry import register

LOCAL_HINT = "a TSV/JSONL file with sentence1, sentence2 and score columns (GLUE's STS-B TSV works as it is)"
GLUE_STSB_COLUMNS = (
    "index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1", "sentence2", "score",
)  # fmt: skip
FIRST_COLUMNS = ("sentence1", "sentence_a", "text1", "sentence_A", "s1")
SECOND_COLUMNS = ("sentence2", "sentence_b", "text2", "sentence_B", "s2")
SCORE_COLUMNS = ("score", "label", "similarity_score", "relatedness_score", "gold")


@register("sentence_similarity", aliases=("sentence-similarity", "sts", "stsb"))
class SentenceSimilarity(BaseTask):
    """Spearman (and Pearson) correlation of cosine similarities with gold similarity scores.

    Embeddings are the attention-mask-weighted mean of the encoder's last hidden states. A GLUE
    STS-B TSV without a header row is read with GLUE's column names. Chance: correlation 0.
    """

    name = "sentence_similarity"
    primary_metric = "spearman"
    higher_is_better = True
    model_kinds = ("text", "masked-lm", "causal-lm", "seq2seq")  # any text model: mean-pooled last hidden states
    model_hint = "a text encoder (e.g. sentence-transformers/all-MiniLM-L6-v2 with task_head: base)"

    def __init__(
        self,
        data: Any,
        split: str = "validation",
        limit: int | None = None,
        *,
        seed: int | None = 0,
        name: str | None = None,
        columns: tuple[str, str, str] | None = None,
        max_length: int = 256,
    ) -> None:
        super().__init__()
        source = open_source(data, split=split, name=name, local_hint=LOCAL_HINT)
        records = _read_local(source) if isinstance(source, Path) else source
        names = list(records.column_names) if hasattr(records, "column_names") else list(records[0])
        first, second, score = columns or (None, None, None)
        first = pick_column(names, first, FIRST_COLUMNS, "first sentence")
        second = pick_column(names, second, SECOND_COLUMNS, "second sentence")
        score = pick_column(names, score, SCORE_COLUMNS, "score")
        rows = [records[i] for i in select(len(records), limit, seed)]
        self.pairs = [(str(r[first]), str(r[second])) for r in rows]
        self.gold = torch.tensor([float(r[score]) for r in rows], dtype=torch.float64)
        self.max_length = max_length

    def __len__(self) -> int:
        return len(self.pairs)

    def _prepare(self, processor: Any, batch_size: int) -> list[Batch]:
        tokenizer = tokenizer_of(processor)
        sentences = [sentence for pair in self.pairs for sentence in pair]
        lengths = [len(ids) for ids in tokenizer(sentences, add_special_tokens=False)["input_ids"]]
        order = sorted(range(len(sentences)), key=lambda i: -lengths[i])
        batches = []
        for rows in chunks(order, batch_size):
            inputs = tokenizer(
                [sentences[i] for i in rows], padding=True, truncation=True, max_length=self.max_length,
                return_tensors="pt",
            )  # fmt: skip
            batches.append(Batch(inputs=dict(inputs), meta={"index": list(rows)}))
        return batches

    @torch.no_grad()
    def run(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """(B, D) float32 mean-pooled embeddings, on the CPU."""
        inputs = to_model(batch.inputs, model)
        bare = getattr(model, "base_model", model) is model  # an AutoModel: last_hidden_state is there
        outputs = model(**inputs) if bare else model(**inputs, output_hidden_states=True)
        hidden = getattr(outputs, "last_hidden_state", None)
        if hidden is None:
            hidden = outputs.hidden_states[-1]
        return mean_pool(hidden.float(), inputs["attention_mask"]).cpu()

    def new_accumulator(self) -> SimilarityAccumulator:
        return SimilarityAccumulator(self.gold)

    def chance(self) -> dict[str, float]:
        return {"spearman": 0.0, "pearson": 0.0}


class SimilarityAccumulator:
    """Stores every sentence's embedding; correlations are computed once, over all pairs."""

    def __init__(self, gold: torch.Tensor) -> None:
        self.gold = gold
        self.embeddings: torch.Tensor | None = None

    def update(self, batch: Batch, outputs: torch.Tensor) -> None:
        if self.embeddings is None:
            self.embeddings = torch.zeros((2 * len(self.gold), outputs.shape[1]), dtype=torch.float32)
        self.embeddings[torch.tensor(batch.meta["index"])] = outputs.float()

    def compute(self) -> dict[str, float]:
        if self.embeddings is None:
            return {"spearman": float("nan"), "pearson": float("nan"), "n": 0}
        cosines = cosine_pairs(self.embeddings[0::2], self.embeddings[1::2])
        return {"spearman": spearman(cosines, self.gold), "pearson": pearson(cosines, self.gold), "n": len(self.gold)}


def _read_local(path: Path) -> list[dict[str, Any]]:
    """GLUE STS-B TSVs come without a header row on some mirrors: detect it by the field count."""
    if path.suffix.lower() == ".tsv":
        with path.open(encoding="utf-8") as handle:
            first = handle.readline().rstrip("\n").split("\t")
        if not set(first) & {*FIRST_COLUMNS, *SCORE_COLUMNS} and len(first) == len(GLUE_STSB_COLUMNS):
            return read_table(path, columns=GLUE_STSB_COLUMNS)
    return read_records(path)
