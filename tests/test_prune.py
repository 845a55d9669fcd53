"""``painters.prune``: greedy picks equal a brute-force loop of ``painters.evaluate``; the one-pass methods pick what
their metric, computed by hand from hooked layer states, says; ``--save`` writes a checkpoint that scores as the plan;
bad input is refused with the field, value and fix; a search resumes from its last finished round; the CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

import painters
from painters import tasks
from painters.architectures import locate
from painters.cli import main
from painters.errors import ConfigError, PaintersError
from painters.pruning.core import ops_for, prune
from tests import task_helpers  # noqa: F401  (one torch thread)
from tests.test_evaluate import ToyClassification

LAYERS = 6
TEXT = (
    "In the beginning the quick brown fox jumps over the lazy dog. A man is playing the guitar while a woman is "
    "slicing an onion. Question: How do I open a jar? Answer: Twist the lid counterclockwise. Robert is an actor. "
) * 6


def _llama(vocab: int) -> nn.Module:
    """A 6-layer Llama with Linear weights scaled by 2, so that which layers go (and in which order) matters."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab, hidden_size=48, intermediate_size=96, num_hidden_layers=LAYERS, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, bos_token_id=1, eos_token_id=2, pad_token_id=0,
    )  # fmt: skip
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                module.weight.mul_(2.0)
    return model


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    """(model, tokenizer, perplexity task, text file) on ~160 tokens in windows of 48."""
    tokenizer = task_helpers.tiny_tokenizer()
    path = tmp_path_factory.mktemp("text") / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    task = tasks.load("perplexity", data=str(path), limit=160, max_length=48, stride=24)
    return _llama(len(tokenizer)), tokenizer, task, path


def _brute_force_greedy(model, tokenizer, task, remove, part="block"):
    """SLEB by hand: each round, painters.evaluate every remaining layer removed on top of the removed ones."""
    removed, scores = [], []
    for _ in range(remove):
        trial = {
            i: painters.evaluate(model, tokenizer, task, *ops_for([*removed, i], part), baseline=False, progress=False)
            for i in range(LAYERS)
            if i not in removed
        }
        best = min(trial, key=lambda i: (trial[i]["perplexity"], i))
        removed.append(best)
        scores.append(trial[best]["perplexity"])
    return removed, scores


@pytest.mark.parametrize(("part", "remove"), [("block", 3), ("attention", 2)])
def test_greedy_equals_a_brute_force_loop_of_evaluate(lm, part, remove):
    model, tokenizer, task, _ = lm
    result = prune(model, tokenizer, task, remove, part=part, methods=["greedy"], batch_size=8, progress=False)
    picks, scores = _brute_force_greedy(model, tokenizer, task, remove, part)
    assert len(set(picks)) == remove
    for k in range(1, remove + 1):
        assert result.plans["greedy"][k] == tuple(sorted(picks[:k]))
        row = result.table[(result.table["method"] == "greedy") & (result.table["removed"] == k)].iloc[0]
        assert row["score"] == pytest.approx(scores[k - 1], rel=1e-5)


def test_painters_prune_is_the_search_function(vit):
    import painters.pruning.core as core

    model, toy = vit
    result = painters.prune(model, None, toy, remove=1, methods="last", progress=False)
    assert isinstance(result, core.PruneResult) and result.plans == {"last": {0: (), 1: (LAYERS - 2,)}}
    assert result.ops("last") == (painters.skip(LAYERS - 2, LAYERS - 1),)


