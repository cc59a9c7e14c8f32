#!/usr/bin/env bash
# End-to-end timings of the configurations of DESIGN.md section 4 (at sizes that
# fit one call) on every backend in $BACKENDS (default "cuda cpu"), and the
# PyTorch peer (bench/peers/torch_detcgd.py, eager and torch.compile) on the same
# GPU where python3 has torch and sees a device: median of REPEATS runs of the
# loop (setup excluded), microseconds per iteration, ratios against detcgd cuda.
#   S  a9a logistic, single node, det-CGD2 rand-k (k = 16), K = 2000
#   L  quad-nc 16384 layers of 64 (d = 2^20), det-CGD2 rand-k rho = 1/8, K = 200
#   D  a1a logistic, n = 100 clients, D-det-CGD1 rand-1 (Corollary 1), K = 500
#   D-full  DESIGN's size: synthetic dense logistic rows m = 1e5, d = 10240 (160 layers of 64),
#           fp32 values (dense float rows on the GPU, 4.1 GB), n = 100 clients, D-det-CGD1 rand-k
#           (k = 8), K = 20; CUDA only, one run (the host setup streams the rows through Lanczos
#           for a minute or more)
#   S-trace1  S with a trace row every iteration (written to a file): the cost of streaming the trace
#             (against S-nographs: a row every iteration leaves no iterations to record as graphs)
#   S-nographs  S launching every op on its own (--graphs 0): what the CUDA graphs save
#   L-fp32    L with D's blocks stored as float (--stepsize-precision fp32)
#   L-gkd     L-fp32 with float A (--data-precision fp32) and G_{K,D} over the trace points (--gkd trace):
#             an iteration reads A and the kept rows of D, not all of D (DESIGN: ||grad f||^2_D at trace
#             points only)
#   L-hostsetup  L-gkd on CUDA with D built by LAPACK on the host (--stepsize-setup host): its setup_s
#             against L-gkd's (D built on the device, batched cuSOLVER/cuBLAS) is the setup's speed-up
#   L-full    DESIGN's size: L-gkd at d = 1e8 (1 562 500 layers of 64), K = 50; CUDA only, one run: A
#             and D as floats take 51 GB of the device; the host holds A in double (51 GB; the
#             device builds D)
# Other runs write a trace row every 100 iterations.  setup_s: the summary's time_s.setup (problem
# excluded: uploads, stepsize, certificate, log det).
# usage: [CONFIGS_MATCH=REGEX] bench/run_gpu.sh [DETCGD]   (writes bench/out/gpu.csv; REGEX picks
#        configurations by name, default all)
set -uo pipefail
cd "$(dirname "$0")/.."
DETCGD=${1:-build/detcgd}
BACKENDS=${BACKENDS:-"cuda cpu"}
REPEATS=${REPEATS:-3}
DATA=../shared/data/libsvm
OUT=bench/out; mkdir -p $OUT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# name | detcgd options | PyTorch peer options (empty: no peer; it has no clients) | backends | runs
CONFIGS=(
  "S|--data $DATA/a9a --lambda 0.3 --method det-cgd2 --sketch rand-k --k 16 --stepsize det2-opt --iters 2000|--data $DATA/a9a --lam 0.3 --method det-cgd2 --sketch rand-k --k 16 --iters 2000"
  "L|--problem quad-nc --layers 16384x64 --lambda 0.1 --method det-cgd2 --sketch rand-k --k 8 --stepsize det2-opt --iters 200|--layers 16384x64 --lam 0.1 --method det-cgd2 --sketch rand-k --k 8 --iters 200"
  "D|--data $DATA/a1a --lambda 0.1 --clients 100 --method det-cgd1 --sketch rand-1 --stepsize cor1 --iters 500 --f-inf-iters 200|"
  "S-trace1|--data $DATA/a9a --lambda 0.3 --method det-cgd2 --sketch rand-k --k 16 --stepsize det2-opt --iters 2000 --trace-every 1 --trace $OUT/s1.csv|"
  "S-nographs|--data $DATA/a9a --lambda 0.3 --method det-cgd2 --sketch rand-k --k 16 --stepsize det2-opt --iters 2000 --graphs 0|"
  "D-full|--samples 100000 --features 10240 --data-precision fp32 --nlayers 160 --lambda 0.1 --clients 100 --method det-cgd1 --sketch rand-k --k 8 --stepsize cor1 --iters 20 --f-inf-iters 20||cuda|1"
  "L-fp32|--problem quad-nc --layers 16384x64 --lambda 0.1 --method det-cgd2 --sketch rand-k --k 8 --stepsize det2-opt --iters 200 --stepsize-precision fp32|"
  "L-gkd|--problem quad-nc --layers 16384x64 --lambda 0.1 --method det-cgd2 --sketch rand-k --k 8 --stepsize det2-opt --iters 200 --stepsize-precision fp32 --data-precision fp32 --gkd trace|"
  "L-hostsetup|--problem quad-nc --layers 16384x64 --lambda 0.1 --method det-cgd2 --sketch rand-k --k 8 --stepsize det2-opt --iters 200 --stepsize-precision fp32 --data-precision fp32 --gkd trace --stepsize-setup host||cuda"
  "L-full|--problem quad-nc --layers 1562500x64 --lambda 0.1 --method det-cgd2 --sketch rand-k --k 8 --stepsize det2-opt --iters 50 --stepsize-precision fp32 --data-precision fp32 --gkd trace||cuda|1"
)
echo "config,backend,us_per_iter,setup_s" > $OUT/gpu.csv
HAVE_GPU=1
$DETCGD run --problem quad-nc --layers 2 --iters 1 --backend cuda --verbose 0 --progress 0 --f-inf 0 >/dev/null 2>&1 || HAVE_GPU=0
HAVE_TORCH=1
python3 -c "import torch, sys; sys.exit(not torch.cuda.is_available())" >/dev/null 2>&1 || HAVE_TORCH=0
peer() { # options, extra flags: median us/iter of the PyTorch peer on the GPU
  local times=() r
  for r in $(seq "$REPEATS"); do
    # shellcheck disable=SC2086
    times+=("$(python3 bench/peers/torch_detcgd.py $1 $2 --sampler argsort --device cuda | sed -n 's/.*per_iter_s=\([^ ]*\).*/\1/p')")
  done
  printf '%s\n' "${times[@]}" | median | awk '{printf "%.2f", $1 * 1e6}'
}
for c in "${CONFIGS[@]}"; do
  IFS='|' read -r name opts popts only runs <<< "$c"
  [[ $name =~ ${CONFIGS_MATCH:-.} ]] || continue
  for be in ${only:-$BACKENDS}; do
    if [ "$be" = cuda ] && [ $HAVE_GPU = 0 ]; then echo "$name cuda: skipped (no CUDA device or no CUDA build)"; continue; fi
    times=(); setups=()
    for r in $(seq "${runs:-$REPEATS}"); do
      # shellcheck disable=SC2086
      if ! $DETCGD run --trace-every 100 $opts --backend "$be" --f-inf 0 --verbose 0 --progress 0 --summary $OUT/g.json 2> $OUT/err.txt; then
        echo "$name $be: failed: $(cat $OUT/err.txt)"; continue 2
      fi
      times+=("$(grep '"per_iter"' $OUT/g.json | sed 's/.*: \([^,]*\).*/\1/')")
      setups+=("$(grep '"setup"' $OUT/g.json | sed 's/.*: \([^,]*\).*/\1/')")
    done
    us=$(printf '%s\n' "${times[@]}" | median | awk '{printf "%.2f", $1 * 1e6}')
    setup=$(printf '%s\n' "${setups[@]}" | median | awk '{printf "%.2f", $1}')
    echo "$name,$be,$us,$setup" >> $OUT/gpu.csv
  done
  if [ -z "$popts" ]; then continue; fi
  if [ $HAVE_TORCH = 0 ]; then echo "$name torch: skipped (no torch with a CUDA device)"; continue; fi
  echo "$name,torch-eager,$(peer "$popts" "")," >> $OUT/gpu.csv
  echo "$name,torch-compile,$(peer "$popts" --compile)," >> $OUT/gpu.csv
done
# ratios: every row against detcgd cuda of the same config
awk -F, 'NR > 1 { t[$1 "," $2] = $3; rows[NR] = $0 }
         END { for (i = 2; i <= NR; ++i) { split(rows[i], f, ","); c = t[f[1] ",cuda"];
               printf "%s,%s\n", rows[i], (c > 0 && f[3] > 0) ? sprintf("%.1f", f[3] / c) : "" } }' $OUT/gpu.csv > $OUT/gpu_ratio.csv
{ echo "config,impl,us_per_iter,setup_s,x_detcgd_cuda"; cat $OUT/gpu_ratio.csv; } > $OUT/gpu.csv
column -s, -t < $OUT/gpu.csv
