"""Per-layer ``torch.compile`` for a sweep (``runner: {compile: true}``).

Compiling the whole model does not suit a sweep: every plan is a different forward, so it recompiles per plan
and, past ``torch._dynamo.config.recompile_limit`` (8), silently runs uncompiled. Compiling each layer instead
gives one graph that every plan reuses: the layers of a stack share their code, and their weights are graph
inputs. Two things would still make a layer recompile per position, so the sweep turns them off while it runs:
the KV cache (a layer reads its ``layer_idx`` to find its cache slot; a sweep scores single forwards and needs
no cache, so ``config.use_cache`` is set to False) and a recompile limit below the layer count (raised).
Compiled kernels may round differently from eager ones (inductor fuses operations): compiled records can differ
from uncompiled ones in the last bits, as they can across devices.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from torch import nn

from painters.apply import layers


@dataclass
class CompileInfo:
    """What compiling did: the ``graphs`` dynamo built while the sweep ran (1 when every layer and every plan
    shared one graph; a smaller last batch adds a dynamic-shape one)."""

    graphs: int = 0


@contextmanager
def compiled_layers(model: nn.Module, where: dict[str, Any], backend: str = "inductor") -> Iterator[CompileInfo]:
    """Compile each layer of ``model``'s stack (``where``: ``stage=``/``tower=``) with ``backend`` for the block;
    the model is as before afterwards, also when compiling fails (layers uncompiled, ``config.use_cache`` and the
    recompile limit restored)."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    stack = layers(model, **where)
    unique = list({id(layer): layer for layer in stack.layers}.values())
    config = getattr(model, "config", None)
    cache = getattr(config, "use_cache", None)
    limit = torch._dynamo.config.cache_size_limit  # recompile_limit from torch 2.7; this name works on 2.6 too
    before = counters["stats"]["unique_graphs"]
    info = CompileInfo()
    try:
        torch._dynamo.config.cache_size_limit = max(limit, 2 * len(stack.layers) + 8)
        if cache:
            config.use_cache = False
        for layer in unique:
            layer.compile(backend=backend)
        yield info
    finally:
        info.graphs = counters["stats"]["unique_graphs"] - before
        for layer in unique:
            layer._compiled_call_impl = None  # what nn.Module.compile set: calls go to the eager forward again
        if cache:
            config.use_cache = cache
        torch._dynamo.config.cache_size_limit = limit
