"""Zero-shot image classification on tiny CLIP and SigLIP models: the task's scores equal a hand-written scorer (plain
torch over the model's forward, the same images and prompts), with one template or several averaged, unmodified and
with a plan on either tower (against the materialised model); options are validated; other models are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import transformers as T
from PIL import Image

import painters
from painters import tasks
from painters.errors import ConfigError, UnsupportedModelError
from painters.tasks.models import mismatch, model_kind
from painters.tasks.registry import check_options
from painters.tasks.zero_shot import ZeroShotClassification, class_text, features, split_processor

CLASSES = ("ankle_boot", "bag", "coat", "dress", "red_shirt", "sandal")
WORDS = ("a", "photo", "of", "the", "an", "image", "picture", "small", ".", "red", "ankle", "boot", "bag", "coat",
         "dress", "shirt", "sandal")  # fmt: skip
TEMPLATES = ["a photo of a {}.", "an image of the {}.", "a small picture of a {}"]
_TOWER = dict(hidden_size=32, num_attention_heads=4, intermediate_size=64, num_hidden_layers=4)
SIDE = 32


def _word_tokenizer(eos: bool) -> T.PreTrainedTokenizerFast:
    """A word-level tokenizer over ``WORDS`` (pad 0, eos 1, unk 2); ``eos``: append ``</s>`` to every text."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = {w: i for i, w in enumerate(("<pad>", "</s>", "<unk>", *WORDS))}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()])
    if eos:
        backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return T.PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=12
    )


def _scaled(model: torch.nn.Module) -> torch.nn.Module:
    """Layer weights x3, so that skipping or reordering layers changes the embeddings clearly."""
    layers = list(model.vision_model.encoder.layers) + list(model.text_model.encoder.layers)
    with torch.no_grad():
        for layer in layers:
            for p in layer.parameters():
                if p.dim() >= 2:
                    p.mul_(3.0)
    return model.eval()


def clip(folder: Path) -> tuple[torch.nn.Module, object]:
    torch.manual_seed(0)
    tokenizer = _word_tokenizer(eos=True)
    text = dict(vocab_size=len(tokenizer), bos_token_id=1, eos_token_id=1, pad_token_id=0, **_TOWER)
    config = T.CLIPConfig(
        text_config=text, vision_config=dict(image_size=SIDE, patch_size=8, **_TOWER), projection_dim=16
    )
    model = _scaled(T.CLIPModel(config))
    images = T.CLIPImageProcessorPil(
        size={"height": SIDE, "width": SIDE}, do_center_crop=False, image_mean=[0.5] * 3, image_std=[0.5] * 3
    )
    return model, T.CLIPProcessor(image_processor=images, tokenizer=tokenizer)


def siglip(folder: Path) -> tuple[torch.nn.Module, object]:
    torch.manual_seed(0)
    tokenizer = _word_tokenizer(eos=False)
    text = dict(vocab_size=len(tokenizer), max_position_embeddings=12, **_TOWER)
    config = T.SiglipConfig(text_config=text, vision_config=dict(image_size=SIDE, patch_size=8, **_TOWER))
    model = _scaled(T.SiglipModel(config))
    images = T.SiglipImageProcessorPil(size={"height": SIDE, "width": SIDE})
    return model, T.SiglipProcessor(image_processor=images, tokenizer=tokenizer)


