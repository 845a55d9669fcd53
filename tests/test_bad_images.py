"""Images that cannot be decoded (truncated, not an image, empty): refused at task construction with the file
named (``bad_images="error"``, the default), or left out with their labels / boxes / masks (``"skip"``)."""

import io
import json
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from painters import tasks
from painters.data.images import BadImageError, BadImageWarning, ImageCheck, open_image
from painters.evaluation import evaluate
from tests.task_helpers import Scripted

datasets = pytest.importorskip("datasets")

KINDS = ("truncated", "text", "empty")
ERRORS = {"truncated": "truncated", "text": "cannot identify image", "empty": "cannot identify image"}


def _png(path, array):
    Image.fromarray(array).save(path)
    return path


def _noise(seed, size=(16, 16)):
    return np.random.default_rng(seed).integers(0, 255, (*size, 3), dtype=np.uint8)


def _corrupt(path, kind):
    """A file named like an image that PIL cannot decode."""
    if kind == "truncated":
        buffer = io.BytesIO()
        Image.fromarray(_noise(99, (64, 64))).save(buffer, "PNG")
        path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    elif kind == "text":
        path.write_text("this is not an image\n")
    else:
        path.write_bytes(b"")
    return path


def _refused(match, **kwargs):
    """The task refuses at construction, with the file, the decoding error and the fix in the message."""
    with pytest.raises(BadImageError, match=match) as info:
        tasks.load(**kwargs)
    message = str(info.value)
    assert "bad_images='skip'" in message and "remove or replace" in message
    return message


def _skipped(**kwargs):
    with pytest.warns(BadImageWarning, match=r"skipped 1 of \d+ examples") as record:
        task = tasks.load(bad_images="skip", **kwargs)
    assert len(record) == 1
    return task


# -- the shared helper --------------------------------------------------------------------------------------------


def test_open_image_decodes_paths_bytes_and_dataset_dicts(tmp_path):
    path = _png(tmp_path / "a.png", _noise(0))
    data = path.read_bytes()
    for source in (
        path,
        str(path),
        data,
        {"bytes": data, "path": "inside/the/archive.png"},
        {"bytes": None, "path": str(path)},
    ):
        assert open_image(source).size == (16, 16)
    with pytest.raises(OSError, match="cannot identify image data \\(5 bytes"):
        open_image(b"hello")
    with pytest.raises(TypeError, match="cannot read an image from int"):
        open_image(3)


def test_check_collects_every_failure_and_names_each(tmp_path):
    check = ImageCheck("demo", "error")
    bad = [_corrupt(tmp_path / f"{kind}.png", kind) for kind in KINDS]
    for path in [_png(tmp_path / "good.png", _noise(0)), *bad]:
        check.decode(path, str(path))
    with pytest.raises(BadImageError) as info:
        check.finish(4)
    message = str(info.value)
    assert message.startswith("demo: 3 of 4 images cannot be decoded")
    assert all(str(path) in message for path in bad) and "truncated" in message


def test_all_images_bad_is_an_error_even_when_skipping(tmp_path):
    check = ImageCheck("demo", "skip")
    check.decode(_corrupt(tmp_path / "x.png", "text"), "x.png")
    with pytest.raises(BadImageError, match="no example is left"):
        check.finish(1)


@pytest.mark.parametrize("task", ["classification", "detection", "segmentation"])
@pytest.mark.parametrize("value", ["ignore", "Skip", None, True])
def test_the_setting_itself_is_checked(task, value):
    with pytest.raises(ValueError, match=r"bad_images must be 'error' .* or 'skip' .*got " + repr(value)):
        tasks.load(task, data="/nonexistent/never/read", bad_images=value)


# -- classification -----------------------------------------------------------------------------------------------

CLASSES = {"cat": 0, "dog": 1}
MODEL = {0: "dog", 1: "cat"}  # the model's ids run the other way


@pytest.fixture
def imagefolder(tmp_path):
    """test/cat: 3 good images, test/dog: 2; returns (root, the path where a bad cat goes)."""
    for label, count in (("cat", 3), ("dog", 2)):
        (tmp_path / "test" / label).mkdir(parents=True)
        for i in range(count):
            _png(tmp_path / "test" / label / f"{label}{i}.png", _noise(10 * CLASSES[label] + i))
    return tmp_path, tmp_path / "test" / "cat" / "zz-broken.png"


