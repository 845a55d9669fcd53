"""What every layer op is: an immutable value object that declares its own parameters, and the op registry.

An op names a half-open range of ORIGINAL layers ``[start, end)`` (0-indexed) and says what runs in its place;
it is resolved against a model's layer count by :func:`painters.plan.resolve` and on its own knows nothing about
any model. Each op class declares, next to its code, everything the rest of painters needs to know about it:

- its parameters (dataclass fields made with :func:`param`: type, bounds, doc, how a sweep lists their values);
- ``selector``: how a sweep file chooses where it applies (``"range"``, ``"pair"``, ``"steps"`` or ``"params"``,
  see :mod:`painters.ops.selectors`);
- ``figures``: the figure kinds its results are drawn in (see :mod:`painters.plot.results`);
- its variant id (:meth:`Op.variant_id`) and its columns in a results record (:meth:`Op.columns`).

Ops print, compare, hash, and round-trip through :meth:`Op.to_dict` / :func:`op_from_dict`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, get_type_hints

from painters.errors import PlanError
from painters.registry import Registry

MAX_COUNT = 10_000
"""Upper bound of repeat ``times`` and parallel ``iterations`` (a plan must stay a plan, not a memory bomb)."""


@dataclass(frozen=True)
class Group:
    """A parallel step: every layer in ``layers`` reads the same input; the step's output is the mean of their
    outputs. ``iterations`` > 1 feeds the mean back in that many times (the paper's looped parallel)."""

    layers: tuple[int, ...]
    iterations: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.layers, (str, bytes)) or not hasattr(self.layers, "__iter__"):
            raise PlanError(f"a parallel group lists layer indices, got {self.layers!r}.")
        layers = tuple(self.layers)
        for i in layers:
            if isinstance(i, bool) or not isinstance(i, int) or i < 0:
                raise PlanError(f"a parallel group's layers must be integers >= 0, got {i!r} in {list(layers)!r}.")
        if not layers:
            raise PlanError("a parallel group must list at least one layer, got [].")
        if (
            isinstance(self.iterations, bool)
            or not isinstance(self.iterations, int)
            or not 1 <= self.iterations <= MAX_COUNT
        ):
            raise PlanError(
                f"a parallel group's iterations must be an integer in 1..{MAX_COUNT}, got {self.iterations!r}."
            )
        object.__setattr__(self, "layers", layers)

    @property
    def calls(self) -> int:
        """Number of layer calls this step makes."""
        return len(self.layers) * self.iterations


@dataclass(frozen=True)
class Wrapped:
    """A step run through a registered step kind (:data:`painters.executor.STEP_KINDS`): ``inner`` (a layer or a
    :class:`Group`) runs as ``kind`` says, e.g. ``"isolate_cls"`` runs it on the CLS and patch tokens separately.
    ``args`` are the kind's parameters (plain, hashable values). Added by modifier ops (:meth:`Op.modify`)."""

    inner: int | Group
    kind: str
    args: tuple = ()

    @property
    def layers(self) -> tuple[int, ...]:
        return self.inner.layers if isinstance(self.inner, Group) else (self.inner,)

    @property
    def calls(self) -> int:
        """Layer calls of the inner step (a kind may call them on parts of the input; they share the slots)."""
        return self.inner.calls if isinstance(self.inner, Group) else 1


Step = int | Group | Wrapped
"""One execution step: an original layer index, a :class:`Group` run in parallel, or a :class:`Wrapped` step."""


def step_label(step: Step) -> str:
    """``"5"`` for a layer, ``"(1|2|3)x3"`` for a parallel group run three times, ``"5[isolate_cls]"``."""
    if isinstance(step, Wrapped):
        detail = f":{step.args[0]}" if step.args and isinstance(step.args[0], str) else ""
        return f"{step_label(step.inner)}[{step.kind}{detail}]"
    if isinstance(step, Group):
        return "(" + "|".join(map(str, step.layers)) + ")" + (f"x{step.iterations}" if step.iterations > 1 else "")
    return str(step)


