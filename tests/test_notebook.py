"""``examples/painters.ipynb`` (issue 16) is stored without outputs and runs top to bottom in a fresh kernel: a zoo
model, a plan, ``painters.evaluate``, a sweep from Python (``painters.sweep.run``) and its heatmaps inline."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[test]' (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[test]' (nbclient, ipykernel)")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "painters.ipynb"


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_notebook_is_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} of {NOTEBOOK.name} hold outputs: strip them before committing"


def test_notebook_runs_and_shows_its_figures(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # a failing cell raises CellExecutionError with its traceback
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "LayerStack(12 x ViTLayer" in _text(code[0])
    assert "0 1 2 3 7 6 5 4 8 9 10 11" in _text(code[1])
    assert "'baseline_top1'" in _text(code[2]) and "'normalised'" in _text(code[2])
    assert "'written': 145" in _text(code[3]), _text(code[3])  # the baseline, 78 skips, 66 swaps
    assert len(list((tmp_path / "results" / "notebook-fashion-vit" / "records").glob("*.json"))) == 145
    images = [c for c in code[4:] if any("image/png" in out.get("data", {}) for out in c.outputs)]
    assert len(images) == 2, "the heatmaps and the degradation figure should show inline"
