"""Telling local paths from hub ids, and failing fast when the Hub cannot be reached."""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from painters.errors import DataNotFoundError, PaintersError

_TRUTHY = {"1", "true", "yes", "on"}
_FILE_SUFFIXES = {".json", ".jsonl", ".tsv", ".csv", ".txt", ".lst", ".parquet", ".png", ".jpg", ".jpeg"}
_reachable: set[str] = set()


class HubUnavailableError(PaintersError, ConnectionError):
    """A hub id was given but the Hugging Face Hub cannot be reached."""


def local_path(data: str | os.PathLike[str]) -> Path | None:
    """The local path ``data`` names, or None when it reads as a hub id (``name`` or ``org/name``).

    Raises FileNotFoundError for something that is clearly meant as a path but does not exist.
    """
    path = Path(data).expanduser()
    if path.exists():
        return path
    text = str(data)
    if (
        isinstance(data, os.PathLike)
        or text.startswith((".", "/", "~"))
        or "\\" in text
        or text.count("/") > 1
        or path.suffix.lower() in _FILE_SUFFIXES
    ):
        raise DataNotFoundError(
            f"no such file or folder: {text!r} (a local path that does not exist; fix the path, "
            f"or give a Hugging Face Hub id)"
        )
    return None


def _hub_endpoint() -> str:
    endpoint = os.environ.get("HF_ENDPOINT")
    if endpoint:
        return endpoint
    try:
        from huggingface_hub import constants

        return constants.ENDPOINT
    except ImportError:  # pragma: no cover - huggingface_hub comes with datasets
        return "https://huggingface.co"


def _probe(url: str, timeout: float) -> str | None:
    """Return None if ``url`` answers an HTTP HEAD (any status) within ``timeout`` s, else why not.

    Goes through urllib, so HTTP(S)_PROXY settings apply as they do for the Hub client; runs in a
    thread so that a slow DNS lookup is bounded too.
    """
    result: list[str | None] = []

    def attempt() -> None:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
                result.append(None)
        except urllib.error.HTTPError:  # the server answered: reachable
            result.append(None)
        except Exception as error:  # noqa: BLE001 - any failure means "not reachable"; never leak from the thread
            result.append(f"{type(error).__name__}: {getattr(error, 'reason', error)}")

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout)
    if not result:
        return f"no answer within {timeout:g} s"
    return result[0]


def hub_unavailable_reason(timeout: float = 3.0) -> str | None:
    """Why the Hub cannot be used (an offline flag is set, or it does not answer), or None if it answers."""
    for flag in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(flag, "").strip().lower() in _TRUTHY:
            return f"{flag} is set"
    endpoint = _hub_endpoint()
    if endpoint in _reachable:
        return None
    reason = _probe(endpoint, timeout)
    if reason is None:
        _reachable.add(endpoint)
        return None
    return f"{endpoint} is unreachable ({reason})"


def load_hub_dataset(repo_id: str, *, split: str, name: str | None = None, local_hint: str = "", **kwargs: Any) -> Any:
    """``datasets.load_dataset(repo_id, name, split=split)``, failing within seconds when offline."""
    reason = hub_unavailable_reason()
    if reason is not None:
        hint = f" Point data= at local files instead: {local_hint}" if local_hint else " Point data= at local files."
        raise HubUnavailableError(
            f"{repo_id!r} is not a local path, so it was taken as a Hugging Face Hub dataset id, "
            f"but the Hub cannot be used: {reason}.{hint}"
        )
    import datasets

    return datasets.load_dataset(repo_id, name, split=split, **kwargs)


def open_source(data: Any, *, split: str, name: str | None = None, local_hint: str = "") -> Any:
    """A local ``Path``, or a ``datasets.Dataset``: ``data`` itself if it is one, else loaded from the Hub."""
    if hasattr(data, "column_names") and hasattr(data, "features"):
        return data
    path = local_path(data)
    if path is not None:
        return path
    return load_hub_dataset(data, split=split, name=name, local_hint=local_hint)
