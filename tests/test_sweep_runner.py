"""Running sweeps: work sharing gives the same scores, a crash resumes without loss or duplicates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import painters
from painters.cli import main
from painters.sweep.config import parse_sweep
from painters.sweep.runner import SweepRunner
from painters.sweep.store import ResultStore, StoreError
from tests import sweep_fixtures as F


@pytest.fixture(scope="module")
def files(sweep_files):
    return sweep_files


def config(files, kind="vit", ops="[skip: all]", name="t"):
    return F.sweep_config(files, kind, ops, name)


def table(path) -> pd.DataFrame:
    return pd.read_parquet(path / "results.parquet").sort_values("variant").reset_index(drop=True)


@pytest.mark.parametrize("kind", ["vit", "llama"])
def test_sharing_work_gives_identical_scores_with_fewer_layer_evaluations(files, tmp_path, kind):
    cfg = config(files, kind, "[skip: all, reverse: {ranges: {min_width: 2}}]")
    shared = SweepRunner(cfg, tmp_path / "shared", progress=False, share=True).run()
    naive = SweepRunner(cfg, tmp_path / "naive", progress=False, share=False).run()
    a, b = table(tmp_path / "shared"), table(tmp_path / "naive")
    assert len(a) == 1 + 21 + 15 and shared.written == naive.written == len(a)
    assert list(a.variant) == list(b.variant) and np.array_equal(a.score.to_numpy(), b.score.to_numpy())
    assert shared.layer_evaluations < 0.75 * naive.layer_evaluations
    base = a.set_index("variant").loc["baseline"]
    assert base.normalised == 1.0 and base.n_affected == 0
    assert a.score.nunique() > 3  # the variants really differ
    row = a.set_index("variant").loc["reverse-1-4"]
    assert (row.op, row.start, row.end, row.n_affected, row.steps) == ("reverse", 1, 4, 3, "0 3 2 1 4 5")
    similarity = np.load(next((tmp_path / "shared" / "similarity").glob("*.npy")))
    assert similarity.shape == (6, 6) and np.allclose(np.diag(similarity), 1.0, atol=1e-5)


class Crash(Exception):
    pass


def test_resume_after_a_crash_loses_and_duplicates_nothing(files, tmp_path):
    cfg = config(files, "vit", "[skip: all, swap: {pairs: adjacent}]")
    SweepRunner(cfg, tmp_path / "clean", progress=False).run()
    written = []

    def crash_after_7(record):
        written.append(record["variant"])
        if len(written) == 7:
            raise Crash

    with pytest.raises(Crash):
        SweepRunner(cfg, tmp_path / "crashed", progress=False, on_record=crash_after_7).run()
    done = ResultStore(tmp_path / "crashed").keys()
    assert 7 <= len(done) < 27
    stats = SweepRunner(cfg, tmp_path / "crashed", progress=False).run()
    assert stats.skipped == len(done) and stats.written == 27 - len(done)
    a, b = table(tmp_path / "clean"), table(tmp_path / "crashed")
    assert len(b) == 27 and b.variant.is_unique and list(a.variant) == list(b.variant)
    assert np.array_equal(a.score.to_numpy(), b.score.to_numpy())
    assert SweepRunner(cfg, tmp_path / "crashed", progress=False).run().written == 0  # nothing left to do


def test_a_sweep_of_another_name_in_the_same_folder_is_refused(files, tmp_path):
    SweepRunner(config(files, "vit", "[skip: [1, 2]]"), tmp_path, progress=False).run()
    other = config(files, "vit", "[skip: [2, 3]]", name="other")
    with pytest.raises(StoreError, match=r"holds the records of sweep 't'.*not 'other'.*--force"):
        SweepRunner(other, tmp_path, progress=False).run()
    SweepRunner(other, tmp_path, progress=False, force=True).run()
    assert sorted(table(tmp_path).variant) == ["baseline", "skip-2-3"]
    assert len(list((tmp_path / "records").glob("*.json"))) == 2


def test_extending_a_finished_sweep_with_one_op_runs_only_the_new_variants(files, tmp_path):
    first = SweepRunner(config(files, "vit", "[skip: all]"), tmp_path, progress=False).run()
    before = table(tmp_path)
    grown = config(files, "vit", "[skip: all, reverse: {ranges: {min_width: 2}}]")
    second = SweepRunner(grown, tmp_path, progress=False).run()
    after = table(tmp_path)
    assert (first.written, second.written, second.skipped) == (1 + 21, 15, 1 + 21)
    alone = SweepRunner(config(files, "vit", "[reverse: {ranges: {min_width: 2}}]"), tmp_path / "alone", progress=False)
    assert second.layer_evaluations <= alone.run().layer_evaluations  # no more work than the new variants alone
    assert len(after) == 1 + 21 + 15 and set(after.variant) - set(before.variant) == {
        v for v in after.variant if v.startswith("reverse-")
    }
    kept = after.set_index("variant").loc[before.variant]
    assert np.array_equal(kept.score.to_numpy(), before.score.to_numpy())
    assert (kept.seconds.to_numpy() == before.seconds.to_numpy()).all()  # the same records, not recomputed


def test_adding_a_task_keeps_the_first_tasks_records(files, tmp_path):
    SweepRunner(config(files, "vit", "[skip: [1, 3]]"), tmp_path, progress=False).run()
    text = config(files, "vit", "[skip: [1, 3]]").model_dump(mode="json")
    text["tasks"].append({**text["tasks"][0], "name": "again", "limit": 6})
    stats = SweepRunner(parse_sweep(json.dumps(text)), tmp_path, progress=False).run()
    assert (stats.written, stats.skipped, stats.tasks) == (2, 2, ["again"])
    assert sorted(table(tmp_path).task.unique()) == ["again", "classification:shapes"]


def test_a_changed_task_spec_is_refused_and_force_recomputes_only_its_records(files, tmp_path):
    two = config(files, "vit", "[skip: [1, 3]]").model_dump(mode="json")
    two["tasks"].append({**two["tasks"][0], "name": "second"})
    SweepRunner(parse_sweep(json.dumps(two)), tmp_path, progress=False).run()
    two["tasks"][1]["limit"] = 6
    changed = parse_sweep(json.dumps(two), "grown.yaml")
    with pytest.raises(StoreError, match=r"2 record\(s\) of model 'tiny-vit' on task 'second' were made with "
                       r"another task \(limit: None -> 6\).*--force"):  # fmt: skip
        SweepRunner(changed, tmp_path, progress=False).run()
    stats = SweepRunner(changed, tmp_path, progress=False, force=True).run()
    assert (stats.written, stats.skipped) == (2, 2)


def test_records_of_a_removed_op_leave_the_table_and_come_back_without_work(files, tmp_path):
    SweepRunner(config(files, "vit", "[skip: [1, 3], reverse: [1, 4]]"), tmp_path, progress=False).run()
    shrunk = SweepRunner(config(files, "vit", "[skip: [1, 3]]"), tmp_path, progress=False).run()
    assert (shrunk.written, shrunk.retired) == (0, 1)
    assert sorted(table(tmp_path).variant) == ["baseline", "skip-1-3"]
    back = SweepRunner(config(files, "vit", "[skip: [1, 3], reverse: [1, 4]]"), tmp_path, progress=False).run()
    assert (back.written, back.retired) == (0, 0)
    assert sorted(table(tmp_path).variant) == ["baseline", "reverse-1-4", "skip-1-3"]


def test_a_second_runner_on_the_same_folder_is_refused(files, tmp_path):
    cfg = config(files, "vit", "[skip: [1, 2]]")
    with ResultStore(tmp_path).open(cfg.producers(), "a.yaml"):
        with pytest.raises(StoreError, match=r"in use by a running sweep \(pid \d+\)"):
            ResultStore(tmp_path).open(cfg.producers(), "b.yaml")


def test_cli_dry_run_and_show(files, tmp_path, capsys):
    sweep_file = tmp_path / "s.yaml"
    cfg = config(files, "vit", "[skip: all]")
    sweep_file.write_text(json.dumps(cfg.model_dump(mode="json")))  # JSON is YAML
    assert main(["run", str(sweep_file), "--dry-run", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "tiny-vit: 22 variants (baseline included) x 1 task(s) = 22 records" in out
    import re

    shared, naive = map(int, re.search(r"layer evaluations per input: (\d+) shared, (\d+) naive", out).groups())
    assert (shared, naive) == (41 + 4 * 6, 76 + 4 * 6)  # 22 variants in 5 chunks of 5: 4 more unmodified passes
    assert not (tmp_path / "o").exists()
    assert main(["run", str(sweep_file), "--out", str(tmp_path / "o"), "--quiet", "--no-plot"]) == 0
    quiet = capsys.readouterr()
    measured = int(re.search(r"(\d+) layer evaluations in", quiet.out).group(1))
    assert measured == 3 * shared  # 18 images in batches of 8: 3 batches, as planned
    assert "preprocess" not in quiet.err and "%|" not in quiet.err, quiet.err  # no progress bars at all
    assert main(["show", str(tmp_path / "o")]) == 0
    assert "skip-2-5" in capsys.readouterr().out
    assert main(["run", str(tmp_path / "missing.yaml")]) == 2
    assert "no such sweep file" in capsys.readouterr().err


def test_a_sweep_over_two_models(files, tmp_path):
    cfg = parse_sweep(
        f"name: two\nmodels:\n"
        f"  - model: {{id: {files['vit']}}}\n    tasks: [{{type: classification, data: {files['images']}, "
        f"split: test}}]\n"
        f"  - model: {{id: {files['llama']}}}\n    tasks: [{{type: perplexity, data: {files['text']}, "
        f"options: {{max_length: 32}}}}]\n"
        f"ops: [reverse: {{paper_n: all}}]\n"
    )
    stats = SweepRunner(cfg, tmp_path, progress=False).run()
    frame = table(tmp_path)
    assert stats.written == 2 * 4 and sorted(frame.model.unique()) == ["tiny-llama", "tiny-vit"]
    assert set(frame[frame.model == "tiny-llama"].metric) == {"perplexity"}
    assert len(list((tmp_path / "similarity").glob("*.npy"))) == 2
    assert list(frame.task.unique()) == cfg.task_names and cfg.task_names[0].startswith("classification")
    assert list(frame.model.unique()) == ["tiny-vit", "tiny-llama"]  # file order, for figures and tables


def test_bad_data_of_a_later_task_is_refused_before_any_work(files, tmp_path):
    cfg = parse_sweep(
        f"name: bad\nmodels:\n"
        f"  - model: {{id: {files['vit']}}}\n    tasks: [{{type: classification, data: {files['images']}, "
        f"split: test}}]\n"
        f"  - model: {{id: {files['llama']}}}\n    tasks: [{{type: perplexity, data: {tmp_path / 'missing.txt'}}}]\n"
        f"ops: [skip: all]\n"
    )
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        SweepRunner(cfg, tmp_path / "out", progress=False).run()
    assert not (tmp_path / "out" / "records").exists() or not list((tmp_path / "out" / "records").glob("*.json"))


def test_a_staged_model_sweeps_one_stage_and_scores_as_evaluate(tmp_path):
    """``stage:`` in a sweep file reaches every plan; records equal painters.evaluate with the same stage."""
    import painters
    from painters.sweep.config import ModelSpec
    from painters.sweep.loading import load_model

    swin, images = F.save_swin(tmp_path), F.save_imagefolder(tmp_path, per_class=4)
    cfg = parse_sweep(
        f"name: staged\nmodel: {{id: {swin}, stage: 2}}\ntasks: [{{type: classification, "
        f"data: {images}, split: test, batch_size: 4}}]\n"
        f"ops: [skip: {{ranges: {{max_width: 2}}}}, reverse: [0, 6]]\n"
    )
    SweepRunner(cfg, tmp_path / "out", progress=False).run()
    found = (json.loads(p.read_text()) for p in (tmp_path / "out" / "records").glob("*.json"))
    records = {r["variant"]: r for r in found}
    assert len(records) == 1 + 11 + 1 and all(r["num_layers"] == 6 for r in records.values())
    model, processor = load_model(ModelSpec(id=str(swin)))
    task = painters.tasks.load("classification", data=str(images), split="test")
    for variant, op in [("skip-2-4", painters.skip(2, 4)), ("reverse-0-6", painters.reverse(0, 6))]:
        want = painters.evaluate(model, processor, task, op, stage=2, batch_size=4, progress=False)
        assert records[variant]["score"] == want["top1"], variant
    assert len({r["score"] for r in records.values()}) > 1  # the stage's layers matter


def test_a_staged_model_sweeps_stage_by_stage_with_figures_per_stage(tmp_path, monkeypatch):
    """``stage: [k, ...]`` runs the sweep once per stage (model and tasks named ``@stage<k>``), loading the weights
    once; each stage's records equal a sweep of that stage alone, and every heatmap is drawn per stage."""
    from painters.plot import plot_results

    swin, images = F.save_swin(tmp_path), F.save_imagefolder(tmp_path, per_class=4)
    task = f"tasks: [{{type: classification, name: shapes, data: {images}, split: test, batch_size: 4}}]\n"
    ops = "ops: [skip: {ranges: {max_width: 1, start: 1}}]\n"  # stage 1 holds 1 block: no variant of its own
    both = parse_sweep(f"name: staged\nmodel: {{id: {swin}, name: swin, stage: [1, 2]}}\n{task}{ops}")
    assert [r.model.display for r in both.runs] == ["swin@stage1", "swin@stage2"]
    import painters.sweep.loading as loading

    loads, load = [], loading.load_model
    monkeypatch.setattr(loading, "load_model", lambda spec: (loads.append(spec.display), load(spec))[1])
    SweepRunner(both, tmp_path / "both", progress=False).run()
    assert len(loads) == 1  # the stages share one copy of the weights
    table = pd.read_parquet(tmp_path / "both" / "results.parquet")
    assert sorted(table.groupby("task").size().items()) == [("shapes@stage1", 1), ("shapes@stage2", 1 + 5)]
    alone = parse_sweep(f"name: alone\nmodel: {{id: {swin}, name: swin, stage: 2}}\n{task}{ops}")
    SweepRunner(alone, tmp_path / "alone", progress=False).run()
    single = pd.read_parquet(tmp_path / "alone" / "results.parquet").set_index("variant")["score"]
    staged = table[table.task == "shapes@stage2"].set_index("variant")["score"]
    assert staged.sort_index().equals(single.sort_index())
    stems = {p.stem for p in plot_results(tmp_path / "both", formats=("png",))}
    assert {"skip_heatmap_shapes_stage2", "similarity_shapes_stage1", "similarity_shapes_stage2"} <= stems


