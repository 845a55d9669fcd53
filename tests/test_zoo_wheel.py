"""An installed wheel carries the zoo (issue 16): ``pip install .`` then, from any other folder,
``painters.zoo.load("fashion-vit")``, the example sweeps (``painters zoo sweeps``) and a small zoo sweep work.

Offline: the wheel is built with this interpreter's setuptools (``--no-build-isolation``) and installed with
``--no-deps --no-index`` into a fresh venv that sees this interpreter's packages (torch, transformers, ...) through a
plain ``.pth`` line (so the checkout's editable install is not visible there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["painters", "zoo", "experiments", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md"]
"""What the build reads, copied out of the checkout so that building leaves nothing in it."""


def _run(args: list, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PAINTERS_ZOO", "PYTHONPATH")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1", PIP_NO_INDEX="1")
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def _build_and_install(base: Path) -> dict:
    """Build the wheel from a copy of the checkout and install it into a fresh venv; returns its paths."""
    src = base / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = ROOT / name
        (shutil.copytree(path, src / name, ignore=ignore) if path.is_dir() else shutil.copy2(path, src / name))
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", base / "dist", src], base)
    (wheel,) = (base / "dist").glob("painters-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], base)
    (site,) = (venv / "lib").glob("python3*/site-packages")
    shared = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "painters_test_deps.pth").write_text("".join(f"{p}\n" for p in sorted(shared)))
    _run([*pip, "--python", venv / "bin" / "python", "install", "-q", "--no-deps", wheel], base)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return {"wheel": wheel, "python": venv / "bin" / "python", "painters": venv / "bin" / "painters", "cwd": elsewhere}


LOAD = """
import json, painters, painters.zoo as zoo
model, processor = zoo.load('fashion-vit')
sweeps = {k: str(v) for k, v in zoo.sweep_files().items()}
quickstart = painters.sweep.load_sweep(sweeps['quickstart'])
paths = [m.id for _, m in quickstart.model_locations()] + [t.data for _, t in quickstart.task_locations()]
print(json.dumps({'file': painters.__file__, 'zoo': str(zoo.zoo_dir()), 'sweeps': sweeps, 'paths': paths,
    'layers': len(painters.layers(model)), 'model': str(zoo.model_dir('fashion-vit')),
    'data': str(zoo.data_path('fashion-vit'))}))
"""
"""Run by the installed package from another folder: what it loads and where it finds the zoo."""


def test_installed_wheel_runs_the_zoo_from_another_folder(tmp_path) -> None:
    """One test (build once, even when pytest-xdist spreads tests over workers): the wheel's files, then the
    installed package's zoo, example sweeps and CLI."""
    installed = _build_and_install(tmp_path)

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    zoo = {p.relative_to(ROOT).as_posix() for p in (ROOT / "zoo").rglob("*") if p.is_file()}
    sweeps = {"experiments/quickstart.yaml"} | {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "experiments" / "zoo").glob("*.yaml")
    }
    missing = sorted(f for f in zoo | sweeps if f"painters/_shipped/{f}" not in names)
    assert not missing, f"{len(missing)} files not in the wheel, e.g. {missing[:5]}"

    python, painters, cwd = installed["python"], installed["painters"], installed["cwd"]
    loaded = json.loads(_run([python, "-c", LOAD], cwd).stdout.strip().splitlines()[-1])
    site = str(python.parents[1])
    assert loaded["file"].startswith(site), f"painters imported from {loaded['file']}, not the installed wheel"
    assert loaded["zoo"].startswith(site) and loaded["zoo"].endswith("_shipped/zoo")
    assert loaded["layers"] == 12
    assert {"quickstart", "fashion-vit", "fashion-yolos", "fashion-dpt", "tiny-llama"} <= set(loaded["sweeps"])
    assert all(Path(path).is_file() and path.startswith(site) for path in loaded["sweeps"].values())
    # the quickstart's ../zoo/... paths resolve to the installed package's zoo
    assert len(loaded["paths"]) >= 8 and all(Path(p).exists() and p.startswith(loaded["zoo"]) for p in loaded["paths"])

    assert _run([painters, "zoo", "sweeps", "quickstart"], cwd).stdout.strip() == loaded["sweeps"]["quickstart"]
    (cwd / "small.yaml").write_text(
        "name: wheel-check\n"
        f"model: {{id: {loaded['model']}, task_head: image-classification}}\n"
        f"tasks:\n  - {{type: classification, name: fashion, data: {loaded['data']}, split: test, limit: 40}}\n"
        "ops:\n  - skip: {ranges: {max_width: 1}}\n"
    )
    _run([painters, "run", "small.yaml", "--quiet", "--no-plot"], cwd)
    table = pd.read_parquet(cwd / "results" / "wheel-check" / "results.parquet")
    assert len(table) == 13 and set(table["status"]) == {"ok"}, table[["variant", "status"]]
    baseline = table[table["variant"] == "baseline"].iloc[0]
    assert baseline["m_top1"] >= 0.7 and baseline["normalised"] == pytest.approx(1.0)
    assert sorted(table["variant"])[:2] == ["baseline", "skip-0-1"]