def wrap(step: Step, kind: str, op: Op, *args: Any) -> Wrapped:
    """``step`` run as ``kind`` (for :meth:`Op.modify`); a step another modifier already wraps is refused."""
    if isinstance(step, Wrapped):
        raise PlanError(
            f"{op} would run step {step_label(step)} as {kind} too; two modifiers cannot change how the same step "
            f"runs (give them ranges that do not overlap)."
        )
    return Wrapped(step, kind, args)


def step_layers(step: Step) -> tuple[int, ...]:
    """The original layers a step runs (once each, whatever the iterations)."""
    return step.layers if isinstance(step, (Group, Wrapped)) else (step,)


def step_calls(step: Step) -> int:
    """How many layer calls a step makes (a group's layers once per iteration)."""
    return step.calls if isinstance(step, (Group, Wrapped)) else 1


def unwrap(step: Step) -> int | Group:
    """The layer or group a step runs, without its wrapping."""
    return step.inner if isinstance(step, Wrapped) else step


_UNSET: Any = object()


@dataclass(frozen=True)
class Param:
    """What an op declares about one parameter (attached to its dataclass field by :func:`param`).

    Attributes:
        doc: one line for ``painters ls ops`` and the docs.
        minimum, maximum: inclusive bounds of an integer parameter (None: unbounded).
        choices: the allowed values of a string parameter.
        sweep: the key a sweep file lists its values under (default: the parameter's name), e.g. ``seeds``.
        count: in a sweep, an integer ``N`` means the values ``0..N-1`` (shuffle's ``seeds: 10``).
        every: what ``all`` means in a sweep for a model of ``T`` layers (None: ``all`` is not allowed).
        id_prefix: the parameter appears in the variant id as ``{id_prefix}{value}`` (e.g. ``s3`` for seed 3).
        id_hide: a value left out of the variant id and of figure labels (parallel's ``iterations=1``).
        split: figures draw one heatmap / one line per value of this parameter (parallel iterations, repeat
            times); the value is named in the label unless it is ``id_hide`` or the only value present.
        omit_default: :meth:`Op.to_dict` leaves the parameter out at its default (a parameter added later keeps
            the dict form, and so the records, of the ops written before it).
    """

    doc: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] | None = None
    sweep: str | None = None
    count: bool = False
    every: Callable[[int], list[Any]] | None = None
    id_prefix: str = ""
    id_hide: Any = _UNSET
    split: bool = False
    omit_default: bool = False

    def hides(self, value: Any) -> bool:
        return self.id_hide is not _UNSET and value == self.id_hide


def param(default: Any = dataclasses.MISSING, doc: str = "", **meta: Any) -> Any:
    """A dataclass field of an op, with what the op declares about it (see :class:`Param`)."""
    return dataclasses.field(default=default, metadata={"painters": Param(doc, **meta)})


@dataclass(frozen=True)
class ParamInfo:
    """One parameter of an op: name, Python type, default (``dataclasses.MISSING`` when required), declaration."""

    name: str
    type: Any
    default: Any
    meta: Param

    @property
    def required(self) -> bool:
        return self.default is dataclasses.MISSING

    @property
    def sweep_key(self) -> str:
        return self.meta.sweep or self.name


_PARAMS: dict[type, list[ParamInfo]] = {}

OPS: Registry[type[Op]] = Registry("op")
"""Every layer op by name (``painters ls ops``), in registration order (the paper's order for the built-ins)."""