def _classifier(task, always=None):
    """A fake classifier: the true label on top (or always the class ``always``)."""

    def make(start, count):
        labels = task.labels[start : start + count].tolist()
        logits = torch.zeros(count, 2)
        for row, label in enumerate(labels):
            name = always or task.label_names[label]
            logits[row, {v: k for k, v in MODEL.items()}[name]] = 1.0
        return type("Out", (), {"logits": logits})()

    return Scripted(make, MODEL)


def _vit():
    from transformers import ViTImageProcessorPil

    return ViTImageProcessorPil(size={"height": 16, "width": 16})


@pytest.mark.parametrize("kind", KINDS)
def test_classification_refuses_an_undecodable_image(imagefolder, kind):
    root, bad = imagefolder
    _corrupt(bad, kind)
    message = _refused(ERRORS[kind], name="classification", data=str(root), split="test")
    assert str(bad) in message and "1 of 6 images" in message


def test_classification_skips_the_image_with_its_label(imagefolder):
    root, bad = imagefolder
    _corrupt(bad, "truncated")
    task = _skipped(name="classification", data=str(root), split="test")
    assert task.skipped_images == [str(bad)] and len(task) == 5
    assert task.labels.tolist() == [0, 0, 0, 1, 1] and len(task.dataset) == 5
    perfect = evaluate(_classifier(task), _vit(), task, batch_size=2, progress=False)
    assert perfect["top1"] == 1.0 and perfect["n"] == 5
    cat = evaluate(_classifier(task, always="cat"), _vit(), task, batch_size=4, progress=False)
    assert cat["top1"] == pytest.approx(3 / 5) and cat["chance_top1"] == pytest.approx(3 / 5)  # not 4/6


def test_classification_clean_data_skips_nothing(imagefolder):
    root, _ = imagefolder
    with warnings.catch_warnings():
        warnings.simplefilter("error", BadImageWarning)
        task = tasks.load("classification", data=str(root), split="test", bad_images="skip")
    assert task.skipped_images == [] and len(task) == 5


def test_classification_limit_counts_before_skipping(imagefolder):
    root, bad = imagefolder
    _corrupt(bad, "empty")
    with pytest.warns(BadImageWarning, match="skipped 1 of 4 examples"):
        task = tasks.load("classification", data=str(root), split="test", limit=4, seed=None, bad_images="skip")
    assert len(task) == 3 and task.skipped_images == [str(bad)] and task.labels.tolist() == [0, 0, 0]


def _hub_classification(bad_row):
    rows = []
    for i in range(4):
        good = io.BytesIO()
        Image.fromarray(_noise(i)).save(good, "PNG")
        rows.append({"bytes": good.getvalue() if i != bad_row else b"GIF89a garbage", "path": None})
    features = datasets.Features({"img": datasets.Image(), "label": datasets.ClassLabel(names=["cat", "dog"])})
    return datasets.Dataset.from_dict({"img": rows, "label": [0, 1, 0, 1]}, features=features)


def test_classification_hub_rows_are_decoded_one_by_one():
    data = _hub_classification(bad_row=2)
    message = _refused(r"row 2 \(.*cannot identify image data", name="classification", data=data)
    assert "1 of 4 images" in message
    task = _skipped(name="classification", data=data)
    assert task.skipped_images == ["row 2"] and task.labels.tolist() == [0, 1, 1]
    result = evaluate(_classifier(task), _vit(), task, batch_size=4, progress=False)
    assert result["top1"] == 1.0 and result["n"] == 3


# -- detection ----------------------------------------------------------------------------------------------------


