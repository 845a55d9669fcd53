"""The sweep file schema and the op generators (no model loaded)."""

from __future__ import annotations

import pytest

from painters.sweep.config import SweepError, parse_sweep
from painters.sweep.generators import expand_ops

HEAD = "name: demo\nmodel: {id: some/model}\ntasks:\n  - {type: classification, data: images, limit: 10}\n"


def sweep(ops_yaml: str):
    return parse_sweep(HEAD + "ops:\n" + ops_yaml, "demo.yaml")


def ids(ops_yaml: str, layers: int = 12) -> list[str]:
    return [v.id for v in expand_ops(sweep(ops_yaml).ops, layers, baseline=False)]


def test_every_contiguous_range_of_a_12_layer_model():
    assert len(ids("  - skip: all\n")) == 78  # 12 * 13 / 2, width 12 included
    assert "skip-0-12" in ids("  - skip: all\n")


@pytest.mark.parametrize(
    "ops, count",
    [
        ("  - skip: {ranges: {max_width: 3}}\n", 12 + 11 + 10),
        ("  - skip: {ranges: {min_width: 2, max_width: 2}}\n", 11),
        ("  - reverse: {ranges: {start: 2, end: 10, min_width: 2}}\n", 28),
        ("  - swap: all\n", 66),
        ("  - swap: {pairs: adjacent}\n", 11),
        ("  - swap: {pairs: [[2, 9], [3, 4]]}\n", 2),
        ("  - shuffle: {paper_n: all, seeds: 10}\n", 6 * 10),
        ("  - shuffle: {paper_n: [1, 3], seeds: [0, 7]}\n", 4),
        ("  - parallel: {paper_n: all, iterations: [1, 2, 3]}\n", 18),
        ("  - repeat: {start: 4, end: 6, times: [2, 3]}\n", 2),
        ("  - middle_repeat: {paper_n: 2}\n", 1),
        ("  - order: [0, 1, [2, 3], 5]\n", 1),
        ("  - skip: [4, 8]\n  - skip: {start: 4, end: 8}\n", 1),  # duplicates collapse
    ],
)
def test_generator_counts(ops, count):
    assert len(ids(ops)) == count


def test_paper_n_all_gives_the_paper_spans():
    assert ids("  - skip: {paper_n: all}\n") == [
        "skip-1-12",
        "skip-2-11",
        "skip-3-10",
        "skip-4-9",
        "skip-5-8",
        "skip-6-7",
    ]


def test_variant_ids_are_readable_and_unique():
    got = ids(
        "  - shuffle: {start: 4, end: 8, seeds: 2}\n  - parallel: {start: 4, end: 8, iterations: [1, 3]}\n"
        "  - repeat: {start: 4, end: 6}\n  - swap: [2, 9]\n"
    )
    assert got == ["shuffle-4-8-s0", "shuffle-4-8-s1", "parallel-4-8", "parallel-4-8-x3", "repeat-4-6-x2", "swap-2-9"]


def test_fingerprint_ignores_description_and_chunk_but_not_ops():
    a = parse_sweep(HEAD + "ops: [skip: all]\n")
    b = parse_sweep(HEAD + "description: x\nrunner: {chunk: 5}\nops: [skip: all]\n")
    c = parse_sweep(HEAD + "ops: [reverse: all]\n")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


@pytest.mark.parametrize(
    "text, message",
    [
        (HEAD + "ops:\n  - skip: {ranges: everything}\n", r"demo.yaml, line 6, ops\[0\].ranges: ranges must be 'all'"),
        (HEAD + "ops:\n  - skipp: all\n", r"line 6, ops\[0\]: unknown op 'skipp'"),
        (HEAD + "ops:\n  - skip: {start: 4}\n", r"line 6, ops\[0\]: skip needs exactly one of"),
        (HEAD + "ops:\n  - skip: {start: 4, end: 8, seeds: 3}\n", r"'seeds' only applies to shuffle"),
        (HEAD + "ops:\n  - skip: {ranges: {max_width: 0}}\n", r"ops\[0\].ranges.max_width: .*greater than or equal"),
        (
            "name: demo\nmodel: {id: m, dtype: fp8}\ntasks: [{type: classification}]\nops: [skip: all]\n",
            r"line 2, model.dtype: Input should be 'float32', 'float16' or 'bfloat16' \(got 'fp8'\)",
        ),
        (
            "name: demo\nmodel: {id: m}\ntasks: [{type: clasification}]\nops: [skip: all]\n",
            r"line 3, tasks\[0\].type: unknown task 'clasification'. Did you mean 'classification'",
        ),
        ("name: demo\nmodel: {id: m}\ntasks: []\nops: [skip: all]\n", r"line 3, tasks: List should have at least 1"),
        (
            "name: demo\nmodel: {id: m}\ntasks: [{type: classification}]\nops: [skip: all]\nextra: 1\n",
            r"line 5, extra: Extra inputs are not permitted",
        ),
        ("name: demo\nmodel: {id: m\n", r"demo.yaml, line 3, column 1: not valid YAML"),
        ("- just\n- a list\n", r"a sweep file is a mapping"),
        ("name: has space\nmodel: {id: m}\ntasks: [{type: classification}]\nops: [skip: all]\n", r"line 1, name"),
    ],
)
def test_bad_sweep_files_name_file_line_field_and_value(text, message):
    with pytest.raises(SweepError, match=message):
        parse_sweep(text, "demo.yaml")


def test_spans_are_validated_against_the_model():
    with pytest.raises(SweepError, match=r"ops\[0\] \(skip\): .*\[4, 20\).*12 layers"):
        expand_ops(sweep("  - skip: [4, 20]\n").ops, 12)


def test_layer_evaluation_counts_match_the_design_figures():
    from painters.plan import resolve
    from painters.sweep.sharing import layer_evaluations

    plans = [resolve(12, v.ops) for v in expand_ops(sweep("  - skip: all\n").ops, 12, baseline=False)]
    assert layer_evaluations(plans, share=False, num_layers=12) == 584  # design.md section 4
    assert layer_evaluations(plans, share=True, num_layers=12) == 298


def test_several_models_in_one_sweep():
    cfg = parse_sweep(
        "name: zoo\nmodels:\n  - model: {id: a/vit}\n    tasks: [{type: classification, data: x}]\n"
        "  - model: {id: b/llama}\n    tasks: [{type: perplexity, data: y}]\nops: [skip: all]\n"
    )
    assert [run.model.display for run in cfg.runs] == ["vit", "llama"]
    with pytest.raises(SweepError, match="either 'model' and 'tasks', or 'models'"):
        parse_sweep(
            "name: z\nmodel: {id: m}\nmodels: [{model: {id: m}, tasks: [{type: classification}]}]\nops: [skip: all]\n"
        )
    with pytest.raises(SweepError, match="task names must be unique"):
        parse_sweep(
            "name: z\nmodels:\n  - model: {id: a/m1}\n    tasks: [{type: perplexity, data: t}]\n"
            "  - model: {id: b/m}\n    tasks: [{type: perplexity, data: t}]\nops: [skip: all]\n"
        )
