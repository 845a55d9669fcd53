"""painters.plot: figures of sweep results, checked against synthetic tables with known scores."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import painters  # noqa: E402
from painters.errors import UnknownNameError  # noqa: E402
from painters.plot import (  # noqa: E402
    NoDataError,
    degradation_curves,
    degradation_data,
    degradation_figure,
    loop_heatmap,
    overview_figure,
    plot_results,
    range_heatmap,
    similarity_heatmap,
    swap_heatmap,
)

T = 12
MODEL = "tiny-vit"
TASKS = {"fashion-mnist": "top1", "wiki text/2": "perplexity"}
INT_COLUMNS = ["start", "end", "i", "j", "n_affected", "seed", "iterations", "times", "paper_n"]
LOOP_SPANS = [(4, 8), (2, 10)]


def f_skip(s: int, e: int) -> float:
    return 1.0 - (e - s) / T + s / 100


def f_reverse(s: int, e: int) -> float:
    return 1.0 - (e - s) / (2 * T)


def f_shuffle(s: int, e: int, seed: int) -> float:
    return 0.9 - (e - s) / (3 * T) + 0.1 * seed


def f_parallel(s: int, e: int, iterations: int) -> float:
    return 0.95 - 0.1 * iterations - 0.01 * (e - s)


def f_swap(i: int, j: int) -> float:
    return 1.0 - (j - i) / 20 - i / 200


def spans(layers: int = T) -> list[tuple[int, int]]:
    return [(s, e) for s in range(layers) for e in range(s + 1, layers + 1)]


def row(task: str, op: str, normalised: float, layers: int = T, status: str = "ok", **fields: int) -> dict:
    start, end = fields.get("start"), fields.get("end")
    return {
        "sweep": "test",
        "model": MODEL,
        "task": task,
        "task_type": "classification",
        "variant": f"{op}-{json.dumps(fields, sort_keys=True)}",
        "op": op,
        "params": json.dumps(fields),
        "n_affected": 0 if start is None else end - start,
        "num_layers": layers,
        "metric": TASKS.get(task, "acc"),
        "score": normalised,
        "baseline": 1.0,
        "chance": 0.0,
        "normalised": normalised,
        "status": status,
        "seconds": 0.1,
        **fields,
    }


def table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for column in INT_COLUMNS:
        df[column] = (df[column] if column in df.columns else pd.Series(pd.NA, index=df.index)).astype("Int64")
    return df


def task_rows(task: str, layers: int = T) -> list[dict]:
    rows = [row(task, "baseline", 1.0, layers)]
    for s, e in spans(layers):
        rows.append(row(task, "skip", f_skip(s, e), layers, start=s, end=e))
        rows.append(row(task, "reverse", f_reverse(s, e), layers, start=s, end=e))
        rows.append(row(task, "parallel", f_parallel(s, e, 1), layers, start=s, end=e, iterations=1))
        for seed in range(3):
            rows.append(row(task, "shuffle", f_shuffle(s, e, seed), layers, start=s, end=e, seed=seed))
    for s, e in LOOP_SPANS:
        for k in range(2, 5):
            rows.append(row(task, "parallel", f_parallel(s, e, k), layers, start=s, end=e, iterations=k))
    for i in range(layers):
        for j in range(i + 1, layers):
            rows.append(row(task, "swap", f_swap(i, j), layers, i=i, j=j, start=i, end=j + 1))
    # a failed run: must not count
    rows.append(row(task, "skip", -50.0, layers, status="error", start=0, end=1))
    return rows


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return table([r for task in TASKS for r in task_rows(task)])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def cells(ax) -> np.ma.MaskedArray:
    mesh = ax.collections[0]
    rows, cols = len(ax.get_yticklabels()), len(ax.get_xticklabels())
    return np.ma.masked_invalid(np.ma.asarray(mesh.get_array()).reshape(rows, cols))


def ticks(labels) -> list[str]:
    return [t.get_text() for t in labels]


def assert_saves(fig, tmp_path: Path) -> None:
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<?xml")):
        path = tmp_path / f"figure.{fmt}"
        fig.savefig(path)
        data = path.read_bytes()
        assert len(data) > 1000 and data.startswith(magic)


def test_skip_heatmap_axes_values_and_files(df, tmp_path):
    ax = range_heatmap(df, "skip", "fashion-mnist")
    assert ax.get_ylabel() == "start layer" and ax.get_xlabel() == "end layer (exclusive)"
    assert ticks(ax.get_yticklabels()) == [str(s) for s in range(T)]
    assert ticks(ax.get_xticklabels()) == [str(e) for e in range(1, T + 1)]
    values = cells(ax)
    assert values.shape == (T, T)
    for s in range(T):
        for e in range(1, T + 1):
            if e <= s:
                assert values.mask[s, e - 1]
            else:
                assert values[s, e - 1] == pytest.approx(f_skip(s, e))  # error row (-50) left out
    assert ax.get_title() == "skip on tiny-vit, fashion-mnist: normalised top1"
    assert len(ax.texts) == len(spans()) and ax.texts[0].get_text() == f"{f_skip(0, 1):.2f}"
    assert len(ax.figure.axes) == 2  # the colour bar
    assert_saves(ax.figure, tmp_path)


def test_shuffle_averages_seeds_and_parallel_keeps_one_iteration(df):
    ax = range_heatmap(df, "shuffle", "wiki text/2")
    assert cells(ax)[3, 7] == pytest.approx(np.mean([f_shuffle(3, 8, seed) for seed in range(3)]))
    assert ax.get_title() == "shuffle on tiny-vit, wiki text/2: normalised perplexity"
    parallel = cells(range_heatmap(df, "parallel", "fashion-mnist"))
    assert parallel[4, 7] == pytest.approx(f_parallel(4, 8, 1))
    ax = range_heatmap(df, "parallel", "fashion-mnist", iterations=3)
    looped = cells(ax)
    assert looped[4, 7] == pytest.approx(f_parallel(4, 8, 3)) and looped.count() == len(LOOP_SPANS)
    assert ax.get_title().startswith("parallel x3 on tiny-vit")


def test_task_must_be_named_when_several_and_missing_rows_raise(df):
    with pytest.raises(NoDataError, match="several tasks"):
        range_heatmap(df, "skip")
    one = df[df["task"] == "fashion-mnist"]
    assert "fashion-mnist" in range_heatmap(one, "skip").get_title()
    with pytest.raises(NoDataError):
        range_heatmap(one, "middle_repeat")
    with pytest.raises(NoDataError):
        loop_heatmap(one[one["op"] != "parallel"])


def test_swap_heatmap_is_symmetric(df, tmp_path):
    reversed_pairs = df.assign(i=df["j"], j=df["i"])  # swap(j, i) is the same op
    for table_ in (df, reversed_pairs):
        ax = swap_heatmap(table_, "fashion-mnist")
        values = cells(ax)
        for i in range(T):
            assert values.mask[i, i]
            for j in range(i + 1, T):
                assert values[i, j] == pytest.approx(f_swap(i, j)) and values[j, i] == pytest.approx(f_swap(i, j))
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("layer i", "layer j")
    assert ticks(ax.get_xticklabels()) == [str(j) for j in range(T)]
    assert ax.get_title() == "swap on tiny-vit, fashion-mnist: normalised top1"
    assert_saves(ax.figure, tmp_path)


def test_loop_heatmap_rows_are_looped_spans(df, tmp_path):
    ax = loop_heatmap(df, "fashion-mnist")
    assert ticks(ax.get_yticklabels()) == ["[2, 10)", "[4, 8)"]
    assert ticks(ax.get_xticklabels()) == ["1", "2", "3", "4"]
    assert ax.get_xlabel() == "iterations"
    values = cells(ax)
    for r, (s, e) in enumerate(sorted(LOOP_SPANS)):
        for k in range(1, 5):
            assert values[r, k - 1] == pytest.approx(f_parallel(s, e, k))
    assert "looped parallel" in ax.get_title() and "top1" in ax.get_title()
    assert_saves(ax.figure, tmp_path)


def named_lines(ax) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        line.get_label(): (np.asarray(line.get_xdata()), np.asarray(line.get_ydata()))
        for line in ax.get_lines()
        if not line.get_label().startswith("_")
    }


def test_degradation_figure_panels_lines_and_means(df, tmp_path):
    fig = degradation_figure(df)
    assert len(fig.axes) == len(TASKS) + 1  # and the model's "median over tasks" panel
    assert fig.axes[-1].get_title() == f"degradation on {MODEL}, median over 2 tasks: normalised score"
    assert len(degradation_figure(df, median=False).axes) == len(TASKS)
    expected = {"skip", "reverse", "shuffle", "swap", "parallel", "parallel x2", "parallel x3", "parallel x4"}
    for ax, task in zip(fig.axes, TASKS):
        lines = named_lines(ax)
        assert set(lines) == expected
        assert task in ax.get_title() and TASKS[task] in ax.get_title()
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("layers affected", "normalised score")
        x, y = lines["skip"]
        assert list(x) == list(range(T + 1)) and y[0] == 1.0
        for n in (1, 5, T):
            assert y[n] == pytest.approx(np.mean([f_skip(s, s + n) for s in range(T - n + 1)]))
        x, y = lines["shuffle"]
        assert y[3] == pytest.approx(np.mean([f_shuffle(s, s + 3, seed) for s in range(T - 2) for seed in range(3)]))
        x, y = lines["parallel x2"]
        assert list(x) == [0, 4, 8] and y[1] == pytest.approx(f_parallel(4, 8, 2))
        x, y = lines["swap"]
        assert list(x) == [0, *range(2, T + 1)]  # a swap spans at least 2 layers
        assert y[1] == pytest.approx(np.mean([f_swap(i, i + 1) for i in range(T - 1)]))
    assert_saves(fig, tmp_path)


def test_the_median_over_tasks_panel_is_the_median_per_variant(tmp_path):
    """Three tasks scoring every skip f, f + 0.3 and f - 0.5: the median panel's skip line is f (a mean would
    not be), averaged over the spans of each width as in the task panels; a model with one task gets none."""
    shifted = {"a": 0.0, "b": 0.3, "c": -0.5}
    rows = []
    for task, delta in shifted.items():
        rows.append(row(task, "baseline", 1.0))
        rows += [row(task, "skip", f_skip(s, e) + delta, start=s, end=e) for s, e in spans()]
    rows += [dict(r, model="other", task="alone") for r in rows if r["task"] == "a"]
    fig = degradation_figure(table(rows))
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 5 and f"{MODEL}, median over 3 tasks" in titles[-1]
    assert sum("median" in t for t in titles) == 1  # "other" has one task: no median panel
    x, y = named_lines(fig.axes[-1])["skip"]
    for n in (1, 4, T):
        assert y[n] == pytest.approx(np.mean([f_skip(s, s + n) for s in range(T - n + 1)]))


def tiny_vit():
    from tests import tiny

    return tiny.cached("vit")


def test_degradation_curves_single_panel_and_op_filter(df):
    ax = degradation_curves(df, "wiki text/2", ops=["skip", "parallel"])
    assert set(named_lines(ax)) == {"skip", "parallel", "parallel x2", "parallel x3", "parallel x4"}
    data = degradation_data(df, "wiki text/2", ops=["skip"])
    assert list(data.columns) == ["line", "n_affected", "normalised", "low", "high"] and len(data) == T + 1
    assert (data["low"] <= data["normalised"] + 1e-12).all() and (data["normalised"] <= data["high"] + 1e-12).all()


def test_degradation_marks_points_off_the_chart_and_draws_the_spread(df):
    low = df.copy()
    hit = (low["op"] == "skip") & (low["n_affected"] == T)
    low.loc[hit, "normalised"] = -2.32  # tiny-llama's full skip
    ax = degradation_curves(low, "wiki text/2", ops=["skip"])
    floor = ax.get_ylim()[0]
    assert floor == -1.0
    marks = [line for line in ax.get_lines() if line.get_marker() == "v"]
    assert len(marks) == 1 and marks[0].get_ydata()[0] == floor and marks[0].get_xdata()[0] == T
    assert any(t.get_text() == "-2.32" for t in ax.texts)
    assert ax.collections, "the spread band"


def test_a_variant_that_computes_the_unmodified_model_affects_no_layer():
    assert painters.plan(tiny_vit(), painters.reverse(3, 4)).computes_unmodified
    assert painters.plan(tiny_vit(), painters.parallel(3, 4)).computes_unmodified
    assert painters.plan(tiny_vit(), painters.shuffle(3, 4, seed=1)).computes_unmodified
    assert painters.plan(tiny_vit(), painters.middle_repeat(3, 4)).computes_unmodified  # 3 is the centre of 6
    assert not painters.plan(tiny_vit(), painters.middle_repeat(1, 2)).computes_unmodified
    assert not painters.plan(tiny_vit(), painters.parallel(3, 4, iterations=2)).computes_unmodified


def test_overview_figure_has_each_tasks_heatmap(df, tmp_path):
    fig = overview_figure(df, "skip")
    heatmaps = [ax for ax in fig.axes if ax.get_title()]  # the colour bars have no title
    assert [ax.get_title() for ax in heatmaps] == [f"skip on tiny-vit, {t}: normalised {m}" for t, m in TASKS.items()]
    for ax, task in zip(heatmaps, TASKS):
        np.testing.assert_array_equal(cells(ax), cells(range_heatmap(df, "skip", task)))
    four = pd.concat([df.assign(task=f"{t}-{k}") for k in range(2) for t in TASKS])
    fig = overview_figure(four, "swap")
    heatmaps = [ax for ax in fig.axes if ax.get_title()]
    assert len(heatmaps) == 4 and heatmaps[1].get_subplotspec().get_geometry()[:2] == (2, 2)  # a square
    np.testing.assert_array_equal(cells(heatmaps[3]), cells(swap_heatmap(df, "wiki text/2")))
    assert len(degradation_figure(four, median=False).axes) == 4
    only = df[(df["task"] == "wiki text/2") | (df["op"] != "swap")]
    assert len([ax for ax in overview_figure(only, "swap").axes if ax.get_title()]) == 1
    with pytest.raises(NoDataError):
        overview_figure(df, "middle_repeat")
    with pytest.raises(ValueError, match="op must be"):
        overview_figure(df, "bogus")
    assert_saves(fig, tmp_path)


def test_similarity_heatmap_values(tmp_path):
    matrix = np.fromfunction(lambda a, b: 1.0 - np.abs(a - b) / 20, (T, T))
    ax = similarity_heatmap(matrix, "fashion-mnist", model=MODEL)
    np.testing.assert_allclose(cells(ax), matrix)
    assert ax.get_title() == "layer similarity on tiny-vit, fashion-mnist: mean cosine"
    assert ticks(ax.get_yticklabels()) == [str(i) for i in range(T)]
    with pytest.raises(ValueError, match="square"):
        similarity_heatmap(np.ones((3, 4)))
    assert_saves(ax.figure, tmp_path)


def test_big_grids_are_not_annotated():
    layers = 20
    df = table([row("t", "skip", f_skip(s, e), layers, start=s, end=e) for s, e in spans(layers)])
    ax = range_heatmap(df, "skip")
    assert not ax.texts and cells(ax).shape == (layers, layers)


def test_plot_results_writes_supported_figures(tmp_path):
    full = task_rows("fashion-mnist")
    skip_only = [r for r in task_rows("wiki text/2", 6) if r["op"] in ("baseline", "skip")]
    table(full + skip_only).to_parquet(tmp_path / "results.parquet")
    (tmp_path / "similarity").mkdir()
    np.save(tmp_path / "similarity" / "wiki_text_2.npy", np.eye(6))
    paths = plot_results(tmp_path, formats=("png", "svg"))
    stems = [
        "skip_heatmap_fashion-mnist",
        "reverse_heatmap_fashion-mnist",
        "shuffle_heatmap_fashion-mnist",
        "parallel_heatmap_fashion-mnist",
        "swap_heatmap_fashion-mnist",
        "loop_heatmap_fashion-mnist",
        "skip_heatmap_wiki_text_2",
        "degradation",
        "similarity_wiki_text_2",
        "skip_heatmap_all",
        "swap_heatmap_all",
    ]
    expected = {tmp_path / "plots" / f"{stem}.{fmt}" for stem in stems for fmt in ("png", "svg")}
    assert set(paths) == expected and len(paths) == len(expected)
    assert sorted((tmp_path / "plots").iterdir()) == sorted(expected)  # nothing for absent kinds
    assert all(p.stat().st_size > 1000 for p in paths)
    with pytest.raises(FileNotFoundError):
        plot_results(tmp_path / "empty")
    chosen = plot_results(tmp_path, tmp_path / "chosen", figures=["degradation", "similarity"])
    assert sorted(p.name for p in chosen) == ["degradation.png", "similarity_wiki_text_2.png"]  # PNG by default
    with pytest.raises(UnknownNameError, match="Did you mean 'degradation'"):
        plot_results(tmp_path, tmp_path / "chosen", figures=["degradaton"])


def test_similarity_titles_name_the_model_of_their_task_and_plot_takes_formats(tmp_path, capsys, monkeypatch):
    import painters.plot.results as results
    from painters.cli import main

    rows = task_rows("fashion-mnist") + [
        {**r, "model": "other-model"} for r in task_rows("wiki text/2", 6) if r["op"] in ("baseline", "skip")
    ]
    table(rows).to_parquet(tmp_path / "results.parquet")
    (tmp_path / "similarity").mkdir()
    np.save(tmp_path / "similarity" / "wiki_text_2.npy", np.eye(6))
    titled = []
    draw = results.similarity_heatmap
    monkeypatch.setattr(results, "similarity_heatmap", lambda *a, **k: (titled.append(k["model"]), draw(*a, **k))[1])
    assert main(["plot", str(tmp_path), "--formats", "svg"]) == 0
    assert titled == ["other-model"]  # not every model of the sweep
    written = sorted((tmp_path / "plots").iterdir())
    assert written and all(p.suffix == ".svg" for p in written)
    assert main(["plot", str(tmp_path), "--formats", "pngg"]) == 2
    assert "cannot write figures as ['pngg']" in capsys.readouterr().err
