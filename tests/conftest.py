"""Test settings: one torch thread per process (2-core machines: contention made tiny forwards 400x slower),
no hub access."""

import os

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
torch.set_num_threads(1)


# -- tiers -------------------------------------------------------------------------------------------------------
import pytest  # noqa: E402

TIERS = {
    "unit": "no model: ops, plans, schemas, registries, metrics, labels (seconds)",
    "core": "exactness of every op on tiny models of every supported architecture",
    "tasks": "tasks and evaluate() on tiny models and small data",
    "sweeps": "sweep runner, store, CLI, plots, Ray",
    "zoo": "the shipped zoo models and their training code",
}
"""The test tiers: ``pytest -m unit`` (or core, tasks, sweeps, zoo) runs one; markers ``slow`` and
``architectures`` are the tiers left out of the default run (see pyproject.toml)."""

TIER_OF_FILE = {
    "test_core_ops": "unit",
    "test_sweep_config": "unit",
    "test_registry": "unit",
    "test_fuzz": "unit",
    "test_metrics_": "unit",
    "test_data_labels": "unit",
    "test_batches": "unit",
    "test_core_": "core",
    "test_analysis_": "core",
    "test_ops_registry": "core",
    "test_tasks_": "tasks",
    "test_evaluate": "tasks",
    "test_data_sources": "tasks",
    "test_bad_images": "tasks",
    "test_sweep_": "sweeps",
    "test_reliability": "sweeps",
    "test_ray": "sweeps",
    "test_cli_errors": "sweeps",
    "test_plot": "sweeps",
    "test_show": "sweeps",
    "test_experiment_files": "sweeps",
    "test_validate_": "sweeps",
    "test_notebook": "sweeps",
    "test_readme": "sweeps",
    "test_prune": "sweeps",
    "test_zoo": "zoo",
    "test_architecture_coverage": "architectures",
}
"""Tier of each test file by name prefix (the longest matching prefix wins)."""


def tier_of(filename: str) -> str | None:
    stem = filename.removesuffix(".py")
    matches = [prefix for prefix in TIER_OF_FILE if stem.startswith(prefix)]
    return TIER_OF_FILE[max(matches, key=len)] if matches else None


def pytest_configure(config):
    for name, doc in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = tier_of(item.path.name)
        if tier is None:
            raise pytest.UsageError(
                f"{item.path.name} belongs to no test tier: add its name prefix to TIER_OF_FILE in tests/conftest.py"
            )
        item.add_marker(getattr(pytest.mark, tier))


# -- session fixtures ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def tiny_model():
    """``tiny_model(name)``: the tiny model of ``tests.tiny.FACTORIES[name]`` (scaled-up weights), built once per
    session; tests must leave it as they found it (``painters.apply`` restores it)."""
    from tests import tiny

    return tiny.cached


class SavedModels:
    """Tiny checkpoints and data folders saved once per session (``tests.sweep_fixtures``), by what they hold."""

    def __init__(self, root):
        self.root = root

    def _folder(self, key: str):
        folder = self.root / key
        folder.mkdir(exist_ok=True)
        return folder

    def vit(self, layers: int = 6):
        from tests import sweep_fixtures as F

        return F.save_vit(self._folder(f"vit{layers}"), layers=layers)

    def llama(self, layers: int = 6):
        from tests import sweep_fixtures as F

        return F.save_llama(self._folder(f"llama{layers}"), layers)

    def images(self, per_class: int = 6):
        from tests import sweep_fixtures as F

        return F.save_imagefolder(self._folder(f"images{per_class}"), per_class=per_class)

    def text(self):
        from tests import sweep_fixtures as F

        return F.save_text(self._folder("text"))


@pytest.fixture(scope="session")
def saved(tmp_path_factory):
    """:class:`SavedModels` in a session temp folder."""
    return SavedModels(tmp_path_factory.mktemp("saved"))


@pytest.fixture(scope="module")
def sweep_files(saved):
    """The saved 6-layer tiny ViT and Llama with their image folder and text, for sweep tests (by kind)."""
    return {"vit": saved.vit(6), "images": saved.images(), "llama": saved.llama(6), "text": saved.text(),
            "root": saved.root}  # fmt: skip
