"""Score a painters variant with lm-evaluation-harness tasks (an extra: ``pip install 'painters[lm-eval]'``).

lm-eval's response cache does not know which model variant answered, so it is always off here.
Pass ``include_path`` (a folder of task YAMLs over local JSONL files) to skip lm-eval's ~10 s index
of its built-in tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn


def require_lm_eval() -> Any:
    """The ``lm_eval`` package, or an ImportError saying how to install it."""
    try:
        import lm_eval
    except ImportError as error:
        raise ImportError(
            "painters.integrations.lm_eval needs lm-evaluation-harness: pip install 'painters[lm-eval]' "
            "(or pip install lm-eval)"
        ) from error
    return lm_eval


def lm_eval_model(model: nn.Module, tokenizer: Any, batch_size: int = 16, **kwargs: Any) -> Any:
    """An lm-eval ``HFLM`` around an already loaded (possibly painters-modified) model."""
    require_lm_eval()
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, **kwargs)


def evaluate_lm_eval(
    model: nn.Module,
    tokenizer: Any,
    tasks: Sequence[str],
    *ops: Any,
    include_path: str | Path | None = None,
    include_defaults: bool | None = None,
    limit: int | float | None = None,
    num_fewshot: int | None = None,
    batch_size: int = 16,
    **kwargs: Any,
) -> dict[str, Any]:
    """``lm_eval.simple_evaluate`` on ``model`` with ``ops`` applied (unmodified without ops).

    ``include_defaults`` defaults to False when ``include_path`` is given. Extra ``kwargs`` go to
    ``simple_evaluate``. Returns lm-eval's result dict.
    """
    lm_eval = require_lm_eval()
    from lm_eval.tasks import TaskManager

    if include_defaults is None:
        include_defaults = include_path is None
    manager = TaskManager(include_path=str(include_path) if include_path else None, include_defaults=include_defaults)
    lm = lm_eval_model(model, tokenizer, batch_size)

    def run() -> dict[str, Any]:
        return lm_eval.simple_evaluate(
            model=lm, tasks=list(tasks), task_manager=manager, limit=limit, num_fewshot=num_fewshot,
            use_cache=None, cache_requests=False, **kwargs,
        )  # fmt: skip

    if not ops:
        return run()
    from painters.apply import apply

    with apply(model, *ops):
        return run()
