"""Parallel sharing: groups entering the same step compute their first iteration's layer outputs once per batch,
with the same records as running every variant in full."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

import painters
from painters.apply import plan, session
from painters.executor import SharedOutputs
from painters.plan import resolve
from painters.step_kinds import first
from painters.sweep.runner import SweepRunner, order_variants
from painters.sweep.scoring import ChunkScorer
from painters.sweep.sharing import layer_evaluations
from tests import sweep_fixtures as F
from tests import tiny

OPS = "[parallel: {ranges: all, iterations: [1, 2, 3]}, skip: all]"


@pytest.fixture(scope="module")
def files(sweep_files):
    return sweep_files


def config(files, kind):
    return F.sweep_config(files, kind, OPS, chunk=200)


def records(path) -> pd.DataFrame:
    table = pd.read_parquet(path / "results.parquet").sort_values("variant").reset_index(drop=True)
    return table.drop(columns=["seconds"])


@pytest.mark.parametrize("kind", ["vit", "llama"])
def test_parallel_sharing_gives_the_same_records_with_the_planned_layer_evaluations(files, tmp_path, kind):
    cfg = config(files, kind)
    shared = SweepRunner(cfg, tmp_path / "shared", progress=False, share=True).run()
    naive = SweepRunner(cfg, tmp_path / "naive", progress=False, share=False).run()
    a, b = records(tmp_path / "shared"), records(tmp_path / "naive")
    assert len(a) == 1 + 21 * 3 + 21
    pd.testing.assert_frame_equal(a, b)  # every column, scores to the bit
    runner = SweepRunner(cfg, tmp_path / "plans", progress=False)
    model = runner.model()[0]
    plans = [plan(model, *v.ops) for v in runner.variants(6) if v.ops]
    planned_shared, planned_naive = layer_evaluations(plans, True, 6), layer_evaluations(plans, False, 6)
    assert planned_shared < layer_evaluations(plans, True, 6, parallel=False) < planned_naive
    batches = naive.layer_evaluations // planned_naive
    assert batches >= 1 and naive.layer_evaluations == batches * planned_naive
    assert shared.layer_evaluations == batches * planned_shared


class Logits:
    """A task whose metric is every logit the model returns, for bit-exact comparisons."""

    def __init__(self, task):
        self.task = task

    def run(self, model, batch):
        return model(**batch.inputs).logits

    def new_accumulator(self):
        return Keep()


class Keep:
    def __init__(self):
        self.outs = []

    def update(self, batch, out):
        self.outs.append(out)

    def compute(self):
        return {"logits": torch.cat(self.outs)}


@pytest.mark.parametrize("kind", ["vit", "llama"])
def test_parallel_sharing_gives_bit_identical_logits(files, tmp_path, kind):
    cfg = config(files, kind)
    runner = SweepRunner(cfg, tmp_path, progress=False)
    model, processor = runner.model()
    spec = cfg.runs[0].tasks[0]
    task = runner.load_tasks()[spec.display]
    batches = task.prepare(processor, spec.batch_size, progress=False)
    variants = runner.variants(6)
    plans = {v.id: plan(model, *v.ops) for v in variants}
    group = [v for v in order_variants(variants, plans) if v.ops]
    results = [
        ChunkScorer(model, Logits(task), group, plans, share=share, share_parallel=parallel).score(batches)
        for share, parallel in ((False, False), (True, False), (True, True))
    ]
    naive, prefix, both = ([r.metrics[v.id]["logits"] for v in group] for r in results)
    assert all(torch.equal(x, y) and torch.equal(x, z) for x, y, z in zip(naive, prefix, both))
    assert results[2].layer_evaluations < results[1].layer_evaluations < results[0].layer_evaluations
    logits = {v.id: out for v, out in zip(group, both)}
    assert not torch.equal(logits["parallel-1-4"], logits["parallel-1-4-x2"])  # looped parallel really differs
    assert not torch.equal(logits["parallel-1-4-x2"], logits["parallel-1-4-x3"])
    assert not torch.equal(logits["parallel-1-3"], logits["parallel-1-4"])


def test_shared_outputs_serve_only_their_own_step_and_state(tiny_model):
    """Outputs held for a state are used for a group reading that state at that step, and never otherwise."""
    model, x = tiny_model("llama"), tiny.inputs("llama")
    with torch.no_grad():
        with session(model, capture=True) as base:
            model(**x, use_cache=False)
        states = list(base.captured)
        op = painters.parallel(2, 5, iterations=2)
        with painters.apply(model, op):
            clean = model(**x, use_cache=False).logits
        poisoned = {i: torch.zeros_like(first(states[3])) for i in (2, 3, 4)}

        def run(shared: SharedOutputs) -> tuple[torch.Tensor, int]:
            with session(model, op, resume=(2, states)) as runner:
                runner.shared = shared
                out = model(**x, use_cache=False).logits
            return out, runner.reused

        out, reused = run(SharedOutputs(2, first(states[2]), dict(poisoned)))
        assert reused == 3 and not torch.equal(out, clean)  # used: the first iteration only
        for other in (SharedOutputs(2, first(states[2]) + 1, dict(poisoned)), SharedOutputs(3, first(states[2]))):
            out, reused = run(other)
            assert reused == 0 and torch.equal(out, clean)
        fresh = SharedOutputs(2, first(states[2]))
        out, reused = run(fresh)
        assert reused == 0 and torch.equal(out, clean) and sorted(fresh.outputs) == [2, 3, 4]
        out, reused = run(fresh)  # a second group on the same state reuses what the first computed
        assert reused == 3 and torch.equal(out, clean)


def test_planned_layer_evaluations_of_every_parallel_span():
    """design.md section 4: every contiguous parallel span of a 12-layer model, plus the baseline."""
    plans = [resolve(12, [painters.parallel(s, e)]) for s in range(12) for e in range(s + 1, 13)]
    assert layer_evaluations(plans, False, 12) == 948
    assert layer_evaluations(plans, True, 12, parallel=False) == 662
    assert layer_evaluations(plans, True, 12) == 376


def test_planned_layer_evaluations_count_each_chunks_unmodified_pass(files, tmp_path):
    """With ``runner.chunk`` cutting the variants, the planned count (what ``--dry-run`` prints) equals what the
    runner measures, shared and naive; one chunk would undercount by the other chunks' unmodified passes."""
    ops = "[parallel: {ranges: {min_width: 2}}, skip: {ranges: {max_width: 2}}]"
    cfg = F.sweep_config(files, "vit", ops, chunk=4)
    runner = SweepRunner(cfg, tmp_path / "plans", progress=False)
    model = runner.model()[0]
    variants = runner.variants(6)
    by_id = {v.id: plan(model, *v.ops) for v in variants}
    ordered = [by_id[v.id] for v in order_variants(variants, by_id)]
    for share in (True, False):
        stats = SweepRunner(cfg, tmp_path / str(share), progress=False, share=share).run()
        planned = layer_evaluations(ordered, share, 6, chunk=4)
        batches = stats.layer_evaluations // planned
        assert batches >= 2 and stats.layer_evaluations == batches * planned, share
    assert layer_evaluations(ordered, True, 6, chunk=4) > layer_evaluations(ordered, True, 6)  # chunking costs
