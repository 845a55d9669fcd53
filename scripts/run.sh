#!/usr/bin/env bash
# The main job: the quickstart sweep over the zoo's trained models (no download) and its figures in
# results/quickstart/plots. It changes no tracked file (scripts/update_figures.sh refreshes the README's copies).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
painters run experiments/quickstart.yaml "$@"
echo "figures: results/quickstart/plots"
