"""Scale-out on Ray: the same sweep, spread over Ray actors (one per GPU, or per CPU slot without GPUs).

Each actor loads the model once and keeps it, prepares each task's data once, and scores units of variants that
change the same first layer (so it shares work as the local runner does). The driver writes every record into
the same crash-safe store as the local runner, from what the actors return; a unit whose actor dies is
rescheduled on a fresh actor, and rerunning resumes as locally. Ray is an optional extra
(``pip install painters[ray]``); nothing here is imported by the local runner.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from painters.errors import MissingPackageError
from painters.ops import op_from_dict
from painters.plan import Plan, resolve
from painters.sweep.config import ModelRun, TaskSpec
from painters.sweep.generators import Variant
from painters.sweep.planning import check_runnable
from painters.sweep.runner import Stats, SweepRunner, order_variants
from painters.sweep.scoring import TaskInfo, reference_metrics
from painters.sweep.store import ResultStore

MAX_ATTEMPTS = 3


def _require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingPackageError(
            "the Ray executor needs Ray: pip install 'painters[ray]' (or pip install ray)"
        ) from None
    return ray


def _encode(v: Variant) -> tuple[list[dict], int | None]:
    return [op.to_dict() for op in v.ops], v.paper_n


def _decode(data: tuple[list[dict], int | None]) -> Variant:
    ops, paper_n = data
    return Variant(tuple(op_from_dict(d) for d in ops), paper_n)


class SweepWorker:
    """A Ray actor body: one model, loaded once, and the prepared data of every task it has seen."""

    def __init__(self, run: dict, threads: int = 1):
        import torch

        from painters.sweep.loading import load_model

        torch.set_num_threads(max(1, threads))  # several torch processes on one machine: cap their threads
        self.run = ModelRun.model_validate(run)
        self.model, self.processor = load_model(self.run.model)
        self.tasks: dict[str, tuple[Any, list]] = {}

    def pid(self) -> int:
        return os.getpid()

    def num_layers(self) -> int:
        from painters.apply import layers

        return len(layers(self.model, **self.run.model.where).layers)

    def refused(self, variants: list) -> dict[str, str]:
        """``{variant id: reason}`` of the variants this model cannot run (see :func:`plan_variants`)."""
        from painters.sweep.planning import plan_variants

        return plan_variants(self.model, [_decode(v) for v in variants], self.run.model.where, alone=False)[2]

    def score(self, spec: dict, variants: list, need_baseline: bool, share: bool) -> dict[str, Any]:
        from painters.apply import plan
        from painters.sweep.scoring import ChunkScorer
        from painters.tasks.registry import load

        task_spec = TaskSpec.model_validate(spec)
        if task_spec.display not in self.tasks:
            task = load(
                task_spec.type, data=task_spec.data, split=task_spec.split, limit=task_spec.limit, **task_spec.options
            )
            self.tasks[task_spec.display] = (task, task.prepare(self.processor, task_spec.batch_size, progress=False))
        task, batches = self.tasks[task_spec.display]
        group = [_decode(v) for v in variants]
        where = self.run.model.where
        plans = {v.id: plan(self.model, *v.ops, **where) for v in group}
        plans["baseline"] = plan(self.model, **where)
        result = ChunkScorer(self.model, task, group, plans, where, share, need_baseline).score(batches)
        return {
            "metrics": result.metrics,
            "seconds": result.seconds,
            "similarity": result.similarity,
            "importance": result.importance,
            "layer_evaluations": result.layer_evaluations,
            "oom_retries": result.oom_retries,
            "pid": os.getpid(),
            "task": TaskInfo.of(task),
        }


@dataclass
class Unit:
    """Variants sent to one actor in one call: they change the same first layer."""

    variants: list[Variant]
    need_baseline: bool = False
    attempts: int = 0


def make_units(pending: list[Variant], plans: dict[str, Plan], chunk: int) -> list[Unit]:
    """Group variants by their first changed layer (deepest shared prefix first), at most ``chunk`` per unit."""
    groups: dict[int, list[Variant]] = {}
    for v in order_variants([v for v in pending if v.id != "baseline"], plans):
        groups.setdefault(plans[v.id].shared_prefix, []).append(v)
    units = [Unit(g[i : i + chunk]) for g in groups.values() for i in range(0, len(g), chunk)]
    return sorted(units, key=lambda u: -sum(plans[v.id].num_calls - plans[v.id].shared_prefix for v in u.variants))


class RayExecutor:
    """Runs a :class:`SweepRunner`'s sweep on a Ray cluster (``address``: ``None`` starts a local one, ``"auto"``
    joins the running cluster, ``"ray://host:10001"`` a remote one)."""

    def __init__(
        self,
        runner: SweepRunner,
        address: str | None = None,
        workers: int | None = None,
        threads: int = 1,
        on_result: Callable[[dict, Any], None] | None = None,
    ):
        self.runner, self.address, self.workers, self.threads = runner, address, workers, threads
        self.on_result = on_result  # called after each unit's records are written (tests kill workers there)
        self.ray = _require_ray()

    def _actor_class(self) -> Any:
        ray = self.ray
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        count = self.workers or gpus or max(1, int(resources.get("CPU", 1)))
        options = {"num_gpus": 1} if gpus else {"num_cpus": 1}
        return ray.remote(**options)(SweepWorker), count

    def run(self) -> Stats:
        ray = self.ray
        if not ray.is_initialized():
            ray.init(
                address=self.address,
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"env_vars": {"OMP_NUM_THREADS": str(self.threads), "TOKENIZERS_PARALLELISM": "false"}},
            )
        start = time.perf_counter()
        stats = Stats()
        config = self.runner.config
        self.runner.load_tasks()  # bad data is refused here, before any actor starts
        with ResultStore(self.runner.out, config.task_names).open(
            config.producers(), self.runner.source, force=self.runner.force, sweep=config.name
        ) as store:
            self.runner._fingerprints = store.producers  # what its records are stamped with
            for run in config.runs:
                self._run_model(run, store, stats)
            self.runner.finish(store, stats)
        stats.seconds = time.perf_counter() - start
        return stats

    def _run_model(self, run: ModelRun, store: ResultStore, stats: Stats) -> None:
        actor_class, count = self._actor_class()
        payload = run.model_dump(mode="json")
        actors = [actor_class.remote(payload, self.threads) for _ in range(count)]
        try:
            num_layers = self.ray.get(actors[0].num_layers.remote())
            variants = self.runner.variants(num_layers)
            refused = self.ray.get(actors[0].refused.remote([_encode(v) for v in variants]))
            if refused:  # as the local runner: left out with a note, unless nothing would be measured
                stats.refused[run.model.display] = refused
                variants = [v for v in variants if v.id not in refused]
                if len(self.runner.config.runs) == 1:
                    check_runnable(run.model.display, variants, refused)
            plans = {v.id: resolve(num_layers, v.ops) for v in variants}
            store.set_current(run.model.display, list(plans))
            for spec in run.tasks:
                self._run_task(run, spec, variants, plans, actors, actor_class, payload, store, stats)
        finally:
            for actor in actors:
                self.ray.kill(actor)

    def _run_task(
        self,
        run: ModelRun,
        spec: TaskSpec,
        variants: list[Variant],
        plans: dict[str, Plan],
        actors: list,
        actor_class: Any,
        payload: dict,
        store: ResultStore,
        stats: Stats,
    ) -> None:
        ray, name = self.ray, run.model.display
        pending = [v for v in variants if not store.has(name, v.id, spec.display)]
        stats.skipped += len(variants) - len(pending)
        if not pending:
            return
        baseline = store.read(name, "baseline", spec.display)
        units = deque(make_units(pending, plans, self.runner.config.runner.chunk))
        if baseline is None:
            if not units:
                units.append(Unit([]))
            units[0].need_baseline = True
        waiting: list[tuple[Unit, dict]] = []  # results that arrived before the baseline record
        idle, flight = list(actors), {}
        spec_json = spec.model_dump(mode="json")
        while units or flight:
            while units and idle:
                unit, actor = units.popleft(), idle.pop()
                ref = actor.score.remote(
                    spec_json, [_encode(v) for v in unit.variants], unit.need_baseline, self.runner.share
                )
                flight[ref] = (unit, actor)
            done, _ = ray.wait(list(flight), num_returns=1)
            unit, actor = flight.pop(done[0])
            try:
                result = ray.get(done[0])
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                unit.attempts += 1
                if unit.attempts >= MAX_ATTEMPTS:
                    raise RuntimeError(
                        f"a unit of {len(unit.variants)} variants failed {unit.attempts} times: {exc}"
                    ) from exc
                units.appendleft(unit)  # rescheduled on a fresh actor
                actors.remove(actor)
                replacement = actor_class.remote(payload, self.threads)
                actors.append(replacement)
                idle.append(replacement)
                continue
            idle.append(actor)
            stats.layer_evaluations += result["layer_evaluations"]
            stats.oom_retries += result["oom_retries"]
            task = result["task"]
            if unit.need_baseline:
                baseline = self.runner.record(
                    run,
                    spec,
                    task,
                    Variant(()),
                    plans["baseline"],
                    result["metrics"]["baseline"],
                    None,
                    result["seconds"]["baseline"],
                )
                store.write(baseline)
                stats.add(baseline)
                if result["similarity"] is not None:
                    store.save_similarity(spec.display, result["similarity"])
                if result["importance"] is not None:
                    frame = result["importance"].assign(model=name, task=spec.display)
                    store.save_analysis("importance", name, spec.display, frame)
            waiting.append((unit, result))
            if baseline is not None:
                for u, r in waiting:
                    self._write(run, spec, task, u, r, plans, baseline, store, stats)
                waiting.clear()
            if self.on_result:
                self.on_result(result, actors)
        store.consolidate()

    def _write(
        self,
        run: ModelRun,
        spec: TaskSpec,
        task: TaskInfo,
        unit: Unit,
        result: dict,
        plans: dict[str, Plan],
        baseline: dict,
        store: ResultStore,
        stats: Stats,
    ) -> None:
        for v in unit.variants:
            record = self.runner.record(
                run,
                spec,
                task,
                v,
                plans[v.id],
                result["metrics"][v.id],
                reference_metrics(baseline),
                result["seconds"][v.id],
            )
            store.write(record)
            stats.add(record)
