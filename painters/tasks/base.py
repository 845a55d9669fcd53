"""The Task protocol the evaluator and sweep runners drive, and the shared plumbing of the built-in tasks."""

from __future__ import annotations

import inspect
import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import torch
from torch import nn

from painters.errors import ConfigError, DataError, UnsupportedModelError

T = TypeVar("T")


@dataclass
class Batch:
    """One preprocessed batch: ``inputs`` for ``model(**inputs)`` (CPU tensors), ``meta`` for scoring."""

    inputs: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        first = next(iter(self.inputs.values()), None)
        return 0 if first is None else int(first.shape[0])


@runtime_checkable
class Accumulator(Protocol):
    """Collects a task's outputs batch by batch, then computes its metrics."""

    def update(self, batch: Batch, outputs: Any) -> None: ...

    def compute(self) -> dict[str, float]: ...


@runtime_checkable
class Task(Protocol):
    """A benchmark: preprocess once, run any number of model variants, score each with a fresh accumulator."""

    name: str
    primary_metric: str
    higher_is_better: bool

    def prepare(self, processor: Any, batch_size: int) -> list[Batch]: ...

    def run(self, model: nn.Module, batch: Batch) -> Any: ...

    def new_accumulator(self) -> Accumulator: ...

    def chance(self) -> dict[str, float]: ...


class BaseTask(ABC):
    """Caches ``prepare`` per (processor, batch size); subclasses implement ``_prepare`` and scoring.

    ``log_metrics`` names metrics normalised on a log scale (perplexities). ``model_kinds`` names the kinds of model
    the task can score (keys of :data:`painters.tasks.models.KINDS`; None: any), checked from the model's config
    before a sweep loads anything; ``model_hint`` says, in words, which model to use instead.
    """

    name: ClassVar[str]
    primary_metric: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    log_metrics: ClassVar[frozenset[str]] = frozenset()
    model_kinds: ClassVar[tuple[str, ...] | None] = None
    model_hint: ClassVar[str] = ""

    def __init__(self) -> None:
        self._prepared: dict[tuple[int, int], tuple[Any, list[Batch]]] = {}
        self.progress = True

    def prepare(self, processor: Any, batch_size: int, *, progress: bool = True) -> list[Batch]:
        """Decode and preprocess every example once; later calls with the same processor reuse the result.

        The preprocessed inputs stay in memory (float32 pixels for images) until ``clear_cache()``;
        ``progress=False`` hides the preprocessing bar.
        """
        self.progress = progress
        if batch_size < 1:
            raise ConfigError(f"batch_size must be positive, got {batch_size}")
        key = (id(processor), batch_size)
        if key not in self._prepared:  # the processor is kept alive with its batches, so its id stays unique
            from painters.tasks.batches import BatchStore

            self._prepared[key] = (processor, BatchStore(self._prepare(processor, batch_size)))
        return self._prepared[key][1]

    def clear_cache(self) -> None:
        """Forget every prepared batch list (frees the memory the preprocessed inputs take)."""
        self._prepared.clear()

    @abstractmethod
    def _prepare(self, processor: Any, batch_size: int) -> Iterable[Batch]: ...

    @abstractmethod
    def run(self, model: nn.Module, batch: Batch) -> Any: ...

    @abstractmethod
    def new_accumulator(self) -> Accumulator: ...

    @abstractmethod
    def chance(self) -> dict[str, float]: ...

    @abstractmethod
    def __len__(self) -> int: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {len(self)} examples>"


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``items`` of length ``size`` (the last may be shorter)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def select(total: int, limit: int | None, seed: int | None = 0) -> list[int]:
    """Indices of the examples to use: all of them, or ``limit`` of them.

    With a seed, a seeded random subset (kept in dataset order), so that a limit does not take only
    the first classes of an alphabetically ordered folder; with ``seed=None`` the first ``limit``.
    """
    if limit is None or limit >= total:
        return list(range(total))
    if limit < 1:
        raise ConfigError(f"limit must be positive, got {limit}")
    if seed is None:
        return list(range(limit))
    return sorted(random.Random(seed).sample(range(total), limit))


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for a model without parameters)."""
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _float_dtype(model: nn.Module) -> torch.dtype | None:
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), None)


def _accepted(model: nn.Module) -> set[str] | None:
    """Names ``model.forward`` takes explicitly, or None if it takes anything (a bare ``**kwargs``)."""
    parameters = inspect.signature(model.forward).parameters.values()
    named = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return named or None


def to_model(inputs: Mapping[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Inputs moved to the model's device, floats cast to its dtype, keys the model does not take dropped.

    (Image processors return e.g. ``pixel_mask`` that YOLOS's forward would pass down as a stray kwarg.)
    """
    device, dtype, accepted = model_device(model), _float_dtype(model), _accepted(model)
    moved = {}
    for key, value in inputs.items():
        if accepted is not None and key not in accepted:
            continue
        if isinstance(value, torch.Tensor):
            value = value.to(device, dtype=dtype if value.is_floating_point() and dtype is not None else None)
        moved[key] = value
    return moved


def id2label(model: nn.Module) -> dict[int, str]:
    """The model's ``config.id2label`` with int keys (ValueError if it has none)."""
    config = getattr(model, "config", None)
    labels = getattr(config, "id2label", None)
    if not labels:
        raise UnsupportedModelError(f"{type(model).__name__} has no config.id2label to match dataset labels against")
    return {int(k): str(v) for k, v in labels.items()}


def pick_column(columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str) -> str:
    """``wanted`` if given (checked), else the first candidate present in ``columns``."""
    if wanted is not None:
        if wanted not in columns:
            raise DataError(f"no {what} column {wanted!r}; the data has {list(columns)}")
        return wanted
    for candidate in candidates:
        if candidate in columns:
            return candidate
    raise ConfigError(f"cannot tell which column holds the {what} among {list(columns)}: pass {what}_column=")
