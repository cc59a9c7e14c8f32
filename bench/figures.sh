#!/usr/bin/env bash
# Redraws the README's figures (bench/figures/NAME.png): each experiment's plot, run from the repository root
# (the experiments read ../shared). Usage: bash bench/figures.sh [NAME ...]   (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
DETCGD=${DETCGD:-./build/detcgd}
out=bench/out/figures
mkdir -p "$out" bench/figures
names=${*:-"paper-rand1 paper-randt paper-fig1 bernq-free sign-geometry ef21 ef21-phishing ef21-norm ef21-poly sign-vote ef21-sgdm diana vr-diana marina det-marina sega"}
for name in $names; do
  start=$(date +%s)
  case $name in
    ef21-phishing) "$DETCGD" experiment ef21 --data ../shared/data/libsvm/phishing --out "$out/$name" > "$out/$name.log" ;;
    *) "$DETCGD" experiment "$name" --out "$out/$name" > "$out/$name.log" ;;
  esac
  cp "$out/$name/plot.png" "bench/figures/$name.png"
  echo "$name: $(( $(date +%s) - start )) s"
done
