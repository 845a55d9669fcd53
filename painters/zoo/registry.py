"""``ZOO``: name -> ``ZooSpec``, everything about each zoo model; and where the zoo lives.

The entries themselves are in ``painters/zoo/entries/`` (one module per model, each calling ``register``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from painters.errors import ConfigError, DataNotFoundError
from painters.registry import Registry
from painters.zoo.recipe import Recipe

ProcessorKind = Literal["tokenizer", "image", "processor"]
PROCESSOR_KINDS: tuple[str, ...] = get_args(ProcessorKind)
"""How ``load`` reads a model's processor back: ``AutoTokenizer``, ``AutoImageProcessor`` (PIL backend) or
``AutoProcessor`` (an image processor and a tokenizer together, for two-tower models; PIL backend)."""
Batches = Callable[[int], Iterator[dict[str, Any]]]
"""``batches(epoch)``: the model keyword arguments (with ``labels``) of one training epoch, batch by batch."""

T = TypeVar("T")


@dataclass(frozen=True)
class ZooSpec:
    """Everything about one zoo model, so that loading, training, scoring and cards never switch on its name.

    The model: ``model_class`` (a ``transformers`` class name), ``config`` (its config's keyword arguments;
    labels and vocabulary are the builder's business) and ``build_model(config, processor)`` (freshly
    initialised: seed torch first). The processor: ``processor_kind`` and ``build_processor()`` (a new image
    processor, or a tokenizer trained on the training text). Training: ``recipe``,
    ``batches(recipe, processor)`` -> ``(batches(epoch), steps per epoch)`` and ``loss(model, inputs)``.
    Scoring: the painters ``task`` with ``task_kwargs``, its ``metric`` (``higher_is_better``), ``data`` (the
    shipped eval data under ``zoo/data``), ``full_data(workdir)`` (the whole eval set, as the task's ``data``)
    and ``reference_scores(processor, data)`` (extra numbers for the same eval data, e.g. a baseline's).
    ``card``: the data paragraph of the model card; ``source``: what it is trained on ("fashion-mnist", "kjv").
    ``stacks``: the layer stacks of the model that the zoo counts (12 layers in all) and profiles layer by layer, as
    ``painters.apply`` keyword arguments: ``({},)`` for a single stack, ``({"tower": "vision"},)`` for one tower of a
    two-tower model, one ``{"stage": k}`` per stage of a staged model. ``task_variants``: other option sets of the
    same task, scored on the same data and recorded as ``<label>_<metric>`` (e.g. prompts the training never used).
    """

    name: str
    model_class: str
    description: str
    source: str
    config: dict[str, Any]
    build_model: Callable[[dict[str, Any], Any], Any]
    processor_kind: ProcessorKind
    build_processor: Callable[[], Any]
    recipe: Recipe
    batches: Callable[[Recipe, Any], tuple[Batches, int]]
    loss: Callable[[Any, dict[str, Any]], Any]
    task: str
    metric: str
    higher_is_better: bool
    data: str
    full_data: Callable[[Path], Any]
    card: str
    task_kwargs: dict[str, Any] = field(default_factory=dict)
    reference_scores: Callable[[Any, Any], dict[str, float]] | None = None
    stacks: tuple[dict[str, Any], ...] = ({},)
    task_variants: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.processor_kind not in PROCESSOR_KINDS:
            raise ConfigError(
                f"zoo model {self.name!r}: processor_kind must be one of {', '.join(map(repr, PROCESSOR_KINDS))}"
            )
        if not self.stacks:
            raise ConfigError(f"zoo model {self.name!r}: stacks must name at least one layer stack")


ZOO: Registry[ZooSpec] = Registry("zoo model")
"""The zoo models by name (``painters ls zoo``), in registration order (``train all`` trains in this order)."""


def register(entry: ZooSpec) -> ZooSpec:
    """Add ``entry`` to ``ZOO`` under its name."""
    return ZOO.register(entry.name, entry)


class ZooField(Mapping[str, T]):
    """Read-only view name -> one field of every registered zoo model (e.g. ``ZooField("recipe")``)."""

    def __init__(self, field_name: str):
        self.field_name = field_name

    def __getitem__(self, name: str) -> T:
        return getattr(ZOO[name], self.field_name)

    def __iter__(self) -> Iterator[str]:
        return iter(ZOO)

    def __len__(self) -> int:
        return len(ZOO)

    def __repr__(self) -> str:
        return f"ZooField({self.field_name!r}: {', '.join(ZOO)})"


SHIPPED = Path(__file__).resolve().parents[1] / "_shipped"
"""Where a wheel (``pip install .``) carries the zoo and its example sweeps (``setup.py`` copies them there)."""
CHECKOUT = Path(__file__).resolve().parents[2]
"""The root of the painters checkout (for an editable install or a run from the source tree)."""


def _root() -> Path:
    """The folder holding ``zoo/`` and ``experiments/``: the installed package's copy, else the checkout."""
    return SHIPPED if (SHIPPED / "zoo").is_dir() else CHECKOUT


def zoo_dir() -> Path:
    """The zoo folder: ``$PAINTERS_ZOO`` if set, else the copy shipped in the installed wheel, else ``zoo/`` at
    the root of the painters checkout."""
    override = os.environ.get("PAINTERS_ZOO")
    return Path(override) if override else _root() / "zoo"


def sweep_files() -> dict[str, Path]:
    """The example sweep files that run on the zoo, by name: ``quickstart`` (the main job) and one per zoo
    model (``experiments/zoo/<name>.yaml``). Their relative paths point at the shipped zoo, not ``$PAINTERS_ZOO``."""
    folder = _root() / "experiments"
    found = {"quickstart": folder / "quickstart.yaml"} if (folder / "quickstart.yaml").is_file() else {}
    found.update({path.stem: path for path in sorted((folder / "zoo").glob("*.yaml"))})
    return found


def sweep_file(name: str) -> Path:
    """The example sweep file ``name`` (see :func:`sweep_files`), e.g. ``painters run $(painters zoo sweeps
    quickstart)`` on the command line."""
    found = sweep_files()
    if name not in found:
        known = ", ".join(found) or f"none: {_root() / 'experiments'} is missing"
        raise DataNotFoundError(f"no example sweep named {name!r}; known: {known}")
    return found[name]


def spec(name: str) -> ZooSpec:
    """The spec of ``name``, with the known names in the error."""
    return ZOO[name]


def model_dir(name: str, root: str | Path | None = None) -> Path:
    """The folder of ``name``'s weights (``root`` defaults to ``zoo_dir()``)."""
    return Path(root or zoo_dir()) / spec(name).name


def data_path(name: str, root: str | Path | None = None) -> Path:
    """The shipped eval data of ``name`` (a folder, or the held-out text file)."""
    return Path(root or zoo_dir()) / "data" / spec(name).data


def load(name: str, root: str | Path | None = None) -> tuple[Any, Any]:
    """``(model, processor)`` of a zoo model, in eval mode, float32 (the processor is its image processor with
    the PIL backend, its tokenizer, or its ``AutoProcessor`` with a PIL image processor)."""
    import torch
    import transformers

    entry, folder = spec(name), model_dir(name, root)
    if not (folder / "config.json").exists():
        raise DataNotFoundError(f"{folder} holds no model: retrain it with `python -m painters.zoo train {name}`")
    model = getattr(transformers, entry.model_class).from_pretrained(folder, dtype=torch.float32).eval()
    if entry.processor_kind == "tokenizer":
        processor = transformers.AutoTokenizer.from_pretrained(folder)
    elif entry.processor_kind == "processor":
        processor = transformers.AutoProcessor.from_pretrained(folder, backend="pil")
    else:
        processor = transformers.AutoImageProcessor.from_pretrained(folder, backend="pil")
    return model, processor
