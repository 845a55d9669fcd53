"""Scoring a chunk of variants on one task, sharing work: used by the local runner and by Ray workers alike.

For each batch one unmodified pass records the state at every layer boundary (it doubles as the baseline and
feeds the layer-similarity matrix); each variant then resumes from the state entering its first changed layer.
Parallel groups entering the same step share their first iteration: every layer of a group reads the group's input,
so each layer's output on that state is computed once per batch (variants come ordered by their first changed step,
so one step's outputs are held at a time).
Out-of-memory halves the batch and retries; a variant that raises is recorded as an error; inf/NaN outputs are
flagged. Accumulators are only updated once a whole batch has succeeded.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from painters.analysis.importance import ImportanceAccumulator
from painters.apply import layers, session
from painters.evaluation import summarise
from painters.executor import SharedOutputs
from painters.ops import OPS
from painters.plan import Plan
from painters.step_kinds import first
from painters.sweep.generators import Variant
from painters.sweep.guard import has_nonfinite, is_oom, split_batch
from painters.sweep.sharing import starts_group
from painters.sweep.similarity import SimilarityAccumulator
from painters.sweep.store import SCHEMA_VERSION
from painters.tasks.base import Batch, Task
from painters.tasks.batches import nbytes


@dataclass(frozen=True)
class TaskInfo:
    """What a record needs to know of a task (name, primary metric, chance levels), without its data: lets a
    driver build records from what remote workers return."""

    name: str
    primary_metric: str
    higher_is_better: bool
    log_metrics: frozenset[str]
    chance_levels: dict[str, float]

    @classmethod
    def of(cls, task: Task) -> TaskInfo:
        return cls(
            task.name,
            task.primary_metric,
            task.higher_is_better,
            frozenset(getattr(task, "log_metrics", frozenset())),
            dict(task.chance()),
        )

    def chance(self) -> dict[str, float]:
        return dict(self.chance_levels)


@dataclass
class ChunkResult:
    """What scoring a chunk produced: raw metrics per variant id ("baseline" included when asked for)."""

    metrics: dict[str, dict[str, Any]]
    seconds: dict[str, float]
    similarity: np.ndarray | None = None
    importance: pd.DataFrame | None = None
    """The one-pass predictors from the baseline pass (:meth:`ImportanceAccumulator.table`)."""
    layer_evaluations: int = 0
    oom_retries: int = 0
    state_bytes: int = 0
    """Peak bytes held for one batch by its recorded boundary states and the shared parallel-group layer outputs."""


@dataclass
class ChunkScorer:
    """Scores ``group`` (variants with their plans) and optionally the baseline on prepared ``batches``."""

    model: nn.Module
    task: Task
    group: list[Variant]
    plans: dict[str, Plan]
    where: dict[str, Any] = field(default_factory=dict)  # stage= / tower= of the layer stack
    share: bool = True
    need_baseline: bool = True
    share_parallel: bool = True  # with ``share``: parallel groups entering the same step share their first iteration
    _failed: dict[str, str] = field(default_factory=dict)
    _nonfinite: set[str] = field(default_factory=set)

    def score(self, batches: list[Batch]) -> ChunkResult:
        accs = {v.id: self.task.new_accumulator() for v in self.group}
        base_acc = self.task.new_accumulator() if self.need_baseline else None
        similarity = SimilarityAccumulator()
        importance: ImportanceAccumulator | None = None
        self.result = ChunkResult({}, {v.id: 0.0 for v in self.group} | {"baseline": 0.0})
        with torch.no_grad():
            for batch in batches:
                for part, (base_out, states, outputs) in self._guarded(batch):
                    if base_acc is not None:
                        base_acc.update(part, base_out)
                        if states:
                            similarity.update(states, part.inputs.get("attention_mask"))
                            if importance is None:
                                stack = layers(self.model, **self.where)
                                importance = ImportanceAccumulator(len(stack.layers), stack.kind == "decoder")
                            importance.update(states, part.inputs.get("attention_mask"))
                    for vid, out in outputs.items():
                        accs[vid].update(part, out)
        for v in self.group:
            self.result.metrics[v.id] = self._compute(v.id, accs[v.id])
        if base_acc is not None:
            self.result.metrics["baseline"] = base_acc.compute()
            self.result.similarity = similarity.compute().numpy() if similarity.count else None
            self.result.importance = importance.table() if importance is not None and importance.examples else None
        return self.result

    def _compute(self, vid: str, acc: Any) -> dict[str, Any]:
        if vid in self._failed:
            return {"error": self._failed[vid]}
        try:
            metrics = dict(acc.compute())
        except Exception as exc:  # noqa: BLE001 - a variant that breaks scoring is recorded, not fatal
            return {"error": f"{type(exc).__name__}: {exc}"}
        if vid in self._nonfinite:
            metrics["nonfinite"] = True
        return metrics

    def _guarded(self, batch: Batch) -> list[tuple[Batch, tuple]]:
        try:
            return [(batch, self._one_batch(batch))]
        except Exception as exc:
            if not is_oom(exc):
                raise
            halves = split_batch(batch)
            if halves is None:
                raise RuntimeError(
                    f"out of memory on a batch that cannot be split further ({exc}); lower the task's batch_size"
                ) from exc
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            self.result.oom_retries += 1
            return [r for half in halves for r in self._guarded(half)]

    def _one_batch(self, batch: Batch) -> tuple:
        model, task, result = self.model, self.task, self.result
        num_layers = self.plans["baseline"].num_layers
        t = time.perf_counter()
        with session(model, **self.where, capture=True) as runner:
            base_out = task.run(model, batch)
        states = list(runner.captured or [])
        # a task running several forwards per batch makes the recorded states ambiguous: no sharing then
        single = runner.forwards == 1 and len(states) == num_layers + 1
        result.layer_evaluations += num_layers * runner.forwards
        result.seconds["baseline"] += time.perf_counter() - t
        outputs = {}
        shared: SharedOutputs | None = None
        held = nbytes(states) if single else 0
        peak_shared = 0  # the largest set of shared parallel-group outputs held at once (they grow within a step)
        for v in self.group:
            if v.id in self._failed:
                continue
            t = time.perf_counter()
            p = self.plans[v.id]
            k = p.shared_prefix if self.share and single else 0
            if self.share and self.share_parallel and single and starts_group(p, k):
                if shared is None or shared.step != k:  # the previous step's outputs are let go
                    peak_shared = max(peak_shared, nbytes(list(shared.outputs.values())) if shared else 0)
                    shared = SharedOutputs(k, first(states[k]))
            try:
                with session(model, *v.ops, **self.where, resume=(k, states) if k else None) as runner:
                    runner.shared = shared
                    out = task.run(model, batch)
            except Exception as exc:
                if is_oom(exc):
                    raise
                self._failed[v.id] = f"{type(exc).__name__}: {exc}"  # recorded as an error; the sweep goes on
                continue
            finally:
                result.seconds[v.id] += time.perf_counter() - t
            if runner.nonfinite or has_nonfinite(out):
                self._nonfinite.add(v.id)
            outputs[v.id] = out
            result.layer_evaluations += (p.num_calls - k) * runner.forwards - runner.reused
        if shared is not None:
            peak_shared = max(peak_shared, nbytes(list(shared.outputs.values())))
        result.state_bytes = max(result.state_bytes, held + peak_shared)
        return base_out, (states if single else []), outputs


def record_status(metrics: dict[str, Any], primary: str, *, error: str | None = None, flagged: bool = False) -> str:
    """``"error"``, ``"nonfinite"`` (the outputs held inf/NaN, or the primary metric is not finite) or ``"ok"``.

    Other metrics may be NaN by definition (COCO's mAP for a size bin without ground truth) and do not count.
    """
    value = metrics.get(primary)
    if error:
        return "error"
    return "nonfinite" if flagged or (isinstance(value, float) and not math.isfinite(value)) else "ok"


def op_columns() -> list[str]:
    """The op columns every record holds (None where its op has no such parameter): each registered op's scalar
    parameters (``start``, ``end``, ``i``, ``j``, ``seed``, ``iterations``, ``times``, ...), in registration order."""
    names: dict[str, None] = {}
    for cls in OPS.values():
        names.update((info.name, None) for info in cls.params() if info.type in (int, str, float, bool))
    return list(names)


def make_record(
    *,
    sweep: str,
    fingerprint: str,
    model: str,
    task: Task | TaskInfo,
    task_name: str,
    task_type: str,
    variant: Variant,
    plan: Plan,
    metrics: dict[str, Any],
    reference: dict[str, Any] | None,
    seconds: float,
) -> dict[str, Any]:
    """One row of the results table for a finished (model, variant, task)."""
    metrics = dict(metrics)
    error = metrics.pop("error", None)
    flagged = metrics.pop("nonfinite", False)
    primary = task.primary_metric
    status = record_status(metrics, primary, error=error, flagged=flagged)
    summary = summarise(task, metrics, reference if reference is not None else metrics) if not error else {}
    op = variant.ops[0] if len(variant.ops) == 1 else None
    start, end = op.span(plan.num_layers) if op is not None else (None, None)
    columns = dict.fromkeys(op_columns(), None) | (op.columns() if op is not None else {})
    return {
        "sweep": sweep,
        "model": model,
        "task": task_name,
        "task_type": task_type,
        "variant": variant.id,
        "op": variant.op_name,
        "params": variant.params(),
        **columns,
        "start": start,
        "end": end,
        "n_affected": op.affected(plan.num_layers) if op is not None and not plan.computes_unmodified else 0,
        "paper_n": variant.paper_n,
        "num_layers": plan.num_layers,
        "steps": plan.describe(),
        "metric": primary,
        "score": metrics.get(primary),
        "baseline": summary.get(f"baseline_{primary}"),
        "chance": summary.get(f"chance_{primary}"),
        "normalised": summary.get(f"normalised_{primary}"),
        "status": status,
        "error": error,
        "seconds": seconds,
        "schema": SCHEMA_VERSION,
        "fingerprint": fingerprint,
        **{f"m_{k}": v for k, v in metrics.items() if isinstance(v, (int, float))},
    }


def reference_metrics(baseline_record: dict[str, Any]) -> dict[str, Any]:
    """The raw baseline metrics stored in a baseline record (its ``m_*`` columns)."""
    return {k[2:]: v for k, v in baseline_record.items() if k.startswith("m_")}
