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

from painters.errors import UnknownNameError


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


def parse_ops(text: str | Sequence[Any] | None) -> tuple[Any, ...]:
    """Ops from a ``model_args`` string: ``"skip:4:8;reverse:2:5;shuffle:4:8:1"`` (name:params in constructor
    order, ``;``-separated), a JSON list of op dicts, or already-built ops."""
    import json

    import painters

    if not text:
        return ()
    if not isinstance(text, str):
        return tuple(text)
    if text.lstrip().startswith("["):
        return tuple(painters.op_from_dict(d) for d in json.loads(text))
    ops = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, *params = part.split(":")
        if name not in painters.OPS:
            raise UnknownNameError(f"in ops={text!r}: {painters.OPS.unknown_message(name)}")
        ops.append(painters.OPS[name].from_args(params))
    return tuple(ops)


def lm_eval_model(model: nn.Module, tokenizer: Any, batch_size: int = 16, ops: Any = None, **kwargs: Any) -> Any:
    """An lm-eval model around an already loaded model: :class:`PaintersLM` (``ops`` applied on every call)."""
    return _painters_lm_class()(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, ops=ops, **kwargs)


_CLASS: list[Any] = []


def _painters_lm_class() -> Any:
    """lm-eval's ``HFLM`` with a painters plan applied around every forward and generation, registered in lm-eval
    as ``painters``: ``lm_eval --model painters --model_args pretrained=PATH,ops=skip:4:8 --tasks ...``."""
    if _CLASS:
        return _CLASS[0]
    require_lm_eval()
    from lm_eval.api.registry import register_model
    from lm_eval.models.huggingface import HFLM

    from painters.apply import apply

    class PaintersLM(HFLM):
        def __init__(self, *args: Any, ops: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.ops = parse_ops(ops)

        def _model_call(self, *args: Any, **kwargs: Any) -> Any:
            with apply(self.model, *self.ops):
                return super()._model_call(*args, **kwargs)

        def _model_generate(self, *args: Any, **kwargs: Any) -> Any:
            with apply(self.model, *self.ops):
                return super()._model_generate(*args, **kwargs)

    _CLASS.append(register_model("painters")(PaintersLM))
    return PaintersLM


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
    lm = lm_eval_model(model, tokenizer, batch_size, ops=ops)
    return lm_eval.simple_evaluate(
        model=lm, tasks=list(tasks), task_manager=manager, limit=limit, num_fewshot=num_fewshot,
        use_cache=None, cache_requests=False, **kwargs,
    )  # fmt: skip
