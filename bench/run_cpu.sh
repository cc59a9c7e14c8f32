#!/usr/bin/env bash
# CPU speed baseline: the detcgd CPU backend against the NumPy implementation
# (bench/numpy_detcgd.py) on the same problems and the same K.  Median of
# REPEATS runs of the iteration loop (setup excluded on both sides).
#
#   bash bench/run_cpu.sh            full pass, table in bench/out/cpu_vs_numpy.md
#   bash bench/run_cpu.sh --smoke    a few iterations of each (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
SMOKE=0; [ "${1:-}" = "--smoke" ] && SMOKE=1
REPEATS=$([ $SMOKE = 1 ] && echo 1 || echo 5)
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
DATA=../shared/data/libsvm
OUT=bench/out; mkdir -p $OUT
[ -x build/detcgd ] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j"$(nproc)" >/dev/null; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# name | detcgd options | numpy options | K
CONFIGS=(
  "a1a GD|--data $DATA/a1a --lambda 0.3 --method gd --stepsize gd|--data $DATA/a1a --lam 0.3 --method gd|3000"
  "a1a det-CGD2 rand-1|--data $DATA/a1a --lambda 0.3 --method det-cgd2 --sketch rand-1 --stepsize det2-opt|--data $DATA/a1a --lam 0.3 --method det-cgd2 --sketch rand-1|3000"
  "a1a det-CGD2 rand-30|--data $DATA/a1a --lambda 0.3 --method det-cgd2 --sketch rand-k --k 30 --stepsize det2-opt|--data $DATA/a1a --lam 0.3 --method det-cgd2 --sketch rand-k --k 30|3000"
  "quad 512x64 GD|--problem quad-nc --layers 512x64 --lambda 0.1 --method gd --stepsize gd|--layers 512x64 --lam 0.1 --method gd|200"
  "quad 512x64 det-CGD2 rand-8|--problem quad-nc --layers 512x64 --lambda 0.1 --method det-cgd2 --sketch rand-k --k 8 --stepsize det2-opt|--layers 512x64 --lam 0.1 --method det-cgd2 --sketch rand-k --k 8|200"
)

CSV=$OUT/cpu_vs_numpy.csv
MD=$OUT/cpu_vs_numpy.md
echo "config,iters,detcgd_us_per_iter,numpy_us_per_iter,speedup" > $CSV
{
  echo "| config | K | detcgd CPU (µs/iter, median of $REPEATS) | NumPy (µs/iter, median of $REPEATS) | speedup |"
  echo "|---|---|---|---|---|"
} > $MD
for c in "${CONFIGS[@]}"; do
  IFS='|' read -r name dopts nopts iters <<< "$c"
  if [[ "$dopts" == *"$DATA"* && ! -d $DATA ]]; then echo "skip $name: $DATA not present"; continue; fi
  [ $SMOKE = 1 ] && iters=5
  d_times=(); n_times=()
  for r in $(seq $REPEATS); do
    # shellcheck disable=SC2086
    ./build/detcgd run $dopts --iters $iters --f-inf 0 --verbose 0 --progress 0 --summary $OUT/run.json
    d_times+=("$(grep '"per_iter"' $OUT/run.json | sed 's/.*: \([^,]*\).*/\1/')")
    # shellcheck disable=SC2086
    n_times+=("$($PY bench/numpy_detcgd.py $nopts --iters $iters | sed 's/.*per_iter_s=\([^ ]*\).*/\1/')")
  done
  d=$(printf '%s\n' "${d_times[@]}" | median); n=$(printf '%s\n' "${n_times[@]}" | median)
  row=$(awk -v d="$d" -v n="$n" 'BEGIN {printf "%.2f,%.2f,%.1f", d*1e6, n*1e6, n/d}')
  echo "$name,$iters,$row" >> $CSV
  IFS=',' read -r du nu sp <<< "$row"
  echo "| $name | $iters | $du | $nu | ${sp}× |" >> $MD
done
cat $MD