def test_chosen_on_held_out_examples_and_scored_on_the_task(lm, tmp_path):
    """``select=``: greedy picks what the brute-force loop picks on the select task, and every plan's reported
    score is ``painters.evaluate`` of it on the scoring task; the one-pass methods rank on the select task."""
    model, tokenizer, task, _ = lm
    other = tmp_path / "other.txt"
    other.write_text(TEXT[::-1] + " " + TEXT.upper(), encoding="utf-8")  # other tokens, other windows
    select = tasks.load("perplexity", data=str(other), limit=160, max_length=48, stride=24)
    result = prune(model, tokenizer, task, 2, methods=["greedy", "block-influence"], batch_size=8, progress=False,
                   select=select, out=tmp_path / "out")  # fmt: skip
    picks, _ = _brute_force_greedy(model, tokenizer, select, 2)
    assert picks != _brute_force_greedy(model, tokenizer, task, 2)[0]  # the two data sets choose differently
    influence = painters.importance(model, tokenizer, select, batch_size=8)
    by_bi = tuple(sorted(influence.sort_values(["block_influence", "layer"])["layer"].head(2)))
    assert result.plans["block-influence"][2] == by_bi
    for method, plan in (("greedy", tuple(sorted(picks))), ("block-influence", by_bi)):
        assert result.plans[method][2] == plan
        want = painters.evaluate(model, tokenizer, task, *ops_for(plan), baseline=False, progress=False)
        row = result.table[(result.table["method"] == method) & (result.table["removed"] == 2)].iloc[0]
        assert row["score"] == pytest.approx(want["perplexity"], rel=1e-5), method
    saved = json.loads((tmp_path / "out" / "rounds" / "block" / "greedy-02.json").read_text())
    assert saved["select_metrics"]["perplexity"] != saved["metrics"]["perplexity"]
    for again in ({}, {"select": task}):  # the folder's plans were chosen on `other`: not reused for another choice
        with pytest.raises(ConfigError, match="select_"):
            prune(model, tokenizer, task, 2, methods=["greedy"], batch_size=8, progress=False, out=tmp_path / "out",
                  **again)  # fmt: skip


def test_prefix_sharing_scores_the_same_with_fewer_layer_calls(lm):
    model, tokenizer, task, _ = lm
    shared = prune(model, tokenizer, task, 2, methods=["greedy"], batch_size=8, progress=False)
    naive = prune(model, tokenizer, task, 2, methods=["greedy"], batch_size=8, progress=False, share=False)
    assert shared.plans == naive.plans
    assert shared.table["score"].tolist() == pytest.approx(naive.table["score"].tolist(), rel=1e-5)
    batches = len(task.prepare(tokenizer, 8, progress=False))
    # round 1: 6 + (5+4+3+2+1+0); round 2: 5 + (4+3+2+1+0), per batch; unshared: every candidate runs all its layers
    assert shared.costs["greedy"]["layer_evaluations"] == (6 + 15 + 5 + 10) * batches
    assert naive.costs["greedy"]["layer_evaluations"] == (6 + 6 * 5 + 5 + 5 * 4) * batches


# -- one-pass methods against their metrics computed by hand ---------------------------------------------------------
@pytest.fixture(scope="module")
def vit():
    """A 6-layer ViT (Linear weights x4) and a toy task whose labels are its own predictions."""
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(0)
    model = ViTForImageClassification(ViTConfig(
        hidden_size=32, num_hidden_layers=LAYERS, num_attention_heads=2, intermediate_size=64, image_size=32,
        patch_size=8, num_labels=4, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))  # fmt: skip
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                module.weight.mul_(4.0)
    model.eval()
    toy = ToyClassification(n=16)
    with torch.no_grad():
        toy.labels = model(pixel_values=toy.images).logits.argmax(-1)
    return model, toy


def _first(output):
    return output[0] if isinstance(output, tuple) else output


def _states(model, images):
    """Each layer's input and output and its attention's output (hooks, no painters)."""
    ins, outs, attn = [], [], []
    hooks = []
    for layer in locate(model).modules:
        hooks.append(layer.register_forward_pre_hook(lambda m, a, k: ins.append(a[0] if a else k["hidden_states"]),
                                                     with_kwargs=True))  # fmt: skip
        hooks.append(layer.register_forward_hook(lambda m, a, o: outs.append(_first(o))))
        hooks.append(layer.attention.register_forward_hook(lambda m, a, o: attn.append(_first(o))))
    with torch.no_grad():
        model(pixel_values=images)
    for hook in hooks:
        hook.remove()
    return ins, outs, attn


def _cos(a, b):
    return nn.functional.cosine_similarity(a.double(), b.double(), dim=-1)


