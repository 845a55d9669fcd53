"""``painters.prune``: search which K layers (or attention / MLP sublayers) of a model to remove.

Methods (``METHODS``):

- ``greedy`` (SLEB, Song et al. 2024): K rounds; each round scores, on the task, every remaining candidate removed
  on top of those already removed, and removes the best. A round shares work as a sweep does (the sweep's
  ``ChunkScorer``): the model with the layers removed so far runs once and each candidate resumes from the state
  entering it, so a round costs about half the layer calls of scoring each candidate from scratch.
- ``block-influence`` (ShortGPT, Men et al. 2024): one unmodified pass; the K layers of lowest Block Influence
  ``1 - mean cos(x_i, x_i+1)`` go. With ``part="attention"`` / ``"mlp"``: the K sublayers whose output cosine
  ``cos(x, x + f(norm(x)))`` is highest go (LLM-Drop, He et al. 2024).
- ``angular`` (Gromov et al. 2024): the span ``[l, l + K)`` whose input and output states are closest in angular
  distance ``arccos(cos(x_l, x_l+K)) / pi`` (last token for causal LMs, CLS for encoders) goes; blocks only.
- ``last``: the K layers before the final one go, ``[T - 1 - K, T - 1)`` (the final layer is kept, as the 2026
  baselines do: it maps into the head's space and removing it is catastrophic on every model); blocks only.

Every plan for every number removed ``k = 0..K`` is scored on the task, normalised as a sweep does (0 = chance,
1 = the unmodified model, on a log scale for perplexities). With ``out`` each finished round (a greedy round, or one
plan of a one-pass method) is written as JSON under ``out/rounds/<part>/``, and a rerun continues from there.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from torch import nn

from painters.errors import ConfigError, PlanError
from painters.registry import Registry

PARTS = ("block", "attention", "mlp")


@dataclass(frozen=True)
class Method:
    """A pruning method: what it does, whether it runs the task per candidate, and the parts it can remove."""

    description: str
    parts: tuple[str, ...] = PARTS


METHODS: Registry[Method] = Registry("pruning method")
"""The pruning methods by name (``painters prune --method NAME``)."""
METHODS.register(
    "greedy",
    Method("SLEB-style greedy search: each round removes the candidate whose removal scores best on the task"),
    aliases=("sleb",),
)
METHODS.register(
    "block-influence",
    Method("ShortGPT: remove the layers of lowest Block Influence (sublayers: highest output cosine), from one pass"),
    aliases=("bi", "shortgpt"),
)
METHODS.register(
    "angular",
    Method("Gromov et al.: remove the span of K layers of smallest angular distance, from one pass", ("block",)),
    aliases=("gromov",),
)
METHODS.register("last", Method("remove the K layers before the final one: [T-1-K, T-1)", ("block",)))
PART_METHODS = tuple(name for name in METHODS.names() if METHODS[name].parts == PARTS)
"""The methods that also remove attention or MLP sublayers."""
ORDER = ("greedy", "block-influence", "angular", "last")


def ops_for(removed: Sequence[int], part: str = "block") -> tuple:
    """The skip ops that remove original layers ``removed`` (0-indexed; any order), consecutive ones merged into
    one half-open range ``skip(start, end)``; ``part`` as ``painters.skip``'s."""
    from painters.ops import skip

    ops: list = []
    for i in sorted(set(removed)):
        if ops and ops[-1].end == i:
            ops[-1] = skip(ops[-1].start, i + 1, part)
        else:
            ops.append(skip(i, i + 1, part))
    return tuple(ops)