@pytest.fixture
def coco_folder(tmp_path):
    """4 images of 32x24 with one or two boxes each; image 3's file is the one a test breaks."""
    (tmp_path / "images").mkdir()
    coco = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}
    for i in range(4):
        name = f"img{i}.png"
        _png(tmp_path / "images" / name, _noise(i, (24, 32)))
        coco["images"].append({"id": 10 + i, "file_name": name, "width": 32, "height": 24})
        for k in range(1 + i % 2):
            coco["annotations"].append({"id": len(coco["annotations"]) + 1, "image_id": 10 + i,
                                        "category_id": 1 + (i + k) % 2, "bbox": [2.0 + 8 * k, 3.0, 10.0, 12.0],
                                        "area": 120.0, "iscrowd": 0})  # fmt: skip
    (tmp_path / "instances.json").write_text(json.dumps(coco))
    return tmp_path, tmp_path / "images" / "img3.png"


def _detector(task):
    """A fake YOLOS answering each image's ground truth boxes (model ids: 0 dog, 1 cat; 2 = no object)."""
    from transformers.models.yolos.modeling_yolos import YolosObjectDetectionOutput

    model_id = {1: 1, 2: 0}

    def make(start, count):
        images = task.gt["images"][start : start + count]
        logits = torch.zeros(count, 3, 3)
        logits[:, :, 2] = 10.0
        boxes = torch.full((count, 3, 4), 0.5)
        for row, image in enumerate(images):
            anns = [a for a in task.gt["annotations"] if a["image_id"] == image["id"]]
            for q, ann in enumerate(anns):
                x, y, w, h = ann["bbox"]
                logits[row, q, 2], logits[row, q, model_id[ann["category_id"]]] = 0.0, 10.0
                boxes[row, q] = torch.tensor([(x + w / 2) / 32, (y + h / 2) / 24, w / 32, h / 24])
        return YolosObjectDetectionOutput(logits=logits, pred_boxes=boxes)

    return Scripted(make, {0: "dog", 1: "cat"})


def _yolos():
    from transformers import YolosImageProcessorPil

    return YolosImageProcessorPil(size={"shortest_edge": 24, "longest_edge": 32})


@pytest.mark.parametrize("kind", KINDS)
def test_detection_refuses_an_undecodable_image(coco_folder, kind):
    root, bad = coco_folder
    _corrupt(bad, kind)
    message = _refused(ERRORS[kind], name="detection", data=str(root / "instances.json"))
    assert str(bad) in message and "1 of 4 images" in message


def test_detection_skips_the_image_with_its_boxes(coco_folder):
    root, bad = coco_folder
    _corrupt(bad, "text")
    task = _skipped(name="detection", data=str(root / "instances.json"))
    assert task.skipped_images == [str(bad)] and len(task) == 3
    assert [i["id"] for i in task.gt["images"]] == [10, 11, 12]
    assert {a["image_id"] for a in task.gt["annotations"]} == {10, 11, 12} and len(task.gt["annotations"]) == 4
    result = evaluate(_detector(task), _yolos(), task, batch_size=2, progress=False)
    assert result["map"] == pytest.approx(1.0) and result["mar_100"] == pytest.approx(1.0) and result["n"] == 3


def test_detection_hub_rows_are_decoded_one_by_one():
    names = datasets.ClassLabel(names=["cat", "dog"])
    objects = datasets.Features({"bbox": datasets.List(datasets.List(datasets.Value("float32"))),
                                 "category": datasets.List(names)})  # fmt: skip
    rows, images = [], []
    for i in range(3):
        buffer = io.BytesIO()
        Image.fromarray(_noise(i, (24, 32))).save(buffer, "PNG")
        images.append({"bytes": buffer.getvalue() if i != 0 else b"", "path": None})
        rows.append({"bbox": [[2.0, 3.0, 10.0, 12.0]], "category": [i % 2]})
    features = datasets.Features({"image": datasets.Image(), "objects": objects})
    data = datasets.Dataset.from_dict({"image": images, "objects": rows}, features=features)
    _refused(r"row 0 \(UnidentifiedImageError: cannot identify image data \(0 bytes\)\)", name="detection", data=data)
    task = _skipped(name="detection", data=data)
    assert task.skipped_images == ["row 0"] and [i["id"] for i in task.gt["images"]] == [1, 2]
    assert [a["image_id"] for a in task.gt["annotations"]] == [1, 2]


# -- segmentation -------------------------------------------------------------------------------------------------


