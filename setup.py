"""Build step: ship the zoo (``zoo/``) and its example sweeps inside the wheel, as ``painters/_shipped/``.

Everything else is in pyproject.toml. The checkout keeps one copy of each file (``zoo/``, ``experiments/``); a
wheel (``pip install .``) carries them as ``painters/_shipped/zoo`` and ``painters/_shipped/experiments`` with the
same layout, so the sweep files' relative paths (``../zoo/fashion-vit``) keep working from the installed package.
An editable install (``pip install -e .``) reads the checkout's copies directly.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {
    "zoo": ["**/*"],
    "experiments": ["quickstart.yaml", "zoo/*.yaml"],
}
"""Folder of the checkout -> the files (globs) of it that the wheel carries under ``painters/_shipped/``."""


class BuildWithZoo(build_py):
    """``build_py`` that also copies the zoo and its example sweeps into the built package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "painters" / "_shipped"
        for folder, patterns in SHIPPED.items():
            files = [p for pattern in patterns for p in sorted((ROOT / folder).glob(pattern)) if p.is_file()]
            if not files:
                raise SystemExit(f"painters build: {ROOT / folder} has none of {patterns}; the wheel needs them")
            for source in files:
                if "__pycache__" in source.parts:
                    continue
                dest = target / source.relative_to(ROOT)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": BuildWithZoo})