# -- the result -------------------------------------------------------------------------------------------------
@dataclass
class PruneResult:
    """What :func:`prune` found.

    Attributes:
        table: one row per (method, number removed ``k``, 0..K): ``layers`` (the removed original layers, 0-indexed),
            ``ops``, ``metric``, ``score`` (the task's primary metric), ``baseline``, ``chance``, ``normalised``.
        plans: method -> k -> removed layers.
        part: ``"block"``, ``"attention"`` or ``"mlp"``.
        costs: method -> ``{"layer_evaluations": n, "seconds": s}`` of its search (greedy: the rounds' scoring;
            one-pass methods: their importance pass), over all runs on the same ``out`` folder.
        layer_evaluations: layer calls this call ran, summed over batches as a sweep counts them (resumed work not
            counted).
    """

    table: pd.DataFrame
    plans: dict[str, dict[int, tuple[int, ...]]]
    part: str
    num_layers: int
    metric: str
    higher_is_better: bool
    costs: dict[str, dict[str, float]] = field(default_factory=dict)
    layer_evaluations: int = 0
    seconds: float = 0.0

    @property
    def remove(self) -> int:
        return int(self.table["removed"].max())

    def ops(self, method: str, k: int | None = None) -> tuple:
        """The ops of ``method``'s plan with ``k`` (default K) removed, for ``painters.apply``/``materialize``."""
        method = METHODS.resolve(method)
        if method not in self.plans:
            raise ConfigError(f"method={method!r} was not run here; run: {', '.join(self.plans)}")
        return ops_for(self.plans[method][self.remove if k is None else k], self.part)

    def pivot(self, value: str = "normalised") -> pd.DataFrame:
        """``value`` per number removed (rows) and method (columns)."""
        frame = self.table.pivot(index="removed", columns="method", values=value)
        return frame[[m for m in self.plans if m in frame.columns]]

    def best(self, k: int | None = None) -> str:
        """The method whose plan with ``k`` (default K) removed scores best (the first listed on a tie)."""
        k = self.remove if k is None else k
        rows = self.table[self.table["removed"] == k]
        scores = {m: float(s) for m, s in zip(rows["method"], rows["score"])}
        sign = 1.0 if self.higher_is_better else -1.0
        return max(self.plans, key=lambda m: _key(scores.get(m), sign))

    def figure(self, path: str | Path | None = None, title: str | None = None) -> Any:
        """Score against layers removed, one line per method (``painters.plot.prune.prune_figure``)."""
        from painters.plot.prune import prune_figure

        xlabel = "layers removed" if self.part == "block" else f"{self.part} sublayers removed"
        return prune_figure(self.table, path, title=title, xlabel=xlabel)

    def save(
        self, directory: str | Path, model: nn.Module, processor: Any = None, method: str | None = None,
        k: int | None = None, *, stage: int | None = None, tower: str | None = None,
    ) -> Path:  # fmt: skip
        """Write ``method``'s plan (default: the best at K) with ``k`` (default K) removed as a plain checkpoint
        (``painters.materialize`` then ``save_pretrained``), with the processor; blocks only."""
        from painters.materialize import materialize

        if self.part != "block":
            raise ConfigError(
                f"save: part={self.part!r} removes sublayers inside layers that stay, which a plain checkpoint cannot "
                f"express; apply the plan instead (painters.apply(model, *result.ops(method))) or prune with "
                f"part='block'"
            )
        method = self.best(k) if method is None else METHODS.resolve(method)
        k = self.remove if k is None else k
        directory = Path(directory)
        pruned = materialize(model, *self.ops(method, k), stage=stage, tower=tower)
        pruned.save_pretrained(directory)
        if processor is not None and hasattr(processor, "save_pretrained"):
            processor.save_pretrained(directory)
        note = {
            "method": method,
            "removed": list(self.plans[method][k]),
            "part": self.part,
            "num_layers": self.num_layers,
        }
        _write_json(directory / "painters_prune.json", note)
        return directory

    def __repr__(self) -> str:
        return f"PruneResult({self.part}, K={self.remove}, normalised {self.metric}):\n{self.pivot().round(4)}"


def _key(value: float | None, sign: float) -> float:
    """Sort key of a primary-metric value: larger is better; missing and non-finite values are worst."""
    return sign * value if value is not None and math.isfinite(value) else -math.inf


# -- the folder ---------------------------------------------------------------------------------------------------
def _write_json(path: Path, data: Any) -> None:
    """Atomic (the store's writer): a killed run leaves the last finished round, never half a file."""
    from painters.sweep.store import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, indent=1, default=float).encode())