def register_op(cls: type[Op], constructor: Callable[..., Op] | None = None) -> type[Op]:
    """Add an op class to the registry under ``cls.name``; ``constructor`` is the public function a notebook user
    calls (``painters.skip``), reachable as ``painters.<name>`` and ``painters.ops.<name>``. Usable as a class
    decorator."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a class attribute `name`")
    if cls.selector not in ("range", "pair", "steps", "params"):
        raise ValueError(f"{cls.__name__}.selector must be 'range', 'pair', 'steps' or 'params', got {cls.selector!r}")
    cls.constructor = staticmethod(constructor) if constructor is not None else None
    OPS.register(cls.name, cls)
    return cls


@dataclass(frozen=True)
class Op:
    """Base class of all layer operations (see the module docstring for what a subclass declares)."""

    name: ClassVar[str] = ""
    selector: ClassVar[str] = "range"
    modifier: ClassVar[bool] = False
    """A modifier does not replace a span: it changes how the resolved plan's steps run (:meth:`modify`), after
    every span op is placed; it may overlap them."""
    figures: ClassVar[tuple[str, ...]] = ("degradation",)
    example: ClassVar[dict[str, Any]] = {}
    """A sweep-file entry for this op (its keys without ``op``), shown by ``painters ls ops`` and tested."""
    constructor: ClassVar[Callable[..., Op] | None] = None

    def __post_init__(self) -> None:
        for info in self.params():
            if info.name in self.selector_params():
                continue
            value = getattr(self, info.name)
            if info.type is int:
                _check_int(self, info.name, value, info.meta.minimum, info.meta.maximum)
            elif info.meta.choices is not None and value not in info.meta.choices:
                raise PlanError(f"{self.name}: {info.name} must be one of {list(info.meta.choices)}, got {value!r}.")

    # -- declarations ------------------------------------------------------------------------------------------
    @classmethod
    def params(cls) -> list[ParamInfo]:
        """Every parameter in constructor order."""
        cached = _PARAMS.get(cls)
        if cached is None:
            hints = get_type_hints(cls)
            cached = _PARAMS[cls] = [
                ParamInfo(f.name, hints.get(f.name, Any), f.default, f.metadata.get("painters") or Param(""))
                for f in dataclasses.fields(cls)
            ]
        return cached

    @classmethod
    def selector_params(cls) -> tuple[str, ...]:
        """The parameters a sweep's selector supplies (``start``/``end``, ``i``/``j``, ``steps``)."""
        return {"range": ("start", "end"), "pair": ("i", "j"), "steps": ("steps_",), "params": ()}[cls.selector]

    @classmethod
    def summary(cls) -> str:
        return cls.__doc__ or ""

    @classmethod
    def from_args(cls, args: list[str]) -> Op:
        """The op from string arguments in constructor order (``["4", "8"]`` for ``skip(4, 8)``): the lm-eval
        ``ops=skip:4:8`` syntax."""
        infos = cls.params()
        if len(args) > len(infos):
            raise PlanError(
                f"{cls.name} takes at most {len(infos)} arguments ({', '.join(i.name for i in infos)}), "
                f"got {len(args)}: {args!r}."
            )
        values = []
        for info, text in zip(infos, args):
            if info.type is int:
                try:
                    values.append(int(text))
                except ValueError:
                    raise PlanError(f"{cls.name}: {info.name} must be an integer, got {text!r}.") from None
            else:
                values.append(text)
        return (cls.constructor or cls)(*values)

    # -- what a model-free plan needs --------------------------------------------------------------------------
    def span(self, num_layers: int) -> tuple[int, int]:
        """The half-open range ``[start, end)`` of original layers this op replaces."""
        return self.start, self.end  # type: ignore[attr-defined]

    def steps(self, num_layers: int) -> tuple[Step, ...]:
        """What runs in place of the span, for a model of ``num_layers`` layers."""
        raise NotImplementedError

    def validate(self, num_layers: int) -> None:
        """Raise :class:`PlanError` if this op cannot apply to a model of ``num_layers`` layers."""
        start, end = self.span(num_layers)
        _check_range(self, start, end, num_layers)

    def modify(self, steps: tuple[Step, ...], boundaries: tuple[int, ...], num_layers: int) -> tuple[Step, ...]:
        """A modifier's rewrite of the resolved steps (same number of steps); ``boundaries[b]`` is how many steps
        have run at "the state after original layer b"."""
        raise NotImplementedError

    def check_model(self, located: Any, modules: list) -> None:
        """Raise :class:`~painters.errors.UnsupportedModelError` if this op cannot run exactly on this model
        (called before the model is touched; ``located`` is the layer stack found)."""

    # -- what sweeps, records and figures need -----------------------------------------------------------------
    def variant_id(self) -> str:
        """A stable, readable id: the name, then the parameters in order (``shuffle-4-8-s3``)."""
        parts = [self.name]
        for info in self.params():
            value = getattr(self, info.name)
            if not info.meta.hides(value):
                parts.append(f"{info.meta.id_prefix}{value}")
        return "-".join(parts)

    def columns(self) -> dict[str, Any]:
        """This op's columns in a results record: its scalar parameters by name."""
        return {i.name: getattr(self, i.name) for i in self.params() if i.type in (int, str, float, bool)}

    def affected(self, num_layers: int) -> int:
        """How many original layers this op changes (the degradation figure's x axis): the span's width."""
        start, end = self.span(num_layers)
        return end - start

    def to_dict(self) -> dict[str, Any]:
        """A plain dict ``{"op": name, **params}`` that :func:`op_from_dict` turns back into this op."""
        params = {
            f.name: _plain(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if not (f.metadata.get("painters", Param("")).omit_default and getattr(self, f.name) == f.default)
        }
        return {"op": self.name, **params}

    def __str__(self) -> str:
        shown = self.to_dict()
        params = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.name in shown)
        return f"{self.name}({params})"