def test_stage_all_runs_every_stage_and_leaves_out_what_a_stage_cannot_run(tmp_path, capsys):
    """``stage: all`` is every stage with blocks (from config.json's depths [1, 1, 6, 1]); ``skip: all`` there
    leaves out each whole-stage skip (a stage must run a block) with a note, and runs the rest."""
    from painters.sweep.config import load_sweep

    swin, images = F.save_swin(tmp_path), F.save_imagefolder(tmp_path, per_class=4)
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: all-stages\nmodel: {{id: {swin}, name: swin, stage: all}}\n"
        f"tasks: [{{type: classification, name: shapes, data: {images}, split: test, batch_size: 4}}]\n"
        f"ops: [skip: all]\n"
    )
    cfg = load_sweep(path)
    assert [r.model.display for r in cfg.runs] == [f"swin@stage{k}" for k in range(4)]
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet", "--no-plot"]) == 0
    printed = capsys.readouterr().out
    for k, depth in enumerate([1, 1, 6, 1]):
        assert f"swin@stage{k}: 1 variant(s) left out" in printed and f"skip-0-{depth}" in printed
    table = pd.read_parquet(tmp_path / "out" / "results.parquet")
    counts = dict(table.groupby("task").size().items())
    assert counts == {"shapes@stage0": 1, "shapes@stage1": 1, "shapes@stage2": 1 + 21 - 1, "shapes@stage3": 1}
    assert "skip-0-6" not in set(table[table.task == "shapes@stage2"].variant)
    listed = parse_sweep(path.read_text().replace("stage: all", "stage: [0, 1, 2, 3]"))
    assert cfg.producers() == listed.producers()  # the same records as the stages listed by hand