class _Folder:
    """The results folder (None: keep nothing): ``prune.json`` (what was searched), ``rounds/<part>/*.json``."""

    def __init__(self, out: str | Path | None, part: str):
        self.out = Path(out) if out is not None else None
        self.part = part

    def round_path(self, method: str, k: int) -> Path | None:
        return None if self.out is None else self.out / "rounds" / self.part / f"{method}-{k:02d}.json"

    def read(self, method: str, k: int) -> dict | None:
        path = self.round_path(method, k)
        if path is None or not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def write(self, method: str, k: int, data: dict) -> None:
        path = self.round_path(method, k)
        if path is not None:
            _write_json(path, data)

    def check(self, meta: dict) -> None:
        """Refuse a folder holding a search of another model or task, or one chosen on other select data
        (compared by layer count, task, metric, the unmodified model's score on the task and on the select data)."""
        if self.out is None:
            return
        path = self.out / "prune.json"
        if path.is_file():
            old = json.loads(path.read_text(encoding="utf-8"))
            for key in ("num_layers", "task", "examples", "metric", "select_task", "select_examples", "select_score"):
                if old.get(key) != meta.get(key):  # select_*: None without select data
                    self._mismatch(f"{key} {old.get(key)!r} there, {meta.get(key)!r} here")
            a, b = old.get("baseline_score"), meta["baseline_score"]
            if not (isinstance(a, float) and math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-9)):
                self._mismatch(f"unmodified {meta['metric']} {a!r} there, {b!r} here")
            return
        _write_json(path, meta)

    def _mismatch(self, what: str) -> None:
        raise ConfigError(
            f"out={str(self.out)!r} holds a pruning search of another model or task ({what}); pass another out "
            f"folder (--out DIR) or delete this one to start afresh"
        )


# -- checks -------------------------------------------------------------------------------------------------------
def check_methods(part: str, methods: Sequence[str] | str | None) -> list[str]:
    """The registered names of ``methods`` (default: every method that applies to ``part``), after checking
    ``part`` and that each method applies to it."""
    if part not in PARTS:
        raise ConfigError(f"part={part!r} is not one of {', '.join(PARTS)}; pass part='block' to remove whole layers")
    if methods is None:
        return [m for m in ORDER if part in METHODS[m].parts]
    names = []
    for name in [methods] if isinstance(methods, str) else list(methods):
        if name not in METHODS:
            raise ConfigError(f"method={name!r}: {METHODS.unknown_message(name)}")
        names.append(METHODS.resolve(name))
    if not names:
        raise ConfigError(f"methods=[]: name at least one of {', '.join(ORDER)}")
    for name in names:
        if part not in METHODS[name].parts:
            raise ConfigError(
                f"method={name!r} removes whole layers and does not apply to part={part!r}; with part={part!r} use "
                f"{' or '.join(PART_METHODS)}, or pass part='block'"
            )
    return list(dict.fromkeys(names))


def check_remove(remove: Any, num_layers: int) -> None:
    """``remove`` must be an integer with ``1 <= remove < num_layers`` (at least one layer stays)."""
    if isinstance(remove, bool) or not isinstance(remove, int) or not 1 <= remove < num_layers:
        raise ConfigError(
            f"remove={remove!r}: the model has {num_layers} layers, so remove must be an integer with "
            f"1 <= remove <= {num_layers - 1} (at least one layer stays); pass a smaller --remove"
        )


# -- the search ---------------------------------------------------------------------------------------------------
def prune(
    model: nn.Module,
    processor: Any,
    task: Any,
    remove: int,
    *,
    part: str = "block",
    methods: Sequence[str] | str | None = None,
    out: str | Path | None = None,
    batch_size: int = 16,
    share: bool = True,
    progress: bool = True,
    stage: int | None = None,
    tower: str | None = None,
    on_round: Callable[[str, int], None] | None = None,
    title: str | None = None,
    select: Any = None,
) -> PruneResult:
    """Search which ``remove`` layers (K) of ``model`` to remove, with each of ``methods``, scored on ``task``.

    Args:
        task: a painters task (``painters.tasks.load(...)``): the plans are scored on its examples.
        select: another task (other examples, e.g. a held-out split) to choose on: greedy rounds and the one-pass
            predictors read it, and every chosen plan is then scored on ``task``. Default: ``task`` itself, which
            flatters greedy (it chooses on the examples it is scored on).
        remove: K, how many layers (or sublayers) to remove: ``1 <= K < T`` for a model of ``T`` layers. Every
            plan with ``k = 0..K`` removed is scored.
        part: ``"block"`` (whole layers), ``"attention"`` or ``"mlp"`` (that sublayer of a layer, as
            ``painters.skip(..., part=)``; greedy and block-influence only).
        methods: names from ``METHODS`` (default: every method that applies to ``part``, in the order greedy,
            block-influence, angular, last).
        out: a folder that keeps each finished round; a rerun with the same folder continues from there (a larger
            ``remove`` continues the greedy search from round K + 1).
        share: resume each greedy candidate from the state entering it (False: every candidate runs all layers).
        stage, tower: the layer stack, as for ``painters.apply``.
        on_round: called with ``(method, k)`` after each round is written (progress, tests).
        title: the title of the figure written to ``out`` (default: the task and its number of examples).

    Returns a :class:`PruneResult` (``.table``, ``.plans``, ``.figure()``, ``.save()``).
    """
    from painters.apply import layers, plan

    start_time = time.perf_counter()
    where = {"stage": stage, "tower": tower}
    num_layers = len(layers(model, **where).layers)
    names = check_methods(part, methods)
    check_remove(remove, num_layers)
    if part != "block":
        plan(model, *ops_for(range(num_layers), part), **where)  # post-norm layers are refused here, before any work
    was_training = model.training
    model.eval()
    try:
        batches = task.prepare(processor, batch_size, progress=progress)
        search = _Search(model, processor, task, batches, batch_size, part, where, share, progress)
        chooser = search
        if select is not None:
            select_batches = select.prepare(processor, batch_size, progress=progress)
            chooser = _Search(model, processor, select, select_batches, batch_size, part, where, share, progress)
            chooser.scorer = search
        reference = search.score_plans({})["baseline"]
        primary = task.primary_metric
        folder = _Folder(out, part)
        meta = {"num_layers": num_layers, "task": task.name, "examples": len(task), "metric": primary,
                "baseline_score": float(reference[primary])}  # fmt: skip
        if select is not None:
            select_reference = chooser.score_plans({})["baseline"]  # identifies the select data on resume
            meta |= {"select_task": select.name, "select_examples": len(select),
                     "select_score": round(float(select_reference[primary]), 6)}  # fmt: skip
        folder.check(meta)
        found: dict[str, dict[int, dict]] = {}
        for name in names:
            if name == "greedy":
                found[name] = chooser.greedy(remove, folder, on_round)
            else:
                found[name] = chooser.one_pass(name, remove, folder, on_round)
    finally:
        model.train(was_training)
    result = _result(task, reference, found, part, num_layers)
    result.layer_evaluations = search.layer_evaluations + (chooser.layer_evaluations if chooser is not search else 0)
    result.seconds = time.perf_counter() - start_time
    if out is not None:
        _write_outputs(Path(out), result, title or f"{task.name}, {len(task)} examples")
    return result


