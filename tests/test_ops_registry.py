"""Every registered op, enumerated from the registry: its declaration drives sweeps, records, figures and the CLI;
and an op defined in one file (here, in this test) works everywhere with no other change."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest
import torch

import painters
from painters.errors import PlanError
from painters.ops import OPS, RangeOp, Step, param, register_op
from painters.sweep.config import SweepError, parse_sweep
from painters.sweep.generators import expand_op, expand_ops
from painters.sweep.op_specs import spec_model, sweep_keys, validate_op_spec
from painters.sweep.scoring import op_columns
from painters.sweep.store import integer_columns

TESTS = Path(__file__).parent


def _op_names_in(path: Path) -> set[str]:
    """The op constructors a test file calls (``painters.skip(...)``)."""
    tree = ast.parse(path.read_text())
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "painters"
    }  # fmt: skip


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_has_an_exactness_case_and_a_value_object_case(name):
    exact = set().union(*(_op_names_in(p) for p in TESTS.glob("test_core_*.py") if p.name != "test_core_ops.py"))
    assert name in exact, f"add a {name} case to test_core_exactness.CASES (or an exactness test in test_core_*.py)"
    assert name in _op_names_in(TESTS / "test_core_ops.py"), f"add a {name} op to test_core_ops.ALL_OPS"


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_declares_what_the_rest_of_painters_reads(name):
    from painters.plot.kinds import FIGURES

    cls = OPS[name]
    assert cls.summary().strip() and cls.figures and cls.example, "docstring, figures and a sweep example"
    assert set(cls.figures) <= set(FIGURES), f"{name} declares figure kinds that are not registered"
    assert getattr(painters, name) is cls.constructor and getattr(painters.ops, name) is cls.constructor
    for info in cls.params():
        assert info.meta.doc, f"{name}.{info.name} needs a doc"
    keys = sweep_keys(cls)
    assert set(cls.example) <= set(keys)
    variants = expand_op(validate_op_spec({"op": name, **cls.example}), 12)
    ids = [v.id for v in variants]
    assert variants and len(set(ids)) == len(ids), "variant ids must tell variants apart"
    for v in variants:
        (op,) = v.ops
        op.validate(12)
        assert painters.op_from_dict(op.to_dict()) == op
        assert set(op.columns()) <= set(op_columns())
        assert {k for k, val in op.columns().items() if isinstance(val, int)} <= set(integer_columns())
        assert 0 <= op.affected(12) <= 12
    schema = spec_model(cls).model_json_schema()
    assert schema["properties"]["op"]["const"] == name


@pytest.mark.parametrize("name", [n for n in OPS if OPS[n].selector != "steps"])
def test_every_op_parses_from_lm_eval_arguments(name):
    from painters.integrations.lm_eval import parse_ops

    (op,) = expand_op(validate_op_spec({"op": name, **OPS[name].example}), 12)[0].ops
    text = name + ":" + ":".join(str(v) for v in dataclasses.astuple(op))
    assert parse_ops(text) == (op,)


def test_a_misspelt_sweep_key_names_the_op_and_suggests():
    with pytest.raises(
        SweepError, match=r"line 5, ops\[0\]\.seed: 'seed' is not a key of shuffle.*Did you mean 'seeds'"
    ):
        parse_sweep(
            "name: t\nmodel: {id: m}\ntasks: [{type: classification}]\nops:\n  - shuffle: {ranges: all, seed: 3}\n"
        )


# -- an op added in one file -------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Rotate(RangeOp):
    """Run ``[start, end)`` rotated left by ``shift`` places (a test plugin)."""

    name: ClassVar[str] = "rotate"
    example: ClassVar[dict[str, Any]] = {"ranges": {"min_width": 3, "max_width": 3}, "shifts": [1, 2]}
    figures: ClassVar[tuple[str, ...]] = ("range_heatmap", "degradation")
    shift: int = param(1, "places to rotate by", minimum=1, sweep="shifts", id_prefix="r", split=True)

    def validate(self, num_layers: int) -> None:
        super().validate(num_layers)
        if self.shift >= self.end - self.start:
            raise PlanError(f"{self}: shift must be below the range's width {self.end - self.start}.")

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        layers = list(range(self.start, self.end))
        return tuple(layers[self.shift :] + layers[: self.shift])


def rotate(start: int, end: int, shift: int = 1) -> Rotate:
    """Rotate ``[start, end)`` left by ``shift``."""
    return Rotate(start, end, shift)


@pytest.fixture
def plugin():
    register_op(Rotate, rotate)
    try:
        yield Rotate
    finally:
        OPS.unregister("rotate")


def test_a_plugin_op_runs_exactly_in_a_notebook(plugin, tiny_model):
    model = tiny_model("llama")
    x = {"input_ids": torch.randint(0, 50, (2, 7)), "use_cache": False}
    op = painters.rotate(1, 5, shift=3)
    assert painters.plan(model, op).describe() == "0 4 1 2 3 5"
    with torch.no_grad(), painters.apply(model, op):
        rotated = model(**x).logits
    with torch.no_grad(), painters.apply(model, painters.order([0, 4, 1, 2, 3, 5])):
        reference = model(**x).logits
    assert torch.equal(rotated, reference)


def test_a_plugin_op_works_in_sweeps_records_and_figures(plugin, tmp_path):
    from painters.integrations.lm_eval import parse_ops
    from painters.plot import plot_results
    from painters.sweep.runner import SweepRunner
    from tests import sweep_fixtures as F

    assert parse_ops("rotate:1:5:2") == (painters.rotate(1, 5, 2),)
    config = parse_sweep(
        f"name: plug\nmodel: {{id: {F.save_vit(tmp_path, layers=4)}}}\n"
        f"tasks: [{{type: classification, data: {F.save_imagefolder(tmp_path)}, split: test}}]\n"
        "ops:\n  - rotate: {ranges: {min_width: 3}, shifts: [1, 2]}\n"
    )
    assert [v.id for v in expand_ops(config.ops, 4)] == [
        "baseline", "rotate-0-3-r1", "rotate-0-3-r2", "rotate-0-4-r1", "rotate-0-4-r2", "rotate-1-4-r1",
        "rotate-1-4-r2",
    ]  # fmt: skip
    SweepRunner(config, tmp_path / "out", progress=False).run()
    table = pd.read_parquet(tmp_path / "out" / "results.parquet")
    row = table.set_index("variant").loc["rotate-0-4-r2"]
    assert (row.op, row.start, row.end, row["shift"], row.n_affected, row.steps) == ("rotate", 0, 4, 2, 4, "2 3 0 1")
    assert str(table["shift"].dtype) == "Int64"
    stems = {p.stem for p in plot_results(tmp_path / "out", formats=("png",))}
    assert {"rotate_r1_heatmap_classification_shapes", "rotate_r2_heatmap_classification_shapes"} <= stems
    with pytest.raises(SweepError, match=r"ops\[0\] \(rotate\): rotate\(start=0, end=3, shift=3\): shift must be"):
        expand_ops([validate_op_spec({"op": "rotate", "ranges": {"min_width": 3}, "shifts": [3]})], 4)
