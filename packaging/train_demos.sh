#!/usr/bin/env bash
# Train the built-in demo models with the project's own `train` command (CPU, fixed seeds).
# Output: resources/demo/<name>/{config.json,weights.safetensors}
set -euo pipefail
cd "$(dirname "$0")/.."
LE=${LE:-.venv/bin/latent-explorer}
out=resources/demo
$LE train --data digits --arch conv-ae  --z-dim 8 --epochs 150 --batch-size 64 --seed 0 --out $out/digits-conv-ae
$LE train --data digits --arch conv-vae --z-dim 8 --beta 1.0 --epochs 150 --batch-size 64 --seed 0 --out $out/digits-conv-vae
$LE train --data fashion-mnist-train --arch conv-ae  --z-dim 32  --epochs 12 --seed 0 --out $out/fashion-conv-ae
$LE train --data fashion-mnist-train --arch conv-vae --z-dim 32  --beta 1.0 --epochs 12 --seed 0 --out $out/fashion-conv-vae
$LE train --data fashion-mnist-train --arch conv-ae  --z-dim 256 --epochs 12 --seed 0 --out $out/fashion-conv-ae-z256
# the study's comparison: the z=256 AE beside a conv VAE of the same architecture whose KL weight is tiny
$LE train --data fashion-mnist-train --arch conv-vae --z-dim 256 --beta 1e-5 --epochs 12 --seed 0 --out $out/fashion-conv-vae-z256-tinykl
# the optimizer state is only needed to resume; the shipped demos leave it out
rm -f $out/*/optimizer.safetensors