def test_stage_all_on_a_model_without_stages_says_what_to_do(files, tmp_path):
    from painters.sweep.config import SweepError, load_sweep

    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: flat\nmodel: {{id: {files['vit']}, stage: all}}\n"
        f"tasks: [{{type: classification, data: {files['images']}, split: test}}]\nops: [skip: all]\n"
    )
    with pytest.raises(SweepError, match=r"sweep.yaml, line 2, model.stage: stage: all is for staged models"):
        load_sweep(path)


def test_a_sweep_whose_every_variant_is_refused_stops_with_the_reason(tmp_path):
    from painters.errors import PlanError

    swin, images = F.save_swin(tmp_path), F.save_imagefolder(tmp_path, per_class=4)
    cfg = parse_sweep(
        f"name: none\nmodel: {{id: {swin}, stage: 0}}\n"
        f"tasks: [{{type: classification, data: {images}, split: test, batch_size: 4}}]\nops: [skip: all]\n"
    )
    with pytest.raises(PlanError, match="cannot run any variant of this sweep.*runs none of stage 0"):
        SweepRunner(cfg, tmp_path / "out", progress=False).run()


def test_a_sweep_records_attention_distances_per_variant(files, tmp_path):
    from painters.analysis import attention_distance
    from painters.plot import plot_results

    cfg = config(files, "vit", "[skip: [1, 3], isolate_cls: {until: [2]}]")
    cfg = parse_sweep(cfg.model_dump_json().replace('"analyses":{"attention_distance":null}',
                                                    '"analyses":{"attention_distance":{"images":5}}'))  # fmt: skip
    runner = SweepRunner(cfg, tmp_path, progress=False)
    runner.run()
    folder = tmp_path / "analyses" / "attention_distance"
    assert sorted(p.name for p in folder.iterdir()) == ["tiny-vit__baseline.parquet", "tiny-vit__skip-1-3.parquet"]
    model, processor = runner.model()
    task = runner.load_tasks()["classification:shapes"]
    pixels = {"pixel_values": torch.cat([b.inputs["pixel_values"] for b in task.prepare(processor, 8)])[:5]}
    expected = attention_distance(model, None, pixels, painters.skip(1, 3))
    got = pd.read_parquet(folder / "tiny-vit__skip-1-3.parquet")
    assert got[["step", "layer", "head"]].equals(expected[["step", "layer", "head"]])
    assert np.allclose(got["distance_px"], expected["distance_px"], rtol=1e-12)
    assert "attention_distance_tiny-vit" in {p.stem for p in plot_results(tmp_path, formats=("png",))}


