"""Sweeps: a YAML file in, every variant scored, a results table out (``painters.sweep.run`` from Python)."""

from painters.sweep.api import config_of, run
from painters.sweep.config import SweepConfig, load_sweep
from painters.sweep.generators import Variant, expand_ops

__all__ = ["SweepConfig", "Variant", "config_of", "expand_ops", "load_sweep", "run"]
