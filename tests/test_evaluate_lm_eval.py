"""The optional lm-evaluation-harness bridge."""

import importlib.util

import pytest

from painters.integrations import lm_eval as bridge

HAS_LM_EVAL = importlib.util.find_spec("lm_eval") is not None


@pytest.mark.skipif(HAS_LM_EVAL, reason="lm_eval is installed")
def test_missing_lm_eval_says_how_to_install():
    with pytest.raises(ImportError, match=r"pip install 'painters\[lm-eval\]'"):
        bridge.evaluate_lm_eval(None, None, ["piqa"])


@pytest.mark.skipif(not HAS_LM_EVAL, reason="lm_eval is not installed (optional extra)")
def test_wraps_a_loaded_model():
    from tests.task_helpers import tiny_llama, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    lm = bridge.lm_eval_model(tiny_llama(len(tokenizer)), tokenizer, batch_size=2)
    assert lm.tokenizer is tokenizer


@pytest.mark.skipif(not HAS_LM_EVAL, reason="lm_eval is not installed (optional extra)")
def test_lm_eval_task_on_a_painted_model_matches_painters_own_scoring(tmp_path):
    """A local JSONL multiple-choice task through lm-eval (offline, cache off) gives the same accuracy as
    painters' multiple_choice task, unmodified and under a plan; and the plan changes the answers."""
    import json

    import painters
    from tests.task_helpers import tiny_llama, tiny_tokenizer

    rows = [{"goal": f"item {i} is", "sol1": f" red {i}", "sol2": f" blue {i % 3}", "label": i % 2} for i in range(24)]
    data = tmp_path / "toy.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "toy.yaml").write_text(
        f"task: toy_mc\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\ntest_split: test\n"
        "output_type: multiple_choice\ndoc_to_text: '{{goal}}'\ndoc_to_target: label\n"
        "doc_to_choice: '{{[sol1, sol2]}}'\ntarget_delimiter: ''\nmetric_list:\n  - metric: acc\n"
    )
    tokenizer = tiny_tokenizer()
    model = tiny_llama(len(tokenizer)).eval()
    accs, logliks = {}, {}
    for label, ops in (("base", ()), ("reversed", (painters.reverse(0, 2),))):
        out = bridge.evaluate_lm_eval(
            model, tokenizer, ["toy_mc"], *ops, include_path=tmp_path, batch_size=4, log_samples=True
        )
        logliks[label] = [float(r[0][0]) for r in out["samples"]["toy_mc"][0]["resps"]]
        ours = painters.evaluate(
            model,
            tokenizer,
            painters.tasks.load("multiple_choice", data=str(data)),
            *ops,
            progress=False,
            baseline=False,
        )
        accs[label] = out["results"]["toy_mc"]["acc,none"]
        assert accs[label] == pytest.approx(ours["acc"])
    assert logliks["base"] != logliks["reversed"]  # the plan was applied, and no cached answer was reused
    lm = bridge.lm_eval_model(model, tokenizer, ops="reverse:0:2;skip:3:4")
    assert lm.ops == (painters.reverse(0, 2), painters.skip(3, 4))
    assert bridge.parse_ops('[{"op": "swap", "i": 0, "j": 1}]') == (painters.swap(0, 1),)