def test_one_pass_methods_pick_what_their_metric_says(vit):
    model, toy = vit
    result = prune(model, None, toy, 4, batch_size=16, progress=False, methods=["bi", "angular", "last"])
    ins, outs, _ = _states(model, toy.images)
    influence = [1 - float(_cos(ins[i], outs[i]).mean()) for i in range(LAYERS)]
    boundary = [*ins, outs[-1]]  # the state entering layer l, and after the last

    def angular(a, b):
        return float((torch.arccos(_cos(boundary[a][:, 0], boundary[b][:, 0]).clamp(-1, 1)) / math.pi).mean())

    for k in range(1, 5):
        assert result.plans["block-influence"][k] == tuple(sorted(sorted(range(LAYERS), key=influence.__getitem__)[:k]))
        start = min(range(LAYERS - k + 1), key=lambda s: angular(s, s + k))
        assert result.plans["angular"][k] == tuple(range(start, start + k))
        assert result.plans["last"][k] == tuple(range(LAYERS - 1 - k, LAYERS - 1))  # the final layer stays
        for method in ("block-influence", "angular", "last"):
            row = result.table[(result.table["method"] == method) & (result.table["removed"] == k)].iloc[0]
            expected = painters.evaluate(model, None, toy, *result.ops(method, k), progress=False)
            assert row["score"] == expected["top1"]
            assert row["normalised"] == pytest.approx(expected["normalised"])


def test_sublayer_block_influence_removes_the_highest_attention_cosines(vit):
    model, toy = vit
    result = prune(model, None, toy, 3, part="attention", methods=["block-influence"], progress=False)
    ins, _, attn = _states(model, toy.images)
    cosine = [float(_cos(ins[i], ins[i] + attn[i]).mean()) for i in range(LAYERS)]
    for k in range(1, 4):
        assert result.plans["block-influence"][k] == tuple(sorted(sorted(range(LAYERS), key=lambda i: -cosine[i])[:k]))
    assert all(op.part == "attention" for op in result.ops("block-influence"))


# -- --save, errors, resuming, CLI ---------------------------------------------------------------------------------
def test_saved_checkpoint_scores_as_the_plan(lm, tmp_path):
    from transformers import AutoModelForCausalLM

    model, tokenizer, task, _ = lm
    result = prune(model, tokenizer, task, 2, methods=["greedy", "last"], batch_size=8, progress=False)
    for method in ("greedy", "last"):
        path = result.save(tmp_path / method, model, tokenizer, method)
        loaded = AutoModelForCausalLM.from_pretrained(path).eval()
        assert loaded.config.num_hidden_layers == LAYERS - 2
        score = painters.evaluate(loaded, tokenizer, task, baseline=False, progress=False)["perplexity"]
        row = result.table[(result.table["method"] == method) & (result.table["removed"] == 2)].iloc[0]
        assert score == pytest.approx(row["score"], rel=1e-5)
        assert json.loads((path / "painters_prune.json").read_text())["removed"] == list(result.plans[method][2])
    attention = prune(model, tokenizer, task, 1, part="attention", methods=["greedy"], batch_size=8, progress=False)
    with pytest.raises(ConfigError, match=r"part='attention'.*painters.apply"):
        attention.save(tmp_path / "attention", model, tokenizer)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"remove": LAYERS}, r"remove=6: the model has 6 layers.*1 <= remove <= 5.*smaller --remove"),
        ({"remove": 0}, r"remove=0.*1 <= remove <= 5"),
        ({"remove": 2, "methods": ["greedyy"]}, r"method='greedyy': unknown pruning method.*Did you mean 'greedy'"),
        ({"remove": 2, "methods": ["angular"], "part": "mlp"}, r"method='angular'.*part='mlp'.*greedy.*part='block'"),
        ({"remove": 2, "methods": ["last"], "part": "attention"}, r"method='last'.*part='attention'"),
        ({"remove": 2, "part": "heads"}, r"part='heads' is not one of block, attention, mlp"),
    ],
)
def test_bad_input_names_the_field_value_and_fix(vit, kwargs, message):
    model, toy = vit
    with pytest.raises(ConfigError, match=message):
        prune(model, None, toy, progress=False, **kwargs)


