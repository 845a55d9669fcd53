"""Running a sweep: every (variant, task) scored once, sharing the work variants have in common.

Per task the data are preprocessed once. Variants run in chunks; for each batch of a chunk one unmodified
pass records the state at every layer boundary (it doubles as the baseline and feeds the layer-similarity
matrix), then each variant resumes from the state entering its first changed layer. A record is written
atomically for each finished (variant, task), so a killed sweep resumes where it stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from painters.apply import layers, plan, session
from painters.evaluation import summarise
from painters.plan import Plan
from painters.sweep.config import ModelRun, SweepConfig, TaskSpec
from painters.sweep.generators import Variant, expand_ops
from painters.sweep.guard import has_nonfinite, is_oom, split_batch
from painters.sweep.similarity import SimilarityAccumulator
from painters.sweep.store import SCHEMA_VERSION, ResultStore
from painters.tasks.base import Batch, Task


@dataclass
class Stats:
    """What a run did: records written, layer evaluations, wall time."""

    written: int = 0
    skipped: int = 0
    failed: int = 0
    oom_retries: int = 0
    layer_evaluations: int = 0
    seconds: float = 0.0
    tasks: list[str] = field(default_factory=list)


def order_variants(variants: Sequence[Variant], plans: dict[str, Plan]) -> list[Variant]:
    """Variants sorted so that those changing the same first layer run together (deepest shared prefix first)."""
    return sorted(variants, key=lambda v: (-plans[v.id].shared_prefix, v.id))


def layer_evaluations(plans: Sequence[Plan], share: bool, num_layers: int) -> int:
    """Layer calls per input for these variants plus one unmodified pass (with sharing) or naively."""
    return num_layers + sum(p.num_calls - (p.shared_prefix if share else 0) for p in plans)


def _finite(metrics: dict[str, Any]) -> bool:
    return all(not isinstance(v, float) or math.isfinite(v) for v in metrics.values())


class SweepRunner:
    """Runs one sweep config against a results folder."""

    def __init__(self, config: SweepConfig, out: str | Path, *, source: str = "<config>", force: bool = False,
                 progress: bool = True, model: nn.Module | None = None, processor: Any = None,
                 share: bool | None = None, on_record: Callable[[dict], None] | None = None):
        self.config = config
        self.out = Path(out)
        self.source = source
        self.force = force
        self.progress = progress
        self.share = config.runner.share if share is None else share
        self.on_record = on_record
        self._loaded: dict[str, tuple[nn.Module, Any]] = {}
        if model is not None:  # a model already in memory (notebooks, benchmarks): for a single-model sweep
            self._loaded[config.runs[0].model.display] = (model, processor)

    # -- planning ----------------------------------------------------------------------------------------------
    def model(self, run: ModelRun | None = None) -> tuple[nn.Module, Any]:
        """The (model, processor) of ``run`` (default: the first), loaded once."""
        spec = (run or self.config.runs[0]).model
        if spec.display not in self._loaded:
            from painters.sweep.loading import load_model

            self._loaded.clear()  # one model in memory at a time
            self._loaded[spec.display] = load_model(spec)
        return self._loaded[spec.display]

    def num_layers(self, run: ModelRun | None = None) -> int:
        run = run or self.config.runs[0]
        return len(layers(self.model(run)[0], run.model.stage).layers)

    def variants(self, num_layers: int) -> list[Variant]:
        return expand_ops(self.config.ops, num_layers, baseline=True)

    # -- running -----------------------------------------------------------------------------------------------
    def run(self) -> Stats:
        """Score every (model, variant, task) not yet in the store; returns what was done."""
        start = time.perf_counter()
        stats = Stats()
        with ResultStore(self.out).open(self.config.fingerprint(), self.source, force=self.force) as store:
            for run in self.config.runs:
                self._run_model(run, store, stats)
            store.consolidate()
        stats.seconds = time.perf_counter() - start
        return stats

    def _run_model(self, run: ModelRun, store: ResultStore, stats: Stats) -> None:
        from painters.tasks.registry import load

        name = run.model.display
        model, processor = self.model(run)
        variants = self.variants(self.num_layers(run))
        plans = {v.id: plan(model, *v.ops, stage=run.model.stage) for v in variants}  # validates before any work
        for spec in run.tasks:
            pending = [v for v in variants if not store.has(name, v.id, spec.display)]
            stats.skipped += len(variants) - len(pending)
            if not pending:
                continue
            task = load(spec.type, data=spec.data, split=spec.split, limit=spec.limit, **spec.options)
            batches = task.prepare(processor, spec.batch_size)
            self._run_task(model, run, spec, task, batches, order_variants(pending, plans), plans, store, stats)
            stats.tasks.append(spec.display)

    def _run_task(self, model: nn.Module, run: ModelRun, spec: TaskSpec, task: Task, batches: list[Batch],
                  pending: list[Variant], plans: dict[str, Plan], store: ResultStore, stats: Stats) -> None:
        name = run.model.display
        baseline = store.read(name, "baseline", spec.display)
        chunk = self.config.runner.chunk
        bar = tqdm(total=len(pending), desc=f"{name} / {spec.display}", unit="variant", disable=not self.progress)
        for first in range(0, len(pending), chunk):
            group = [v for v in pending[first:first + chunk] if v.id != "baseline"]
            need_baseline = baseline is None
            metrics, similarity, seconds = self._score_chunk(model, run, task, batches, group, plans, need_baseline,
                                                             stats)
            if need_baseline:
                baseline = self._record(run, Variant(()), plans["baseline"], task, spec, metrics.pop("baseline"),
                                        None, seconds.pop("baseline"), stats)
                store.write(baseline)
                if similarity.count:
                    store.save_similarity(spec.display, similarity.compute().numpy())
                bar.update(1)
            reference = {k[2:]: v for k, v in baseline.items() if k.startswith("m_")}
            for v in group:
                record = self._record(run, v, plans[v.id], task, spec, metrics[v.id], reference, seconds[v.id], stats)
                store.write(record)
                if self.on_record:
                    self.on_record(record)
                bar.update(1)
            store.consolidate()
        bar.close()

    def _score_chunk(self, model: nn.Module, run: ModelRun, task: Task, batches: list[Batch], group: list[Variant],
                     plans: dict[str, Plan], need_baseline: bool, stats: Stats):
        accs = {v.id: task.new_accumulator() for v in group}
        base_acc = task.new_accumulator() if need_baseline else None
        similarity = SimilarityAccumulator()
        self._seconds = {v.id: 0.0 for v in group} | {"baseline": 0.0}
        self._failed: dict[str, str] = {}
        self._nonfinite: set[str] = set()
        with torch.no_grad():
            for batch in batches:
                for part, results in self._guarded(model, run, task, batch, group, plans, stats):
                    base_out, states, outputs = results
                    if base_acc is not None:
                        base_acc.update(part, base_out)
                        if states:
                            similarity.update(states, part.inputs.get("attention_mask"))
                    for vid, out in outputs.items():
                        accs[vid].update(part, out)
        metrics: dict[str, Any] = {}
        for v in group:
            if v.id in self._failed:
                metrics[v.id] = {"error": self._failed[v.id]}
                continue
            try:
                metrics[v.id] = accs[v.id].compute()
            except Exception as exc:  # noqa: BLE001 - a variant that breaks scoring is recorded, not fatal
                metrics[v.id] = {"error": f"{type(exc).__name__}: {exc}"}
            if v.id in self._nonfinite:
                metrics[v.id]["nonfinite"] = True
        if base_acc is not None:
            metrics["baseline"] = base_acc.compute()
        return metrics, similarity, self._seconds

    def _guarded(self, model: nn.Module, run: ModelRun, task: Task, batch: Batch, group: list[Variant],
                 plans: dict[str, Plan], stats: Stats) -> list[tuple[Batch, tuple]]:
        """Run one batch (baseline pass + every variant); on out-of-memory, halve it and retry each half.
        Accumulators are updated by the caller only once the whole batch succeeded."""
        try:
            return [(batch, self._one_batch(model, run, task, batch, group, plans, stats))]
        except Exception as exc:
            if not is_oom(exc):
                raise
            halves = split_batch(batch)
            if halves is None:
                raise RuntimeError(f"out of memory on a batch that cannot be split further ({exc}); lower the "
                                   f"task's batch_size") from exc
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            stats.oom_retries += 1
            return [r for half in halves for r in self._guarded(model, run, task, half, group, plans, stats)]

    def _one_batch(self, model: nn.Module, run: ModelRun, task: Task, batch: Batch, group: list[Variant],
                   plans: dict[str, Plan], stats: Stats) -> tuple:
        stage = run.model.stage
        num_layers = plans["baseline"].num_layers
        t = time.perf_counter()
        with session(model, stage=stage, capture=True) as runner:
            base_out = task.run(model, batch)
        states = list(runner.captured or [])
        single = runner.forwards == 1 and len(states) == num_layers + 1
        share = self.share and single
        # (a task running several forwards per batch makes the recorded states ambiguous: no sharing then)
        stats.layer_evaluations += num_layers * runner.forwards
        self._seconds["baseline"] += time.perf_counter() - t
        outputs = {}
        for v in group:
            if v.id in self._failed:
                continue
            t = time.perf_counter()
            p = plans[v.id]
            k = p.shared_prefix if share else 0
            try:
                with session(model, *v.ops, stage=stage, resume=(k, states) if k else None) as runner:
                    out = task.run(model, batch)
            except Exception as exc:
                if is_oom(exc):
                    raise
                self._failed[v.id] = f"{type(exc).__name__}: {exc}"  # recorded as an error; the sweep goes on
                continue
            finally:
                self._seconds[v.id] += time.perf_counter() - t
            if runner.nonfinite or has_nonfinite(out):
                self._nonfinite.add(v.id)
            outputs[v.id] = out
            stats.layer_evaluations += (p.num_calls - k) * runner.forwards
        return base_out, (states if single else []), outputs

    def _record(self, run: ModelRun, variant: Variant, p: Plan, task: Task, spec: TaskSpec, metrics: dict[str, Any],
                reference: dict[str, Any] | None, seconds: float, stats: Stats) -> dict[str, Any]:
        summary = summarise(task, metrics, reference if reference is not None else metrics)
        primary = task.primary_metric
        op = variant.ops[0] if len(variant.ops) == 1 else None
        d = op.to_dict() if op is not None else {}
        start, end = (op.span(p.num_layers) if op is not None else (None, None))
        error = metrics.pop("error", None)
        flagged = metrics.pop("nonfinite", False)
        status = "error" if error else ("nonfinite" if flagged or not _finite(metrics) else "ok")
        stats.written += 1
        if status != "ok":
            stats.failed += 1
        return {
            "sweep": self.config.name, "model": run.model.display, "task": spec.display,
            "task_type": spec.type, "variant": variant.id, "op": variant.op_name, "params": variant.params(),
            "start": start, "end": end, "i": d.get("i"), "j": d.get("j"),
            "n_affected": (end - start) if start is not None else 0,
            "seed": d.get("seed"), "iterations": d.get("iterations"), "times": d.get("times"),
            "paper_n": variant.paper_n, "num_layers": p.num_layers, "steps": p.describe(),
            "metric": primary, "score": metrics.get(primary), "baseline": summary.get(f"baseline_{primary}"),
            "chance": summary.get(f"chance_{primary}"), "normalised": summary.get(f"normalised_{primary}"),
            "status": status, "error": error, "seconds": seconds, "schema": SCHEMA_VERSION,
            "fingerprint": self.config.fingerprint(),
            **{f"m_{k}": v for k, v in metrics.items() if isinstance(v, (int, float))},
        }