def test_a_task_whose_baseline_is_at_chance_is_reported(tmp_path, capsys):
    swin, images = F.save_swin(tmp_path), F.save_imagefolder(tmp_path, per_class=4)  # untrained: at chance here
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        f"name: chance\nmodel: {{id: {swin}, stage: 2}}\ntasks: [{{type: classification, name: shapes, "
        f"data: {images}, split: test}}]\nops: [skip: [0, 1]]\n"
    )
    assert main(["run", str(sweep), "--out", str(tmp_path / "out"), "--quiet", "--no-plot"]) == 0
    err = capsys.readouterr().err
    assert "warning: tiny-swin / shapes: the unmodified model scores at chance" in err
    from painters.plot import range_heatmap

    ax = range_heatmap(pd.read_parquet(tmp_path / "out" / "results.parquet"), "skip", "shapes")
    assert any("no normalised score: the unmodified model scores 0.3333, which is chance" in t.get_text()
               for t in ax.texts)  # fmt: skip


@pytest.mark.parametrize("kind", ["vit", "llama"])
def test_the_baseline_pass_stores_the_one_pass_predictors(files, tmp_path, kind):
    """Block influence and angular distances come from the baseline pass the sweep runs anyway (no extra forward):
    the stored table equals ``painters.importance`` over the same prepared data."""
    from painters.sweep.loading import load_model

    cfg = config(files, kind, "[skip: {ranges: {max_width: 1}}]")
    SweepRunner(cfg, tmp_path, progress=False).run()
    stored = list((tmp_path / "analyses" / "importance").glob("*.parquet"))
    assert len(stored) == 1
    frame = pd.read_parquet(stored[0])
    run = cfg.runs[0]
    model, processor = load_model(run.model)
    spec = run.tasks[0]
    task = painters.tasks.load(spec.type, data=spec.data, split=spec.split, **spec.options)
    batches = [b.inputs for b in task.prepare(processor, spec.batch_size, progress=False)]
    layers = painters.importance(model, processor, batches)
    spans = painters.importance(model, processor, batches, metrics="angular")
    assert len(frame) == len(spans) == 6 * 7 // 2 and set(frame.task) == {spec.display}
    assert frame.angular_distance.tolist() == pytest.approx(spans.angular_distance.tolist(), rel=1e-9, abs=1e-12)
    single = frame[frame.end - frame.start == 1].sort_values("start")
    assert single.block_influence.tolist() == pytest.approx(layers.block_influence.tolist(), rel=1e-9, abs=1e-12)
    assert frame[frame.end - frame.start > 1].block_influence.isna().all()
    assert single.block_influence.nunique() == 6  # the layers differ


