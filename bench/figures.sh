#!/usr/bin/env bash
# Redraws the README's figures (bench/figures/NAME.png): each experiment's plot, run from the repository root
# (the experiments read ../shared). Usage: bash bench/figures.sh [NAME ...]   (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
DETCGD=${DETCGD:-./build/detcgd}
out=bench/out/figures
mkdir -p "$out" bench/figures
names=${*:-"paper-rand1 paper-randt paper-fig1 bernq-free sign-geometry ef21 ef21-phishing ef21-norm ef21-poly sign-vote ef21-sgdm diana vr-diana marina det-marina sega sweep"}
for name in $names; do
  start=$(date +%s)
  case $name in
    ef21-phishing) "$DETCGD" experiment ef21 --data ../shared/data/libsvm/phishing --out "$out/$name" > "$out/$name.log" ;;
    sweep) "$DETCGD" sweep --out "$out/$name" --data ../shared/data/libsvm/a1a --lambda 0.3 --method det-cgd1 \
             --stepsize thm2 --grid "sketch=rand-1|sketch=rand-k k=4|sketch=rand-k k=16" --grid "weight=diag-inv|identity" \
             --seeds 1-8 --iters 2000 --eps2 1e-2 --metric gkd,grad2 > "$out/$name.log" ;;
    *) "$DETCGD" experiment "$name" --out "$out/$name" > "$out/$name.log" ;;
  esac
  cp "$out/$name/plot.png" "bench/figures/$name.png"
  echo "$name: $(( $(date +%s) - start )) s"
done
