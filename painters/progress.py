"""Progress bars of the libraries painters drives (``--quiet`` turns them off with painters' own)."""

from __future__ import annotations


def silence_library_bars() -> None:
    """Hide the progress bars of ``transformers`` (loading weights) and ``datasets`` (building image folders)
    for the rest of the process."""
    import datasets
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
