"""The architecture coverage check: for one ``model_type`` of the installed transformers, build it tiny, then either
(a) skip, reverse, repeat and swap under painters equal the independently rebuilt model exactly (and greedy
``generate`` with the KV cache equals it for causal LMs), or (b) painters refuses with a clear reason before touching
the model. Anything else (a wrong number, a crash after acceptance) is a bug and raises.

Used by ``tests/test_architecture_coverage.py`` (one test per type) and by ``python -m tests.architecture_coverage``,
which writes the record ``tests/architectures.json`` and the table ``docs/architectures.md``.
"""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import painters
from painters.architectures import locate, stage_depths
from tests import arch_oracle, tiny_any

RECORD = Path(__file__).with_name("architectures.json")
TABLE = Path(__file__).parent.parent / "docs" / "architectures.md"
OPS = {
    "skip": painters.skip(2, 4),
    "reverse": painters.reverse(1, 5),
    "repeat": painters.repeat(2, 4),
    "swap": painters.swap(1, 4),
}
SCALE = 3.0  # layer weights x3 so that layer order matters (design.md trap 11)
EXACT_TARGET = 0.95
GENERATE = dict(max_new_tokens=4, do_sample=False, use_cache=True, pad_token_id=0)


@dataclass
class Outcome:
    status: str  # "exact" | "refused" | "not-buildable"
    reason: str = ""
    head: str = ""
    layers: str = ""


def in_scope() -> list[str]:
    return [t for t in tiny_any.model_types() if tiny_any.scope(t)[0]]


def out_of_scope() -> dict[str, str]:
    return {t: why for t in tiny_any.model_types() for head, why in [tiny_any.scope(t)] if head is None}


def _primary(out) -> torch.Tensor:
    for key in ("logits", "last_hidden_state", "pred_boxes", "prediction_logits", "pooler_output"):
        value = getattr(out, key, None)
        if isinstance(value, torch.Tensor):
            return value
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    raise AssertionError(f"no output tensor in {type(out).__name__}")


def _reads_intermediate_states(config) -> bool:
    """Heads that read hidden states by index (DPT's neck, backbones' out_indices): painters keeps the ORIGINAL
    boundaries there on purpose (design.md trap 5), which no rebuilt model reproduces, so the base model's own
    output is compared for them (the heads themselves are checked in tests/test_core_exactness.py)."""
    return any(getattr(config, k, None) for k in ("backbone_out_indices", "out_indices", "out_features"))


def _staged_stage(model: nn.Module) -> int | None:
    try:
        painters.layers(model)
        return None
    except painters.UnsupportedModelError as e:
        if "stages with depths" not in str(e):
            return None
    arch = painters.architectures.architecture_of(model)
    depths = stage_depths(getattr(model, "base_model", model), arch)
    return max(depths, key=lambda s: depths[s])


def _snapshot(model: nn.Module) -> tuple:
    state = {k: v.clone() for k, v in model.state_dict().items()}
    modules = [id(m) for m in model.modules()]
    return state, modules, json.dumps(model.config.to_dict(), sort_keys=True, default=str)


def _assert_untouched(model: nn.Module, before: tuple, why: str) -> None:
    state, modules, config = _snapshot(model)
    assert modules == before[1], f"refused ({why}) but the module tree changed"
    assert config == before[2], f"refused ({why}) but the config changed"
    assert state.keys() == before[0].keys() and all(torch.equal(state[k], before[0][k]) for k in state), (
        f"refused ({why}) but the weights changed"
    )


def _full_path(model: nn.Module, path: str) -> str:
    base = getattr(model, "base_model", model)
    for name, module in model.named_modules():
        if module is base:
            return ".".join(p for p in (name, path) if p)
    raise AssertionError("base model not found")


