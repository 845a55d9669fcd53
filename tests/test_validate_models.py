"""Each task says which kinds of model it can score; a sweep pairing a task with another kind is refused from the
model's config alone, naming file, line, field, value and fix. Unknown models are never refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from painters.errors import ConfigError
from painters.sweep.config import load_sweep
from painters.sweep.validate import check_task_models, validate
from painters.tasks.models import KINDS, mismatch, model_kind
from painters.tasks.registry import TASKS, load

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "zoo" / "data" / "fashion-mnist-test"
TEXT = ROOT / "zoo" / "data" / "kjv-heldout.txt"


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    from tests import sweep_fixtures

    root = tmp_path_factory.mktemp("models")
    return {"llama": sweep_fixtures.save_llama(root, 6), "vit": sweep_fixtures.save_vit(root, layers=6)}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "class_name, model_type, kind",
    [
        ("LlamaForCausalLM", "llama", "causal-lm"),
        ("GPT2LMHeadModel", "gpt2", "causal-lm"),
        ("Gemma3ForConditionalGeneration", "gemma3", "causal-lm"),  # vision-language, but scores text alone
        ("BertForMaskedLM", "bert", "masked-lm"),
        ("BertModel", "bert", "text"),
        ("LlamaModel", "llama", "text"),
        ("BertForSequenceClassification", "bert", "text"),
        ("T5ForConditionalGeneration", "t5", "seq2seq"),
        ("BartForConditionalGeneration", "bart", "seq2seq"),
        ("ViTForImageClassification", "vit", "image-classification"),
        ("DeiTForImageClassificationWithTeacher", "deit", "image-classification"),
        ("ViTModel", "vit", "vision"),
        ("YolosForObjectDetection", "yolos", "object-detection"),
        ("DPTForSemanticSegmentation", "dpt", "segmentation"),
        ("Mask2FormerForUniversalSegmentation", "mask2former", "segmentation"),
        ("Wav2Vec2ForCTC", "wav2vec2", "audio"),
        ("CLIPModel", "clip", None),  # two towers: not classified, never refused
        ("LlavaForConditionalGeneration", "llava", None),
        ("MyRemoteCodeModel", "custom", None),
        (None, None, None),
    ],
)
def test_model_kinds_come_from_transformers_tables(class_name, model_type, kind):
    assert model_kind(class_name, model_type) == kind


@pytest.mark.parametrize(
    "task_head, architectures, model_type, loaded",
    [
        ("auto", ["LlamaForCausalLM"], "llama", "LlamaForCausalLM"),  # the checkpoint's own class
        ("auto", [], "llama", "LlamaModel"),  # no architectures: AutoModel
        ("auto", ["MyRemoteForCausalLM"], "llama", "LlamaModel"),  # a class transformers lacks: AutoModel too
        ("causal-lm", ["LlamaModel"], "llama", "LlamaForCausalLM"),
        (
            "image-classification",
            ["DeiTForImageClassificationWithTeacher"],
            "deit",
            "DeiTForImageClassificationWithTeacher",
        ),
        ("image-classification", ["LlamaForCausalLM"], "llama", None),  # no such head for this model type
    ],
)
def test_the_class_that_would_load_is_named_from_the_config_alone(task_head, architectures, model_type, loaded):
    from painters.sweep.config import ModelSpec
    from painters.sweep.loading import model_class_name

    spec = ModelSpec(id="org/model", task_head=task_head)
    assert model_class_name(spec, {"architectures": architectures, "model_type": model_type}) == loaded


def test_every_built_in_task_declares_the_models_it_scores():
    for name in TASKS.names():
        factory = TASKS[name]
        assert factory.model_kinds and set(factory.model_kinds) <= set(KINDS), name
        assert factory.model_hint, name


@pytest.mark.parametrize(
    "task, class_name, kind",
    [
        ("perplexity", "BertForMaskedLM", "masked-lm"),
        ("last_word", "LlamaForCausalLM", "causal-lm"),
        ("sentence_similarity", "BertModel", "text"),
        ("sentence_similarity", "LlamaForCausalLM", "causal-lm"),
        ("segmentation", "Mask2FormerForUniversalSegmentation", "segmentation"),
        ("classification", "CLIPModel", None),  # unknown kind: left to the run
    ],
)
def test_fitting_and_unknown_models_are_not_refused(task, class_name, kind):
    assert mismatch(task, class_name, kind) is None


def test_a_mismatch_names_the_value_the_model_and_the_fix():
    message = mismatch("detection", "ViTForImageClassification", "image-classification", head="image-classification")
    assert message == (
        "'detection' cannot score 'ViTForImageClassification' (an image classifier; model.task_head is "
        "'image-classification'): use classification; or use an object detector (a ...ForObjectDetection "
        "checkpoint, e.g. hustvl/yolos-small)"
    )
    assert "no registered task scores it" in mismatch("perplexity", "Wav2Vec2ForCTC", "audio")


def test_each_task_is_checked_against_its_own_model(models, tmp_path):
    def sweep(first: str, second: str) -> Path:
        data = {"perplexity": TEXT, "classification": IMAGES}
        return write(
            tmp_path,
            f"name: t\nmodels:\n"
            f"  - model: {{id: {models['llama']}}}\n    tasks: [{{type: {first}, data: {data[first]}}}]\n"
            f"  - model: {{id: {models['vit']}}}\n    tasks: [{{type: {second}, data: {data[second]}}}]\n"
            f"ops: [skip: all]\n",
        )

    assert validate(sweep("perplexity", "classification")).ok
    report = validate(sweep("classification", "perplexity"))
    assert len(report.problems) == 2
    assert "sweep.yaml, line 4, models[0].tasks[0].type: 'classification' cannot" in report.problems[0]
    assert "sweep.yaml, line 6, models[1].tasks[0].type: 'perplexity' cannot" in report.problems[1]
    with pytest.raises(ConfigError, match=r"(?s)models\[0\].tasks\[0\].type.*models\[1\].tasks\[0\].type"):
        check_task_models(load_sweep(tmp_path / "sweep.yaml"))


def test_a_task_head_the_model_type_lacks_is_a_problem(models, tmp_path):
    path = write(
        tmp_path,
        f"name: t\nmodel: {{id: {models['llama']}, task_head: image-classification}}\n"
        f"tasks: [{{type: classification, data: {IMAGES}}}]\nops: [skip: all]\n",
    )
    (problem,) = validate(path).problems
    assert "sweep.yaml, line 2, model.task_head: 'image-classification': transformers " in problem
    assert "no AutoModelForImageClassification class for model_type 'llama'" in problem


def test_the_run_check_leaves_a_model_it_cannot_read_to_loading(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = write(
        tmp_path,
        f"name: t\nmodel: {{id: org/not-cached-model}}\ntasks: [{{type: perplexity, data: {TEXT}}}]\n"
        f"ops: [skip: all]\n",
    )
    check_task_models(load_sweep(path))  # nothing to check against: loading the model says why it cannot


def test_validate_downloads_nothing_even_where_the_hub_answers(models, tmp_path, monkeypatch):
    for flag in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(flag, raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("validate went to the network")

    monkeypatch.setattr("painters.data.source._probe", no_network)
    monkeypatch.setattr("datasets.load_dataset", no_network)
    path = write(
        tmp_path,
        f"name: t\nmodel: {{id: {models['llama']}}}\n"
        f"tasks: [{{type: perplexity, data: some-org/texts, options: {{name: wikitext-2-raw-v1}}}}]\n"
        f"ops: [skip: all]\n",
    )
    report = validate(path)
    assert report.ok, report.problems
    assert f"{path}, line 3, tasks[0].data: 'some-org/texts' is a hub dataset: not checked offline" in report.notes
    assert "HF_DATASETS_OFFLINE" not in os.environ  # restored


def test_a_tasks_own_name_option_passes_through_load():
    """``name`` is both load()'s first argument and the option naming a hub dataset's config."""
    task = load("perplexity", data=str(TEXT), name="unused-for-a-local-file", limit=64)
    assert len(task) == 1
