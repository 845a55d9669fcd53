"""The zoo models, one module each; importing this package registers them in ``ZOO``.

The order below is the registration order: ``train all`` trains in it, so a model comes after the model its
recipe's ``init`` starts from. A new zoo model is a new module here (calling ``register``) plus its name below.
"""

from importlib import import_module

MODULES = ("fashion_vit", "fashion_yolos", "fashion_dpt", "tiny_llama", "fashion_clip", "fashion_swin")

for _module in MODULES:
    import_module(f"{__name__}.{_module}")