@dataclass
class _Search:
    """The scoring machinery of one :func:`prune` call: the prepared batches, and the layer calls it ran."""

    model: nn.Module
    processor: Any
    task: Any
    batches: list
    batch_size: int
    part: str
    where: dict
    share: bool
    progress: bool
    layer_evaluations: int = 0
    predictors: pd.DataFrame | None = None
    """The one-pass predictors the reference pass stored (:meth:`ImportanceAccumulator.table`), or None."""
    scorer: _Search | None = None
    """Where chosen plans are scored when choosing reads other examples (``prune(select=...)``); None: here."""

    def __post_init__(self) -> None:
        from painters.apply import layers

        self.num_layers = len(layers(self.model, **self.where).layers)

    # the sweep's chunk scorer, on ``model``: the unmodified pass, then each variant from its first changed layer
    def _score(
        self, model: nn.Module, variants: list, need_baseline: bool = True
    ) -> tuple[dict[str, dict], int, float]:
        from painters.apply import plan
        from painters.sweep.runner import order_variants
        from painters.sweep.scoring import ChunkScorer

        plans = {"baseline": plan(model, **self.where)} | {v.id: plan(model, *v.ops, **self.where) for v in variants}
        t = time.perf_counter()
        group = order_variants(variants, plans)
        scorer = ChunkScorer(
            model=model,
            task=self.task,
            group=group,
            plans=plans,
            where=self.where,
            share=self.share,
            need_baseline=need_baseline,  # the unmodified pass runs anyway; its metrics only when asked
        )
        result = scorer.score(self.batches)
        self.layer_evaluations += result.layer_evaluations
        if need_baseline and model is self.model and result.importance is not None:
            self.predictors = result.importance  # block influence and angular distances, from this unmodified pass
        return result.metrics, result.layer_evaluations, time.perf_counter() - t

    def score_plans(self, removed_sets: dict[Any, tuple[int, ...]], baseline: bool = True) -> dict[Any, dict]:
        """Raw metrics of each plan (a non-empty set of removed layers) on the unmodified model, plus
        ``"baseline"`` when ``baseline``."""
        from painters.sweep.generators import Variant

        variants = {key: Variant(ops_for(layers_, self.part)) for key, layers_ in removed_sets.items()}
        unique = list({v.id: v for v in variants.values()}.values())
        metrics, _, _ = self._score(self.model, unique, need_baseline=baseline)
        out = {key: metrics[variants[key].id] for key in removed_sets}
        return out | ({"baseline": metrics["baseline"]} if baseline else {})

    def _pick(self, candidates: dict[int, dict]) -> int:
        primary, sign = self.task.primary_metric, 1.0 if self.task.higher_is_better else -1.0

        def value(metrics: dict) -> float | None:
            if "error" in metrics or metrics.get("nonfinite"):
                return None
            v = metrics.get(primary)
            return float(v) if isinstance(v, (int, float)) else None

        best = max(sorted(candidates), key=lambda i: _key(value(candidates[i]), sign))  # ties: the lowest layer
        if value(candidates[best]) is None:
            raise PlanError(f"every candidate of this round failed or gave inf/NaN: {candidates[best]}")
        return best

    def greedy(self, remove: int, folder: _Folder, on_round: Callable | None) -> dict[int, dict]:
        from tqdm.auto import tqdm

        from painters.sweep.generators import Variant

        rounds: dict[int, dict] = {}
        removed: list[int] = []
        for k in tqdm(range(1, remove + 1), desc=f"greedy ({self.part})", unit="round", disable=not self.progress):
            saved = folder.read("greedy", k)
            if saved is not None and saved["removed"][:-1] == removed:
                rounds[k] = saved
                removed = list(saved["removed"])
                continue
            remaining = [i for i in range(self.num_layers) if i not in removed]
            with self._base(removed) as (base, index):
                ops = {i: ops_for([index[i]], self.part)[0] for i in remaining}
                variants = {i: Variant((op,)) for i, op in ops.items()}
                metrics, evaluations, seconds = self._score(base, list(variants.values()), need_baseline=False)
            candidates = {i: metrics[variants[i].id] for i in remaining}
            chosen = self._pick(candidates)
            removed = [*removed, chosen]
            rounds[k] = {
                "method": "greedy", "k": k, "part": self.part, "removed": removed, "chosen": chosen,
                "metrics": candidates[chosen], "candidates": {str(i): m for i, m in candidates.items()},
                "layer_evaluations": evaluations, "seconds": seconds,
            }  # fmt: skip
            if self.scorer is not None:  # chosen on other examples: scored on the task's own
                rounds[k]["select_metrics"] = candidates[chosen]
                rounds[k]["metrics"] = self.scorer.score_plans({k: tuple(removed)}, baseline=False)[k]
            folder.write("greedy", k, rounds[k])
            if on_round is not None:
                on_round("greedy", k)
        return rounds

    @contextlib.contextmanager
    def _base(self, removed: list[int]) -> Iterator[tuple[nn.Module, dict[int, int]]]:
        """The model with ``removed`` gone, to score a round's candidates on, and the index each remaining
        original layer has in it: a materialized copy for blocks, the model with those sublayers' outputs zeroed
        (hooks, removed on exit) for parts."""
        remaining = [i for i in range(self.num_layers) if i not in removed]
        if self.part == "block":
            from painters.materialize import materialize

            base = materialize(self.model, *ops_for(removed), **self.where) if removed else self.model
            try:
                yield base, {i: j for j, i in enumerate(remaining)}
            finally:
                del base
            return
        from painters.apply import layers
        from painters.sublayers import _zeros_like_output, part_module

        stack = layers(self.model, **self.where).layers
        hooks = [
            part_module(stack[i], self.part).register_forward_hook(lambda m, a, o: _zeros_like_output(o))
            for i in removed
        ]
        try:
            yield self.model, {i: i for i in remaining}
        finally:
            for hook in hooks:
                hook.remove()

    def _ranking(self, method: str, remove: int) -> tuple[dict[int, tuple[int, ...]], dict]:
        """Plans ``k -> removed layers`` for ``k = 1..remove`` of a one-pass method, and the metric behind them."""
        from painters.analysis.importance import importance

        T, where = self.num_layers, self.where
        if method == "last":
            return {k: tuple(range(T - 1 - k, T - 1)) for k in range(1, remove + 1)}, {}
        stored = self.predictors  # from the reference pass; None where the task runs several forwards per batch
        if method == "angular":
            frame = stored if stored is not None else importance(
                self.model, self.processor, self.task, metrics="angular", batch_size=self.batch_size, **where
            )  # fmt: skip
            plans = {}
            for k in range(1, remove + 1):
                spans = frame[frame["end"] - frame["start"] == k].sort_values(
                    ["angular_distance", "start"], kind="stable"
                )
                first = int(spans["start"].iloc[0])
                plans[k] = tuple(range(first, first + k))
            distances = {f"{int(r.start)}-{int(r.end)}": float(r.angular_distance) for r in frame.itertuples()}
            return plans, {"angular_distance": distances}
        if method != "block-influence":  # a method registered in METHODS without a ranking here
            raise NotImplementedError(f"pruning method {method!r} has no one-pass ranking in painters.pruning.core")
        column = {"block": "block_influence", "attention": "attention_cosine", "mlp": "mlp_cosine"}[self.part]
        if column == "block_influence" and stored is not None:
            single = stored[stored["end"] - stored["start"] == 1]
            values = {int(i): float(v) for i, v in zip(single["start"], single[column])}
        else:
            frame = importance(self.model, self.processor, self.task, metrics=column, batch_size=self.batch_size,
                               **where)  # fmt: skip
            values = {int(i): float(v) for i, v in zip(frame["layer"], frame[column])}
        sign = 1.0 if self.part == "block" else -1.0  # lowest BI goes first; highest sublayer cosine goes first
        ranking = sorted(values, key=lambda i: (sign * values[i], i))
        return {k: tuple(sorted(ranking[:k])) for k in range(1, remove + 1)}, {column: values}

    def one_pass(self, method: str, remove: int, folder: _Folder, on_round: Callable | None) -> dict[int, dict]:
        rounds = {k: saved for k in range(1, remove + 1) if (saved := folder.read(method, k)) is not None}
        missing = [k for k in range(1, remove + 1) if k not in rounds]
        if not missing:
            return rounds
        t = time.perf_counter()
        plans, ranking = self._ranking(method, remove)
        seconds = time.perf_counter() - t
        reused = method == "angular" or (self.part == "block" and method != "last")
        extra = ranking and not (reused and self.predictors is not None)  # an importance pass of its own
        cost = self.num_layers * len(self.batches) if extra else 0  # every layer per batch
        self.layer_evaluations += cost
        metrics = (self.scorer or self).score_plans({k: plans[k] for k in missing}, baseline=False)
        for k in missing:
            first = k == missing[0]  # the search's cost is booked once, on the first plan written
            rounds[k] = {
                "method": method, "k": k, "part": self.part, "removed": list(plans[k]), "metrics": metrics[k],
                "ranking": ranking, "layer_evaluations": cost if first else 0,
                "seconds": seconds if first else 0.0,
            }  # fmt: skip
            folder.write(method, k, rounds[k])
            if on_round is not None:
                on_round(method, k)
        return rounds


