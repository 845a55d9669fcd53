"""Expanding a sweep's op specs into concrete variants, so nobody lists variants by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass

from painters.ops import Op
from painters.sweep.config import SweepError
from painters.sweep.op_specs import OpSpec


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
        return "+".join(op.variant_id() for op in self.ops)

    @property
    def op_name(self) -> str:
        return "+".join(op.name for op in self.ops) or "baseline"

    def params(self) -> str:
        return json.dumps([op.to_dict() for op in self.ops], sort_keys=True)


def expand_op(spec: OpSpec, num_layers: int) -> list[Variant]:
    """All variants one op spec stands for on a model of ``num_layers`` layers: every placement its selector
    gives (ranges, pairs, ...) times every combination of its parameter values."""
    cls = spec.op_class()
    return [
        Variant((cls(**where, **values),), paper_n=meta.get("paper_n"))
        for where, meta in spec.placements(num_layers)
        for values in spec.param_values(num_layers)
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
