"""Ops and plans as data: no model is loaded here."""

from __future__ import annotations

import random

import pytest

import painters
from painters.ops import Group

ALL_OPS = [
    painters.skip(4, 8),
    painters.swap(2, 9),
    painters.repeat(3, 6, times=3),
    painters.reverse(1, 11),
    painters.shuffle(2, 10, seed=7),
    painters.parallel(4, 8, iterations=3),
    painters.middle_repeat(3, 9),
    painters.order([0, 1, (2, 3), 5, 5, 11]),
    painters.isolate_cls(4),
    painters.keep_cls_only(10),
]


@pytest.mark.parametrize("op", ALL_OPS, ids=str)
def test_op_is_a_value_object(op):
    again = painters.op_from_dict(op.to_dict())
    assert again == op and hash(again) == hash(op) and str(again) == str(op)
    assert {op: 1}[again] == 1


def test_dict_form_is_plain_data():
    assert painters.skip(4, 8).to_dict() == {"op": "skip", "start": 4, "end": 8}
    assert painters.order([1, (2, 3)]).to_dict() == {"op": "order", "steps": [1, {"layers": [2, 3], "iterations": 1}]}


@pytest.mark.parametrize(
    "ops, steps",
    [
        ((painters.skip(4, 8),), [0, 1, 2, 3, 8, 9, 10, 11]),
        ((painters.swap(9, 2),), [0, 1, 9, 3, 4, 5, 6, 7, 8, 2, 10, 11]),
        ((painters.repeat(3, 5, times=3),), [0, 1, 2, 3, 4, 3, 4, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
        ((painters.reverse(8, 12),), [0, 1, 2, 3, 4, 5, 6, 7, 11, 10, 9, 8]),
        ((painters.middle_repeat(2, 5),), [0, 1, 6, 6, 6, 5, 6, 7, 8, 9, 10, 11]),
        ((painters.parallel(1, 4, iterations=2),), [0, Group((1, 2, 3), 2), 4, 5, 6, 7, 8, 9, 10, 11]),
        ((painters.order([3, (1, 2)]),), [3, Group((1, 2))]),
        ((painters.reverse(8, 10), painters.skip(0, 2)), [2, 3, 4, 5, 6, 7, 9, 8, 10, 11]),
    ],
)
def test_resolved_steps(ops, steps):
    assert list(painters.resolve(12, ops).steps) == steps


def test_shuffle_follows_random_shuffle_of_the_span():
    expected = list(range(3, 11))
    random.Random(42).shuffle(expected)
    assert list(painters.resolve(12, [painters.shuffle(3, 11, seed=42)]).steps) == [0, 1, 2, *expected, 11]
    one, two = (painters.resolve(12, [painters.shuffle(3, 11, seed)]).steps for seed in (1, 2))
    assert one != two


@pytest.mark.parametrize("t, n, span", [(32, 0, (1, 32)), (32, 15, (16, 17)), (12, 3, (4, 9)), (24, 5, (6, 19))])
def test_paper_span(t, n, span):
    assert painters.paper_span(t, n) == span
    assert span[1] - span[0] == t - 2 * n - 1  # M = T - 2N - 1 layers affected


def test_paper_span_out_of_range():
    with pytest.raises(ValueError, match=r"0 <= N <= 15"):
        painters.paper_span(32, 16)


def test_plan_properties():
    plan = painters.resolve(12, [painters.parallel(4, 8, iterations=3)])
    assert plan.num_steps == 9 and plan.num_calls == 4 + 4 * 3 + 4
    assert plan.shared_prefix == 4 and plan.has_parallel and not plan.is_identity
    assert painters.resolve(12, []).is_identity and painters.resolve(12, []).shared_prefix == 12
    assert "(4|5|6|7)x3" in plan.describe()
    assert str(painters.order([1, (2, 3)])) == "order([1, (2|3)])"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: painters.skip(5, 5), r"empty range \[start, end\) = \[5, 5\)"),
        (lambda: painters.skip(6, 2), r"end must be greater than start"),
        (lambda: painters.skip(-1, 2), r"start must be >= 0, got -1"),
        (lambda: painters.swap(3, 3), r"cannot swap layer 3 with itself"),
        (lambda: painters.repeat(1, 3, times=0), r"times must be >= 1, got 0"),
        (lambda: painters.parallel(1, 3, iterations=1.5), r"iterations must be an integer, got 1.5"),
        (lambda: painters.skip("2", 4), r"start must be an integer, got '2'"),
        (lambda: painters.op_from_dict({"op": "skp", "start": 1, "end": 2}), r"unknown op 'skp'.*Did you mean 'skip'"),
        (lambda: painters.op_from_dict({"op": "skip", "start": 1, "stop": 2}), r"no parameter 'stop'"),
    ],
)
def test_bad_op_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "ops, message",
    [
        ([painters.skip(4, 13)], r"\[4, 13\).*12 layers; allowed: 0 <= start < end <= 12"),
        ([painters.swap(3, 12)], r"layer 12 does not exist; this model.s layers are 0..11 \(12 layers"),
        ([painters.skip(2, 6), painters.reverse(5, 8)], r"\[2, 6\).*\[5, 8\).*overlap"),
        ([painters.order([0, 12])], r"layer 12 does not exist; this model has 12 layers"),
        (["skip"], r"expected painters ops"),
    ],
)
def test_bad_plans(ops, message):
    with pytest.raises(ValueError, match=message):
        painters.resolve(12, ops)
