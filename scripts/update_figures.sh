#!/usr/bin/env bash
# Maintainers: rerun the sweeps behind the README's figures and copy those figures into docs/ (docs/quickstart,
# docs/vision, docs/predictors). Not here: the MiniLM predictors figure (needs the MiniLM weights and STS-B) and
# docs/prune (painters prune runs, see docs/prune.md). PNGs differ in bytes across machines (fonts, matplotlib
# versions), so only run this to change them.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
painters run experiments/quickstart.yaml --quiet
painters run experiments/vision-classics.yaml --quiet
painters plot results/quickstart --formats png
painters plot results/vision-classics --formats png
mkdir -p docs/quickstart docs/vision docs/predictors
for f in degradation skip_heatmap_all swap_heatmap_all; do cp "results/quickstart/plots/$f.png" docs/quickstart/; done
cp results/quickstart/plots/predictors_kjv-heldout.png docs/predictors/tiny-llama.png
cp results/quickstart/plots/predictors_fashion-mnist.png docs/predictors/fashion-vit.png
cp results/quickstart/plots/predictors_scenes-detection.png docs/predictors/fashion-yolos.png
cp results/quickstart/plots/predictors_scenes-segmentation.png docs/predictors/fashion-dpt.png
for f in isolate_cls_curve keep_cls_only_curve attention_distance_fashion-vit attention_distance_fashion-clip; do
  cp "results/vision-classics/plots/$f.png" docs/vision/
done
echo "updated docs/quickstart and docs/vision"