@pytest.fixture
def seg_folder(tmp_path):
    """images/ + masks/: 4 pairs of 16x16; masks 0 and 1 half class 0, half class 1; mask 3 all class 2."""
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for i in range(4):
        _png(tmp_path / "images" / f"p{i}.png", _noise(i))
        mask = np.zeros((16, 16), dtype=np.uint8)
        mask[:, 8:] = 1
        if i == 2:
            mask[:4] = 255  # ignore
        if i == 3:
            mask[:] = 2
        Image.fromarray(mask).save(tmp_path / "masks" / f"p{i}.png")
    return tmp_path


def _segmenter(task, processor, always=None):
    masks = [m for batch in task.prepare(processor, 1) for m in batch.meta["masks"]]

    def make(start, count):
        mask = masks[start].long()
        mask = torch.where(mask == 255, 0, mask) if always is None else torch.full_like(mask, always)
        return type("Out", (), {"logits": torch.nn.functional.one_hot(mask, 3).permute(2, 0, 1)[None].float()})()

    return Scripted(make, {0: "a", 1: "b", 2: "c"})


def _segformer():
    from transformers import SegformerImageProcessorPil

    return SegformerImageProcessorPil(size={"height": 16, "width": 16})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("which", ["images", "masks"])
def test_segmentation_refuses_an_undecodable_image_or_mask(seg_folder, kind, which):
    bad = _corrupt(seg_folder / which / "p3.png", kind)
    message = _refused(ERRORS[kind], name="segmentation", data=str(seg_folder), label_map="identity")
    assert str(bad) in message and "1 of 4 images" in message


@pytest.mark.parametrize("which", ["images", "masks"])
def test_segmentation_skips_the_pair(seg_folder, which):
    bad = _corrupt(seg_folder / which / "p3.png", "truncated")
    task = _skipped(name="segmentation", data=str(seg_folder), label_map="identity")
    assert task.skipped_images == [str(bad)] and len(task) == 3
    processor = _segformer()
    perfect = evaluate(_segmenter(task, processor), processor, task, batch_size=1, progress=False)
    assert perfect["miou"] == 1.0 and perfect["pixel_acc"] == 1.0 and perfect["n"] == 3
    zeros = evaluate(_segmenter(task, processor, always=0), processor, task, batch_size=1, progress=False)
    assert zeros["pixel_acc"] == pytest.approx(0.5)  # the dropped all-class-2 mask is not counted
    assert task.class_pixels().tolist() == [3 * 128 - 32, 3 * 128 - 32]


def test_segmentation_mismatched_sizes_are_refused_at_construction(seg_folder):
    Image.fromarray(np.zeros((8, 16), dtype=np.uint8)).save(seg_folder / "masks" / "p1.png")
    with pytest.raises(ValueError, match=r"p1.png is 16x16 \(HxW\) but its mask .*p1.png is 8x16"):
        tasks.load("segmentation", data=str(seg_folder), label_map="identity", bad_images="skip")


def test_segmentation_hub_rows_are_decoded_one_by_one():
    masks = [np.full((16, 16), i % 2, dtype=np.uint8) for i in range(3)]
    buffers = []
    for i in range(3):
        buffer = io.BytesIO()
        Image.fromarray(masks[i]).save(buffer, "PNG")
        buffers.append({"bytes": buffer.getvalue() if i != 1 else b"\x89PNG junk", "path": None})
    features = datasets.Features({"image": datasets.Image(), "annotation": datasets.Image()})
    data = datasets.Dataset.from_dict({"image": [Image.fromarray(_noise(i)) for i in range(3)],
                                       "annotation": buffers}, features=features)  # fmt: skip
    _refused(r"row 1 \(column 'annotation'\)", name="segmentation", data=data, label_map="identity")
    task = _skipped(name="segmentation", data=data, label_map="identity")
    assert task.skipped_images == ["row 1 (column 'annotation')"] and len(task) == 2
    processor = _segformer()
    result = evaluate(_segmenter(task, processor), processor, task, batch_size=1, progress=False)
    assert result["pixel_acc"] == 1.0 and result["n"] == 2
