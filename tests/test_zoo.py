"""The zoo (GitHub issue 5): every registered entry is complete (builds, processes, trains one step, scores, has a
card), shipped models load and score as recorded, scenes are deterministic and consistent, the classifier has the
paper's shape, and (slow tier) the retrain command runs end to end."""

from __future__ import annotations

import dataclasses
import gzip
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

import painters
from painters.errors import ConfigError, UnknownNameError
from painters.tasks.registry import SPEC_FIELDS, TASKS, check_options
from painters.zoo import cards, fashion_mnist, models, registry, scenes, scoring, text, train
from painters.zoo.cli import main

ROOT = registry.zoo_dir()
SCORES = cards.read_scores(ROOT)
TOLERANCE = {"top1": 0.005, "map_50": 0.005, "miou": 0.005}
"""Absolute tolerance per metric (2.5 of the 500 test images); perplexities are compared relatively (0.5%)."""

needs_fashion = pytest.mark.skipif(
    not fashion_mnist.available(), reason="Fashion-MNIST is absent (apt-get install dataset-fashion-mnist)"
)
needs_kjv = pytest.mark.skipif(not text.available(), reason="the KJV text is absent (apt-get install bible-kjv)")


def _synthetic(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST-like items: a bright rectangle of random size with a faint edge, labels 0..9."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    for i in range(n):
        h, w = rng.integers(8, 27, size=2)
        top, left = rng.integers(0, 28 - h), rng.integers(0, 28 - w)
        images[i, top : top + h, left : left + w] = rng.integers(60, 255)
        images[i, top, left : left + w] = 10
    return images, np.arange(n) % 10


# ---- scenes -----------------------------------------------------------------------------------------------------


def _same(a: scenes.Scene, b: scenes.Scene) -> bool:
    return all(
        np.array_equal(getattr(a, f), getattr(b, f))
        for f in ("image", "mask", "instances", "boxes", "categories", "sources")
    )


def test_scenes_are_deterministic() -> None:
    images, labels = _synthetic()
    first = list(scenes.generate(images, labels, 20, seed=3))
    again = list(scenes.generate(images, labels, 20, seed=3))
    assert all(_same(a, b) for a, b in zip(first, again))
    assert _same(first[7], scenes.make_scene(images, labels, 3, 7, scenes.SceneConfig()))  # indexable
    other = list(scenes.generate(images, labels, 20, seed=4))
    assert not all(_same(a, b) for a, b in zip(first, other))


def _check_consistent(scene: scenes.Scene, config: scenes.SceneConfig) -> None:
    assert scene.image.shape == scene.mask.shape == (config.size, config.size)
    assert set(np.unique(scene.mask)) <= {0, scenes.IGNORE, *range(1, 11)}
    assert np.array_equal(scene.mask > 0, scene.instances > 0)
    assert config.min_items - 1 <= len(scene.boxes) <= config.max_items  # an item can fail to fit
    for k, (box, category) in enumerate(zip(scene.boxes, scene.categories), start=1):
        pixels = scene.instances == k
        assert set(np.unique(scene.mask[pixels])) <= {int(category), scenes.IGNORE}
        ys, xs = np.nonzero(pixels & (scene.mask == category))
        tight = [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
        assert np.array_equal(box, tight), (box, tight)
        assert (scene.image[scene.mask == category] >= config.threshold).all()


def test_boxes_match_masks() -> None:
    images, labels = _synthetic()
    config = scenes.SceneConfig()
    for scene in scenes.generate(images, labels, 50, seed=1, config=config):
        _check_consistent(scene, config)


@needs_fashion
def test_boxes_match_masks_on_fashion_mnist() -> None:
    images, labels = fashion_mnist.load("test")
    config = scenes.SceneConfig(size=64)
    found = [scene for scene in scenes.generate(images, labels, 100, seed=7, config=config)]
    for scene in found:
        _check_consistent(scene, config)
    assert np.mean([len(s.boxes) for s in found]) > 2


def test_written_scenes_load_as_painters_tasks(tmp_path) -> None:
    images, labels = _synthetic()
    written = list(scenes.generate(images, labels, 6, seed=2))
    folder = scenes.write(written, tmp_path / "scenes")
    detection = painters.tasks.load("detection", data=folder)
    segmentation = painters.tasks.load("segmentation", data=folder, labels=scenes.segmentation_labels())
    assert len(detection) == len(segmentation) == 6
    coco = json.loads((folder / "instances.json").read_text())
    assert len(coco["annotations"]) == sum(len(s.boxes) for s in written)
    assert [c["id"] for c in coco["categories"]] == list(range(1, 11))
    mask = np.asarray(Image.open(folder / "masks" / "00001.png"))
    assert np.array_equal(mask, written[0].mask)


@needs_fashion
def test_shipped_scenes_are_the_generator_output() -> None:
    from painters.zoo import data

    folder = registry.data_path("fashion-yolos", ROOT)
    coco = json.loads((folder / "instances.json").read_text())
    regenerated = data.eval_scenes(10)
    for image_id, scene in enumerate(regenerated, start=1):
        boxes = [a["bbox"] for a in coco["annotations"] if a["image_id"] == image_id]
        assert np.allclose(boxes, scene.boxes.reshape(-1, 4))
        assert np.array_equal(np.asarray(Image.open(folder / "images" / f"{image_id:05d}.png")), scene.image)
        assert np.array_equal(np.asarray(Image.open(folder / "masks" / f"{image_id:05d}.png")), scene.mask)


@needs_kjv
def test_shipped_heldout_text_is_the_split() -> None:
    from painters.zoo import data

    chapters = text.chapters()
    assert len(chapters) == 1189
    held = [c for i, c in enumerate(chapters) if text.is_heldout(i)]
    assert len(held) == 59 and text.heldout_text().startswith(held[0])
    shipped = registry.data_path("tiny-llama", ROOT).read_text(encoding="utf-8")
    assert shipped == text.heldout_text(data.SHIPPED_TEXT_CHARS) + "\n"
    assert len(shipped) <= data.SHIPPED_TEXT_CHARS + 1
    training = text.train_text()
    assert all(chapter not in training for chapter in held[:5])  # held-out chapters are not trained on


def test_shipped_clip_processor_tokenizes_any_prompt() -> None:
    """fashion-clip's processor loads back as a CLIPProcessor; its tokenizer knows every byte (words the captions
    never had split into known pieces, no unknown token) and ends each prompt with its one EOS, where the text
    tower pools."""
    import transformers

    model, processor = registry.load("fashion-clip", ROOT)
    assert isinstance(processor, transformers.CLIPProcessor)
    tokenizer = processor.tokenizer
    ids = tokenizer("A jpeg-corrupted photo of a T-shirt top! 42 \u00fc")["input_ids"]
    assert (
        ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id == model.config.text_config.eos_token_id
    )
    assert tokenizer.eos_token_id not in ids[1:-1] and len(ids) <= tokenizer.model_max_length
    trained = tokenizer("a photo of a ankle boot.")["input_ids"]
    assert len(trained) == 9  # BOS, six whole words and the full stop, EOS: the captions' words are single tokens


def test_shipped_tokenizer_round_trips_and_adds_nothing() -> None:
    _, tokenizer = registry.load("tiny-llama", ROOT)
    sample = "And God said, Let there be light: and there was light.\n\nIn the beginning"
    ids = tokenizer(sample)["input_ids"]
    assert tokenizer.decode(ids) == sample and 1 not in ids and 2 not in ids  # no BOS/EOS added
    assert len(tokenizer) == 2048 and len(ids) < len(sample) / 2.5  # the BPE merges English


# ---- data readers -----------------------------------------------------------------------------------------------


def test_idx_reader_and_missing_dataset_message(tmp_path, monkeypatch) -> None:
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    (tmp_path / "a.gz").write_bytes(gzip.compress(header + array.tobytes()))
    assert np.array_equal(fashion_mnist.read_idx(tmp_path / "a.gz"), array)
    monkeypatch.setenv("PAINTERS_FASHION_MNIST", str(tmp_path))
    fashion_mnist.load.cache_clear()
    try:
        with pytest.raises(fashion_mnist.FashionMNISTMissing, match="apt-get install dataset-fashion-mnist"):
            fashion_mnist.load("train")
    finally:
        fashion_mnist.load.cache_clear()
    assert not fashion_mnist.available()


def test_missing_corpus_names_the_package(monkeypatch) -> None:
    monkeypatch.delenv("PAINTERS_KJV", raising=False)
    monkeypatch.setattr(text.shutil, "which", lambda name: None)
    text.chapters.cache_clear()
    try:
        with pytest.raises(text.CorpusMissing, match="bible-kjv-text"):
            text.chapters()
    finally:
        text.chapters.cache_clear()


def test_processor_matches_training_pixels() -> None:
    """Training feeds ``normalise_pixels`` of grey images resized with ``resize_images``; the saved processor must
    give the same tensors from the 28x28 (classifiers) or 64x64 (scenes) images as files hold them (for the CLIP
    model: its processor's image processor)."""
    images, _ = _synthetic(4)
    scenes_64 = np.stack([np.asarray(Image.fromarray(i).resize((64, 64))) for i in images])
    cases = [("fashion-vit", images), ("fashion-yolos", scenes_64), ("fashion-dpt", scenes_64)]
    cases += [("fashion-swin", images), ("fashion-clip", images)]
    for name, grey in cases:
        config = registry.spec(name).config
        side = config["image_size"] if "image_size" in config else config["vision_config"]["image_size"]
        side = side[0] if isinstance(side, list) else side
        pil = [Image.fromarray(g).convert("RGB") for g in grey]
        processor = registry.spec(name).build_processor()
        processor = getattr(processor, "image_processor", processor)
        pixels = processor(images=pil, return_tensors="pt")["pixel_values"]
        expected = train.normalise_pixels(train.resize_images(grey, side))
        assert pixels.shape == expected.shape and torch.allclose(pixels, expected, atol=1e-6), name


# ---- registered entries: each test runs for every model in ZOO, so a new entry is tested as it registers ---------

ENTRIES = registry.ZOO.names()


@pytest.fixture(scope="module")
def processors() -> dict[str, object]:
    return {}


def _processor(processors: dict, name: str) -> object:
    """The entry's newly built processor (a tokenizer is trained on its corpus: skipped where that is absent)."""
    if name not in processors:
        try:
            processors[name] = registry.spec(name).build_processor()
        except FileNotFoundError as missing:  # FashionMNISTMissing, CorpusMissing: the source is not installed
            pytest.skip(str(missing))
    return processors[name]


def _same_value(got: object, want: object) -> bool:
    """Lists compared as lists; a nested config (a tower's) compared on the keys the spec gives."""
    if isinstance(want, dict) and isinstance(got, dict):
        return all(k in got and _same_value(got[k], v) for k, v in want.items())
    return list(got) == list(want) if isinstance(want, (list, tuple)) else got == want


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_builds_from_its_config(name: str, processors: dict) -> None:
    import transformers

    spec = registry.spec(name)
    torch.manual_seed(0)
    model = spec.build_model(spec.config, _processor(processors, name))
    assert type(model) is getattr(transformers, spec.model_class)
    assert scoring.layer_count(model, name) == models.LAYERS
    stored = model.config.to_dict()  # keys transformers stores elsewhere (rope_theta) are not compared
    wrong = {k: stored[k] for k, v in spec.config.items() if k in stored and not _same_value(stored[k], v)}
    assert not wrong, f"{name}: config differs from the spec: {wrong}"
    torch.manual_seed(0)
    again = models.build(name, _processor(processors, name))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_processor_builds_and_saves_as_shipped(name: str, processors: dict, tmp_path) -> None:
    """The processor training saves is the shipped one (the same files, byte for byte)."""
    processor = _processor(processors, name)
    processor.save_pretrained(tmp_path)
    shipped = registry.model_dir(name, ROOT)
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved, name
    for file in saved:
        assert (tmp_path / file).read_bytes() == (shipped / file).read_bytes(), (name, file)


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_card_renders(name: str) -> None:
    """A card renders without scores, and with the recorded scores it is the shipped README.md."""
    spec = registry.spec(name)
    bare = cards.model_card(name, {})
    assert bare.startswith(f"# {name}\n") and spec.card in bare and spec.model_class in bare
    assert json.dumps(spec.config, sort_keys=True) in bare
    shipped = (registry.model_dir(name, ROOT) / "README.md").read_text(encoding="utf-8")
    assert cards.model_card(name, SCORES[name]) == shipped


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_scoring_task_exists_and_scores_a_fresh_model(name: str, processors: dict) -> None:
    spec = registry.spec(name)
    assert spec.task in TASKS, f"{name}: unknown task {spec.task!r}"
    check_options(spec.task, {k: v for k, v in spec.task_kwargs.items() if k not in SPEC_FIELDS})
    assert registry.data_path(name, ROOT).exists() and callable(spec.full_data)
    processor = _processor(processors, name)
    torch.manual_seed(0)
    model = spec.build_model(spec.config, processor).eval()
    result = scoring.score(model, processor, scoring.shipped_task(name, ROOT, limit=4))
    assert math.isfinite(result[spec.metric]), result


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_loss_runs_on_one_tiny_batch(name: str, processors: dict) -> None:
    spec = registry.spec(name)
    processor = _processor(processors, name)
    recipe = dataclasses.replace(spec.recipe, batch_size=2, samples=2)
    try:
        batches, steps = spec.batches(recipe, processor)
    except FileNotFoundError as missing:
        pytest.skip(str(missing))
    assert steps == 1
    torch.manual_seed(0)
    model = spec.build_model(spec.config, processor)
    loss = spec.loss(model, next(iter(batches(0))))
    assert loss.ndim == 0 and math.isfinite(loss.item())
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_recipes_start_from_earlier_entries() -> None:
    """``train all`` trains in registration order: a recipe's ``init`` must name a model registered before it."""
    order = list(registry.ZOO)
    for name, spec in registry.ZOO.items():
        assert spec.name == name
        if spec.recipe.init:
            assert spec.recipe.init in order[: order.index(name)], (name, spec.recipe.init)


def test_views_by_name_follow_the_registry() -> None:
    """``RECIPES``, ``CONFIGS`` and ``DATA_NOTES`` (older names) read the registered entries."""
    for name, spec in registry.ZOO.items():
        assert train.RECIPES[name] is spec.recipe and models.CONFIGS[name] is spec.config
        assert cards.DATA_NOTES[name] == spec.card
    assert list(train.RECIPES) == list(registry.ZOO) and len(models.CONFIGS) == len(registry.ZOO)
    with pytest.raises(UnknownNameError, match="Did you mean 'fashion-vit'"):
        train.RECIPES["fashion-vitt"]


def test_a_bad_processor_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="processor_kind"):
        dataclasses.replace(registry.spec("fashion-vit"), processor_kind="audio")


@needs_fashion
def test_a_new_entry_trains_loads_and_scores_with_no_other_change(tmp_path, monkeypatch) -> None:
    """A fifth model is one more ``ZooSpec``: the generic train, load, score and card code take it as it is."""
    vit = registry.spec("fashion-vit")
    small = dataclasses.replace(vit, name="fashion-vit-2", config={**vit.config, "hidden_size": 32})
    monkeypatch.setitem(registry.ZOO._items, small.name, small)
    recipe = dataclasses.replace(small.recipe, epochs=1, samples=128)
    log = train.train(small.name, tmp_path / small.name, recipe, max_steps=2, progress=False)
    assert log.steps == 2
    model, processor = registry.load(small.name, tmp_path)
    assert model.config.hidden_size == 32 and scoring.layer_count(model, small.name) == models.LAYERS
    result = scoring.score(model, processor, scoring.shipped_task(small.name, ROOT, limit=8))
    assert small.metric in result
    assert small.card in cards.model_card(small.name, {})


# ---- shipped models ---------------------------------------------------------------------------------------------


def test_zoo_is_small_and_complete() -> None:
    weights = sum(p.stat().st_size for p in ROOT.rglob("*.safetensors"))
    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file())
    assert weights < 20e6 and total < 25e6, (weights, total)
    for name in registry.ZOO:
        folder = registry.model_dir(name, ROOT)
        assert (folder / "config.json").exists() and (folder / "README.md").exists(), name
        assert name in SCORES and registry.data_path(name, ROOT).exists(), name


