"""Language tasks on the real text samples, with a tiny tokenizer, scripted LMs and a tiny random Llama."""

import math

import pytest
import torch

from painters import tasks
from painters.evaluation import evaluate
from painters.tasks.perplexity import windows
from tests.task_helpers import TokenOracle, shared_data, tiny_llama, tiny_tokenizer


def _text(*parts):
    return str(shared_data().joinpath("text", *parts))


def test_windows_score_every_token_but_the_first_once():
    for n, length, stride in [(10, 4, 2), (11, 4, 3), (5, 8, 4), (2, 2, 1), (100, 16, 5)]:
        scored = [t for _, end, start in windows(n, length, stride) for t in range(start, end)]
        assert scored == list(range(1, n)), (n, length, stride)
    assert all(end - begin <= 16 for begin, end, _ in windows(100, 16, 5))
    with pytest.raises(ValueError):
        windows(10, 4, 5)


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size():
    tokenizer = tiny_tokenizer()
    task = tasks.load("perplexity", data=_text("wikitext2", "test.txt"), limit=300, max_length=64, stride=24)
    result = evaluate(TokenOracle(len(tokenizer), value=0.0), tokenizer, task, batch_size=4, progress=False)
    assert result["perplexity"] == pytest.approx(len(tokenizer))
    assert result["tokens"] == 299 and result["chance_perplexity"] == len(tokenizer)


def test_perplexity_windows_line_up_with_the_next_token():
    tokenizer = tiny_tokenizer()
    task = tasks.load("perplexity", data=_text("wikitext2", "test.txt"), limit=300, max_length=64, stride=24)
    result = evaluate(TokenOracle(len(tokenizer)), tokenizer, task, batch_size=4, progress=False)
    assert result["perplexity"] == pytest.approx(1.0, abs=1e-6)  # off by one anywhere would be ~vocab size
    assert result["normalised_perplexity"] == pytest.approx(1.0)


def test_tiny_llama_perplexity_matches_a_direct_computation():
    tokenizer = tiny_tokenizer()
    model = tiny_llama(len(tokenizer))
    task = tasks.load("perplexity", data=_text("wikitext2", "valid.txt"), limit=100, max_length=100, stride=50)
    result = evaluate(model, tokenizer, task, batch_size=2, progress=False)
    ids = torch.tensor([tokenizer(task.text)["input_ids"][:100]])
    with torch.no_grad():
        loss = model(input_ids=ids, labels=ids).loss.item()  # one window holds it all: the plain HF loss
    assert result["perplexity"] == pytest.approx(math.exp(loss), rel=1e-4)


def test_piqa_multiple_choice_matches_unbatched_scoring():
    tokenizer = tiny_tokenizer()
    model = tiny_llama(len(tokenizer))
    task = tasks.load("multiple_choice", data=_text("piqa", "valid.jsonl"), limit=12)
    assert len(task) == 12 and all(len(item.choices) == 2 for item in task.items)
    result = evaluate(model, tokenizer, task, batch_size=5, progress=False)
    assert result["chance_acc"] == 0.5 and result["n"] == 12
    hits = hits_norm = 0
    for item in task.items:
        scores = []
        for choice in item.choices:
            context = tokenizer(item.context)["input_ids"]  # BOS + context, as the task encodes it
            whole = tokenizer(item.context + choice)["input_ids"]
            ids = torch.tensor([whole])
            with torch.no_grad():
                logprobs = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
            scores.append(logprobs[torch.arange(len(context) - 1, len(whole) - 1), ids[0, len(context) :]].sum().item())
        hits += max(range(2), key=lambda i: (scores[i], -i)) == item.gold
        norm = [s / len(c) for s, c in zip(scores, item.choices)]
        hits_norm += max(range(2), key=lambda i: (norm[i], -i)) == item.gold
    assert result["acc"] == pytest.approx(hits / 12) and result["acc_norm"] == pytest.approx(hits_norm / 12)


def test_multiple_choice_formats(tmp_path):
    import json

    hellaswag = {"activity_label": "Cooking", "ctx_a": "He cuts the onion.", "ctx_b": "then he",
                 "endings": ["cries [title] a lot.", "sings."], "label": "0"}  # fmt: skip
    arc = {"question": "Which is a mammal?", "choices": {"text": ["Shark", "Whale"], "label": ["A", "B"]},
           "answerKey": "B"}  # fmt: skip
    (tmp_path / "h.jsonl").write_text(json.dumps(hellaswag) + "\n")
    (tmp_path / "a.jsonl").write_text(json.dumps(arc) + "\n")
    item = tasks.load("multiple_choice", data=str(tmp_path / "h.jsonl")).items[0]
    assert item.context == "Cooking: He cuts the onion. Then he" and item.choices == (" cries. a lot.", " sings.")
    item = tasks.load("multiple_choice", data=str(tmp_path / "a.jsonl")).items[0]
    assert item.context == "Question: Which is a mammal?\nAnswer:" and item.gold == 1
    (tmp_path / "x.jsonl").write_text('{"q": 1}\n')
    with pytest.raises(ValueError, match="cannot tell the format"):
        tasks.load("multiple_choice", data=str(tmp_path / "x.jsonl"))


def test_last_word_oracle_is_always_right():
    tokenizer = tiny_tokenizer()
    task = tasks.load("last_word", data=_text("wikitext2", "test.txt"), limit=20, max_length=64)
    assert all(" " not in word for _, word in task.examples)
    result = evaluate(TokenOracle(len(tokenizer)), tokenizer, task, batch_size=8, progress=False)
    assert result["acc"] == 1.0 and result["perplexity"] == pytest.approx(1.0, abs=1e-6) and result["n"] == 20
    uniform = evaluate(TokenOracle(len(tokenizer), value=0.0), tokenizer, task, batch_size=8, progress=False)
    assert uniform["acc"] < 0.5 and uniform["perplexity"] > 10


@pytest.mark.parametrize("head", [False, True])
def test_sentence_similarity_reads_glue_tsv_and_runs_a_tiny_bert(head):
    from transformers import BertConfig, BertForMaskedLM, BertModel

    tokenizer = tiny_tokenizer()
    task = tasks.load("sentence_similarity", data=_text("stsb", "dev.tsv"), limit=40)
    assert len(task) == 40 and 0.0 <= float(task.gold.min()) and float(task.gold.max()) <= 5.0
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64)  # fmt: skip
    bare = BertModel(config)
    model = bare
    if head:  # the encoder inside a model with a head: pooled from hidden_states[-1], same numbers
        model = BertForMaskedLM(config)
        model.bert.load_state_dict(bare.state_dict(), strict=False)
    result = evaluate(model, tokenizer, task, batch_size=16, progress=False)
    assert -1.0 <= result["spearman"] <= 1.0 and result["n"] == 40 and result["chance"] == 0.0
    if head:
        assert result["spearman"] == pytest.approx(evaluate(bare, tokenizer, task, progress=False)["spearman"])
