"""Every sweep file shipped under experiments/ validates and expands (no model is loaded), and passes
``painters validate`` offline: hub models and datasets are notes, never problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from painters.sweep.config import load_sweep
from painters.sweep.generators import expand_ops

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "experiments").rglob("*.yaml"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT / "experiments").as_posix()


def test_there_are_experiment_files() -> None:
    names = {p.relative_to(ROOT / "experiments").as_posix() for p in FILES}
    assert {
        "quickstart.yaml",
        "deit-imagenet.yaml",
        "yolos-coco.yaml",
        "dpt-ade20k.yaml",
        "llama-language.yaml",
        "zoo/fashion-vit.yaml",
        "zoo/fashion-yolos.yaml",
        "zoo/fashion-dpt.yaml",
        "zoo/tiny-llama.yaml",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_experiment_file_validates_and_expands(path: Path) -> None:
    config = load_sweep(path)
    assert path.read_text(encoding="utf-8").startswith("# What it shows:")
    variants = expand_ops(config.ops, 12)
    assert len(variants) > 1 and len({v.id for v in variants}) == len(variants)


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_experiment_file_passes_painters_validate_offline(path: Path, monkeypatch) -> None:
    """No placeholder paths, no missing task options: a user with the hub could run every shipped file."""
    from painters.sweep.validate import validate

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    report = validate(path)
    assert report.ok, "\n".join(report.problems)
    models = [note for note in report.notes if "model.id" in note]  # per run: its layer count, or "not cached here"
    assert len(models) == len(load_sweep(path).runs), report.notes


ZOO_MODELS = ("fashion-vit", "fashion-yolos", "fashion-dpt", "tiny-llama", "fashion-clip", "fashion-swin")


def test_quickstart_covers_every_zoo_model_with_every_op() -> None:
    from painters.zoo import registry

    config = load_sweep(ROOT / "experiments" / "quickstart.yaml")
    assert set(ZOO_MODELS) == set(registry.ZOO.names())  # a new zoo model joins the main job
    assert [run.model.id for run in config.models] == [
        str(ROOT / "zoo" / name) for name in ZOO_MODELS
    ]  # relative to the file, wherever it is run
    assert [task.type for run in config.models for task in run.tasks] == [
        "classification",
        "detection",
        "segmentation",
        "perplexity",
        "zero_shot_classification",
        "classification",
    ]
    assert config.models[4].model.tower == "vision" and config.models[5].model.stage == [0, 1, 2, 3]  # stage: all
    for run in config.runs:
        for task in run.tasks:
            assert (ROOT / task.data).exists(), task.data  # shipped with the project
    ops = {spec.op for spec in config.ops}
    assert ops == {"skip", "swap", "reverse", "shuffle", "middle_repeat", "repeat", "parallel"}
    assert len(expand_ops(config.ops, 12)) == 199


def test_quickstart_runs_on_the_shipped_zoo(tmp_path, monkeypatch) -> None:
    """The main job's own file, cut to single-layer skips on a few examples: every zoo model loads from its
    relative path, scores through the sweep runner without a failed or non-finite record, and keeps file order
    (the Swin once per stage: stages of 2, 2, 6 and 2 blocks)."""
    import pandas as pd

    from painters.plot import plot_results
    from painters.sweep.op_specs import validate_op_spec
    from painters.sweep.runner import SweepRunner

    monkeypatch.chdir(ROOT)
    config = load_sweep(ROOT / "experiments" / "quickstart.yaml")
    runs = [run.model_copy(update={"tasks": [task.model_copy(update={"limit": 256 if task.type == "perplexity"
                                                                         else 20}) for task in run.tasks]})
            for run in config.runs]  # fmt: skip
    cut = config.model_copy(
        update={"models": runs, "ops": [validate_op_spec({"op": "skip", "ranges": {"max_width": 1}})]}
    )
    stats = SweepRunner(cut, tmp_path, progress=False).run()
    table = pd.read_parquet(tmp_path / "results.parquet")
    swin = [f"fashion-swin@stage{k}" for k in range(4)]
    assert stats.written == 5 * 13 + (3 + 3 + 7 + 3) and len(table) == stats.written
    assert set(table["status"]) == {"ok"}, table[table["status"] != "ok"][["model", "variant", "status", "error"]]
    assert list(table["model"].unique()) == list(ZOO_MODELS[:-1]) + swin
    baseline = table[table["op"] == "baseline"].set_index("model")
    assert baseline.loc["fashion-vit", "metric"] == "top1" and baseline.loc["tiny-llama", "metric"] == "perplexity"
    assert (baseline["normalised"] == 1.0).all()
    figures = {p.name for p in plot_results(tmp_path, formats=("png",))}
    assert {"skip_heatmap_all.png", "degradation.png", "skip_heatmap_kjv-heldout.png"} <= figures
    _show_and_compare_read_the_main_jobs_results(tmp_path, table)


def _show_and_compare_read_the_main_jobs_results(folder, table) -> None:
    """``painters show`` and ``painters compare`` on the main job's own results folder (issue 16)."""
    import contextlib
    import io

    import pandas as pd

    from painters.cli import main

    def run(*args: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main([*args]) == 0
        return out.getvalue()

    shown = pd.read_csv(io.StringIO(run("show", str(folder), "--model", "tiny-llama", "--format", "csv")))
    want = [f"skip-{i}-{i + 1}" for i in range(12)]
    assert shown["variant"].tolist() == ["baseline", *want]  # natural order: skip-2-3 before skip-10-11
    llama = table[table["model"] == "tiny-llama"].set_index("variant")
    assert shown.set_index("variant")["score"].to_dict() == llama["score"].to_dict()
    medians = pd.read_csv(io.StringIO(run("show", str(folder), "--aggregate", "median", "--format", "csv")))
    one_task = table.set_index(["model", "variant"])["normalised"]  # each model has one task: median = the score
    got = medians.set_index(["model", "variant"])["median_normalised"]
    assert len(got) == len(table) and (got - one_task.loc[got.index]).abs().max() < 1e-6
    for _, rows in medians.groupby("model", sort=False):  # each model's variants best first
        assert rows["median_normalised"].is_monotonic_decreasing
    compared = pd.read_csv(io.StringIO(run("compare", str(folder), str(folder), "--format", "csv")))
    assert len(compared) == len(table) and set(compared["present"]) == {"both"}
    assert (compared["diff"].dropna() == 0).all()
