"""Running a sweep locally: every (model, variant, task) scored once, sharing the work variants have in common.

Per task the data are preprocessed once. Variants run in chunks (see :mod:`painters.sweep.scoring`); a record is
written atomically for each finished (model, variant, task), so a killed sweep resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from painters.apply import layers
from painters.plan import Plan
from painters.sweep.config import ModelRun, SweepConfig, TaskSpec
from painters.sweep.generators import Variant, expand_ops
from painters.sweep.planning import plan_variants
from painters.sweep.scoring import ChunkScorer, make_record, reference_metrics
from painters.sweep.store import ResultStore
from painters.tasks.base import Batch, Task


@dataclass
class Stats:
    """What a run did: records written, layer evaluations, wall time."""

    written: int = 0
    skipped: int = 0
    failed: int = 0
    oom_retries: int = 0
    retired: int = 0
    at_chance: list[str] = field(default_factory=list)
    """``model / task`` pairs whose unmodified model scores at chance: their normalised scores are undefined."""
    agreement: pd.DataFrame | None = None
    """How well the one-pass predictors rank the measured skips (:func:`painters.analysis.predictor_agreement`)."""
    compiled: dict[str, int] = field(default_factory=dict)
    """``{"model / task": graphs}`` dynamo built with ``runner.compile`` (1: one graph served every layer and plan)."""
    refused: dict[str, dict[str, str]] = field(default_factory=dict)
    """``{model: {variant id: reason}}``: variants left out because the model cannot run them."""
    layer_evaluations: int = 0
    seconds: float = 0.0
    tasks: list[str] = field(default_factory=list)

    def add(self, record: dict[str, Any]) -> None:
        self.written += 1
        self.failed += record["status"] != "ok"


def _agreement(table: pd.DataFrame, out: Path) -> pd.DataFrame | None:
    """The predictors' rank agreement with the sweep's measured skips, when it has both (else None)."""
    from painters.analysis.agreement import load_importance, predictor_agreement

    if table is None or table.empty or "op" not in table or not (table["op"] == "skip").any():
        return None
    importance = load_importance(out)
    if importance.empty:
        return None
    agreement = predictor_agreement(table, importance)
    return agreement if not agreement.empty else None


def _located(exc: Exception, where: str) -> Exception:
    """The same error, its message prefixed with where in the sweep file it comes from."""
    try:
        return type(exc)(f"{where}: {exc}")
    except Exception:  # an error class with a different constructor
        from painters.sweep.config import SweepError

        return SweepError(f"{where}: {exc}")


def _weights_key(spec: Any) -> str:
    """What decides the loaded weights: the same for every stage or display name of one checkpoint."""
    return spec.model_dump_json(exclude={"name", "stage", "tower"})


def at_chance(table: Any) -> list[str]:
    """``model / task`` of every baseline record that scores exactly at chance (normalised scores undefined)."""
    if table.empty or "op" not in table:
        return []
    base = table[(table["op"] == "baseline") & table["score"].notna() & table["chance"].notna()]
    hit = base[(base["score"].astype(float) - base["chance"].astype(float)).abs() < 1e-12]
    return [f"{m} / {t}" for m, t in zip(hit["model"], hit["task"])]


def order_variants(variants: Sequence[Variant], plans: dict[str, Plan]) -> list[Variant]:
    """Variants sorted so that those changing the same first layer run together (deepest shared prefix first)."""
    return sorted(variants, key=lambda v: (-plans[v.id].shared_prefix, v.id))


class SweepRunner:
    """Runs one sweep config against a results folder."""

    def __init__(
        self,
        config: SweepConfig,
        out: str | Path,
        *,
        source: str = "<config>",
        force: bool = False,
        progress: bool = True,
        model: nn.Module | None = None,
        processor: Any = None,
        share: bool | None = None,
        on_record: Callable[[dict], None] | None = None,
    ):
        self.config = config
        config.expand_stages()  # `stage: all` of a config parsed without load_sweep
        self.out = Path(out)
        self.source = source
        self.force = force
        self.progress = progress
        self.share = config.runner.share if share is None else share
        self.on_record = on_record
        self._fingerprints: dict[tuple[str, str], str] = {}
        """Each (model, task)'s producer fingerprint, as the open store holds them (``ResultStore.producers``)."""
        self._loaded: dict[str, tuple[nn.Module, Any]] = {}
        if model is not None:  # a model already in memory (notebooks, benchmarks): for a single-model sweep
            self._loaded[_weights_key(config.runs[0].model)] = (model, processor)

    # -- planning ----------------------------------------------------------------------------------------------
    def model(self, run: ModelRun | None = None) -> tuple[nn.Module, Any]:
        """The (model, processor) of ``run`` (default: the first), loaded once."""
        spec = (run or self.config.runs[0]).model
        key = _weights_key(spec)
        if key not in self._loaded:
            from painters.sweep.loading import load_model

            self._loaded.clear()  # one model in memory at a time (the stages of one model share it)
            self._loaded[key] = load_model(spec)
        return self._loaded[key]

    def num_layers(self, run: ModelRun | None = None) -> int:
        run = run or self.config.runs[0]
        return len(layers(self.model(run)[0], **run.model.where).layers)

    def variants(self, num_layers: int) -> list[Variant]:
        return expand_ops(self.config.ops, num_layers, baseline=True, locate=self.config.locate)

    # -- running -----------------------------------------------------------------------------------------------
    def run(self) -> Stats:
        """Score every (model, variant, task) not yet in the store; returns what was done."""
        start = time.perf_counter()
        stats = Stats()
        tasks = self.load_tasks()  # every task's data is checked before any model loads or any variant runs
        store = ResultStore(self.out, self.config.task_names)
        with store.open(self.config.producers(), self.source, force=self.force, sweep=self.config.name) as store:
            self._fingerprints = store.producers
            for run in self.config.runs:
                self._run_model(run, tasks, store, stats)
            self.finish(store, stats)
        stats.seconds = time.perf_counter() - start
        return stats

    def finish(self, store: ResultStore, stats: Stats) -> None:
        """The end of a run (local or on Ray): the table consolidated, every record read once, and what it says
        that the summary reports (retired records, tasks at chance, the predictors' agreement with the skips)."""
        table = store.consolidate()
        stats.retired, stats.at_chance = store.retired, at_chance(table)
        stats.agreement = _agreement(table, self.out)

    def load_tasks(self) -> dict[str, Task]:
        """Every task of the sweep, by name: data found, columns and labels matched, images decodable; local model
        folders found. A mistake names the sweep file, line and field."""
        from painters.data.source import local_path
        from painters.errors import PaintersError
        from painters.sweep.config import SweepError
        from painters.sweep.loading import resolve_model_id
        from painters.tasks.registry import load

        for loc, model in self.config.model_locations():
            problem = model.device_problem()
            if problem is not None:
                raise SweepError(f"{self.config.locate((*loc, 'device'))}: {problem}")
            try:
                local_path(resolve_model_id(model.id))
            except PaintersError as exc:
                raise _located(exc, self.config.locate((*loc, "id"))) from None
        from painters.sweep.validate import check_task_models

        loaded = {run.model.display for run in self.config.runs if _weights_key(run.model) in self._loaded}
        check_task_models(self.config, skip=loaded)  # a task that cannot score its model, from its config
        tasks = {}
        for loc, spec in self.config.task_locations():
            try:
                tasks[spec.display] = load(
                    spec.type, data=spec.data, split=spec.split, limit=spec.limit, **spec.options
                )
            except PaintersError as exc:
                field = "data" if spec.data is not None and isinstance(exc, FileNotFoundError) else "type"
                raise _located(exc, self.config.locate((*loc, field))) from None
        for file_run, staged in self.config.stage_runs():  # a staged model's tasks, per stage: the same data
            for task, staged_task in zip(file_run.tasks, staged.tasks):
                tasks[staged_task.display] = tasks[task.display]
        return tasks

    def _run_model(self, run: ModelRun, tasks: dict[str, Task], store: ResultStore, stats: Stats) -> None:
        name = run.model.display
        model, processor = self.model(run)
        variants, plans, refused = plan_variants(  # validates before any work
            model,
            self.variants(self.num_layers(run)),
            run.model.where,
            model_name=name,
            alone=len(self.config.runs) == 1,
        )
        if refused:
            stats.refused[name] = refused
        store.set_current(name, list(plans))
        for spec in run.tasks:
            pending = [v for v in variants if not store.has(name, v.id, spec.display)]
            stats.skipped += len(variants) - len(pending)
            if not pending:
                continue
            task = tasks[spec.display]
            batches = task.prepare(processor, spec.batch_size, progress=self.progress)
            with self._compiled(model, run) as compiled:
                self._run_task(model, run, spec, task, batches, order_variants(pending, plans), plans, store, stats)
            if compiled is not None:
                stats.compiled[f"{name} / {spec.display}"] = compiled.graphs
            stats.tasks.append(spec.display)
        if self.config.analyses.attention_distance is not None:
            self._attention_distances(run, model, processor, tasks[run.tasks[0].display], variants, store)

    def _compiled(self, model: nn.Module, run: ModelRun) -> contextlib.AbstractContextManager:
        """Per-layer torch.compile while a task is scored (``runner.compile``), else nothing."""
        if not self.config.runner.compile:
            return contextlib.nullcontext()
        from painters.sweep.compiled import compiled_layers

        return compiled_layers(model, run.model.where, self.config.runner.compile_backend)

    def _attention_distances(
        self, run: ModelRun, model: nn.Module, processor: Any, task: Task, variants: list[Variant], store: ResultStore
    ) -> None:
        """The mean attention distance of every variant (token-op variants have none), on the first images of the
        model's first task; one file per variant, skipped when already there."""
        from painters.analysis import attention_distance
        from painters.errors import PaintersError

        name, spec = run.model.display, self.config.analyses.attention_distance
        pending = [v for v in variants if not store.has_analysis("attention_distance", name, v.id)]
        if not pending:
            return
        images = []
        for batch in task.prepare(processor, run.tasks[0].batch_size, progress=False):
            images.append(batch.inputs["pixel_values"])
            if sum(len(i) for i in images) >= spec.images:
                break
        if not images:
            return
        pixels = {"pixel_values": torch.cat(images)[: spec.images]}
        where = {"tower": run.model.tower} if run.model.tower else {}
        for v in tqdm(pending, desc=f"{name} / attention distance", unit="variant", disable=not self.progress):
            try:
                frame = attention_distance(model, None, pixels, *v.ops, **where)
            except PaintersError:  # token ops and models without patch grids have no attention distance
                continue
            store.save_analysis("attention_distance", name, v.id, frame.assign(model=name, variant=v.id))

    def _run_task(
        self,
        model: nn.Module,
        run: ModelRun,
        spec: TaskSpec,
        task: Task,
        batches: list[Batch],
        pending: list[Variant],
        plans: dict[str, Plan],
        store: ResultStore,
        stats: Stats,
    ) -> None:
        name = run.model.display
        baseline = store.read(name, "baseline", spec.display)
        chunk = self.config.runner.chunk
        bar = tqdm(total=len(pending), desc=f"{name} / {spec.display}", unit="variant", disable=not self.progress)
        for first in range(0, len(pending), chunk):
            group = [v for v in pending[first : first + chunk] if v.id != "baseline"]
            result = ChunkScorer(model, task, group, plans, run.model.where, self.share, baseline is None).score(
                batches
            )
            stats.layer_evaluations += result.layer_evaluations
            stats.oom_retries += result.oom_retries
            if baseline is None:
                baseline = self.record(
                    run,
                    spec,
                    task,
                    Variant(()),
                    plans["baseline"],
                    result.metrics["baseline"],
                    None,
                    result.seconds["baseline"],
                )
                store.write(baseline)
                stats.add(baseline)
                if result.similarity is not None:
                    store.save_similarity(spec.display, result.similarity)
                if result.importance is not None:
                    store.save_analysis(
                        "importance", name, spec.display, result.importance.assign(model=name, task=spec.display)
                    )
                bar.update(1)
            for v in group:
                record = self.record(
                    run,
                    spec,
                    task,
                    v,
                    plans[v.id],
                    result.metrics[v.id],
                    reference_metrics(baseline),
                    result.seconds[v.id],
                )
                store.write(record)
                stats.add(record)
                if self.on_record:
                    self.on_record(record)
                bar.update(1)
            store.checkpoint()  # indexes records, refreshes results.parquet now and then: cost per record is flat
        bar.close()

    def record(
        self,
        run: ModelRun,
        spec: TaskSpec,
        task: Task,
        variant: Variant,
        p: Plan,
        metrics: dict[str, Any],
        reference: dict[str, Any] | None,
        seconds: float,
    ) -> dict[str, Any]:
        return make_record(
            sweep=self.config.name,
            fingerprint=self._fingerprints[(run.model.display, spec.display)],
            model=run.model.display,
            task=task,
            task_name=spec.display,
            task_type=spec.type,
            variant=variant,
            plan=p,
            metrics=metrics,
            reference=reference,
            seconds=seconds,
        )
