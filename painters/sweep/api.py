"""``painters.sweep.run``: a sweep from Python (a notebook), with the runner's work sharing, returning the table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from painters.sweep.config import SweepConfig, load_sweep, parse_sweep


def _is_path(sweep: str | Path) -> bool:
    """A path, not YAML text (which has a newline, or is one flow mapping ``{...}``)."""
    return isinstance(sweep, Path) or not ("\n" in sweep or sweep.lstrip().startswith("{"))


def _plain(value: Any) -> Any:
    """``value`` with paths as strings and tuples as lists, as YAML would hold it."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, Path) else value


def config_of(sweep: str | Path | Mapping[str, Any] | SweepConfig) -> SweepConfig:
    """A validated sweep config from a file path, YAML text, a dict (the YAML's structure) or a config.

    Relative paths in a file resolve against the file's folder; in YAML text or a dict, against the current
    directory. Mistakes raise :class:`painters.sweep.config.SweepError` naming the field, as ``painters run`` does.
    """
    if isinstance(sweep, SweepConfig):
        return sweep
    if isinstance(sweep, Mapping):
        text, source = yaml.safe_dump(_plain(sweep), sort_keys=False), "<dict>"
    elif _is_path(sweep):
        return load_sweep(sweep)
    else:
        text, source = sweep, "<yaml>"
    config = parse_sweep(text, source)
    config.resolve_paths(Path.cwd())
    return config


def run(
    sweep: str | Path | Mapping[str, Any] | SweepConfig,
    out: str | Path | None = None,
    *,
    model: Any = None,
    processor: Any = None,
    force: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """Run a sweep as ``painters run`` does and return its results table (one row per model, variant and task).

    ``sweep``: a sweep file's path, YAML text or a dict of the same structure. Results go to ``out`` (default
    ``results/<name>``), one record per finished variant, so a rerun only does what is missing and a grown sweep
    only the new variants; a change that makes records stale (data, limit, ...) is refused unless ``force=True``.
    ``model`` and ``processor``: a model already in memory for a single-model sweep (not loaded again; its
    ``model.id`` still names the records). Work is shared: one unmodified pass per batch gives the baseline, the
    layer-similarity matrix (``painters.plot.load_similarity(out)``) and the states every variant resumes from.
    The table's ``attrs`` hold ``out`` (the results folder, a string) and ``stats`` (what this call did: records
    ``written``, ``skipped`` as already done, ``failed``, ``layer_evaluations``, ``seconds``).
    """
    from painters.show import load
    from painters.sweep.runner import SweepRunner

    config = config_of(sweep)
    folder = Path(out) if out is not None else Path("results") / config.name
    source = str(sweep) if isinstance(sweep, (str, Path)) and _is_path(sweep) else "<python>"
    runner = SweepRunner(
        config, folder, source=source, force=force, progress=progress, model=model, processor=processor
    )
    stats = runner.run()
    table = load(folder)
    done = {key: getattr(stats, key) for key in ("written", "skipped", "failed", "layer_evaluations")}
    # plain values only: pandas copies and compares attrs in every operation on the table
    table.attrs.update(out=str(folder), stats={**done, "seconds": round(stats.seconds, 1)})
    return table
