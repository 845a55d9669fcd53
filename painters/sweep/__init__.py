"""Sweeps: a YAML file in, every variant scored, a results table out."""

from painters.sweep.config import SweepConfig, load_sweep
from painters.sweep.generators import Variant, expand_ops

__all__ = ["SweepConfig", "Variant", "expand_ops", "load_sweep"]
