#!/usr/bin/env bash
# Scaling study (issue: benchmarks), on the backend $BACKEND (default cuda):
#  1. quad-nc, det-CGD2 rand-k with k = b/8 and the det-CGD2 optimum, A and D stored as floats and
#     G_{K,D} over the trace points (configuration L of DESIGN.md), d from 1e4 to 1e8 and b in
#     {32, 64, 128}: microseconds per iteration, the bytes one iteration moves, GB/s and % of
#     $COPY_GBPS (the measured copy bandwidth, from detcgd_bench_kernels), and the device and host memory the
#     run held at its peak (the summary's device_bytes_peak: the solver's arena; host_bytes_peak: peak RSS).
#     An iteration reads A once (gradient) and the k kept rows of each D_i: 4 d b (1 + 1/8) bytes,
#     plus 48 d for the vectors.  Sizes whose A and D on the device (8 d b bytes) exceed $MEM_GB, or
#     whose host memory exceeds $HOST_GB, are skipped and listed: A in double (8 d b) on the CUDA
#     backend, which builds D on the device; A and D in double (16 d b) where the host builds D
#     (d = 1e8 at b = 64: MEM_GB=60, one call of its own).
#     setup_s: problem upload, stepsize, certificate; setup_on: where D was built (cuda or host).
#  2. logreg-nc on w8a split over n = 1, 10, 100, 1000 clients, D-det-CGD1 rand-1 (Corollary 1).
# Writes bench/out/scaling_quad.csv, bench/out/scaling_clients.csv and, with python3 +
# matplotlib or gnuplot, bench/out/scaling.png.
#   usage: bench/run_scaling.sh [DETCGD]      (SMOKE=1: d <= 1e5 and n <= 10, a few iterations)
set -uo pipefail
cd "$(dirname "$0")/.."
DETCGD=${1:-build/detcgd}
BACKEND=${BACKEND:-cuda}
COPY_GBPS=${COPY_GBPS:-0}
MEM_GB=${MEM_GB:-60}
HOST_GB=${HOST_GB:-110}
SMOKE=${SMOKE:-0}
DATA=../shared/data/libsvm
OUT=bench/out; mkdir -p $OUT
if ! $DETCGD run --problem quad-nc --layers 2 --iters 1 --backend "$BACKEND" --verbose 0 --progress 0 --f-inf 0 >/dev/null 2>&1; then
  echo "scaling: skipped (backend $BACKEND is not available here)"; exit 0
fi
summary_num() { grep "\"$1\"" "$2" | head -1 | sed 's/.*: \([^,]*\).*/\1/'; }

DIMS="1e4 1e5 1e6 1e7 1e8"; CLIENTS="1 10 100 1000"
[ "$SMOKE" = 1 ] && { DIMS="1e4 1e5"; CLIENTS="1 10"; }
summary_str() { grep "\"$1\"" "$2" | head -1 | sed 's/.*: "\([^"]*\)".*/\1/'; }
HOST_PER_DB=$([ "$BACKEND" = cuda ] && echo 8 || echo 16) # host bytes per d b: A, and D where the host builds it
echo "b,d,layers,us_per_iter,bytes_per_iter,GBps,pct_of_copy,device_bytes_peak,host_bytes_peak,setup_s,setup_on" > $OUT/scaling_quad.csv
for b in 32 64 128; do
  for dexp in $DIMS; do
    d=$(awk -v d="$dexp" 'BEGIN {printf "%d", d}')
    l=$(( d / b )); d=$(( l * b )); k=$(( b / 8 ))
    held=$(awk -v d=$d -v b=$b 'BEGIN {printf "%.0f", 8 * d * b}')
    if awk -v h="$held" -v m="$MEM_GB" 'BEGIN {exit !(h > m * 1e9)}'; then
      echo "scaling: b=$b d=$d skipped: A and D need $(awk -v h=$held 'BEGIN {printf "%.0f", h/1e9}') GB of the device > MEM_GB=$MEM_GB"; continue
    fi
    host=$(awk -v d=$d -v b=$b -v k=$HOST_PER_DB 'BEGIN {printf "%.0f", k * d * b}')
    if awk -v h="$host" -v m="$HOST_GB" 'BEGIN {exit !(h > m * 1e9)}'; then
      echo "scaling: b=$b d=$d skipped: it needs $(awk -v h=$host 'BEGIN {printf "%.0f", h/1e9}') GB of the host > HOST_GB=$HOST_GB"; continue
    fi
    iters=$(awk -v d=$d -v s=$SMOKE 'BEGIN {n = s ? 3 : int(5e9 / d); print n < 50 ? (s ? 3 : 50) : (n > 2000 ? 2000 : n)}')
    if ! $DETCGD run --problem quad-nc --layers "${l}x${b}" --lambda 0.1 --method det-cgd2 --sketch rand-k --k $k \
        --stepsize det2-opt --stepsize-precision fp32 --data-precision fp32 --gkd trace \
        --iters "$iters" --backend "$BACKEND" --f-inf 0 --verbose 0 --progress 0 \
        --trace-every 100000 --summary $OUT/scal.json 2> $OUT/scal_err.txt; then
      echo "scaling: b=$b d=$d failed: $(cat $OUT/scal_err.txt)"; continue
    fi
    per=$(summary_num per_iter $OUT/scal.json); setup=$(summary_num setup $OUT/scal.json)
    on=$(summary_str stepsize_built_on $OUT/scal.json)
    dev=$(summary_num device_bytes_peak $OUT/scal.json); hostb=$(summary_num host_bytes_peak $OUT/scal.json)
    awk -v b=$b -v d=$d -v l=$l -v t="$per" -v c="$COPY_GBPS" -v dev="$dev" -v hb="$hostb" -v s="$setup" -v on="$on" 'BEGIN {
      bytes = 4 * d * b * (1 + 1 / 8) + 8 * 6 * d; g = bytes / t / 1e9;
      printf "%d,%d,%d,%.2f,%.0f,%.1f,%.1f,%.0f,%.0f,%.2f,%s\n", b, d, l, t * 1e6, bytes, g, (c > 0 ? 100 * g / c : 0), dev, hb, s, on }' >> $OUT/scaling_quad.csv
  done
