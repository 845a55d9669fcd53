import pytest

from painters.data.labels import VOC_CLASSES, VOC_TO_COCO, canonical, match_labels, resolve_label_names
from tests.task_helpers import coco_id2label


def test_canonical_names():
    assert canonical("Potted_Plant") == canonical("potted-plant") == canonical(" potted  plant ") == "potted plant"


def test_voc_to_coco_mapping_is_complete_and_validated():
    id2label = coco_id2label()
    mapping = match_labels(VOC_CLASSES, id2label, VOC_TO_COCO)
    assert len(mapping) == 20
    names = {VOC_CLASSES[i]: id2label[m] for i, m in mapping.items()}
    assert names["aeroplane"] == "airplane" and names["tvmonitor"] == "tv" and names["person"] == "person"
    assert names["diningtable"] == "dining table" and names["sofa"] == "couch"


def test_unmatched_labels_raise_a_clear_error():
    with pytest.raises(ValueError, match=r"6 dataset label\(s\) match no model label: .*'aeroplane'.*label_map="):
        match_labels(VOC_CLASSES, coco_id2label())


def test_drop_leaves_unmatched_out():
    mapping = match_labels(["cat", "unicorn"], {0: "dog", 1: "cat"}, unmatched="drop")
    assert mapping == {0: 1}


def test_label_map_by_name_id_and_identity():
    id2label = {0: "tench, Tinca tinca", 1: "goldfish, Carassius auratus", 2: "great white shark"}
    assert match_labels(["goldfish", "tench"], id2label) == {0: 1, 1: 0}  # comma-separated synonyms count
    assert match_labels(["n01440764", "fish"], id2label, {"n01440764": 0, "fish": "goldfish"}) == {0: 0, 1: 1}
    assert match_labels(["a", "b"], id2label, "identity") == {0: 0, 1: 1}
    with pytest.raises(ValueError, match="not dataset labels"):
        match_labels(["goldfish"], id2label, {"goldfsh": "tench"})
    with pytest.raises(ValueError, match="does not have"):
        match_labels(["goldfish"], id2label, {"goldfish": 9})
    with pytest.raises(ValueError, match="both map to"):
        match_labels(["goldfish", "carp"], id2label, {"carp": "goldfish"})


def test_named_label_sets():
    assert resolve_label_names("voc")[:2] == ("background", "aeroplane")
    with pytest.raises(ValueError, match="unknown label set"):
        resolve_label_names("ade")
