"""Layers split across parallel lists (XLM, FlauBERT): layer ``i`` is the ``i``-th module of each list
(``attentions[i]``, ``layer_norm1[i]``, ``ffns[i]``, ``layer_norm2[i]``), and the forward loops ``for i in
range(n_layers)`` indexing every list with ``i``.

Under a plan each list is replaced by a :class:`PlanZipList` holding the same modules under the same keys whose
entry ``k`` is list's module of the layer that step ``k`` runs (its position attributes bound to slot ``k``), and the
loop count follows the plan's length. A step must be one layer: parallel groups (a mean over whole layers) cannot be
expressed when a layer is four separate calls.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from painters.errors import PlanError
from painters.plan import Plan


class ZippedLayer(nn.Module):
    """One layer of a zipped stack: the ``i``-th module of every list, under the list names (used to find and
    rebind its position attributes; it is never called)."""

    def __init__(self, parts: dict[str, nn.Module]):
        super().__init__()
        for name, module in parts.items():
            self.add_module(name, module)


def zipped_layers(parent: nn.Module, names: tuple[str, ...]) -> list[ZippedLayer]:
    lists = [getattr(parent, n) for n in names]
    lists = [lst.original if isinstance(lst, PlanZipList) else lst for lst in lists]
    return [ZippedLayer({n: lst[i] for n, lst in zip(names, lists)}) for i in range(len(lists[0]))]


def check_zipped_plan(plan: Plan, names: tuple[str, ...]) -> None:
    if plan.has_parallel:
        raise PlanError(
            f"{plan}: this model keeps each layer in {len(names)} parallel lists ({', '.join(names)}) called one by "
            f"one, so a parallel group (the mean of whole layers) cannot be run. Use skip, swap, repeat, reverse, "
            f"shuffle or order."
        )


class ZipCall:
    """Entry ``k`` of a :class:`PlanZipList`: calls the list's module of step ``k``'s layer with its position
    attributes bound to slot ``k``."""

    def __init__(self, runner: Any, name: str, k: int):
        self.runner, self.name, self.k = runner, name, k

    def _module(self) -> nn.Module:
        layer = self.runner.plan.steps[self.k]
        return getattr(self.runner.layers[layer], self.name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        layer = self.runner.plan.steps[self.k]
        saved = self.runner.positions.bind(layer, self.k)
        try:
            return self._module()(*args, **kwargs)
        finally:
            self.runner.positions.unbind(saved)

    def __getattr__(self, attr: str) -> Any:
        return getattr(
            self.__dict__["runner"]
            .layers[self.__dict__["runner"].plan.steps[self.__dict__["k"]]]
            .get_submodule(self.__dict__["name"]),
            attr,
        )


class PlanZipList(nn.ModuleList):
    """A drop-in for one of the parallel lists: same modules under the same keys; indexing, iterating and ``len``
    follow the plan's steps."""

    def __init__(self, original: nn.ModuleList, runner: Any, name: str):
        super().__init__()
        self._modules.update(original._modules)
        object.__setattr__(self, "original", original)
        object.__setattr__(self, "calls", [ZipCall(runner, name, k) for k in range(runner.plan.num_steps)])

    def __iter__(self):
        return iter(self.calls)

    def __len__(self) -> int:
        return len(self.calls)

    def __getitem__(self, idx: int | slice) -> Any:
        return self.calls[idx]