done

echo "clients,us_per_iter" > $OUT/scaling_clients.csv
for n in $CLIENTS; do
  [ -f $DATA/w8a ] || { echo "scaling: clients skipped ($DATA/w8a not present)"; break; }
  if $DETCGD run --data $DATA/w8a --lambda 0.1 --clients "$n" --method det-cgd1 --sketch rand-1 --stepsize cor1 \
      --iters $([ "$SMOKE" = 1 ] && echo 3 || echo 200) --f-inf-iters 20 --backend "$BACKEND" --verbose 0 --progress 0 \
      --trace-every 100000 --summary $OUT/scal.json 2> $OUT/scal_err.txt; then
    echo "$n,$(summary_num per_iter $OUT/scal.json | awk '{printf "%.2f", $1 * 1e6}')" >> $OUT/scaling_clients.csv
  else
    echo "scaling: $n clients failed: $(cat $OUT/scal_err.txt)"
  fi
done
column -s, -t < $OUT/scaling_quad.csv; column -s, -t < $OUT/scaling_clients.csv

PY=python3; /usr/bin/python3 -c "import matplotlib" 2>/dev/null && PY=/usr/bin/python3 # (Debian's, where .ci/setup puts it)
$PY - "$OUT" <<'EOF' 2>/dev/null || echo "scaling: no plot (python3 with matplotlib not found)"
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/scaling_quad.csv")))
cl = list(csv.DictReader(open(f"{out}/scaling_clients.csv")))
fig, ax = plt.subplots(1, 4, figsize=(20, 4.2))
for b in sorted({r["b"] for r in rows}, key=int):
    rs = [r for r in rows if r["b"] == b]
    ds = [int(r["d"]) for r in rs]
    ax[0].loglog(ds, [float(r["us_per_iter"]) for r in rs], "o-", label=f"b = {b}")
    ax[1].semilogx(ds, [float(r["GBps"]) for r in rs], "o-", label=f"b = {b}")
    ax[2].loglog(ds, [max(float(r["device_bytes_peak"]), 1.0) / 1e9 for r in rs], "o-", label=f"device, b = {b}")
    ax[2].loglog(ds, [float(r["host_bytes_peak"]) / 1e9 for r in rs], "x--", label=f"host, b = {b}")
ax[0].set(xlabel="d", ylabel="µs per iteration", title="quad-nc det-CGD2 rand-(b/8)")
ax[1].set(xlabel="d", ylabel="GB/s (bytes counted by hand)", title="achieved bandwidth")
ax[2].set(xlabel="d", ylabel="GB at the peak", title="memory held (device: the solver's arena)")
ax[3].loglog([int(r["clients"]) for r in cl], [float(r["us_per_iter"]) for r in cl], "o-")
ax[3].set(xlabel="clients n", ylabel="µs per iteration", title="w8a D-det-CGD1 rand-1")
for a in ax[:3]:
    a.legend()
fig.tight_layout()
fig.savefig(f"{out}/scaling.png", dpi=110)
print(f"scaling: wrote {out}/scaling.png")
EOF
