#!/usr/bin/env bash
# detcgd against its peers on the CPU, in one run (bench/RESULTS.md records the output with machine and commit):
#   1. the authors' script (../shared/peers/detCGD_Code/Experiment_code.py, Experiment 1: 8 curves x K on a1a, run
#      where it lies with a scratch working directory holding its dataset/ link; Debian's numpy, scipy, sklearn,
#      matplotlib) against `detcgd experiment paper-rand1` (6 curves x K), both end to end, per curve-iteration;
#   2. the a1a and a9a iteration against the C floor (detcgd_bench_floor);
#   3. detcgd against a SciPy-sparse implementation of the same iterations (bench/peers/scipy_detcgd.py).
#   bash bench/run_peers.sh [--smoke]
set -euo pipefail
cd "$(dirname "$0")/.."
SMOKE=0; [ "${1:-}" = "--smoke" ] && SMOKE=1
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
DATA=$(cd ../shared/data/libsvm && pwd)
PEER=$(cd ../shared/peers/detCGD_Code && pwd)
K=$([ $SMOKE = 1 ] && echo 50 || echo 3000)
REPEATS=$([ $SMOKE = 1 ] && echo 1 || echo 5)
mkdir -p bench/out
now() { date +%s.%N; }

echo "== 1. the authors' script, Experiment 1 (8 curves x $K) against detcgd experiment paper-rand1 (6 curves x $K)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dataset" && ln -s "$DATA/a1a" "$work/dataset/a1a.txt"
t0=$(now); (cd "$work" && MPLBACKEND=Agg $PY "$PEER/Experiment_code.py" -i 1 -d a1a -l 0.3 -K "$K" > "$work/peer.log" 2>&1); t1=$(now)
./build/detcgd experiment paper-rand1 --iters "$K" --out "$work/detcgd" > "$work/detcgd.log"; t2=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v k="$K" 'BEGIN {
  peer = (b - a) / (8 * k); ours = (c - b) / (6 * k);
  printf "| authors script (8 curves) | %.2f s | %.1f us per curve-iteration |\n| detcgd experiment paper-rand1 (6 curves) | %.2f s | %.2f us per curve-iteration |\n| ratio | | %.0fx |\n", b - a, 1e6 * peer, c - b, 1e6 * ours, peer / ours }'

echo "== 2. the iteration against the C floor"
./build/detcgd_bench_floor --data "$DATA/a1a" --iters $([ $SMOKE = 1 ] && echo 200 || echo 20000) --repeats "$REPEATS"
./build/detcgd_bench_floor --data "$DATA/a9a" --iters $([ $SMOKE = 1 ] && echo 10 || echo 1000) --repeats "$REPEATS"

echo "== 3. SciPy sparse (the same iterations: CSR products, NumPy's exp, G_KD every k) against detcgd"
for data in a1a a9a; do
  k=$([ $data = a9a ] && echo $((K / 10)) || echo "$K")
  for method in gd det-cgd2; do
    $PY bench/peers/scipy_detcgd.py --data "$DATA/$data" --method $method --iters "$k" --repeats "$REPEATS"
  done
done