def _result(task: Any, reference: dict, found: dict[str, dict[int, dict]], part: str, num_layers: int) -> PruneResult:
    from painters.evaluation import summarise

    primary = task.primary_metric
    rows, plans, costs = [], {}, {}
    for method, rounds in found.items():
        plans[method] = {0: ()} | {k: tuple(sorted(r["removed"])) for k, r in sorted(rounds.items())}
        costs[method] = {
            "layer_evaluations": sum(r.get("layer_evaluations", 0) for r in rounds.values()),
            "seconds": sum(r.get("seconds", 0.0) for r in rounds.values()),
        }
        for k in plans[method]:
            metrics = reference if k == 0 else rounds[k]["metrics"]
            summary = summarise(task, metrics, reference) if "error" not in metrics else {}
            rows.append({
                "method": method, "removed": k, "layers": plans[method][k],
                "ops": ", ".join(map(str, ops_for(plans[method][k], part))) or "(none)",
                "metric": primary, "score": metrics.get(primary, math.nan),
                "baseline": summary.get(f"baseline_{primary}", math.nan),
                "chance": summary.get(f"chance_{primary}", math.nan),
                "normalised": summary.get(f"normalised_{primary}", math.nan),
            })  # fmt: skip
    table = pd.DataFrame(rows)
    return PruneResult(table, plans, part, num_layers, primary, task.higher_is_better, costs)


def _write_outputs(out: Path, result: PruneResult, title: str) -> None:
    """``table.csv``, ``plans.json`` and ``prune.png`` (score against layers removed) in ``out``, per part."""
    suffix = "" if result.part == "block" else f"-{result.part}"
    table = result.table.assign(layers=[" ".join(map(str, v)) for v in result.table["layers"]])
    table.to_csv(out / f"table{suffix}.csv", index=False)
    plans = {m: {str(k): list(v) for k, v in p.items()} for m, p in result.plans.items()}
    _write_json(out / f"plans{suffix}.json", {"part": result.part, "plans": plans, "costs": result.costs})
    import matplotlib.pyplot as plt

    figure = result.figure(out / f"prune{suffix}.png", title=title)
    plt.close(figure)
