"""Fuzzing the validation: random sweep files and random op parameters give a clean error or a valid plan.

* sweep files: ``parse_sweep`` raises :class:`SweepError` (naming the file) or returns a config whose
  ``expand_ops`` raises SweepError or gives variants that each resolve to a plan naming only existing layers;
* ops: ``op_from_dict`` and the constructors, then ``resolve`` on random combinations, raise ``ValueError``
  (``PlanError``) with a message, or give a valid :class:`Plan`.

Anything else is a bug. Bugs already found (in modules this file's owner may not edit) are listed in ``KNOWN``:
the fuzzers count them instead of failing (none at present: every bug found so far is fixed, each with a regression
test at the end of this file).
Each fuzzer records how many cases it ran (printed with ``-s``; ``fuzz_cases`` in the JUnit properties).
"""

from __future__ import annotations

import os
import re
import traceback
from collections import Counter

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import painters
from painters.ops import OPS, Group
from painters.sweep.config import SweepError, parse_sweep
from painters.sweep.generators import expand_ops
from painters.tasks.registry import available

CASES: Counter[str] = Counter()
OUTCOMES: dict[str, Counter[str]] = {"sweep": Counter(), "ops": Counter()}  # outcome -> count, known bugs included
EXAMPLES = int(os.environ.get("PAINTERS_FUZZ_EXAMPLES", "300"))  # more for a long local run
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))

# Each known bug: (exception types, message pattern, the file the innermost frame of the traceback is in).
# See the regression tests at the end of this file.
KNOWN: dict = {}  # every bug the fuzzers found is fixed; regression tests below