def check(model_type: str) -> Outcome:
    """Run the coverage check for one type; raises AssertionError (or the crash itself) on a bug."""
    warnings.filterwarnings("ignore")
    try:
        model, head = tiny_any.build(model_type)
        x = tiny_any.inputs_for(model)
        kw = {"use_cache": False} if head == "causal-lm" else {}
        with torch.no_grad():
            first, second = _primary(model(**x, **kw)), _primary(model(**x, **kw))
        if not torch.equal(first, second):
            return Outcome("not-buildable", "the unmodified tiny model is not deterministic", head)
        if head == "causal-lm":  # the unmodified model must generate with its cache, or the check cannot
            with torch.no_grad():
                model.generate(**x, **GENERATE)
    except Exception as e:  # the tiny build itself fails: listed with the reason, not painters' fault
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        return Outcome("not-buildable", f"{type(e).__name__}: {' '.join(lines[:2])[:220]}", "")
    stage = _staged_stage(model)
    before = _snapshot(model)
    try:
        stack = painters.layers(model, stage=stage)
        if len(stack.layers) < 5:
            return Outcome("not-buildable", f"the tiny model has {len(stack.layers)} layers, the check needs 5", head)
        plans = {name: painters.plan(model, op, stage=stage) for name, op in OPS.items()}
    except (painters.UnsupportedModelError, painters.PlanError) as e:
        _assert_untouched(model, before, str(e))
        return Outcome("refused", str(e), head)
    tiny_any.scale_layers(model, [p for layer in set(stack.layers) for p in layer.parameters()], SCALE)
    located = locate(model, stage)
    full = _full_path(model, stack.path)
    virtual = stack.layers if located.arch.shared_groups else None
    intermediate = _reads_intermediate_states(model.config) and head != "bare"

    def output(m: nn.Module) -> torch.Tensor:
        with torch.no_grad():
            return _primary((m.base_model if intermediate else m)(**x, **kw))

    unmodified = output(model)
    if unmodified.abs().max().item() < 1e-6:
        return Outcome("not-buildable", "the tiny model's output is ~0 with random weights (degenerate init)", head)
    changed = False
    zipped = located.arch.zipped
    called = [getattr(m, zipped[0]) for m in stack.layers] if zipped else stack.layers  # what the forward calls
    distinct = list({id(m): m for m in called}.values())
    for name, op in OPS.items():
        steps = list(plans[name].steps)
        calls: dict[int, int] = {}

        def count(module, args, out, calls=calls):
            calls[id(module)] = calls.get(id(module), 0) + 1

        hooks = [m.register_forward_hook(count) for m in distinct]
        try:
            with painters.apply(model, op, stage=stage):
                got = output(model)
        finally:
            for hook in hooks:
                hook.remove()
        want_calls: dict[int, int] = {}
        for _, i in plans[name].calls:
            want_calls[id(called[i])] = want_calls.get(id(called[i]), 0) + 1
        assert calls == want_calls, f"{model_type} {op}: the forward did not run the plan's layer calls"
        oracle = arch_oracle.rebuild(
            model, full, steps, stage=stage, virtual=virtual, config=located.config, zipped=zipped
        )
        want = output(oracle)
        assert got.shape == want.shape, f"{model_type} {op}: shape {tuple(got.shape)} != {tuple(want.shape)}"
        diff = (got - want).abs().max().item()
        assert torch.equal(got, want), f"{model_type} {op}: max |diff| = {diff} against the rebuilt model"
        changed = changed or not torch.equal(got, unmodified)
        if head == "causal-lm":
            with torch.no_grad(), painters.apply(model, op):
                generated = model.generate(**x, **GENERATE)
            with torch.no_grad():
                expected = oracle.generate(**x, **GENERATE)
            assert torch.equal(generated, expected), f"{model_type} {op}: generate with the KV cache differs"
    if not changed:  # the plans ran (call counts checked above) but the output ignores the layers
        return Outcome("not-buildable", "the tiny model's output does not depend on its layers", head)
    after = output(model)
    assert torch.equal(after, unmodified), f"{model_type}: the model is not restored after the plans"
    layers = (f"{stack.path}." if stack.path else "") + "{" + ", ".join(zipped) + "}" if zipped else stack.path
    layers += f" (stage {stage})" if stage is not None else ""
    return Outcome("exact", "", head, layers)