def test_an_interrupted_search_resumes_from_its_last_finished_round(lm, tmp_path):
    model, tokenizer, task, _ = lm
    fresh = prune(model, tokenizer, task, 3, methods=["greedy", "bi"], batch_size=8, progress=False)

    def stop_after_round_1(method, k):
        if (method, k) == ("greedy", 1):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prune(model, tokenizer, task, 3, methods=["greedy", "bi"], out=tmp_path, batch_size=8, progress=False,
              on_round=stop_after_round_1)  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "rounds" / "block").iterdir()) == ["greedy-01.json"]
    ran = []
    resumed = prune(model, tokenizer, task, 3, methods=["greedy", "bi"], out=tmp_path, batch_size=8, progress=False,
                    on_round=lambda m, k: ran.append((m, k)))  # fmt: skip
    assert ran == [("greedy", 2), ("greedy", 3), ("block-influence", 1), ("block-influence", 2), ("block-influence", 3)]
    assert resumed.plans == fresh.plans
    assert resumed.table["score"].tolist() == pytest.approx(fresh.table["score"].tolist(), rel=1e-6)
    ran.clear()
    prune(model, tokenizer, task, 4, methods=["greedy"], out=tmp_path, batch_size=8, progress=False,
          on_round=lambda m, k: ran.append((m, k)))  # fmt: skip
    assert ran == [("greedy", 4)]  # a larger K continues the search
    other = tasks.load("perplexity", data=str(lm[3]), limit=100, max_length=48, stride=24)
    with pytest.raises(ConfigError, match=r"holds a pruning search of another model or task.*--out DIR"):
        prune(model, tokenizer, other, 1, methods=["greedy"], out=tmp_path, batch_size=8, progress=False)


def test_cli_prunes_a_sweep_model_and_saves_it(lm, tmp_path, capsys):
    model, tokenizer, _, text = lm
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        "name: prune-test\n"
        "model: {id: model, task_head: causal-lm}\n"
        "tasks:\n"
        f"  - {{type: perplexity, name: text, data: {text}, limit: 160, batch_size: 8, "
        "options: {max_length: 48, stride: 24}}\n"
        "ops:\n  - skip: all\n"
    )
    out, saved = tmp_path / "out", tmp_path / "saved"
    argv = ["prune", str(sweep), "--remove", "2", "--method", "greedy,last", "--out", str(out), "--quiet"]
    assert main([*argv, "--save", str(saved), "--save-method", "last"]) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[0].startswith("model on text: normalised perplexity")
    assert lines[1].split() == ["removed", "greedy", "last"]
    zero = lines[2].split()  # 0 removed: both methods at the unmodified score, normalised 1
    assert zero[:2] == ["0", "1.0000"] and zero[3] == "1.0000" and zero[2] == zero[4] and zero[2].startswith("(")
    assert "  last             1: 4; 2: 3 4" in printed  # the two layers before the final one
    assert f"saved last's plan with 2 layers removed (3 4) to {saved}" in printed
    assert json.loads((saved / "config.json").read_text())["num_hidden_layers"] == LAYERS - 2
    for name in ("table.csv", "plans.json", "prune.png", "prune.json"):
        assert (out / name).is_file()
    plans = json.loads((out / "plans.json").read_text())["plans"]
    assert plans["last"]["2"] == [3, 4] and len(plans["greedy"]["2"]) == 2

    assert main(["prune", str(sweep), "--remove", "6"]) == 2
    assert "remove=6: the model has 6 layers" in capsys.readouterr().err
    assert main(["prune", str(sweep), "--remove", "2", "--method", "angulr"]) == 2
    assert "Did you mean 'angular'" in capsys.readouterr().err
    assert main(["prune", str(sweep), "--remove", "2", "--task", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--task 'nope'" in err and "its tasks: text" in err
    assert main(["prune", str(sweep), "--remove", "2", "--part", "mlp", "--save", str(tmp_path / "x")]) == 2
    assert "--save with --part mlp" in capsys.readouterr().err
    with pytest.raises(PaintersError, match=r"needs --task TYPE and --data PATH"):
        from painters.pruning.source import load_source

        load_source(str(tmp_path / "no-such-model"))
    other = tmp_path / "other.txt"
    other.write_text(TEXT.upper(), encoding="utf-8")
    held = tmp_path / "held"
    argv = ["prune", str(sweep), "--remove", "2", "--method", "greedy", "--out", str(held), "--quiet"]
    assert main([*argv, "--select-data", str(other), "--select-limit", "120"]) == 0
    meta = json.loads((held / "prune.json").read_text())
    assert meta["select_task"] == "perplexity" and "select_examples" in meta
    first = json.loads((held / "rounds" / "block" / "greedy-01.json").read_text())
    assert first["select_metrics"]["tokens"] == 119 != first["metrics"]["tokens"]  # chosen on 120 other tokens
    assert main([*argv, "--select-data", str(tmp_path / "missing.txt")]) == 2
    assert "--select-data" in capsys.readouterr().err