@pytest.fixture(scope="module")
def loaded() -> dict[str, tuple]:
    return {}


def _model(loaded: dict, name: str) -> tuple:
    if name not in loaded:
        model, processor = registry.load(name, ROOT)
        loaded[name] = (model, processor, scoring.shipped_task(name, ROOT))
    return loaded[name]


@pytest.mark.parametrize("name", list(registry.ZOO))
def test_zoo_model_scores_as_recorded(name: str, loaded: dict) -> None:
    spec = registry.spec(name)
    model, processor, task = _model(loaded, name)
    assert scoring.layer_count(model, name) == 12
    assert next(model.parameters()).dtype == torch.float32
    got = scoring.score(model, processor, task)[spec.metric]
    recorded = SCORES[name]["shipped"][spec.metric]
    if spec.metric == "perplexity":
        assert math.isclose(got, recorded, rel_tol=0.005), (got, recorded)
    else:
        assert abs(got - recorded) <= TOLERANCE[spec.metric], (got, recorded)


def test_recorded_scores_reach_the_targets() -> None:
    """Issue 5's targets: 88% top-1 on the full 10k test set; mAP@50 and mIoU of 0.5 on the (shipped) eval
    scenes; held-out perplexity clearly (here: at least 2x) better than a unigram model of the same text."""
    assert SCORES["fashion-vit"]["full"]["top1"] >= 0.88
    assert SCORES["fashion-yolos"]["shipped"]["map_50"] >= 0.5
    assert SCORES["fashion-dpt"]["shipped"]["miou"] >= 0.5
    for split in ("shipped", "full"):
        lm = SCORES["tiny-llama"][split]
        assert lm["perplexity"] < 0.5 * lm["unigram_perplexity"], split


