"""The language-model corpus: the King James Bible (public domain) from Debian's ``bible-kjv-text``.

Read through the ``bible`` command of ``bible-kjv`` (``apt-get install bible-kjv`` installs both), or
from a file of ``bible -f Gen1:1-Rev22:21`` output named by ``$PAINTERS_KJV``. Chapters are the unit of the
split: every ``HELDOUT_EVERY``-th chapter is held out; a chapter is its verses, one per line, without
references; chapters are separated by a blank line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from painters.errors import PaintersError

HELDOUT_EVERY = 20
HELDOUT_OFFSET = 10
"""Chapter i (0-based, in canonical order; 1189 in all) is held out when i % 20 == 10 (59 chapters, 5%)."""

_VERSE = re.compile(r"^(\S+?)(\d+):(\d+) (.*)$")
INSTALL_HINT = (
    "the King James Bible text is read with the `bible` command: install it with "
    "`apt-get install bible-kjv` (Debian/Ubuntu; it pulls in bible-kjv-text, the public-domain text), or "
    "set PAINTERS_KJV to a file holding the output of `bible -f Gen1:1-Rev22:21`"
)


class CorpusMissing(PaintersError, FileNotFoundError):
    """Neither ``$PAINTERS_KJV`` nor the ``bible`` command is available."""


def available() -> bool:
    """Whether the corpus can be read here."""
    return bool(os.environ.get("PAINTERS_KJV")) or shutil.which("bible") is not None


def _raw() -> str:
    override = os.environ.get("PAINTERS_KJV")
    if override:
        return Path(override).read_text(encoding="utf-8")
    command = shutil.which("bible")
    if command is None:
        raise CorpusMissing(INSTALL_HINT)
    result = subprocess.run(
        [command, "-f", "Gen1:1-Rev22:21"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


@lru_cache(maxsize=1)
def chapters() -> tuple[str, ...]:
    """Every chapter's text in canonical order (verses one per line, references dropped)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for line in _raw().splitlines():
        match = _VERSE.match(line.strip())
        if match:
            grouped.setdefault((match[1], match[2]), []).append(match[4].strip())
    if len(grouped) < 1000:
        raise ValueError(f"expected the 1189 chapters of the King James Bible, read {len(grouped)}; {INSTALL_HINT}")
    return tuple("\n".join(verses) for verses in grouped.values())


def is_heldout(index: int) -> bool:
    """Whether chapter ``index`` belongs to the held-out split."""
    return index % HELDOUT_EVERY == HELDOUT_OFFSET


def train_text() -> str:
    """The training split: every chapter not held out, joined by blank lines."""
    return "\n\n".join(c for i, c in enumerate(chapters()) if not is_heldout(i))


def heldout_text(max_chars: int | None = None) -> str:
    """The held-out split (or its first whole chapters up to ``max_chars`` characters), joined by blank lines."""
    held = [c for i, c in enumerate(chapters()) if is_heldout(i)]
    if max_chars is None:
        return "\n\n".join(held)
    kept, size = [], 0
    for chapter in held:
        if kept and size + len(chapter) + 2 > max_chars:
            break
        kept.append(chapter)
        size += len(chapter) + 2
    return "\n\n".join(kept)