def test_predictor_agreement_is_the_rank_correlation_with_measured_skips(files, tmp_path):
    """Spearman between the negated predictor and the measured normalised score, by hand (numpy ranks); the
    figure with both heatmaps is drawn from the results folder."""
    from painters.analysis import load_importance, predictor_agreement
    from painters.plot import plot_results

    stats = SweepRunner(config(files, "vit", "[skip: all, swap: [1, 2]]"), tmp_path, progress=False).run()
    table, importance = pd.read_parquet(tmp_path / "results.parquet"), load_importance(tmp_path)
    got = predictor_agreement(table, importance).set_index("predictor")
    pd.testing.assert_frame_equal(stats.agreement.set_index("predictor"), got)  # the run summary's figures
    skips = table[table.op == "skip"].set_index(["start", "end"])["normalised"]
    spans = importance.set_index(["start", "end"]).loc[skips.index]

    def ranks(x):  # 1-based, ties get the mean of the positions they share
        x = np.asarray(x, dtype=float)
        return np.array([np.mean(np.flatnonzero(np.sort(x) == v)) + 1 for v in x])

    def spearman(a, b):
        return float(np.corrcoef(ranks(a), ranks(b))[0, 1])

    assert got.loc["angular_distance", "spans"] == 21
    want = spearman(-spans["angular_distance"], skips)
    assert got.loc["angular_distance", "spearman"] == pytest.approx(want)
    per_width = []
    for width in range(1, 5):  # widths with 3+ spans of a 6-layer model
        at = [(s, s + width) for s in range(7 - width)]
        per_width.append(spearman(-spans.loc[at, "angular_distance"], skips.loc[at]))
    per_width = [r for r in per_width if r == r]  # a width whose scores are all tied has no ranking
    assert got.loc["angular_same_width", "spans"] == 6 + 5 + 4 + 3
    assert got.loc["angular_same_width", "spearman"] == pytest.approx(np.mean(per_width))
    single = [(i, i + 1) for i in range(6)]
    assert got.loc["block_influence", "spans"] == 6
    want = spearman(-spans.loc[single, "block_influence"], skips.loc[single])
    assert got.loc["block_influence", "spearman"] == pytest.approx(want)
    stems = {p.stem for p in plot_results(tmp_path, formats=("png",))}
    assert any(stem.startswith("predictors_") for stem in stems)