def _known(exc: BaseException) -> str | None:
    """The KNOWN bug ``exc`` is, or None."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = frames[-1].filename.replace("\\", "/") if frames else ""
    for name, (kinds, pattern, path) in KNOWN.items():
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if type(exc) in kinds and re.search(pattern, str(exc)) and path in where:
            return name
    return None


def _outcome(fuzzer: str, what: str) -> None:
    OUTCOMES[fuzzer][what] += 1
    event(what)


def _tolerate(fuzzer: str, exc: BaseException) -> None:
    """Count a known bug; re-raise anything else."""
    name = _known(exc)
    if name is None:
        raise exc
    _outcome(fuzzer, f"known bug: {name}")


def _reraise(exc: BaseException):
    raise exc


def _check_plan(plan: painters.Plan, num_layers: int) -> None:
    """Every step names existing layers; one boundary per original layer, each a step count."""
    assert plan.num_layers == num_layers
    for step in plan.steps:
        if isinstance(step, Group):
            assert step.layers and all(type(i) is int and 0 <= i < num_layers for i in step.layers), plan
            assert type(step.iterations) is int and step.iterations >= 1, plan
        else:
            assert type(step) is int and 0 <= step < num_layers, plan
    assert len(plan.boundaries) == num_layers, plan
    assert all(0 <= b <= plan.num_steps for b in plan.boundaries), plan


def _refused(exc: ValueError) -> None:
    assert str(exc).strip(), f"{type(exc).__name__} without a message"


def _run(fuzzer, name: str, record_property) -> None:
    """Run a hypothesis fuzzer and report how many cases it ran."""
    before = CASES[name]
    fuzzer()
    ran = CASES[name] - before
    record_property("fuzz_cases", ran)
    print(f"\n{name}: {ran} fuzz cases; outcomes: {dict(sorted(OUTCOMES[name].items()))}")
    assert ran >= min(EXAMPLES, 100)


# -- values ---------------------------------------------------------------------------------------------------------

# small ints (layer indices around a 1..40-layer model, negatives), and ints too big for any index. Large but
# C-sized counts (seeds: 10**9, times: 10**9) are left out: they make expand_ops / resolve build billions of items
# (see test_absurd_counts_are_refused_by_the_schema).
INTS = st.one_of(st.integers(-3, 45), st.sampled_from([10**30, -(10**30), 2**64]))
COUNTS = st.one_of(st.integers(-2, 6), st.sampled_from([10**30, 2**64]))
TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["all", "adjacent", "everything", "", "12", "none", "skip"]))
SCALARS = st.one_of(st.none(), st.booleans(), INTS, st.floats(), TEXT)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=8,
)


# -- sweep files ----------------------------------------------------------------------------------------------------

WAYS = {"start": ("start", "end"), "ranges": ("ranges",), "paper_n": ("paper_n",), "i": ("i", "j"),
        "pairs": ("pairs",), "steps": ("steps",)}  # fmt: skip
OWN_WAYS = {"order": ("steps",), "swap": ("i", "pairs")}
EXTRA = {"shuffle": "seeds", "parallel": "iterations", "repeat": "times"}
FIELDS = ("start", "end", "ranges", "paper_n", "i", "j", "pairs", "seeds", "iterations", "times", "steps")
BAD_NAMES = st.one_of(st.sampled_from(["skipp", "Skip", "order_", "all", "classification"]), TEXT)
NOISE = st.one_of(
    st.text(max_size=6),
    st.sampled_from(
        [
            ":",
            "- ",
            "[",
            "]",
            "{",
            "}",
            "\t",
            "&a ",
            "*a",
            "!!int ",
            "!!python/object:os.system ",
            "'",
            '"',
            "\n  ",
            "#",
            "%",
        ]
    ),
)


class _Doc:
    """Draws the parts of a sweep file for a ``num_layers``-layer model. ``junk`` is the chance that any one
    choice goes wrong (a value of any type, a stray or missing key, an unknown name); 0 gives well-formed files
    whose values may still not fit the model (ranges past the end, N too big, i == j, ...)."""

    def __init__(self, draw, junk: float, num_layers: int) -> None:
        self.draw, self.junk, self.num_layers = draw, junk, num_layers

    def bad(self) -> bool:
        return self.junk > 0 and self.draw(st.integers(0, 999)) < 1000 * self.junk

    def pick(self, valid):
        return self.draw(JUNK) if self.bad() else self.draw(valid)

    def layer(self, low: int = 0) -> int:
        if self.bad():
            return self.draw(INTS)
        return self.draw(st.integers(low, self.num_layers + 1))

    def layers(self, max_size: int = 4) -> list:
        return [self.layer() for _ in range(self.draw(st.integers(0, max_size)))]

    def count(self, high: int = 4):
        """seeds / times / iterations: a count or a list of counts."""
        one = lambda: self.draw(COUNTS) if self.bad() else self.draw(st.integers(1, high))
        return one() if self.draw(st.booleans()) else [one() for _ in range(self.draw(st.integers(1, 3)))]

    def step(self):
        kind = self.draw(st.integers(0, 5))
        if kind <= 2:
            return self.layer()
        if kind <= 4:
            return [self.layer() for _ in range(self.draw(st.integers(1, 3)))]
        group = {"layers": [self.layer() for _ in range(self.draw(st.integers(1, 3)))]}
        if self.draw(st.booleans()):
            group["iterations"] = self.draw(st.integers(1, 3)) if not self.bad() else self.draw(SCALARS)
        return group

    def value(self, key: str):
        if self.bad():
            return self.draw(JUNK)
        if key in ("start", "i", "j"):
            return self.layer()
        if key == "end":
            return self.layer(low=1)
        if key == "ranges":
            if self.draw(st.booleans()):
                return "all"
            bounds = {"min_width": self.layer(low=1), "max_width": self.layer(low=1), "start": self.layer(),
                      "end": self.layer(low=1)}  # fmt: skip
            return {k: v for k, v in bounds.items() if self.draw(st.booleans())}
        if key == "paper_n":
            return self.draw(st.sampled_from(["all", self.layer(), self.layers(3)]))
        if key == "pairs":
            pairs = [[self.layer(), self.layer()] for _ in range(self.draw(st.integers(0, 3)))]
            return self.draw(st.sampled_from(["all", "adjacent", pairs]))
        if key == "steps":
            return [self.step() for _ in range(self.draw(st.integers(0, 8)))]
        return self.count(high=12 if key == "seeds" else 4)

    def op_params(self, name: str) -> dict:
        """One way of choosing spans, the op's extra; and, when things go wrong, another op's way, a stray
        field, a missing one, or a junk key."""
        way = self.draw(st.sampled_from(tuple(WAYS) if self.bad() else OWN_WAYS.get(name, ("start", "ranges",
                                                                                        "paper_n"))))  # fmt: skip
        keys = list(WAYS[way])
        if name in EXTRA and self.draw(st.booleans()):
            keys.append(EXTRA[name])
        if self.bad():
            keys.append(self.draw(st.sampled_from(FIELDS)))
        if self.bad():
            keys.pop(self.draw(st.integers(0, len(keys) - 1)))
        params = {key: self.value(key) for key in keys}
        if self.bad():
            params[self.draw(TEXT)] = self.draw(JUNK)
        return params

    def op(self):
        """One entry of ``ops:``, in any of the spellings the schema reads."""
        name = self.draw(BAD_NAMES) if self.bad() else self.draw(st.sampled_from(sorted(OPS)))
        form = self.draw(st.integers(0, 9))
        if form == 0:
            return {name: "all"}
        if form == 1 and name != "order":
            return {name: [self.layer(), self.layer(low=1)]}
        if form == 1:
            return {name: self.value("steps")}
        if form <= 5:
            return {name: self.op_params(name)}
        if form <= 8 or not self.bad():
            return {"op": name, **self.op_params(name)}
        return self.draw(JUNK)

    def task(self) -> dict:
        types = st.sampled_from(available())
        task = {
            "type": self.draw(BAD_NAMES) if self.bad() else self.draw(types),
            "data": self.pick(
                st.sampled_from(["data/x", "org/set", "./a.tsv"]).map(lambda d: d + str(self.draw(st.integers(0, 99))))
            ),
        }
        optional = {"split": st.sampled_from(["test", "validation"]), "limit": st.integers(1, 500),
                    "batch_size": st.integers(1, 64), "name": st.text(max_size=8),
                    "options": st.dictionaries(st.sampled_from(["bad_images", "label_map", "max_length"]), SCALARS,
                                               max_size=2)}  # fmt: skip
        for key, valid in optional.items():
            if self.draw(st.integers(0, 3)) == 0:
                task[key] = self.pick(valid)
        return task

    def model(self) -> dict:
        model = {"id": self.pick(st.sampled_from(["org/model", "models/tiny", "package:x"]).map(
            lambda d: d + str(self.draw(st.integers(0, 99)))))}  # fmt: skip
        optional = {"dtype": st.sampled_from(["float32", "bfloat16"]), "device": st.sampled_from(["cpu", "cuda:1"]),
                    "task_head": st.sampled_from(["auto", "causal-lm", "base"]), "stage": st.integers(0, 3),
                    "name": st.text(min_size=1, max_size=8)}  # fmt: skip
        for key, valid in optional.items():
            if self.draw(st.integers(0, 4)) == 0:
                model[key] = self.pick(valid)
        return model

    def sweep(self) -> dict:
        doc: dict = {"name": self.pick(st.sampled_from(["fuzz", "a.b-c_1"]))}
        if self.draw(st.integers(0, 4)):
            doc["model"] = self.model()
            doc["tasks"] = [self.task() for _ in range(self.draw(st.integers(1 if not self.bad() else 0, 3)))]
        else:
            doc["models"] = [{"model": self.model(), "tasks": [self.task()]} for _ in range(self.draw(st.integers(
                1, 2)))]  # fmt: skip
        doc["ops"] = [self.op() for _ in range(self.draw(st.integers(1 if not self.bad() else 0, 4)))]
        optional = {"baseline": st.booleans(), "description": TEXT, "runner": st.fixed_dictionaries(
            {}, optional={"chunk": st.integers(1, 64), "share": st.booleans(), "seed": INTS})}  # fmt: skip
        for key, valid in optional.items():
            if self.draw(st.booleans()):
                doc[key] = self.pick(valid)
        for part in (doc, *[t for run in doc.get("models", []) for t in (run, run["model"])]):
            if self.bad() and part:
                del part[self.draw(st.sampled_from(sorted(part)))]
        if self.bad():
            doc[self.draw(TEXT)] = self.draw(JUNK)
        return doc


@st.composite
def sweep_case(draw) -> tuple[str, int]:
    """(sweep YAML, layer count): a random document, as YAML, now and then cut or spliced with noise;
    sometimes plain random text."""
    num_layers = draw(st.integers(1, 40))
    junk = draw(st.sampled_from([0.0, 0.0, 0.0, 0.01, 0.05, 0.3]))
    if draw(st.integers(0, 19)) == 0:
        return draw(st.text(max_size=80)), num_layers
    doc = _Doc(draw, junk, num_layers).sweep()
    text = yaml.safe_dump(
        doc, allow_unicode=True, sort_keys=False, default_flow_style=draw(st.sampled_from([None, False]))
    )
    if junk and draw(st.integers(0, 3)) == 0:
        for _ in range(draw(st.integers(1, 3))):
            at, cut = draw(st.integers(0, len(text))), draw(st.integers(0, 3))
            text = text[:at] + draw(NOISE) + text[at + cut :]
    return text, num_layers


@FUZZ
@given(case=sweep_case())
def _fuzz_sweep(case: tuple[str, int]) -> None:
    text, num_layers = case
    CASES["sweep"] += 1
    try:
        config = parse_sweep(text, "fuzz.yaml")
    except SweepError as exc:
        assert str(exc).startswith("fuzz.yaml"), f"the error does not name the file: {exc}"
        _outcome("sweep", "parse_sweep: SweepError")
        return
    except Exception as exc:  # anything but SweepError is a bug
        _tolerate("sweep", exc)
        return
    try:
        variants = expand_ops(config.ops, num_layers, baseline=config.baseline)
    except SweepError as exc:
        _refused(exc)
        _outcome("sweep", "expand_ops: SweepError")
        return
    except Exception as exc:
        _tolerate("sweep", exc)
        return
    _outcome("sweep", f"valid sweep ({'some' if len(variants) > 1 else 'no'} variants)")
    bugs = set()
    for variant in variants:
        try:
            plan = painters.resolve(num_layers, variant.ops)  # expand_ops validated it: it must resolve
        except Exception as exc:
            bugs.add(_known(exc) or _reraise(exc))
            continue
        _check_plan(plan, num_layers)
    for name in bugs:  # once per case, not per variant
        _outcome("sweep", f"known bug: {name}")


def test_random_sweep_files_give_a_sweep_error_or_valid_plans(record_property):
    _run(_fuzz_sweep, "sweep", record_property)


# -- op parameters --------------------------------------------------------------------------------------------------

PARAM = st.one_of(
    INTS,
    st.floats(),
    st.sampled_from([1.0, 2.5, -0.0]),
    st.none(),
    st.booleans(),
    TEXT,
    st.lists(st.integers(-1, 41), max_size=3),
    st.tuples(st.integers(-1, 41)),
    st.dictionaries(TEXT, INTS, max_size=2),
)
OP_FIELDS = {"order": ("steps",), "swap": ("i", "j"), "repeat": ("start", "end", "times"),
             "shuffle": ("start", "end", "seed"), "parallel": ("start", "end", "iterations")}  # fmt: skip
OP_KEYS = ("start", "end", "i", "j", "times", "seed", "iterations", "steps", "steps_", "layers")
CONSTRUCTORS = {
    "skip": (painters.skip, 2), "swap": (painters.swap, 2), "repeat": (painters.repeat, 3),
    "reverse": (painters.reverse, 2), "shuffle": (painters.shuffle, 3), "parallel": (painters.parallel, 3),
    "middle_repeat": (painters.middle_repeat, 2),
}  # fmt: skip


class _Ops:
    """Draws op parameters for a ``num_layers``-layer model; ``junk`` is the chance that one choice goes wrong
    (a value of another type, a huge or negative int, an unknown op, a stray or missing key)."""

    def __init__(self, draw, junk: float, num_layers: int) -> None:
        self.draw, self.junk, self.num_layers = draw, junk, num_layers

    def bad(self) -> bool:
        return self.junk > 0 and self.draw(st.integers(0, 999)) < 1000 * self.junk

    def int_(self, low: int = 0, high: int | None = None):
        if self.bad():
            return self.draw(PARAM)
        return self.draw(st.integers(low, self.num_layers + 1 if high is None else high))

    def step(self):
        kind = self.draw(st.integers(0, 7))
        if kind <= 3:
            return self.int_()
        layers = [self.int_() for _ in range(self.draw(st.integers(1 if not self.bad() else 0, 3)))]
        if kind == 4:
            return tuple(layers)
        if kind == 5:
            return list(layers)
        if kind == 6:  # the dict form to_dict() writes; iterations optional, layers missing when things go wrong
            group = {} if self.bad() else {"layers": layers}
            if self.draw(st.booleans()):
                group["iterations"] = self.int_(1, 3)
            return group
        try:
            return Group(tuple(layers), self.int_(1, 3))
        except Exception:  # (Group itself is not under test: fall back to a tuple)
            return tuple(layers)

    def steps(self):
        return self.draw(PARAM) if self.bad() else [self.step() for _ in range(self.draw(st.integers(0, 8)))]

    def value(self, key: str):
        if key == "steps":
            return self.steps()
        if key in ("times", "iterations"):
            return self.int_(1, 4)
        if key == "seed":
            return self.draw(INTS) if self.bad() else self.draw(st.integers(-(2**70), 2**70))
        return self.int_(low=1 if key == "end" else 0)

    def from_dict(self) -> tuple[str, object]:
        name = self.draw(st.one_of(BAD_NAMES, SCALARS, st.lists(SCALARS, max_size=2))) if self.bad() else self.draw(
            st.sampled_from(sorted(OPS)))  # fmt: skip
        keys = list(OP_FIELDS.get(name, ("start", "end")) if isinstance(name, str) else ("start", "end"))
        if self.bad():
            keys.append(self.draw(st.sampled_from(OP_KEYS)))
        keys = [k for k in keys if not self.bad()]
        data = {key: self.value(key) for key in keys}
        if not self.bad():
            data["op"] = name
        if self.bad():
            data[self.draw(st.one_of(TEXT, st.integers(0, 3)))] = self.draw(PARAM)
        return f"op_from_dict({data!r})", lambda: painters.op_from_dict(data)

    def recipe(self) -> tuple[str, object]:
        """(a call, written out; the call) building one op."""
        how = self.draw(st.integers(0, 9))
        if how <= 3:
            return self.from_dict()
        if how <= 5:
            steps = self.steps()
            return f"order({steps!r})", lambda: painters.order(steps)
        name = self.draw(st.sampled_from(sorted(CONSTRUCTORS)))
        make, arity = CONSTRUCTORS[name]
        args = [self.int_(low=1 if k == 1 else 0) for k in range(2)]
        if arity == 3 and self.draw(st.booleans()):
            args.append(self.value({"repeat": "times", "shuffle": "seed", "parallel": "iterations"}[name]))
        return f"{name}{tuple(args)!r}", lambda: make(*args)


# layer counts: mostly real ones, sometimes junk (not a huge positive count: resolve builds one step per layer,
# so resolve(10**30, []) runs until memory runs out; the count comes from a model, not from a user)
JUNK_LAYERS = st.one_of(st.integers(-3, 0), st.none(), st.booleans(), st.floats(), TEXT, st.just(-(10**30)))


@st.composite
def ops_case(draw) -> tuple[list, object]:
    num_layers = draw(st.integers(1, 40))
    junk = draw(st.sampled_from([0.0, 0.0, 0.02, 0.1, 0.3]))
    gen = _Ops(draw, junk, num_layers)
    recipes = [gen.recipe() for _ in range(draw(st.integers(0, 4)))]
    return recipes, draw(JUNK_LAYERS) if gen.bad() else num_layers


@FUZZ
@given(case=ops_case())
def _fuzz_ops(case) -> None:
    recipes, num_layers = case
    CASES["ops"] += 1
    ops = []
    for _, make in recipes:
        try:
            op = make()
        except ValueError as exc:
            _refused(exc)
            _outcome("ops", "op refused")
            continue
        except Exception as exc:
            _tolerate("ops", exc)
            continue
        assert isinstance(op, painters.Op) and str(op)
        assert painters.op_from_dict(op.to_dict()) == op, op  # ops are values: they round-trip
        ops.append(op)
    try:
        plan = painters.resolve(num_layers, ops)
    except ValueError as exc:
        _refused(exc)
        _outcome("ops", "resolve refused")
        return
    except Exception as exc:
        _tolerate("ops", exc)
        return
    _outcome("ops", f"valid plan ({'some' if ops else 'no'} ops)")
    _check_plan(plan, num_layers)


def test_random_op_parameters_give_a_value_error_or_a_valid_plan(record_property):
    _run(_fuzz_ops, "ops", record_property)


def _raised(make) -> BaseException:
    try:
        make()
    except BaseException as exc:
        return exc
    raise AssertionError("nothing raised")


def test_the_known_bug_list_matches_nothing_ordinary():
    """The tolerated signatures are narrow: the type, the message and where it was raised must all match."""
    assert isinstance(_raised(lambda: painters.order([{"iterations": 2}])), painters.PlanError)
    assert _known(_raised(lambda: {}["layers"])) is None
    assert _known(_raised(lambda: painters.skip(4, 2))) is None
    assert isinstance(_raised(lambda: parse_sweep("x: !!int abc\n")), SweepError)
    assert _known(_raised(lambda: int("abc"))) is None


# -- regression tests: the bugs the fuzzers found, each fixed ------------------------------------------------

HEAD = "name: fuzz\nmodel: {id: org/model}\ntasks: [{type: perplexity, data: data/x}]\n"


def _sweep_refuses(ops: str, num_layers: int = 12) -> None:
    """The sweep is refused with a SweepError, at parse time or when expanded (not any other exception)."""
    with pytest.raises(SweepError):
        config = parse_sweep(HEAD + ops, "fuzz.yaml")
        for v in expand_ops(config.ops, num_layers):
            painters.resolve(num_layers, v.ops)


def _refuses(make) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        make()


def test_repeat_with_a_huge_times_is_refused():
    _refuses(lambda: painters.resolve(12, [painters.repeat(0, 1, times=10**30)]))


def test_sweep_with_a_huge_times_is_refused():
    _sweep_refuses("ops: [{repeat: {start: 1, end: 3, times: 1000000000000000000000000000000}}]\n")


def test_sweep_with_a_huge_seed_count_is_refused():
    _sweep_refuses("ops: [{shuffle: {start: 1, end: 3, seeds: 1000000000000000000000000000000}}]\n")


@pytest.mark.parametrize(
    "op",
    [
        "shuffle: {start: 1, end: 3, seeds: 1000000000}",
        "repeat: {start: 1, end: 3, times: 1000000000}",
        "parallel: {start: 1, end: 3, iterations: 1000000000}",
    ],
)
def test_absurd_counts_are_refused_by_the_schema(op):
    with pytest.raises(SweepError):
        parse_sweep(HEAD + f"ops: [{{{op}}}]\n", "fuzz.yaml")


@pytest.mark.parametrize("via", ["order", "op_from_dict", "sweep"])
def test_order_dict_step_without_layers_is_refused(via):
    if via == "sweep":
        _sweep_refuses("ops: [{order: [0, {a: 1}]}]\n")
    elif via == "order":
        _refuses(lambda: painters.order([0, {"a": 1}]))
    else:
        _refuses(lambda: painters.op_from_dict({"op": "order", "steps": [{"iterations": 2}]}))


@pytest.mark.parametrize("steps", [[[None]], [[1, [2]]], [{"layers": 5}], [{"layers": [1], "iterations": None}]])
def test_order_groups_of_the_wrong_type_are_refused(steps):
    _refuses(lambda: painters.order(steps))


@pytest.mark.parametrize("steps", [[(1.7, 2)], [(True, 2)], [{"layers": [1], "iterations": 1.5}]])
def test_order_groups_refuse_non_integers_like_plain_steps(steps):
    _refuses(lambda: painters.order(steps))


def test_op_from_dict_with_an_unhashable_name_is_refused():
    _refuses(lambda: painters.op_from_dict({"op": ["skip"], "start": 1, "end": 2}))


def test_op_from_dict_with_mixed_key_types_is_refused():
    _refuses(lambda: painters.op_from_dict({"op": "skip", "start": 1, "end": 2, 0: 1, "x": 2}))


@pytest.mark.parametrize("text", ["[" * 3000, "name: " + "[" * 1500 + "]" * 1500], ids=["open", "closed"])
def test_deeply_nested_yaml_is_refused(text):
    with pytest.raises(SweepError):
        parse_sweep(text, "fuzz.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "name: !!int abc\n",
        "name: !!int\n",
        "!!int name: fuzz\n",
        "name: !!float ''\n",
        "name: !!bool maybe\n",
        "name: !!timestamp 2001-13-45\n",
        "name: !!int 0x\n",
    ],
)
def test_yaml_tagged_scalars_that_do_not_convert_are_refused(text):
    with pytest.raises(SweepError):
        parse_sweep(text, "fuzz.yaml")
