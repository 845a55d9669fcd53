"""The Ray executor on a local 2-worker cluster (CPU): same records as the local runner, and a worker killed
mid-sweep loses nothing. Skipped where Ray is not installed (pip install 'painters[ray]')."""

from __future__ import annotations

import os
import signal

import numpy as np
import pandas as pd
import pytest

from painters.sweep.config import parse_sweep
from painters.sweep.runner import SweepRunner
from tests import sweep_fixtures as F

ray = pytest.importorskip("ray", reason="pip install 'painters[ray]'")
from painters.sweep.distributed import RayExecutor, make_units  # noqa: E402


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.getcwd()}},
    )
    root = tmp_path_factory.mktemp("ray")
    yield {
        "vit": F.save_vit(root, layers=6),
        "images": F.save_imagefolder(root, per_class=6),
        "llama": F.save_llama(root, 6),
        "text": F.save_text(root),
    }
    ray.shutdown()


def sweep(files):
    return parse_sweep(
        f"name: ray\nmodels:\n"
        f"  - model: {{id: {files['vit']}}}\n    tasks: [{{type: classification, data: {files['images']}, "
        f"split: test, batch_size: 6}}]\n"
        f"  - model: {{id: {files['llama']}}}\n    tasks: [{{type: perplexity, data: {files['text']}, "
        f"batch_size: 4, options: {{max_length: 32}}}}]\n"
        f"ops: [skip: all, reverse: {{ranges: {{min_width: 2}}}}]\nrunner: {{chunk: 4}}\n"
    )


def table(path):
    return pd.read_parquet(path / "results.parquet").sort_values(["model", "variant"]).reset_index(drop=True)


def test_ray_results_equal_the_local_runner_and_survive_a_killed_worker(cluster, tmp_path):
    cfg = sweep(cluster)
    SweepRunner(cfg, tmp_path / "local", progress=False).run()
    killed = []

    def kill_one_worker(result, actors):  # after the first unit lands, SIGKILL the other worker's process
        if not killed:
            pids = ray.get([a.pid.remote() for a in actors])
            victim = next(p for p in pids if p != result["pid"])
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    stats = RayExecutor(SweepRunner(cfg, tmp_path / "ray", progress=False), workers=2, on_result=kill_one_worker).run()
    assert killed and stats.failed == 0
    local, remote = table(tmp_path / "local"), table(tmp_path / "ray")
    assert len(remote) == 2 * (1 + 21 + 15) and remote.variant.is_unique is False  # two models
    assert list(local.variant) == list(remote.variant) and list(local.model) == list(remote.model)
    assert np.array_equal(local.score.to_numpy(), remote.score.to_numpy())
    assert np.allclose(local.normalised.to_numpy(), remote.normalised.to_numpy(), equal_nan=True)
    # rerunning resumes: nothing left to do
    again = RayExecutor(SweepRunner(cfg, tmp_path / "ray", progress=False), workers=2).run()
    assert again.written == 0 and again.skipped == len(remote)


def test_ray_leaves_out_what_a_stage_cannot_run_and_stores_the_predictors(cluster, tmp_path):
    """As the local runner: a Swin stage's whole-stage skip is left out with a note, the rest scores the same,
    and the baseline pass's predictors are stored."""
    swin = F.save_swin(tmp_path)
    cfg = parse_sweep(
        f"name: staged\nmodel: {{id: {swin}, name: swin, stage: [1, 2]}}\n"
        f"tasks: [{{type: classification, name: shapes, data: {cluster['images']}, split: test, batch_size: 6}}]\n"
        f"ops: [skip: all]\n"
    )
    local = SweepRunner(cfg, tmp_path / "local", progress=False).run()
    remote = RayExecutor(SweepRunner(cfg, tmp_path / "ray", progress=False), workers=2).run()
    assert set(remote.refused) == set(local.refused) == {"swin@stage1", "swin@stage2"}
    assert set(remote.refused["swin@stage2"]) == {"skip-0-6"}
    a, b = table(tmp_path / "local"), table(tmp_path / "ray")
    assert list(a.variant) == list(b.variant) and np.array_equal(a.score.to_numpy(), b.score.to_numpy())
    assert len(list((tmp_path / "ray" / "analyses" / "importance").glob("*.parquet"))) == 2
    pd.testing.assert_frame_equal(local.agreement, remote.agreement)


def test_units_group_variants_by_first_changed_layer():
    from painters.plan import resolve
    from painters.sweep.generators import expand_ops

    cfg = parse_sweep("name: u\nmodel: {id: m}\ntasks: [{type: classification, data: d}]\nops: [skip: all]\n")
    variants = expand_ops(cfg.ops, 6)
    plans = {v.id: resolve(6, v.ops) for v in variants}
    units = make_units(variants, plans, chunk=4)
    assert sum(len(u.variants) for u in units) == 21
    for unit in units:
        assert len({plans[v.id].shared_prefix for v in unit.variants}) == 1 and len(unit.variants) <= 4
