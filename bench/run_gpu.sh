#!/usr/bin/env bash
# End-to-end timings of the configurations of DESIGN.md section 4 (at sizes that
# fit one call) on every backend in $BACKENDS (default "cuda cpu"): median of
# REPEATS runs of the loop (setup excluded), microseconds per iteration.
#   S  a9a logistic, single node, det-CGD2 rand-k (k = 16), K = 2000
#   L  quad-nc 16384 layers of 64 (d = 2^20), det-CGD2 rand-k rho = 1/8, K = 200
#   D  a1a logistic, n = 100 clients, D-det-CGD1 rand-1 (Corollary 1), K = 500
# usage: bench/run_gpu.sh [DETCGD]   (writes bench/out/gpu.csv)
set -uo pipefail
cd "$(dirname "$0")/.."
DETCGD=${1:-build/detcgd}
BACKENDS=${BACKENDS:-"cuda cpu"}
REPEATS=${REPEATS:-3}
DATA=../shared/data/libsvm
OUT=bench/out; mkdir -p $OUT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
CONFIGS=(
  "S|--data $DATA/a9a --lambda 0.3 --method det-cgd2 --sketch rand-k --k 16 --stepsize det2-opt --iters 2000"
  "L|--problem quad-nc --layers 16384x64 --lambda 0.1 --method det-cgd2 --sketch rand-k --k 8 --stepsize det2-opt --iters 200"
  "D|--data $DATA/a1a --lambda 0.1 --clients 100 --method det-cgd1 --sketch rand-1 --stepsize cor1 --iters 500 --f-inf-iters 200"
)
echo "config,backend,us_per_iter" > $OUT/gpu.csv
HAVE_GPU=1
$DETCGD run --problem quad-nc --layers 2 --iters 1 --backend cuda --verbose 0 --progress 0 --f-inf 0 >/dev/null 2>&1 || HAVE_GPU=0
for c in "${CONFIGS[@]}"; do
  IFS='|' read -r name opts <<< "$c"
  for be in $BACKENDS; do
    if [ "$be" = cuda ] && [ $HAVE_GPU = 0 ]; then echo "$name cuda: skipped (no CUDA device or no CUDA build)"; continue; fi
    times=()
    for r in $(seq "$REPEATS"); do
      # shellcheck disable=SC2086
      if ! $DETCGD run $opts --backend "$be" --f-inf 0 --verbose 0 --progress 0 --trace-every 100 --summary $OUT/g.json 2> $OUT/err.txt; then
        echo "$name $be: failed: $(cat $OUT/err.txt)"; continue 2
      fi
      times+=("$(grep '"per_iter"' $OUT/g.json | sed 's/.*: \([^,]*\).*/\1/')")
    done
    us=$(printf '%s\n' "${times[@]}" | median | awk '{printf "%.2f", $1 * 1e6}')
    echo "$name,$be,$us" >> $OUT/gpu.csv
  done
done
column -s, -t < $OUT/gpu.csv
