"""The ``ops:`` entries of a sweep file, built from the op registry: one typed (pydantic) model per op.

Each op's spec model holds its selector's keys (how a sweep chooses where the op applies) and one key per other
parameter, taking one value or a list of values (``seeds: 10`` means seeds ``0..9``; ``all`` where the op declares
what it means). The ``ops:`` list is a union discriminated by ``op``, resolved against :data:`painters.ops.OPS`
when a file is validated, so an op registered by a plugin is usable in sweeps with no change here.

Selectors:

- ``range``: ``start`` and ``end``, or ``ranges`` (``all`` or ``{min_width, max_width, start, end}``), or
  ``paper_n`` (``all``, N or a list: the paper's spans ``[N+1, T-N)``);
- ``pair``: ``i`` and ``j``, or ``pairs`` (``all``, ``adjacent`` or a list of ``[i, j]``);
- ``steps``: ``steps`` (a list of layers and ``[a, b]`` parallel groups);
- ``params``: only the op's own parameters.
"""

from __future__ import annotations

import difflib
import itertools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from painters.ops import OPS, Op, paper_span
from painters.ops.base import ParamInfo


class RangeBounds(BaseModel):
    """``ranges:`` as a mapping: every range whose width and position fall inside these bounds."""

    model_config = ConfigDict(extra="forbid")
    min_width: int = Field(default=1, ge=1)
    max_width: int | None = Field(default=None, ge=1)
    start: int | None = Field(default=None, ge=0, description="only ranges starting at or after this layer")
    end: int | None = Field(default=None, ge=1, description="only ranges ending at or before this layer")


