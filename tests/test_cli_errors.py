"""What a user sees when something is wrong: a PaintersError is one message naming the sweep file, line, field and
fix, with exit code 2, found before any model loads; a bug shows its traceback; ``--debug`` shows every traceback;
Ctrl-C keeps every finished record and says how to resume (exit code 130)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import painters
from painters.cli import main
from painters.errors import PaintersError

ROOT = Path(__file__).resolve().parents[1]
VIT = ROOT / "zoo" / "fashion-vit"
IMAGES = ROOT / "zoo" / "data" / "fashion-mnist-test"
TEXT = ROOT / "zoo" / "data" / "kjv-heldout.txt"


def sweep(
    tmp_path: Path,
    model: str = f"{{id: {VIT}}}",
    task: str = f"{{type: classification, data: {IMAGES}}}",
    ops: str = "skip: all",
) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(f"name: t\nmodel: {model}\ntasks:\n  - {task}\nops:\n  - {ops}\n")
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "case, edit, expected",
    [
        (
            "model path",
            dict(model="{id: /no/such/model}"),
            r"sweep.yaml, line 2, model.id: no such file or folder: "
            r"'/no/such/model' \(a local path that does not exist; fix",
        ),
        (
            "data path",
            dict(task="{type: classification, data: /no/such/data}"),
            r"sweep.yaml, line 4, tasks\[0\].data: no such file or folder: '/no/such/data'",
        ),
        (
            "device",
            dict(model=f"{{id: {VIT}, device: cuda}}"),
            r"sweep.yaml, line 2, model.device: CUDA is not available here .*use device: cpu",
        ),
        (
            "task option",
            dict(task=f"{{type: classification, data: {IMAGES}, options: {{labal_column: x}}}}"),
            r"sweep.yaml, line 4, tasks\[0\]: 'labal_column' is not an option of task 'classification' \(did you mean "
            r"'label_column'\?\)\. Options of 'classification': seed, name, image_column, label_column",
        ),
        (
            "task option type",
            dict(task=f"{{type: classification, data: {IMAGES}, options: {{top_k: many}}}}"),
            r"sweep.yaml, line 4, tasks\[0\]: top_k='many': Input should be a valid integer",
        ),
        (
            "swap pair",
            dict(ops="swap: {pairs: [[2, 12]]}"),
            r"sweep.yaml, line 6, ops\[0\] \(swap\): swap\(i=2, j=12\): layer 12 does not exist; "
            r"this model's layers are 0..11 \(12 layers, 0-indexed\): give i and j below 12",
        ),
        (
            "unknown task",
            dict(task=f"{{type: clasification, data: {IMAGES}}}"),
            r"line 4, tasks\[0\].type: .*classification",
        ),
    ],
)
def test_a_mistake_is_one_message_naming_file_line_field_and_fix(case, edit, expected, tmp_path, capsys):
    if case == "device" and __import__("torch").cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, err = run_cli(["run", str(sweep(tmp_path, **edit)), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 2, err
    assert err.startswith("painters: error: ") and "Traceback" not in err
    assert __import__("re").search(expected, err), err
    assert not (tmp_path / "out" / "records").exists() or not any((tmp_path / "out" / "records").iterdir())
    code = main(["validate", str(tmp_path / "sweep.yaml")])  # the same mistake, found offline without weights
    out = capsys.readouterr().out
    if case == "device":  # a GPU sweep file validates anywhere: the device is checked when the run starts
        assert code == 0 and "CUDA is not available here" in out and "fine on a machine that has it" in out
    else:
        assert code == 2 and __import__("re").search(expected, out), out


def test_debug_shows_the_traceback_of_a_user_error(tmp_path):
    with pytest.raises(PaintersError, match="no such file or folder"):
        main(["--debug", "run", str(sweep(tmp_path, model="{id: /no/such/model}")), "--out", str(tmp_path / "o")])


def test_a_bug_is_not_dressed_as_a_user_error(tmp_path, monkeypatch):
    def broken(self):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("painters.sweep.runner.SweepRunner.run", broken)
    with pytest.raises(ZeroDivisionError):
        main(["run", str(sweep(tmp_path)), "--out", str(tmp_path / "o"), "--quiet"])


def test_every_painters_error_keeps_its_builtin_base():
    for cls in (painters.PlanError, painters.UnsupportedModelError):
        assert issubclass(cls, PaintersError) and issubclass(cls, ValueError)
    from painters.errors import DataNotFoundError, UnknownNameError

    assert issubclass(DataNotFoundError, FileNotFoundError) and issubclass(UnknownNameError, KeyError)
    assert str(UnknownNameError("unknown op 'skp'")) == "unknown op 'skp'"  # not KeyError's quoted repr


def test_ctrl_c_keeps_finished_records_and_resumes(tmp_path):
    path = sweep(tmp_path, task=f"{{type: classification, data: {IMAGES}, limit: 200, batch_size: 50}}")
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "painters.cli", "run", str(path), "--out", str(out), "--quiet", "--no-plot"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("records/*.json"))) < 2:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    kept = sorted((out / "records").glob("*.json"))
    assert f"interrupted: {len(kept)} records kept in {out}; rerun the same command to resume" in stderr
    assert "Traceback" not in stderr
    assert not [p for p in (out / "records").iterdir() if p.suffix != ".json"]  # nothing partial
    for p in kept:
        json.loads(p.read_text())
    if len(kept) == 79:
        pytest.skip("the sweep finished before the interrupt")
    code = subprocess.run(
        [sys.executable, "-m", "painters.cli", "run", str(path), "--out", str(out), "--quiet", "--no-plot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert code.returncode == 0, code.stderr
    assert len(list((out / "records").glob("*.json"))) == 79  # 78 skips + the baseline


def test_relative_paths_resolve_against_the_sweep_files_folder(tmp_path):
    from painters.sweep.config import load_sweep

    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "text.txt").write_text("hello")
    path = folder / "s.yaml"
    path.write_text(
        "name: t\nmodel: {id: org/hub-model}\ntasks:\n  - {type: perplexity, data: data/text.txt}\n"
        "  - {type: perplexity, data: ./missing.txt, name: b}\nops: [skip: all]\n"
    )
    config = load_sweep(path)
    assert config.tasks[0].data == str(folder / "data" / "text.txt")  # found next to the file
    assert config.tasks[1].data == str(folder / "missing.txt")  # explicit ./ : next to the file, even if missing
    assert config.model.id == "org/hub-model"  # a hub id stays as written
    moved = tmp_path / "elsewhere"
    (folder).rename(moved)
    assert load_sweep(moved / "s.yaml").fingerprint() == config.fingerprint()  # the paths as written count


def test_a_shipped_sweep_file_runs_from_any_directory(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "painters.cli",
            "run",
            str(ROOT / "experiments/zoo/fashion-vit.yaml"),
            "--dry-run",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "fashion-vit: 12 layers" in done.stdout


def test_validate_checks_offline_without_weights(tmp_path, capsys):
    shipped = [str(p) for p in sorted((ROOT / "experiments" / "zoo").glob("*.yaml"))]
    assert main(["validate", *shipped, str(ROOT / "experiments" / "quickstart.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok") == len(shipped) + 1 and "12 layers, 199 variants" in out
    bad = sweep(tmp_path, task="{type: classification, data: /no/such/data}", ops="swap: {pairs: [[2, 12]]}")
    assert main(["validate", str(bad)]) == 2
    out = capsys.readouterr().out
    assert "2 problem(s)" in out and "ops[0] (swap)" in out and "tasks[0].data: no such file" in out


def test_validate_reports_hub_ids_as_not_checked_offline(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = sweep(tmp_path, model="{id: some-org/not-cached-model}", task="{type: perplexity, data: some-org/texts}")
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "not cached here" in out and "is a hub dataset: not checked offline" in out


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """A 6-layer Llama causal LM and a 6-layer ViT classifier, saved with save_pretrained."""
    from tests import sweep_fixtures

    root = tmp_path_factory.mktemp("models")
    return {"llama": sweep_fixtures.save_llama(root, 6), "vit": sweep_fixtures.save_vit(root, layers=6)}


@pytest.mark.parametrize(
    "model, task, expected",
    [
        (
            "llama",
            f"{{type: classification, data: {IMAGES}}}",
            r"sweep.yaml, line 4, tasks\[0\].type: 'classification' cannot score 'LlamaForCausalLM' \(a causal LM\): "
            r"use last_word, multiple_choice, perplexity or sentence_similarity; or use an image classifier",
        ),
        (
            "vit",
            f"{{type: perplexity, data: {TEXT}}}",
            r"sweep.yaml, line 4, tasks\[0\].type: 'perplexity' cannot score 'ViTForImageClassification' \(an image "
            r"classifier\): use classification; or use a causal LM",
        ),
    ],
    ids=["classification on a causal LM", "perplexity on a ViT"],
)
def test_a_task_that_cannot_score_its_model_is_refused_before_anything_loads(
    model, task, expected, tiny_models, tmp_path, capsys, monkeypatch
):
    def refuse(*args, **kwargs):
        raise AssertionError("loaded before the task was checked against the model")

    monkeypatch.setattr("painters.sweep.loading.load_model", refuse)  # no weights
    import painters.tasks.registry as registry

    load = registry.load
    path = sweep(tmp_path, model=f"{{id: {tiny_models[model]}}}", task=task)
    out = tmp_path / "out"
    for command in (
        ["run", str(path), "--out", str(out), "--quiet"],
        ["run", str(path), "--dry-run", "--out", str(out)],
    ):
        # `run` reads no data before the check; `--dry-run` validates the local data too (and loads no weights)
        monkeypatch.setattr(registry, "load", refuse if "--dry-run" not in command else load)
        code, err = run_cli(command, capsys)
        assert code == 2, err
        assert err.startswith("painters: error: ") and "Traceback" not in err
        assert re.search(expected, err), err
    assert not out.exists()
    assert main(["validate", str(path)]) == 2
    assert re.search(f"problem: .*{expected}", capsys.readouterr().out)


def test_dry_run_on_a_hub_model_that_is_not_cached_says_what_it_checked(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = sweep(tmp_path, model="{id: org/not-cached-model}", task=f"{{type: perplexity, data: {TEXT}}}")
    assert main(["run", str(path), "--dry-run", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "not-cached-model: 'org/not-cached-model' is not cached here and the Hugging Face Hub cannot be used" in out
    assert "Checked: the schema, the ops' parameters, the task options and the local data" in out
    assert "Not checked: the layer count, and so the variant list" in out
    assert not (tmp_path / "out").exists()
    # what needs no model is still checked: a missing local data file fails the dry run
    bad = sweep(tmp_path, model="{id: org/not-cached-model}", task="{type: perplexity, data: /no/such/text.txt}")
    code, err = run_cli(["run", str(bad), "--dry-run", "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "sweep.yaml, line 4, tasks[0].data: no such file or folder" in err, err
