import pytest

from painters import tasks
from painters.tasks import registry

BUILT_IN = {"classification", "detection", "segmentation", "perplexity", "multiple_choice", "last_word",
            "sentence_similarity"}  # fmt: skip


def test_built_in_names_are_registered():
    assert BUILT_IN <= set(tasks.available())
    assert tasks.get("sts") is tasks.get("sentence_similarity")


def test_unknown_names_suggest_the_closest():
    with pytest.raises(ValueError, match=r"unknown task 'segmentaton'\. Did you mean 'segmentation'\?"):
        tasks.load("segmentaton", data="x")
    with pytest.raises(ValueError, match=rf"Available \({len(registry.TASKS)}\): classification"):
        tasks.get("zzz")


def test_register_and_load_a_custom_task(monkeypatch):
    monkeypatch.setattr(registry.TASKS, "_items", dict(registry.TASKS._items))
    monkeypatch.setattr(registry.TASKS, "_aliases", dict(registry.TASKS._aliases))
    seen = {}

    @tasks.register("echo", aliases=("echo2",))
    def echo(data, limit=None, **kwargs):
        seen.update(data=data, limit=limit, **kwargs)
        return "task"

    assert tasks.load("echo2", data="d", split="dev", limit=3, extra=1) == "task"
    assert seen == {"data": "d", "limit": 3, "split": "dev", "extra": 1}
    with pytest.raises(ValueError, match="already registered"):
        tasks.register("echo")(echo)
    with pytest.raises(ValueError, match="needs data="):
        tasks.load("echo")


def test_hub_ids_fail_fast_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name, data in [("classification", "org/images"), ("multiple_choice", "ybisk/piqa"), ("perplexity", "wikitext"),
                       ("sentence_similarity", "sentence-transformers/stsb"), ("detection", "org/boxes"),
                       ("segmentation", "org/masks"), ("last_word", "EleutherAI/lambada_openai")]:  # fmt: skip
        kwargs = {"labels": "voc"} if name == "segmentation" else {}
        with pytest.raises(ConnectionError, match="Point data= at local files instead"):
            tasks.load(name, data=data, **kwargs)
