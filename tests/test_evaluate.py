"""painters.evaluate on a self-contained toy task (no shared data needed)."""

import math

import pytest
import torch

from painters import tasks
from painters.evaluation import evaluate, summarise
from painters.tasks.base import BaseTask, Batch, to_model
from tests import task_helpers  # noqa: F401  (one torch thread)


class ToyClassification(BaseTask):
    """Random 32x32 images; the gold label is the baseline model's own prediction, so baseline top1 = 1."""

    name = "toy"
    primary_metric = "top1"

    def __init__(self, n=12, labels=None):
        super().__init__()
        self.images = torch.randn(n, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        self.labels = labels if labels is not None else torch.zeros(n, dtype=torch.long)
        self.prepared = 0

    def __len__(self):
        return len(self.images)

    def _prepare(self, processor, batch_size):
        self.prepared += 1
        return [Batch({"pixel_values": self.images[i : i + batch_size]}, {"labels": self.labels[i : i + batch_size]})
                for i in range(0, len(self), batch_size)]  # fmt: skip

    @torch.no_grad()
    def run(self, model, batch):
        return model(**to_model(batch.inputs, model)).logits.argmax(-1).cpu()

    def new_accumulator(self):
        task = self

        class Hits:
            hits = n = 0

            def update(self, batch, outputs):
                self.hits += int((outputs == batch.meta["labels"]).sum())
                self.n += len(outputs)

            def compute(self):
                return {"top1": self.hits / self.n, "n": self.n, "examples": len(task)}

        return Hits()

    def chance(self):
        return {"top1": 0.25}


def _vit(seed=0):
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(seed)
    model = ViTForImageClassification(ViTConfig(
        hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, image_size=32,
        patch_size=8, num_labels=4, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))  # fmt: skip
    with torch.no_grad():  # far from the identity, so that skipping layers changes predictions (design trap 11)
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                module.weight.mul_(4.0)
    return model.eval()


@pytest.fixture(scope="module")
def setup():
    model = _vit()
    toy = ToyClassification()
    with torch.no_grad():
        toy.labels = model(pixel_values=toy.images).logits.argmax(-1)
    return model, toy


def test_baseline_only(setup):
    model, toy = setup
    result = evaluate(model, None, toy, batch_size=5, progress=False)
    assert result["top1"] == 1.0 and result["baseline_top1"] == 1.0 and result["n"] == 12
    assert result["chance"] == result["chance_top1"] == 0.25
    assert result["normalised"] == result["normalised_top1"] == 1.0
    assert "baseline_n" not in result


def test_without_baseline_there_is_nothing_to_normalise(setup):
    model, toy = setup
    result = evaluate(model, None, toy, batch_size=5, baseline=False, progress=False)
    assert result["top1"] == 1.0 and "baseline_top1" not in result and "normalised" not in result


def test_preprocessing_is_shared_between_evaluations(setup):
    model, toy = setup
    before = toy.prepared
    evaluate(model, "processor", toy, batch_size=3, progress=False)
    evaluate(model, "processor", toy, batch_size=3, progress=False)
    assert toy.prepared == before + 1


def test_ops_change_the_variant_not_the_baseline(setup):
    painters = pytest.importorskip("painters")
    if not hasattr(painters, "skip"):
        pytest.skip("painters.skip is not available yet")
    model, toy = setup
    result = evaluate(model, None, toy, painters.skip(1, 3), batch_size=6, progress=False)
    assert result["baseline_top1"] == 1.0
    assert result["top1"] < 1.0
    assert result["normalised"] == pytest.approx((result["top1"] - 0.25) / 0.75)
    assert evaluate(model, None, toy, batch_size=6, progress=False)["top1"] == 1.0  # the model is restored


def test_device_and_mode_are_handled(setup):
    model, toy = setup
    model.train()
    evaluate(model, None, toy, device="cpu", progress=False)
    assert model.training
    model.eval()


def test_summarise_normalises_perplexity_on_a_log_scale():
    task = type("T", (), {"primary_metric": "perplexity", "log_metrics": frozenset({"perplexity"}),
                          "chance": lambda self: {"perplexity": 1000.0}})()  # fmt: skip
    result = summarise(task, {"perplexity": 100.0, "tokens": 5, "n": 1}, {"perplexity": 10.0, "tokens": 5, "n": 1})
    assert result["normalised"] == pytest.approx(0.5) and result["chance"] == 1000.0
    assert result["baseline_perplexity"] == 10.0 and "baseline_tokens" not in result
    assert math.isnan(summarise(task, {"perplexity": 5.0}, {"perplexity": 1000.0})["normalised"])


def test_registered_tasks_follow_the_protocol():
    for name in tasks.available():
        factory = tasks.get(name)
        assert factory.name == name
        assert isinstance(factory.primary_metric, str) and isinstance(factory.higher_is_better, bool)
        for method in ("prepare", "run", "new_accumulator", "chance"):
            assert callable(getattr(factory, method))
    assert isinstance(ToyClassification(), tasks.Task)