class OpSpec(BaseModel):
    """Base of every op's sweep spec; ``op`` names the registered op."""

    model_config = ConfigDict(extra="forbid")
    op: str

    def op_class(self) -> type[Op]:
        return OPS[self.op]

    def param_values(self, num_layers: int) -> list[dict[str, Any]]:
        """Every combination of the op's own parameter values this spec lists (one dict per combination)."""
        axes = []
        for info in _free_params(self.op_class()):
            value = getattr(self, info.sweep_key)
            if value is None:
                continue
            if value == "all":
                values = list(info.meta.every(num_layers))  # type: ignore[misc]
            elif isinstance(value, list):
                values = value
            elif info.meta.count:
                values = list(range(value))
            else:
                values = [value]
            axes.append([(info.name, v) for v in values])
        return [dict(combo) for combo in itertools.product(*axes)]

    def placements(self, num_layers: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Where the op applies: ``(selector params, record metadata)`` pairs (e.g. ``({start, end}, {paper_n})``)."""
        return SELECTORS[self.op_class().selector].placements(self, num_layers)


def _free_params(cls: type[Op]) -> list[ParamInfo]:
    return [i for i in cls.params() if i.name not in cls.selector_params()]


# -- selectors ---------------------------------------------------------------------------------------------------
class _Selector:
    fields: dict[str, Any] = {}
    keys: tuple[str, ...] = ()

    def check(self, spec: OpSpec) -> None: ...

    def shorthand(self, value: Any) -> dict[str, Any] | None:
        """``- op: all`` / ``- op: [a, b]``: the mapping they stand for, or None."""
        return None

    def placements(self, spec: OpSpec, num_layers: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [({}, {})]


def _ranges_value(value: Any) -> Any:
    if isinstance(value, str) and value != "all":
        raise ValueError(f"ranges must be 'all' or a mapping {{min_width, max_width, start, end}}, got {value!r}")
    return value


class _Range(_Selector):
    fields = {
        "start": (int | None, Field(default=None, ge=0)),
        "end": (int | None, Field(default=None, ge=1)),
        "ranges": (Annotated[Literal["all"] | RangeBounds | None, BeforeValidator(_ranges_value)], None),
        "paper_n": (Literal["all"] | list[int] | int | None, None),
    }
    keys = ("start", "end", "ranges", "paper_n")

    def check(self, spec: OpSpec) -> None:
        chosen = [k for k in ("start", "ranges", "paper_n") if getattr(spec, k) is not None]
        if spec.end is not None and spec.start is None:
            chosen.append("end")
        if len(chosen) != 1 or chosen[0] not in ("start", "ranges", "paper_n") or (
            chosen == ["start"] and spec.end is None
        ):  # fmt: skip
            raise ValueError(
                f"{spec.op} needs exactly one of: 'start' and 'end', 'ranges' ('all' or {{min_width, max_width}}), "
                f"'paper_n' ('all', N or a list of N); got {chosen or 'none'}"
            )

    def shorthand(self, value: Any) -> dict[str, Any] | None:
        if value == "all":
            return {"ranges": "all"}
        if isinstance(value, list) and len(value) == 2:
            return dict(zip(("start", "end"), value))
        return None

    def placements(self, spec: OpSpec, num_layers: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        if spec.start is not None:
            return [({"start": spec.start, "end": spec.end}, {})]
        if spec.paper_n is not None:
            ns = range((num_layers - 2) // 2 + 1) if spec.paper_n == "all" else _as_list(spec.paper_n)
            return [(dict(zip(("start", "end"), paper_span(num_layers, n))), {"paper_n": n}) for n in ns]
        bounds = spec.ranges if isinstance(spec.ranges, RangeBounds) else RangeBounds()
        widest = num_layers if bounds.max_width is None else bounds.max_width
        first = 0 if bounds.start is None else bounds.start
        last = num_layers if bounds.end is None else bounds.end
        return [
            ({"start": s, "end": e}, {})
            for s in range(first, last)
            for e in range(s + 1, last + 1)
            if bounds.min_width <= e - s <= widest
        ]


class _Pair(_Selector):
    fields = {
        "i": (int | None, Field(default=None, ge=0)),
        "j": (int | None, Field(default=None, ge=0)),
        "pairs": (Literal["all", "adjacent"] | list[tuple[int, int]] | None, None),
    }
    keys = ("i", "j", "pairs")

    def check(self, spec: OpSpec) -> None:
        chosen = [k for k in ("i", "j", "pairs") if getattr(spec, k) is not None]
        if chosen not in (["i", "j"], ["pairs"]):
            raise ValueError(
                f"{spec.op} needs 'i' and 'j', or 'pairs' ('all', 'adjacent' or a list of [i, j]); got "
                f"{chosen or 'none'}"
            )

    def shorthand(self, value: Any) -> dict[str, Any] | None:
        if value == "all":
            return {"pairs": "all"}
        if isinstance(value, list) and len(value) == 2:
            return dict(zip(("i", "j"), value))
        return None

    def placements(self, spec: OpSpec, num_layers: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        if spec.i is not None:
            pairs = [(spec.i, spec.j)]
        elif spec.pairs == "all":
            pairs = list(itertools.combinations(range(num_layers), 2))
        elif spec.pairs == "adjacent":
            pairs = [(i, i + 1) for i in range(num_layers - 1)]
        else:
            pairs = [tuple(p) for p in spec.pairs]
        return [({"i": i, "j": j}, {}) for i, j in pairs]


class _Steps(_Selector):
    fields = {"steps": (list[Any] | None, None)}
    keys = ("steps",)

    def check(self, spec: OpSpec) -> None:
        if spec.steps is None:
            raise ValueError(f"{spec.op} needs exactly 'steps' (a list of layers and [a, b] parallel groups)")

    def shorthand(self, value: Any) -> dict[str, Any] | None:
        return {"steps": value} if isinstance(value, list) else None

    def placements(self, spec: OpSpec, num_layers: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [({"steps_": spec.steps}, {})]


class _Params(_Selector):
    def shorthand(self, value: Any) -> dict[str, Any] | None:
        return None


SELECTORS: dict[str, _Selector] = {"range": _Range(), "pair": _Pair(), "steps": _Steps(), "params": _Params()}


def _as_list(value: int | list[int]) -> list[int]:
    return list(value) if isinstance(value, list) else [value]


# -- the per-op models -------------------------------------------------------------------------------------------
def _sweep_type(info: ParamInfo) -> tuple[Any, Any]:
    """The pydantic type of a parameter's sweep key: one value, a list of values, ``all`` where declared."""
    meta = info.meta
    if info.type is int:
        one = Annotated[int, Field(ge=meta.minimum, le=meta.maximum)]
        scalar = Annotated[int, Field(ge=1, le=10_000)] if meta.count else one
        options: list[Any] = [scalar, list[one]]
    elif meta.choices is not None:
        choice = Literal[meta.choices]  # type: ignore[valid-type]
        options = [choice, list[choice]]
    else:
        options = [info.type, list[info.type]]
    if meta.every is not None:
        options.append(Literal["all"])
    kind = options[0]
    for option in options[1:]:
        kind = kind | option
    return kind | None, Field(default=None, description=meta.doc)


_MODELS: dict[type[Op], type[OpSpec]] = {}


def spec_model(cls: type[Op]) -> type[OpSpec]:
    """The sweep spec model of an op class (built once from its declaration)."""
    if cls not in _MODELS:
        selector = SELECTORS[cls.selector]
        fields: dict[str, Any] = {"op": (Literal[cls.name], ...), **selector.fields}  # type: ignore[valid-type]
        for info in _free_params(cls):
            fields[info.sweep_key] = _sweep_type(info)

        def _one_way(self: OpSpec) -> OpSpec:
            selector.check(self)
            return self

        _MODELS[cls] = create_model(
            f"{cls.__name__}Spec",
            __base__=OpSpec,
            __doc__=f"Sweep spec of {cls.name}: {cls.summary().strip().splitlines()[0]}",
            __validators__={"_one_way": model_validator(mode="after")(_one_way)},
            **fields,
        )
    return _MODELS[cls]


def sweep_keys(cls: type[Op]) -> list[str]:
    """Every key a sweep file's entry for this op may hold (``op`` aside)."""
    return [*SELECTORS[cls.selector].keys, *(i.sweep_key for i in _free_params(cls))]


def shorthand(item: Any) -> Any:
    """``- skip: all`` / ``- skip: [4, 8]`` / ``- skip: {ranges: all}`` as ``{op: skip, ...}``; others unchanged."""
    if not (isinstance(item, dict) and "op" not in item and len(item) == 1):
        return item
    ((name, params),) = item.items()
    if isinstance(name, str) and name in OPS and not isinstance(params, dict):
        expanded = SELECTORS[OPS[name].selector].shorthand(params)
        if expanded is None:
            raise ValueError(f"op {name!r}: expected 'all', [start, end] or a mapping of parameters, got {params!r}")
        params = expanded
    if not isinstance(params, dict):
        params = {}
    return {"op": name, **params}


def _key_error(key: str, value: Any, message: str) -> ValidationError:
    detail = InitErrorDetails(type=PydanticCustomError("unknown_key", message), loc=(key,), input=value)
    return ValidationError.from_exception_data("OpSpec", [detail])


def validate_op_spec(value: Any) -> OpSpec:
    """One ``ops:`` entry as the spec model of the op it names (unknown ops and keys get "did you mean")."""
    if isinstance(value, OpSpec):
        return value
    value = shorthand(value)
    if not isinstance(value, dict) or "op" not in value:
        raise ValueError(f"an op entry is a mapping like {{op: skip, ranges: all}} or `skip: all`, got {value!r}")
    name = value["op"]
    if not isinstance(name, str) or name not in OPS:
        raise ValueError(OPS.unknown_message(name))
    cls = OPS[name]
    keys = sweep_keys(cls)
    for key in value:
        if key == "op" or key in keys:
            continue
        owners = [other for other in OPS if key in sweep_keys(OPS[other])]
        close = difflib.get_close_matches(str(key), keys, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        owned = f" ('{key}' only applies to {', '.join(owners)})" if owners else ""
        raise _key_error(key, value[key], f"{key!r} is not a key of {name}{owned}.{hint} Its keys: {', '.join(keys)}")
    return spec_model(cls).model_validate(value)
