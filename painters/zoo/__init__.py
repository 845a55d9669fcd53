"""The painters zoo: small trained 12-layer transformers shipped under ``zoo/`` (GitHub issue 5).

``painters.zoo.load("fashion-vit")`` returns ``(model, processor)``; ``painters.zoo.main(["train", "all"])``
is the command line (``python -m painters.zoo``). Each model is one ``ZooSpec`` in ``ZOO``, registered by its
module in ``painters/zoo/entries/``.
"""

from painters.zoo import entries  # noqa: F401  (registers the zoo models)
from painters.zoo.cli import main
from painters.zoo.registry import (
    ZOO,
    ZooSpec,
    data_path,
    load,
    model_dir,
    register,
    spec,
    sweep_file,
    sweep_files,
    zoo_dir,
)

__all__ = [
    "ZOO",
    "ZooSpec",
    "data_path",
    "load",
    "main",
    "model_dir",
    "register",
    "spec",
    "sweep_file",
    "sweep_files",
    "zoo_dir",
]
