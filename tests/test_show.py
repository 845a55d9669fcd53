"""``painters show`` and ``painters compare`` on small hand-written results tables (no models): natural order, the
model column, --rows, formats that parse back, filters with 'did you mean', a closed pipe, side-by-side diffs, and
the median aggregate."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from painters.cli import main

ROOT = Path(__file__).resolve().parents[1]
NAN = math.nan


def row(model: str, task: str, variant: str, normalised: float, score: float | None = None, **fields) -> dict:
    op = variant.split("-")[0]
    numbers = [int(p) for p in variant.split("-")[1:] if p.isdigit()]
    start, end = (numbers + [None, None])[:2]
    return {
        "sweep": "test",
        "model": model,
        "task": task,
        "task_type": "classification",
        "variant": variant,
        "op": op,
        "params": "[]",
        "n_affected": 0 if start is None else end - start,
        "num_layers": 12,
        "metric": "top1",
        "score": normalised if score is None else score,
        "baseline": 1.0,
        "chance": 0.0,
        "normalised": normalised,
        "status": "ok",
        "seconds": 0.1,
        "steps": "0|1|2",
        "start": start,
        "end": end,
        **fields,
    }


def write(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows)
    for column in ("start", "end", "n_affected"):
        frame[column] = frame[column].astype("Int64")
    frame.to_parquet(folder / "results.parquet")
    return folder


def show(capsys, *args: str) -> tuple[int, str, str]:
    code = main([*args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


VARIANTS = ["skip-10-11", "skip-2-3", "baseline", "skip-1-2", "swap-2-10", "swap-2-3"]
NATURAL = ["baseline", "skip-1-2", "skip-2-3", "skip-10-11", "swap-2-3", "swap-2-10"]


@pytest.fixture
def results(tmp_path: Path) -> Path:
    rows = [row(m, t, v, 0.5) for m in ("vit-b", "vit-a") for t in ("mnist", "cifar") for v in VARIANTS]
    return write(tmp_path / "r", rows)


def table_rows(out: str) -> list[list[str]]:
    lines = [line.split() for line in out.splitlines() if line.strip()]
    return [line for line in lines[1:] if not line[0].startswith("...")]


def test_natural_order_and_the_model_column(results: Path, capsys) -> None:
    code, out, err = show(capsys, "show", str(results))
    assert code == 0 and not err
    header = out.splitlines()[0].split()
    assert header[:3] == ["model", "task", "variant"]
    rows = table_rows(out)
    assert [r[0] for r in rows] == ["vit-a"] * 12 + ["vit-b"] * 12
    assert [r[1] for r in rows[:12]] == ["cifar"] * 6 + ["mnist"] * 6
    assert [r[2] for r in rows[:6]] == NATURAL


def test_rows_limits_what_is_printed(results: Path, capsys) -> None:
    code, out, _ = show(capsys, "show", str(results), "--rows", "3")
    assert code == 0
    assert len(table_rows(out)) == 3
    assert "... 21 more rows" in out
    _, out, _ = show(capsys, "show", str(results), "--rows", "0")
    assert len(table_rows(out)) == 24 and "more rows" not in out
    _, out, _ = show(capsys, "show", str(results), "--rows", "5", "--format", "csv")
    assert len(pd.read_csv(io.StringIO(out))) == 5
    code, _, err = show(capsys, "show", str(results), "--rows", "-1")
    assert code == 2 and err.count("\n") == 1 and "--rows -1" in err


def test_numbers_are_readable(tmp_path: Path, capsys) -> None:
    folder = write(
        tmp_path / "n",
        [
            row("m", "t", "baseline", 1.0, score=0.123456),
            row("m", "t", "skip-0-1", 0.987654, score=12345.678),
            row("m", "t", "skip-1-2", NAN, score=NAN, status="nonfinite"),
        ],
    )
    _, out, _ = show(capsys, "show", str(folder))
    rows = {r[2]: r for r in table_rows(out)}
    header = out.splitlines()[0].split()
    score, normalised = header.index("score"), header.index("normalised")
    assert rows["baseline"][score] == "0.1235" and rows["baseline"][normalised] == "1.000"
    assert rows["skip-0-1"][score] == "12350" and rows["skip-0-1"][normalised] == "0.988"
    assert rows["skip-1-2"][score] == "-" and rows["skip-1-2"][normalised] == "-"
    _, out, _ = show(capsys, "show", str(folder), "--format", "csv")  # csv keeps every digit
    assert pd.read_csv(io.StringIO(out))["score"].tolist()[:2] == [0.123456, 12345.678]
    _, out, _ = show(capsys, "show", str(folder), "--format", "json")  # so does json, with null for NaN
    assert [(r["score"], r["normalised"]) for r in json.loads(out)] == [
        (0.123456, 1.0),
        (12345.678, 0.987654),
        (None, None),
    ]


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown", "json"])
def test_each_format_parses_back(results: Path, capsys, fmt: str) -> None:
    code, out, err = show(capsys, "show", str(results), "--format", fmt, "--model", "vit-a", "--task", "mnist")
    assert code == 0 and not err
    if fmt == "csv":
        frame = pd.read_csv(io.StringIO(out))
        assert frame["variant"].tolist() == NATURAL and set(frame["model"]) == {"vit-a"}
    elif fmt == "json":
        records = json.loads(out)
        assert [r["variant"] for r in records] == NATURAL and records[0]["model"] == "vit-a"
        assert records[0]["score"] == 0.5 and records[0]["steps"] == "0|1|2"
    elif fmt == "markdown":
        lines = out.splitlines()
        assert lines[0].startswith("| model | task | variant |")
        assert set(lines[1].replace("|", "").split()) <= {"---", "---:"}
        assert len(lines) == 2 + 6 and all(line.startswith("| vit-a | mnist |") for line in lines[2:])
    else:
        assert [r[2] for r in table_rows(out)] == NATURAL


def test_filters_repeat_and_combine(results: Path, capsys) -> None:
    _, out, _ = show(capsys, "show", str(results), "--op", "skip", "--op", "baseline", "--task", "cifar")
    rows = table_rows(out)
    assert len(rows) == 8 and {r[1] for r in rows} == {"cifar"}
    assert {r[2].split("-")[0] for r in rows} == {"skip", "baseline"}
    _, out, _ = show(capsys, "show", str(results), "--model", "vit-a", "--model", "vit-b", "--op", "swap")
    assert len(table_rows(out)) == 8


def test_an_unknown_filter_value_says_what_there_is(results: Path, capsys) -> None:
    code, out, err = show(capsys, "show", str(results), "--op", "skp")
    assert code == 2 and not out
    assert err.count("\n") == 1
    assert "unknown op 'skp'" in err and "Did you mean 'skip'?" in err and "baseline, skip, swap" in err
    code, _, err = show(capsys, "compare", str(results), str(results), "--model", "vit-c")
    assert code == 2 and "Did you mean" in err and "vit-a, vit-b" in err and err.count("\n") == 1


def test_a_missing_folder_is_one_line(tmp_path: Path, capsys) -> None:
    code, _, err = show(capsys, "show", str(tmp_path / "nope"))
    assert code == 2 and err.count("\n") == 1 and "painters run FILE" in err


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    rows = [row("m", f"task-{t}", f"skip-{i}-{i + 1}", 0.5) for t in range(30) for i in range(100)]
    folder = write(tmp_path / "big", rows)  # far more than a pipe holds: the writer meets the closed pipe
    for fmt in ("table", "csv"):
        done = subprocess.run(
            f"'{sys.executable}' -m painters.cli show '{folder}' --rows 0 --format {fmt} | head -1",
            shell=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.stdout.startswith("model"), done.stdout
        assert "Broken pipe" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    done = subprocess.run(
        f"'{sys.executable}' -m painters.cli show '{folder}' --rows 0 | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and not done.stderr


def test_compare_side_by_side(tmp_path: Path, capsys) -> None:
    common = [row("m", "t", "baseline", 1.0), row("m", "t", "skip-2-3", 0.5)]
    a = write(tmp_path / "a", [*common, row("m", "t", "skip-10-11", 0.8), row("m", "t", "skip-1-2", 0.3)])
    b = write(tmp_path / "b", [*common, row("m", "t", "skip-10-11", 0.7), row("m", "t", "swap-0-1", 0.9)])
    code, out, err = show(capsys, "compare", str(a), str(b), "--format", "csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert frame.columns.tolist() == [
        "model", "task", "variant", "score_A", "score_B", "diff", "normalised_A", "normalised_B", "present",
    ]  # fmt: skip
    assert frame["variant"].tolist() == ["baseline", "skip-1-2", "skip-2-3", "skip-10-11", "swap-0-1"]
    rows = frame.set_index("variant")
    assert rows.loc["skip-10-11", "diff"] == pytest.approx(-0.1)
    assert rows.loc["skip-2-3", "diff"] == 0
    assert rows.loc["skip-1-2", "present"] == "A only" and math.isnan(rows.loc["skip-1-2", "score_B"])
    assert rows.loc["swap-0-1", "present"] == "B only" and math.isnan(rows.loc["swap-0-1", "diff"])
    assert err.strip() == (
        "3 variants compared (model, task, variant in both), 1 differ, max |diff| 0.1 (m / t / skip-10-11); "
        "1 only in A, 1 only in B"
    )  # the summary goes to stderr in the machine formats
    code, out, err = show(capsys, "compare", str(a), str(b))
    assert code == 0 and not err
    assert out.splitlines()[-1].startswith("3 variants compared") and "1 differ" in out
    assert "A only" in out and "B only" in out
    rows = {r[2]: r for r in table_rows(out) if len(r) > 3 and r[0] == "m"}
    assert rows["skip-10-11"][3:6] == ["0.8", "0.7", "-0.1"]
    assert rows["skip-1-2"][3:9] == ["0.3", "-", "-", "0.300", "-", "A"]
    code, out, err = show(capsys, "compare", str(a), str(b), "--op", "swap", "--format", "json")
    assert [r["variant"] for r in json.loads(out)] == ["swap-0-1"] and "0 variants compared" in err


def test_median_aggregate(tmp_path: Path, capsys) -> None:
    scores = {  # task -> variant -> normalised
        "t1": {"baseline": 1.0, "skip-0-1": 0.2, "skip-1-2": 0.8, "swap-0-1": 0.6},
        "t2": {"baseline": 1.0, "skip-0-1": 0.5, "skip-1-2": 0.7, "swap-0-1": 0.9},
        "t3": {"baseline": 1.0, "skip-0-1": 0.9, "skip-1-2": NAN, "swap-0-1": 0.3},
    }
    rows = [row("m", t, v, s) for t, by in scores.items() for v, s in by.items()]
    rows.append(row("m", "t4", "skip-0-1", -50.0, status="error"))  # a failed run does not count
    rows.append(row("other", "t1", "skip-0-1", 0.4))
    folder = write(tmp_path / "agg", rows)
    code, out, err = show(capsys, "show", str(folder), "--aggregate", "median", "--format", "csv")
    assert code == 0 and not err
    frame = pd.read_csv(io.StringIO(out))
    assert frame[["model", "variant"]].values.tolist() == [
        ["m", "baseline"], ["m", "skip-1-2"], ["m", "swap-0-1"], ["m", "skip-0-1"], ["other", "skip-0-1"],
    ]  # fmt: skip
    assert frame["median_normalised"].tolist() == pytest.approx([1.0, 0.75, 0.6, 0.5, 0.4])
    assert frame["tasks"].tolist() == [3, 2, 3, 3, 1]
    code, out, _ = show(capsys, "show", str(folder), "--aggregate", "median")
    assert code == 0
    # ops of m: skip = median(0.5, 0.75) = 0.625, swap = 0.6; the baseline is no op
    assert "  m: skip 0.625 (2 variants), swap 0.600 (1 variant)\n" in out
    assert "  other: skip 0.400 (1 variant)\n" in out
    assert out.index("median_normalised") < out.index("ops by median")
    _, out, _ = show(capsys, "show", str(folder), "--aggregate", "median", "--rows", "2", "--task", "t1")
    assert [r[1] for r in table_rows(out) if len(r) > 2 and r[0] == "m"] == ["baseline", "skip-1-2"]