FACTORIES = {"clip": clip, "siglip": siglip}


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """test/<class>/<n>.png: four random colour images per class (different sizes: the processor resizes)."""
    root = tmp_path_factory.mktemp("zero-shot-images")
    rng = np.random.default_rng(0)
    for label in CLASSES:
        (root / "test" / label).mkdir(parents=True)
        for n in range(4):
            side = int(rng.integers(20, 40))
            pixels = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "test" / label / f"{n}.png")
    return root


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def saved(request, tmp_path_factory) -> tuple[str, Path]:
    """(kind, folder): the tiny model saved with its processor, as a checkpoint folder."""
    folder = tmp_path_factory.mktemp(request.param)
    model, processor = FACTORIES[request.param](folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return request.param, folder


def _load(folder: Path) -> tuple[torch.nn.Module, object]:
    return T.AutoModel.from_pretrained(folder).eval(), T.AutoProcessor.from_pretrained(folder)


def _examples(root: Path) -> tuple[list[Image.Image], torch.Tensor]:
    """Every image of the folder with its class index, read directly (class folders in alphabetical order)."""
    images, labels = [], []
    for index, label in enumerate(sorted(p.name for p in (root / "test").iterdir())):
        for path in sorted((root / "test" / label).iterdir()):
            images.append(Image.open(path).convert("RGB"))
            labels.append(index)
    return images, torch.tensor(labels)


def hand_scores(model, processor, root: Path, templates: list[str], padding: str) -> dict[str, object]:
    """Zero-shot accuracy in plain torch: the model's own forward gives unit image and prompt embeddings; prompts
    averaged per class and renormalised; cosine similarity; top-k."""
    images, labels = _examples(root)
    names = [label.replace("_", " ") for label in sorted(CLASSES)]
    prompts = [template.format(name) for name in names for template in templates]
    text = processor.tokenizer(prompts, padding=padding, return_tensors="pt")
    pixels = processor.image_processor(images=images, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = model(input_ids=text["input_ids"], attention_mask=text["attention_mask"], pixel_values=pixels)
    prompt_embeds = out.text_embeds / out.text_embeds.norm(dim=-1, keepdim=True)
    per_class = prompt_embeds.view(len(names), len(templates), -1).mean(dim=1)
    per_class = per_class / per_class.norm(dim=-1, keepdim=True)
    image_embeds = out.image_embeds / out.image_embeds.norm(dim=-1, keepdim=True)
    top = (image_embeds @ per_class.T).topk(5, dim=1).indices
    hits = top == labels[:, None]
    return {
        "top1": int(hits[:, 0].sum()) / len(labels),
        "top5": int(hits.any(dim=1).sum()) / len(labels),
        "predictions": top,
    }


def task_predictions(task, model, processor) -> torch.Tensor:
    return torch.cat([task.run(model, batch) for batch in task.prepare(processor, 5, progress=False)])


def _padding(kind: str) -> str:
    return "max_length" if kind == "siglip" else "longest"


@pytest.mark.parametrize("templates", [None, TEMPLATES], ids=["default", "three-templates"])
def test_scores_equal_a_hand_written_scorer(saved, images, templates):
    kind, folder = saved
    model, processor = _load(folder)
    task = tasks.load("zero-shot", data=str(images), templates=templates)
    assert (
        task.num_classes == 6
        and len(task) == 24
        and task.prompts[0] == (templates or ["a photo of a {}."])[0].format("ankle boot")
    )
    got = painters.evaluate(model, processor, task, batch_size=5, progress=False, baseline=False)
    want = hand_scores(model, processor, images, templates or ["a photo of a {}."], _padding(kind))
    assert got["top1"] == want["top1"] and got["top5"] == want["top5"] and got["n"] == 24
    assert torch.equal(task_predictions(task, model, processor), want["predictions"])
    assert got["chance_top1"] == pytest.approx(1 / 6) and got["chance_top5"] == pytest.approx(5 / 6)


def test_templates_are_averaged_not_concatenated(saved, images):
    """Several templates: the class embedding is the renormalised mean of the unit prompt embeddings, which is not
    what any single template gives."""
    kind, folder = saved
    model, processor = _load(folder)
    task = tasks.load("zero_shot_classification", data=str(images), templates=TEMPLATES)
    batch = task.prepare(processor, 24, progress=False)[0]
    classes = task.class_embeddings(model, batch)
    assert classes.shape == (6, 16 if kind == "clip" else 32)
    assert torch.allclose(classes.norm(dim=-1), torch.ones(6))
    singles = []
    for template in TEMPLATES:
        one = tasks.load("zero_shot_classification", data=str(images), templates=[template])
        singles.append(one.class_embeddings(model, one.prepare(processor, 24, progress=False)[0]))
    mean = torch.nn.functional.normalize(torch.stack(singles).mean(dim=0), dim=-1)
    assert torch.allclose(classes, mean, atol=1e-6)
    assert not any(torch.allclose(classes, single, atol=1e-4) for single in singles)


@pytest.mark.parametrize("tower", ["vision", "text"])
def test_a_plan_on_one_tower_equals_the_materialised_model(saved, images, tower):
    """The class embeddings are computed under the plan: a skip in either tower scores as the model written out
    with that layer removed, batch after batch (no embeddings kept from another plan)."""
    kind, folder = saved
    model, processor = _load(folder)
    task = tasks.load("zero-shot", data=str(images), templates=TEMPLATES)
    op = painters.skip(1, 2)
    baseline = task_predictions(task, model, processor)
    with painters.apply(model, op, tower=tower):
        planned = task_predictions(task, model, processor)
    got = painters.evaluate(model, processor, task, op, tower=tower, batch_size=5, progress=False)
    written = painters.materialize(model, op, tower=tower).eval()
    assert getattr(written.config, f"{tower}_config").num_hidden_layers == 3
    want = hand_scores(written, processor, images, TEMPLATES, _padding(kind))
    assert got["top1"] == want["top1"] and got["top5"] == want["top5"]
    assert torch.equal(planned, want["predictions"])
    assert got["baseline_top1"] == hand_scores(model, processor, images, TEMPLATES, _padding(kind))["top1"]
    assert torch.equal(task_predictions(task, model, processor), baseline)  # restored after the plan
    batch = task.prepare(processor, 5, progress=False)[0]
    with painters.apply(model, op, tower=tower):
        changed = task.class_embeddings(model, batch), task.image_embeddings(model, batch)
    unchanged = task.class_embeddings(model, batch), task.image_embeddings(model, batch)
    touched = 0 if tower == "text" else 1
    assert not torch.allclose(changed[touched], unchanged[touched])
    assert torch.equal(changed[1 - touched], unchanged[1 - touched])


def test_processor_forms(saved, images):
    """A processor, an (image processor, tokenizer) pair, or a tokenizer alone (``AutoTokenizer`` of the folder: the
    image processor is read from the tokenizer's folder) all score alike."""
    kind, folder = saved
    model, processor = _load(folder)
    task = tasks.load("zero-shot", data=str(images))
    want = task_predictions(task, model, processor)
    tokenizer = T.AutoTokenizer.from_pretrained(folder)
    pair = (processor.image_processor, processor.tokenizer)
    assert torch.equal(task_predictions(task, model, pair), want)
    assert torch.equal(task_predictions(task, model, tokenizer), want)
    with pytest.raises(ConfigError, match="needs an image processor and a tokenizer"):
        split_processor(processor.image_processor)


def test_the_sweep_loads_the_whole_two_tower_processor(saved):
    """``painters run`` loads CLIP/SigLIP folders with their processor (image processor and tokenizer), not the
    tokenizer alone."""
    from painters.sweep.config import ModelSpec
    from painters.sweep.loading import load_model

    kind, folder = saved
    model, processor = load_model(ModelSpec(id=str(folder)))
    assert type(processor).__name__ == f"{'CLIP' if kind == 'clip' else 'Siglip'}Processor"
    assert processor.image_processor is not None and processor.tokenizer is not None


def test_fewer_than_five_classes_score_top1_only(tmp_path, saved):
    _, folder = saved
    model, processor = _load(folder)
    for label in ("bag", "coat"):
        (tmp_path / "test" / label).mkdir(parents=True)
        Image.new("RGB", (24, 24), (200, 10, 10) if label == "bag" else (10, 10, 200)).save(
            tmp_path / "test" / label / "0.png"
        )
    task = tasks.load("zero_shot", data=str(tmp_path))
    got = painters.evaluate(model, processor, task, progress=False, baseline=False)
    assert "top5" not in got and got["n"] == 2 and task.chance() == {"top1": 0.5}


def test_options_are_validated(images):
    check_options("zero_shot_classification", {"templates": TEMPLATES, "class_names": {"bag": "handbag"}})
    check_options("zero_shot_classification", {"padding": "max_length", "class_names": list(CLASSES)})
    with pytest.raises(ConfigError, match="did you mean 'templates'"):
        check_options("zero_shot_classification", {"template": TEMPLATES})
    with pytest.raises(ConfigError, match="templates"):
        check_options("zero_shot_classification", {"templates": 3})
    with pytest.raises(ConfigError, match="padding"):
        check_options("zero_shot_classification", {"padding": "shortest"})
    with pytest.raises(ConfigError, match="exactly one"):
        tasks.load("zero-shot", data=str(images), templates=["a photo"])
    with pytest.raises(ConfigError, match="non-empty list"):
        tasks.load("zero-shot", data=str(images), templates=[])
    with pytest.raises(ConfigError, match="does not format"):
        tasks.load("zero-shot", data=str(images), templates=["a {} of {0}"])
    with pytest.raises(ConfigError, match="list of 6 names"):
        tasks.load("zero-shot", data=str(images), class_names=["one", "two"])
    with pytest.raises(ConfigError, match="labels the data does not have"):
        tasks.load("zero-shot", data=str(images), class_names={"hat": "a hat"})
    task = tasks.load("zero-shot", data=str(images), class_names={"bag": "handbag"}, templates=["{}"])
    assert task.prompts == ["ankle boot", "handbag", "coat", "dress", "red shirt", "sandal"]
    assert class_text("T-shirt_top") == "T-shirt top"


def test_max_length_padding_needs_a_limit(images):
    task = tasks.load("zero-shot", data=str(images), padding="max_length")
    tokenizer = _word_tokenizer(eos=False)
    tokenizer.model_max_length = int(1e30)
    with pytest.raises(ConfigError, match="model_max_length"):
        task.tokenize(tokenizer, "max_length")
    tokenizer.model_max_length = 12
    assert task.tokenize(tokenizer, "max_length")["input_ids"].shape == (6, 12)


def test_other_models_are_refused_with_the_fix(images):
    assert model_kind("CLIPModel", "clip") is None  # two towers: never refused from the config
    assert mismatch("zero_shot_classification", "CLIPModel", None) is None
    message = mismatch("zero-shot", "ViTForImageClassification", "image-classification")
    assert message.startswith("'zero-shot' cannot score 'ViTForImageClassification' (an image classifier): use ")
    assert "a two-tower image-text model (a CLIPModel or SiglipModel checkpoint" in message
    assert "cannot score 'LlamaForCausalLM' (a causal LM)" in mismatch("zero-shot", "LlamaForCausalLM", "causal-lm")
    task = tasks.load("zero-shot", data=str(images), limit=2)
    vit = T.ViTForImageClassification(T.ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1,
                                                  num_attention_heads=4, intermediate_size=64))  # fmt: skip
    batch = task.prepare((T.ViTImageProcessorPil(), _word_tokenizer(eos=True)), 2, progress=False)[0]
    with pytest.raises(UnsupportedModelError, match="two-tower model with get_image_features"):
        task.run(vit, batch)


def test_a_sweep_pairing_zero_shot_with_a_classifier_is_refused(tmp_path, images):
    from painters.sweep.validate import validate
    from tests import sweep_fixtures

    vit = sweep_fixtures.save_vit(tmp_path, layers=2)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: z\nmodel: {{id: {vit}}}\ntasks: [{{type: zero-shot, data: {images}}}]\nops: [skip: all]\n")
    report = validate(sweep)
    assert len(report.problems) == 1 and "'zero-shot' cannot score 'ViTForImageClassification'" in report.problems[0]


def test_features_reads_tensors_and_model_outputs():
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    x = torch.randn(2, 3)
    assert features(x) is x
    assert features(BaseModelOutputWithPooling(last_hidden_state=torch.zeros(2, 4, 3), pooler_output=x)) is x
    with pytest.raises(UnsupportedModelError):
        features(object())


def test_registered_under_its_aliases():
    assert tasks.get("zero-shot") is tasks.get("zero_shot") is tasks.get("zero_shot_classification")
    assert tasks.get("zero-shot") is ZeroShotClassification
