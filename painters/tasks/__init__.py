"""Benchmark tasks: ``painters.tasks.load(name, data=..., split=..., limit=...)``.

Each task preprocesses its data once per processor (``prepare``), runs any model variant on the
prepared batches (``run``), and scores with a fresh accumulator (``new_accumulator``).
"""

from painters.tasks import (  # noqa: F401  (importing registers the built-in tasks)
    classification,
    detection,
    last_word,
    multiple_choice,
    perplexity,
    segmentation,
    sentence_similarity,
    zero_shot,
)
from painters.tasks.base import Accumulator, BaseTask, Batch, Task
from painters.tasks.registry import available, get, load, register

__all__ = ["Accumulator", "BaseTask", "Batch", "Task", "available", "get", "load", "register"]
