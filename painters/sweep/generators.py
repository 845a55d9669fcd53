"""Expanding a sweep's op specs into concrete variants, so nobody lists variants by hand."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

from painters.ops import Op, op_from_dict, paper_span
from painters.sweep.config import OpSpec, SweepError


@dataclass(frozen=True)
class Variant:
    """One model variant of a sweep: its ops and the generator parameters that produced them."""

    ops: tuple[Op, ...]
    paper_n: int | None = None

    @property
    def id(self) -> str:
        """A stable, readable id, e.g. ``skip-4-8``, ``shuffle-4-8-s3``, ``parallel-4-8-x3``; ``baseline``."""
        if not self.ops:
            return "baseline"
        return "+".join(_op_id(op) for op in self.ops)

    @property
    def op_name(self) -> str:
        return "+".join(op.name for op in self.ops) or "baseline"

    def params(self) -> str:
        return json.dumps([op.to_dict() for op in self.ops], sort_keys=True)


def _op_id(op: Op) -> str:
    d = op.to_dict()
    name = d.pop("op")
    if name == "order":
        return "order-" + "_".join(
            "p".join(map(str, s["layers"])) if isinstance(s, dict) else str(s) for s in d["steps"]
        )
    suffix = {"seed": "s", "iterations": "x", "times": "x"}
    parts = [
        str(v) if k not in suffix else f"{suffix[k]}{v}"
        for k, v in d.items()
        if not (k in ("iterations", "times") and v == (1 if k == "iterations" else None))
    ]
    return "-".join([name, *parts])


def _as_list(value: int | list[int] | None, default: list[int]) -> list[int]:
    if value is None:
        return default
    return list(value) if isinstance(value, list) else [value]


def _spans(spec: OpSpec, num_layers: int) -> list[tuple[tuple[int, int], int | None]]:
    if spec.start is not None:
        return [((spec.start, spec.end), None)]  # type: ignore[list-item]
    if spec.paper_n is not None:
        ns = list(range((num_layers - 2) // 2 + 1)) if spec.paper_n == "all" else _as_list(spec.paper_n, [])
        return [(paper_span(num_layers, n), n) for n in ns]
    bounds = spec.ranges
    lo = 1 if bounds == "all" else bounds.min_width  # type: ignore[union-attr]
    hi = num_layers if bounds == "all" or bounds.max_width is None else bounds.max_width  # type: ignore[union-attr]
    first = 0 if bounds == "all" or bounds.start is None else bounds.start  # type: ignore[union-attr]
    last = num_layers if bounds == "all" or bounds.end is None else bounds.end  # type: ignore[union-attr]
    return [((s, e), None) for s in range(first, last) for e in range(s + 1, last + 1) if lo <= e - s <= hi]


def expand_op(spec: OpSpec, num_layers: int) -> list[Variant]:
    """All variants one op spec stands for on a model of ``num_layers`` layers."""
    if spec.op == "order":
        return [Variant((op_from_dict({"op": "order", "steps": spec.steps}),))]
    if spec.op == "swap":
        if spec.i is not None:
            pairs = [(spec.i, spec.j)]
        elif spec.pairs == "all":
            pairs = list(itertools.combinations(range(num_layers), 2))
        elif spec.pairs == "adjacent":
            pairs = [(i, i + 1) for i in range(num_layers - 1)]
        else:
            pairs = [tuple(p) for p in spec.pairs]  # type: ignore[union-attr]
        return [Variant((op_from_dict({"op": "swap", "i": i, "j": j}),)) for i, j in pairs]
    extra: list[dict] = [{}]
    if spec.op == "shuffle":
        seeds = spec.seeds if isinstance(spec.seeds, list) else list(range(spec.seeds if spec.seeds is not None else 1))
        extra = [{"seed": s} for s in seeds]
    elif spec.op == "parallel":
        extra = [{"iterations": k} for k in _as_list(spec.iterations, [1])]
    elif spec.op == "repeat":
        extra = [{"times": k} for k in _as_list(spec.times, [2])]
    return [
        Variant((op_from_dict({"op": spec.op, "start": s, "end": e, **x}),), paper_n=n)
        for (s, e), n in _spans(spec, num_layers)
        for x in extra
    ]


def expand_ops(specs: list[OpSpec], num_layers: int, baseline: bool = True, locate=None) -> list[Variant]:
    """Every variant of a sweep, each once, validated against the model's layer count (the baseline first).
    ``locate`` turns a field location into "FILE, line N, field" for the error message."""
    out: dict[str, Variant] = {}
    if baseline:
        out["baseline"] = Variant(())
    for index, spec in enumerate(specs):
        try:
            variants = expand_op(spec, num_layers)
            for v in variants:
                for op in v.ops:
                    op.validate(num_layers)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            where = locate(("ops", index)) if locate is not None else f"ops[{index}]"
            raise SweepError(f"{where} ({spec.op}): {exc}") from None
        for v in variants:
            out.setdefault(v.id, v)
    return list(out.values())
