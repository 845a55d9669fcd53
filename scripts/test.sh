#!/usr/bin/env bash
# Run the default test tier (add -m slow for the slow tier). Torch threads are capped: 2-core machines.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python -m pytest -q -n 2 "$@"
