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