def _plain(value: Any) -> Any:
    if isinstance(value, Group):
        return {"layers": list(value.layers), "iterations": value.iterations}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _check_int(op: Op, field: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanError(f"{op.name}: {field} must be an integer, got {value!r} ({type(value).__name__}).")
    if minimum is not None and value < minimum:
        raise PlanError(f"{op.name}: {field} must be >= {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise PlanError(f"{op.name}: {field} must be <= {maximum}, got {value}.")


def _check_range(op: Op, start: int, end: int, num_layers: int) -> None:
    if not 0 <= start < end <= num_layers:
        raise PlanError(
            f"{op}: the range [start, end) = [{start}, {end}) is not a non-empty range of this model's "
            f"{num_layers} layers; allowed: 0 <= start < end <= {num_layers} (ranges are half-open, 0-indexed)."
        )


@dataclass(frozen=True)
class RangeOp(Op):
    """Base of the ops that rewrite one range ``[start, end)``."""

    start: int = param(doc="first original layer of the range (0-indexed)", minimum=0)
    end: int = param(doc="the layer after the range's last (half-open)", minimum=1)

    def __post_init__(self) -> None:
        _check_int(self, "start", self.start, 0)
        _check_int(self, "end", self.end, 1)
        if self.end <= self.start:
            raise PlanError(
                f"{self.name}: empty range [start, end) = [{self.start}, {self.end}); end must be greater than "
                f"start (ranges are half-open, 0-indexed)."
            )
        super().__post_init__()


def op_from_dict(data: dict[str, Any]) -> Op:
    """Rebuild an op from :meth:`Op.to_dict` output, e.g. ``{"op": "skip", "start": 4, "end": 8}``."""
    if not isinstance(data, dict) or "op" not in data:
        raise PlanError(f"an op must be a mapping with an 'op' key naming one of {sorted(OPS)}; got {data!r}.")
    params = dict(data)
    name = params.pop("op")
    if not isinstance(name, str) or name not in OPS:
        raise PlanError(OPS.unknown_message(name))
    cls = OPS[name]
    renamed = {f.name: f.name.rstrip("_") for f in dataclasses.fields(cls)}  # steps_ is written `steps`
    fields = sorted(renamed.values())
    unknown = sorted(set(params) - set(fields), key=str)
    if unknown:
        raise PlanError(f"op {name!r} has no parameter {unknown[0]!r}; its parameters are {fields}.")
    params = {field: params[key] for field, key in renamed.items() if key in params}
    try:
        return cls(**params)
    except TypeError as exc:
        raise PlanError(f"op {name!r}: {exc}; its parameters are {fields}.") from None


def paper_span(num_layers: int, n: int) -> tuple[int, int]:
    """The paper's middle span for its argument ``n``: layers ``[n + 1, num_layers - n)``.

    Layers ``0..n`` and ``num_layers - n .. num_layers - 1`` are kept; ``num_layers - 2n - 1`` layers are affected.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= (num_layers - 2) // 2:
        raise PlanError(
            f"paper_span: N={n!r} leaves no middle layer in a {num_layers}-layer model; "
            f"allowed: 0 <= N <= {(num_layers - 2) // 2} (the span is [N+1, T-N))."
        )
    return n + 1, num_layers - n
