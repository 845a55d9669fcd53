"""``Recipe``: the optimisation settings a zoo model is trained with (data only, no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """Optimisation settings of one zoo model. ``head_lr`` scales the learning rate of the task head's
    parameters (names starting with one of ``head_prefixes``); ``samples`` = training examples per epoch
    (None: the whole training set); ``init`` names the zoo classifier whose backbone starts the model."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 0.05
    warmup: float = 0.05
    clip: float = 1.0
    seed: int = 0
    head_lr: float = 1.0
    head_prefixes: tuple[str, ...] = ()
    samples: int | None = None
    init: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
