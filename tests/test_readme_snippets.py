"""Every ```python block of README.md and docs/*.md runs (issue 16), in order, one fresh interpreter per file (later
blocks use what earlier ones defined), in a temporary folder, offline, on zoo and tiny models.

Markers on the line right before a block: ``<!-- skip-snippet: REASON -->`` leaves it out (reported as a skipped
test; kept few: needs the hub or a real checkpoint), ``<!-- snippet-raises: NAME -->`` expects it to raise ``NAME``
(an error shown on purpose).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"<!--\s*(skip-snippet|snippet-raises):\s*(.*?)\s*-->")
MAX_SKIPPED = 4
"""Blocks that may be left out in all: each one is a snippet nobody checks."""


@dataclass(frozen=True)
class Snippet:
    doc: Path
    line: int  # the line of the block's first code line (1-based)
    code: str
    skip: str | None = None
    raises: str | None = None

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def snippets(doc: Path) -> list[Snippet]:
    """The ```python blocks of ``doc`` with their markers."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].strip() != "```python":
            i += 1
            continue
        before = next((line for line in reversed(lines[:i]) if line.strip()), "")
        marker = MARKER.search(before)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        assert end is not None, f"{doc.name}:{i + 1}: a ```python block is never closed"
        kind, value = (marker.group(1), marker.group(2)) if marker else (None, None)
        code = "\n".join(lines[i + 1 : end])
        found.append(
            Snippet(
                doc,
                i + 2,
                code,
                skip=value if kind == "skip-snippet" else None,
                raises=value if kind == "snippet-raises" else None,
            )
        )
        i = end + 1
    return found


RUNNER = """
import json, sys, traceback
ns = {"__name__": "__snippets__"}
for where, line, code, raises in json.load(open(sys.argv[1])):
    try:
        exec(compile("\\n" * (line - 1) + code, where.rsplit(":", 1)[0], "exec"), ns)
    except BaseException as exc:
        if raises and type(exc).__name__ == raises:
            continue
        print(json.dumps({"where": where, "error": traceback.format_exc()}))
        sys.exit(1)
    if raises:
        print(json.dumps({"where": where, "error": f"expected {raises}, nothing was raised"}))
        sys.exit(1)
"""
"""Runs a file's blocks in one namespace; on the first failure prints the block and its traceback."""

ALL = [s for doc in DOCS for s in snippets(doc)]


def test_the_docs_have_snippets_and_few_are_skipped() -> None:
    assert len([s for s in ALL if s.doc.name == "README.md"]) >= 8
    skipped = [f"{s.where} ({s.skip})" for s in ALL if s.skip]
    assert len(skipped) <= MAX_SKIPPED, f"too many snippets left unchecked: {skipped}"


def test_user_docs_do_not_point_outside_the_repository() -> None:
    """``shared/`` beside the checkout is the developers' scratch space; users do not have it."""
    found = [f"{d.relative_to(ROOT)}:{i}" for d in DOCS for i, line in enumerate(d.read_text().splitlines(), 1)
             if "../shared" in line]  # fmt: skip
    assert not found, f"user docs point at ../shared: {found}"


@pytest.mark.parametrize("doc", [d for d in DOCS if any(s.doc == d and not s.skip for s in ALL)], ids=lambda d: d.name)
def test_snippets_run(doc: Path, tmp_path: Path) -> None:
    blocks = [[s.where, s.line, s.code, s.raises] for s in ALL if s.doc == doc and not s.skip]
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    env = {k: v for k, v in os.environ.items() if k != "PAINTERS_ZOO"}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(tmp_path / "blocks.json")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        report = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"where"')]
        detail = (
            f"{report[-1]['where']}:\n{report[-1]['error']}" if report else done.stdout[-3000:] + done.stderr[-3000:]
        )
        pytest.fail(f"a snippet of {doc.name} failed: {detail}", pytrace=False)


@pytest.mark.parametrize("snippet", [s for s in ALL if s.skip], ids=lambda s: s.where)
def test_skipped_snippet(snippet: Snippet) -> None:
    pytest.skip(f"{snippet.where}: {snippet.skip}")
