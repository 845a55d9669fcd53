#!/usr/bin/env bash
# The main job: the quickstart sweep over the zoo's four trained models (no download), its heatmaps, and the
# README's copies of them (docs/quickstart/).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
painters run experiments/quickstart.yaml "$@"
mkdir -p docs/quickstart
for f in degradation skip_heatmap_all swap_heatmap_all; do
  cp "results/quickstart/plots/$f.png" docs/quickstart/
done
echo "figures: results/quickstart/plots (README copies in docs/quickstart)"