def test_a_hybrid_dpt_runs_in_a_sweep_like_any_model(tmp_path):
    """DPT-hybrid (a BiT CNN, then 6 transformer layers) through ``painters run`` on the zoo's scene masks: every
    skip range scored, each record equal to ``painters.evaluate`` with the same op, and the layers matter."""
    import transformers as T

    from painters.sweep.config import ModelSpec
    from painters.sweep.loading import load_model
    from painters.zoo import registry
    from tests.test_core_models import dpt_hybrid

    scenes = registry.zoo_dir() / "data" / "fashion-scenes"
    if not scenes.exists():
        pytest.skip("the zoo's scene data is not shipped here")
    model = dpt_hybrid(num_labels=11)
    model.save_pretrained(tmp_path / "dpt-hybrid")
    T.DPTImageProcessorPil(size={"height": 64, "width": 64}, keep_aspect_ratio=False).save_pretrained(
        tmp_path / "dpt-hybrid"
    )
    cfg = parse_sweep(
        f"name: hybrid\nmodel: {{id: {tmp_path / 'dpt-hybrid'}, task_head: semantic-segmentation}}\n"
        f"tasks: [{{type: segmentation, data: {scenes}, limit: 6, batch_size: 3, options: {{label_map: identity}}}}]\n"
        f"ops: [skip: all, reverse: [1, 5]]\n"
    )
    SweepRunner(cfg, tmp_path / "out", progress=False).run()
    table = pd.read_parquet(tmp_path / "out" / "results.parquet").set_index("variant")
    assert len(table) == 1 + 21 + 1 and (table["status"] == "ok").all()
    loaded, processor = load_model(ModelSpec(id=str(tmp_path / "dpt-hybrid"), task_head="semantic-segmentation"))
    task = painters.tasks.load("segmentation", data=str(scenes), limit=6, label_map="identity")
    for variant, op in [("skip-2-4", painters.skip(2, 4)), ("reverse-1-5", painters.reverse(1, 5))]:
        want = painters.evaluate(loaded, processor, task, op, batch_size=3, progress=False, baseline=False)
        assert table.loc[variant, "score"] == want["miou"], variant
    assert table["score"].nunique() > 3


