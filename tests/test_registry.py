"""The one registry type (painters/registry.py) and every registry built on it, enumerated (timm-style): each entry
is listed by ``painters ls`` with a description, unknown names suggest the closest, duplicates are refused."""

from __future__ import annotations

import pytest

import painters
from painters.cli import main, registries
from painters.errors import PaintersError, UnknownNameError
from painters.registry import Registry


def test_unknown_names_suggest_and_list():
    r = Registry("colour")
    r.register("red", 1, aliases=("rouge",))
    r.register("green", 2)
    with pytest.raises(
        UnknownNameError,
        match=r"unknown colour 'gren'. Did you mean 'green'\? Available \(2\): "
        r"green, red",
    ):
        r["gren"]
    assert r["rouge"] == 1 and "rouge" in r and list(r) == ["red", "green"] and len(r) == 2
    with pytest.raises(KeyError):  # still a KeyError for dict-minded callers
        r["blue"]


def test_duplicates_are_refused_unless_replaced():
    r = Registry("colour")
    r.register("red", 1, aliases=("rouge",))
    for name in ("red", "rouge"):
        with pytest.raises(ValueError, match=f"colour '{name}' is already registered; pass replace=True"):
            r.register(name, 3)
    r.register("red", 3, replace=True)
    assert r["red"] == 3


def test_decorator_form():
    r = Registry("thing")

    @r.register("f")
    def f():
        """Does f."""

    assert r["f"] is f and r.describe("f") == "Does f"


@pytest.mark.parametrize("kind, name", [(k, n) for k, reg in registries().items() for n in reg.names()])
def test_every_registered_entry_is_listed_with_a_description(kind, name, capsys):
    registry = registries()[kind]
    assert registry.describe(name), f"{kind} {name!r} has no description (docstring or summary)"
    main(["ls", kind])
    assert f"  {name}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kind, wrong, right",
    [
        ("ops", "skp", "skip"),
        ("tasks", "clasification", "classification"),
        ("zoo", "fashion-vitt", "fashion-vit"),
        ("formats", "piq", "piqa"),
        ("architectures", "lama", "llama"),
        ("pruning", "greddy", "greedy"),
        ("figures", "degradaton", "degradation"),
    ],
)
def test_every_registry_says_did_you_mean(kind, wrong, right):
    with pytest.raises(PaintersError, match=f"Did you mean '{right}'"):
        registries()[kind][wrong]


def test_ls_refuses_an_unknown_listing(capsys):
    assert main(["ls", "opps"]) == 2
    assert "Did you mean 'ops'" in capsys.readouterr().err


def test_op_from_dict_and_tasks_use_the_registry():
    with pytest.raises(painters.PlanError, match="unknown op 'skp'. Did you mean 'skip'"):
        painters.op_from_dict({"op": "skp", "start": 0, "end": 1})
    with pytest.raises(UnknownNameError, match="Did you mean 'classification'"):
        painters.tasks.load("clasification", data="x")


def test_every_registered_architecture_has_a_tiny_model_tested_for_exactness():
    """Each architecture painters registers by name is built tiny: in tests.tiny.FACTORIES (every op, to the bit,
    in test_core_exactness) or found exact by the architecture tier (tests/architectures.json)."""
    import json
    from pathlib import Path

    from painters.architectures import ARCHITECTURES
    from tests import tiny

    coverage = json.loads((Path(__file__).parent / "architectures.json").read_text())["types"]
    for name in ARCHITECTURES:
        assert name in tiny.FACTORIES or coverage.get(name, {}).get("status") == "exact", (
            f"architecture {name!r} has no tiny model: add it to tests/tiny.py FACTORIES"
        )


def test_every_test_file_is_in_a_tier():
    from pathlib import Path

    from tests.conftest import tier_of

    for path in Path(__file__).parent.glob("test_*.py"):
        assert tier_of(path.name) is not None, f"add {path.name} to TIER_OF_FILE in tests/conftest.py"