def write_record() -> dict:
    """Run the check on every in-scope type and write ``tests/architectures.json`` and ``docs/architectures.md``."""
    torch.set_num_threads(1)
    from transformers.utils import logging

    logging.set_verbosity_error()
    record: dict = {"transformers": __import__("transformers").__version__, "types": {}}
    for model_type in in_scope():
        try:
            outcome = check(model_type)
        except Exception as e:  # a bug: recorded so the table shows it, and the test will fail on it
            outcome = Outcome("BUG", f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
        print(f"{outcome.status:14} {model_type:36} {outcome.reason[:120]}", file=sys.stderr, flush=True)
        record["types"][model_type] = outcome.__dict__
    record["out_of_scope"] = out_of_scope()
    RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    TABLE.write_text(table(record))
    update_readme(record)
    return record


def counts(record: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for outcome in record["types"].values():
        out[outcome["status"]] = out.get(outcome["status"], 0) + 1
    return out


NOT_TRANSFORMER = ("convolutional network", "no list of transformer layers", "none holds transformer layers")
SEVERAL_STACKS = ("several separate stacks",)


def refusal_kind(reason: str) -> str:
    """``"not a transformer"``, ``"several stacks"`` or ``"refused"`` (a single-stack transformer painters refuses)."""
    if any(k in reason for k in NOT_TRANSFORMER):
        return "not a transformer"
    if any(k in reason for k in SEVERAL_STACKS):
        return "several stacks"
    return "refused"


def summary(record: dict) -> dict:
    types = record["types"].values()
    exact = sum(o["status"] == "exact" for o in types)
    kinds = [refusal_kind(o["reason"]) for o in types if o["status"] == "refused"]
    buildable = sum(o["status"] != "not-buildable" for o in types)
    transformers = buildable - kinds.count("not a transformer")
    return {
        "exact": exact,
        "refused": len(kinds),
        "bugs": sum(o["status"] == "BUG" for o in types),
        "not_buildable": sum(o["status"] == "not-buildable" for o in types),
        "buildable": buildable,
        "not_transformers": kinds.count("not a transformer"),
        "several_stacks": kinds.count("several stacks"),
        "exact_share": exact / max(buildable, 1),
        "exact_share_transformers": exact / max(transformers, 1),
        "transformers": transformers,
        "out_of_scope": len(record["out_of_scope"]),
    }


def headline(record: dict) -> str:
    """The one-line result quoted in the README."""
    s = summary(record)
    return (
        f"{s['exact']} of the {s['transformers']} transformer model types that build tiny are exact "
        f"({s['exact_share_transformers']:.1%}); {s['refused'] - s['not_transformers']} are refused with the "
        f"reason, {s['not_transformers']} non-transformers (convolutional networks) are refused as such, "
        f"{s['not_buildable']} could not be built tiny (transformers {record['transformers']})."
    )


README = TABLE.parent.parent / "README.md"
README_BEGIN, README_END = "<!-- architectures: begin (generated) -->", "<!-- architectures: end -->"


def readme_block(record: dict) -> str:
    """The README's list of exact and refused types, between its markers."""
    types = record["types"]
    exact = sorted(t for t, o in types.items() if o["status"] == "exact")
    refused = sorted(
        (t for t, o in types.items() if o["status"] == "refused"),
        key=lambda t: (refusal_kind(types[t]["reason"]) != "refused", t),
    )
    lines = [
        README_BEGIN,
        "",
        f"**{headline(record)}**",
        "",
        f"Exact ({len(exact)}): " + ", ".join(f"`{t}`" for t in exact) + ".",
        "",
        f"Refused ({len(refused)}):",
        "",
    ]
    for t in refused:
        lines.append(f"- `{t}` ({refusal_kind(types[t]['reason'])}): {types[t]['reason']}")
    lines += ["", README_END]
    return "\n".join(lines)


def update_readme(record: dict) -> None:
    text = README.read_text()
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    README.write_text(text[:start] + readme_block(record) + text[end:])


def table(record: dict) -> str:
    """The Markdown page of verified architectures, made from the record (``docs/architectures.md``)."""
    types = record["types"]
    exact = sorted(t for t, o in types.items() if o["status"] == "exact")
    lines = [
        "# Architectures painters drives exactly",
        "",
        "Generated by `python -m tests.architecture_coverage` from the coverage test (`tests/test_architecture_"
        "coverage.py`, which checks every row below against the installed transformers "
        f"{record['transformers']}). Each in-scope model type is built tiny from its config (weights x{SCALE:g} so "
        "that layer order matters); `skip(2, 4)`, `reverse(1, 5)`, `repeat(2, 4)` and `swap(1, 4)` under painters "
        "must equal a model rebuilt with that layer stack, bit for bit (and greedy `generate` with the KV cache for "
        "causal LMs), or painters must refuse before touching the model.",
        "",
        f"**{headline(record)}**",
        "",
        "## Exact",
        "",
        "| model type | class built | layers |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{t}` | {types[t]['head']} | `{types[t]['layers']}` |" for t in exact]
    sections = (
        ("refused", "refused", "Refused: transformers painters cannot drive exactly (the reason it gives)"),
        ("refused", "several stacks", "Refused: several separate layer stacks"),
        ("refused", "not a transformer", "Refused: not transformers"),
        ("BUG", None, "Bugs"),
        ("not-buildable", None, "Not buildable tiny here (not checked)"),
    )
    for status, kind, title in sections:
        rows = sorted(
            t for t, o in types.items() if o["status"] == status and (kind is None or refusal_kind(o["reason"]) == kind)
        )
        if not rows:
            continue
        lines += ["", f"## {title}", "", "| model type | reason |", "| --- | --- |"]
        lines += [f"| `{t}` | {types[t]['reason'].replace('|', '/')} |" for t in rows]
    by_reason: dict[str, list[str]] = {}
    for t, why in record["out_of_scope"].items():
        key = why.split(" ")[0] if why.startswith("needs inputs") else why
        by_reason.setdefault("needs inputs beyond token ids or pixels" if key == "needs" else key, []).append(t)
    lines += [
        "",
        "## Out of scope of this check",
        "",
        "By design, not refusals (a type can be out of scope here and still work, e.g. a tower of a two-tower "
        "model with `tower=`):",
        "",
    ]
    lines += [
        f"- {why} ({len(ts)})" + (": " + ", ".join(f"`{t}`" for t in sorted(ts)) if len(ts) <= 40 else "")
        for why, ts in sorted(by_reason.items(), key=lambda kv: -len(kv[1]))
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    result = write_record()
    print(summary(result))
    print(headline(result))