def test_shipped_clip_zero_shot_through_the_task_equals_a_hand_written_scorer(tmp_path) -> None:
    """fashion-clip on 8 shipped test images per class, with and without a plan on its vision tower: the
    zero-shot task's top-1/top-5 and predictions equal plain torch over the model's forward (prompts "a photo of a
    {}." from the class folders, unit embeddings, cosine, top-k) on the materialised model."""
    import shutil

    import transformers as T

    source = ROOT / "data" / "fashion-mnist-test" / "test"
    classes = sorted(p.name for p in source.iterdir())
    for label in classes:
        (tmp_path / "test" / label).mkdir(parents=True)
        for path in sorted((source / label).iterdir())[:8]:
            shutil.copy(path, tmp_path / "test" / label / path.name)
    model, processor = registry.load("fashion-clip", ROOT)
    task = painters.tasks.load("zero_shot_classification", data=str(tmp_path))

    def hand(clip: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        images = [
            Image.open(p).convert("RGB") for label in classes for p in sorted((tmp_path / "test" / label).iterdir())
        ]
        labels = torch.tensor([i for i, label in enumerate(classes) for _ in range(8)])
        prompts = [f"a photo of a {label.replace('_', ' ')}." for label in classes]
        text = processor.tokenizer(prompts, padding="longest", return_tensors="pt")
        pixels = processor.image_processor(images=images, return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            out = clip(input_ids=text["input_ids"], attention_mask=text["attention_mask"], pixel_values=pixels)
        unit = lambda x: x / x.norm(dim=-1, keepdim=True)  # noqa: E731
        top = (unit(out.image_embeds) @ unit(out.text_embeds).T).topk(5, dim=1).indices
        return top, top == labels[:, None]

    op = painters.skip(4, 6)
    copy = T.CLIPModel.from_pretrained(ROOT / "fashion-clip").eval()
    copy.vision_model.encoder.layers = torch.nn.ModuleList(
        [layer for i, layer in enumerate(copy.vision_model.encoder.layers) if i not in (4, 5)]
    )
    copy.config.vision_config.num_hidden_layers = 10
    for ops, reference in (((), model), ((op,), copy)):
        got = painters.evaluate(
            model, processor, task, *ops, tower="vision", batch_size=40, progress=False, baseline=False
        )
        top, hits = hand(reference)
        assert got["top1"] == int(hits[:, 0].sum()) / 80 and got["top5"] == int(hits.any(dim=1).sum()) / 80, ops
        with painters.apply(model, *ops, tower="vision"):
            predictions = torch.cat([task.run(model, b) for b in task.prepare(processor, 40, progress=False)])
        assert torch.equal(predictions, top), ops
    assert got["top1"] != painters.evaluate(model, processor, task, batch_size=40, progress=False)["top1"]


def test_recorded_scores_of_the_clip_and_swin_models_reach_their_targets() -> None:
    """fashion-clip: 80% zero-shot top-1 on the 10k test images with the default prompt "a photo of a {}.", and
    prompts the training never used still classify (their ensemble well above chance); fashion-swin: 88% top-1."""
    clip = SCORES["fashion-clip"]["full"]
    assert clip["top1"] >= 0.80 and clip["unseen_templates_top1"] >= 0.5, clip
    assert clip["top5"] > clip["top1"] and clip["chance"] == 0.1
    assert SCORES["fashion-swin"]["full"]["top1"] >= 0.88


@needs_fashion
def test_classifier_reaches_88_percent_on_the_full_test_set(loaded: dict, tmp_path) -> None:
    """The issue's headline target, measured live on all 10,000 test images (not read from scores.json)."""
    model, processor, _ = _model(loaded, "fashion-vit")
    full = scoring.score(model, processor, scoring.full_task("fashion-vit", tmp_path))
    assert full["n"] == 10_000 and full["top1"] >= 0.88, full
    assert full["top1"] == pytest.approx(SCORES["fashion-vit"]["full"]["top1"], abs=0.001)


@pytest.mark.parametrize("name", list(registry.ZOO))
def test_a_middle_layer_matters_less_than_the_first(name: str, loaded: dict) -> None:
    """The paper's shape: skipping one middle layer (6) costs less than skipping the first layer (0); measured
    live, and the recorded single-layer profile agrees. Layers are counted over the spec's stacks (the vision tower
    of a two-tower model; the stages of a staged model, in order: layer 6 of Swin [2, 2, 6, 2] is block 2 of
    stage 2)."""
    spec = registry.spec(name)
    model, processor, task = _model(loaded, name)
    sign = 1 if spec.higher_is_better else -1
    positions = scoring.layer_positions(model, spec.stacks)
    (i, at_first), (j, at_middle) = positions[0], positions[6]
    first = sign * scoring.score(model, processor, task, painters.skip(i, i + 1), **at_first)[spec.metric]
    middle = sign * scoring.score(model, processor, task, painters.skip(j, j + 1), **at_middle)[spec.metric]
    assert middle > first, (name, middle, first)
    profile = SCORES[name]["skip_layer"]
    assert math.isclose(sign * profile[0], first, rel_tol=1e-3) and math.isclose(
        sign * profile[6], middle, rel_tol=1e-3
    )


def test_cli_rejects_unknown_names(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "no-such-model"])
    assert "invalid choice" in capsys.readouterr().err


# ---- retraining (slow) ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_retrain_command_runs(tmp_path) -> None:
    """``train all`` through the same code path with a few steps per model (the classifier first: YOLOS and
    DPT start from its backbone), then every model loads and scores through painters' tasks."""
    if not (fashion_mnist.available() and text.available()):
        pytest.skip("the training data (dataset-fashion-mnist, bible-kjv) is not installed")
    assert (
        main(
            [
                "train",
                "all",
                "--out",
                str(tmp_path),
                "--epochs",
                "1",
                "--samples",
                "256",  # two batches of the largest (128: fashion-clip)
                "--max-steps",
                "2",
                "--no-eval",
                "--threads",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    recorded = cards.read_scores(tmp_path)
    for name in registry.ZOO:
        model, processor = registry.load(name, tmp_path)
        assert scoring.layer_count(model, name) == 12
        result = scoring.score(model, processor, scoring.shipped_task(name, tmp_path, limit=8))
        assert registry.spec(name).metric in result
        assert recorded[name]["train"]["steps"] == 2
        assert (tmp_path / name / "README.md").exists()
    assert (tmp_path / "README.md").exists() and (tmp_path / "data" / "kjv-heldout.txt").exists()


def test_zoo_commands_say_a_users_mistake_in_one_line(capsys) -> None:
    """``painters zoo sweeps NAME`` prints a sweep's path; an unknown one is a one-line error (exit 2) from the zoo
    command line's own handler, as every zoo command's user errors are."""
    assert main(["sweeps", "quickstart"], prog="painters zoo") == 0
    assert capsys.readouterr().out.strip().endswith("quickstart.yaml")
    assert main(["sweeps", "quickstrat"], prog="painters zoo") == 2
    err = capsys.readouterr().err
    assert err.startswith("painters zoo: error:") and err.count("\n") == 1 and "quickstrat" in err