@pytest.mark.parametrize("kind", ["vit", "llama"])
def test_compiled_layers_serve_every_plan_with_one_graph(files, tmp_path, kind):
    """``runner: {compile: true}`` (the eager backend: the same kernels, so the same bits): records equal an
    uncompiled sweep, dynamo builds two graphs for all layers and all 40+ plans (one, and a dynamic-shape one when
    the last batch is smaller: no recompile per plan or per layer, the KV cache off while it runs), and the model
    is restored afterwards."""
    from painters.sweep.loading import load_model

    ops = "[skip: all, reverse: {ranges: {min_width: 2}}, parallel: {ranges: {min_width: 2, max_width: 3}}]"
    plain = SweepRunner(config(files, kind, ops), tmp_path / "plain", progress=False)
    plain.run()
    compiled = config(files, kind, ops)
    compiled.runner = compiled.runner.model_copy(update={"compile": True, "compile_backend": "eager"})
    model, processor = load_model(compiled.runs[0].model)
    cache = getattr(model.config, "use_cache", None)
    stats = SweepRunner(compiled, tmp_path / "compiled", model=model, processor=processor, progress=False).run()
    assert list(stats.compiled.values()) == [2]  # batches of 8, 8, 2 (ViT) / 4, ..., 4, 2 windows (Llama)
    a, b = table(tmp_path / "plain"), table(tmp_path / "compiled")
    assert len(a) > 40 and list(a.variant) == list(b.variant)
    assert np.array_equal(a.score.to_numpy(), b.score.to_numpy()) and a.score.nunique() > 5
    assert all(layer._compiled_call_impl is None for layer in painters.layers(model).layers)
    assert getattr(model.config, "use_cache", None) == cache
    import torch._dynamo

    from painters.sweep.compiled import compiled_layers

    limit = torch._dynamo.config.cache_size_limit
    with pytest.raises(Exception, match="no-such-backend"), compiled_layers(model, {}, "no-such-backend"):
        pass  # compiling fails: the model and torch's settings are as before
    assert all(layer._compiled_call_impl is None for layer in painters.layers(model).layers)
    assert getattr(model.config, "use_cache", None) == cache and torch._dynamo.config.cache_size_limit == limit
