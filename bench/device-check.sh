#!/usr/bin/env bash
# bench/device-check.sh -- the whole GPU check in one call on the device machine:
# build there, run every test (CUDA cases included), compute-sanitizer memcheck
# and racecheck over the CUDA tests, the per-op harness (copy bandwidth, custom
# kernels against cuBLAS), the end-to-end configurations with the PyTorch peer,
# the scaling study up to MEM_GB (default 20) of blocks, R = 1, 4, 16, 64 runs together on
# a1a and a9a (detcgd_bench_floor --together 1 --backend cuda), a table last.
#
# Here, once:   bash bench/fetch-device-debs.sh        (fills .carry/debs)
# There:        run(command="bash bench/device-check.sh", carry=[".carry"])
# Logs are written to $OUT (the device tool brings them back).
# STAGES (default "build test sanitize kernels e2e scaling together") picks stages, so that a check that
# would pass the 600 s limit of one call can be split over calls on the warm machine (the build
# folder stays), e.g. STAGES="build test" then STAGES="sanitize kernels" then STAGES="e2e scaling".
# A test case that hangs fails alone after 120 s; each compute-sanitizer tool is cut at SAN_TIMEOUT seconds
# (default 200; rc 124 in the summary), so one stage cannot take a whole call.
# The D-full and L-full configurations (DESIGN sizes: minutes of data generation on the host) are left to further
# calls on the warm machine, one each:  CONFIGS_MATCH='^D-full$' bash bench/run_gpu.sh build-device/detcgd
# and CONFIGS_MATCH='^L-full$' bash bench/run_gpu.sh build-device/detcgd
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/device-check}; mkdir -p "$OUT"
PREFIX=/tmp/detcgd-deps
LIB=$PREFIX/usr/lib/x86_64-linux-gnu
if ls .carry/debs/*.deb >/dev/null 2>&1; then
  mkdir -p $PREFIX
  for f in .carry/debs/*.deb; do dpkg -x "$f" $PREFIX; done
fi
export LD_LIBRARY_PATH=$LIB:$LIB/lapack:$LIB/blas:${LD_LIBRARY_PATH:-}
CMAKE_ARGS=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DDETCGD_ENABLE_MPI=OFF
            -DDETCGD_CUDA_EMU=OFF) # the real device runs the CUDA cases; the emulation is for machines without one
if [ -f $LIB/lapack/liblapack.so.3 ]; then
  CMAKE_ARGS+=("-DDETCGD_LAPACK_LIBRARIES=$LIB/lapack/liblapack.so.3;$LIB/blas/libblas.so.3"
               -DPKG_CONFIG_EXECUTABLE=/nonexistent -DINIH_INCLUDE_DIR=$PREFIX/usr/include
               -DINIH_LIBRARY=$LIB/libinih.so -DGTest_DIR=$LIB/cmake/GTest)
fi

echo "== device and tools" | tee "$OUT/log.txt"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nvcc --version | tail -1;
  cmake --version | head -1; command -v compute-sanitizer; git rev-parse --short=12 HEAD 2>/dev/null; date -u; } | tee -a "$OUT/log.txt"

STAGES=" ${STAGES:-build test sanitize kernels e2e scaling together} "
stage() { [[ $STAGES == *" $1 "* ]]; }
build_rc=skipped; test_rc=skipped; san=" skipped"

if stage build; then
echo "== build" | tee -a "$OUT/log.txt"
cmake -S . -B build-device "${CMAKE_ARGS[@]}" > "$OUT/cmake.txt" 2>&1 && cmake --build build-device -j"$(nproc)" >> "$OUT/cmake.txt" 2>&1
build_rc=$?
grep -E "detcgd:|error" "$OUT/cmake.txt" | tee -a "$OUT/log.txt"
fi

if stage test; then
echo "== tests" | tee -a "$OUT/log.txt"
ctest --test-dir build-device --output-on-failure --timeout 120 > "$OUT/ctest.txt" 2>&1; test_rc=$? # a hung case fails alone
grep -E "tests passed|Failed|\(Skipped\)" "$OUT/ctest.txt" | tail -15 | tee -a "$OUT/log.txt"
fi

if stage sanitize; then
echo "== compute-sanitizer (CUDA tests)" | tee -a "$OUT/log.txt"
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
san=""
for tool in memcheck racecheck; do
  DETCGD_NO_ARENA=1 timeout ${SAN_TIMEOUT:-200} "$SAN" --tool $tool --error-exitcode 9 build-device/tests/detcgd_tests \
    --gtest_filter='*/cuda:CudaVsCpu.*' > "$OUT/sanitizer-$tool.txt" 2>&1
  rc=$?; san="$san $tool=$rc"
  tail -3 "$OUT/sanitizer-$tool.txt" | tee -a "$OUT/log.txt"
done
fi

echo "== benchmarks" | tee -a "$OUT/log.txt"
if stage kernels; then
build-device/detcgd_bench_kernels --repeats 7 --out "$OUT/kernels.csv" > "$OUT/kernels.txt" 2>&1
cp "$OUT/kernels.csv" build-device/kernels.csv 2>/dev/null # the copy bandwidth, for later calls
fi
copy=$(awk -F, '$1 == "cuda" && $2 == "copy" {print $9}' build-device/kernels.csv 2>/dev/null)
if stage e2e; then
CONFIGS_MATCH='^(S|L|D|S-trace1|S-nographs|L-fp32|L-gkd|L-hostsetup)$' REPEATS=3 bash bench/run_gpu.sh build-device/detcgd > "$OUT/bench.txt" 2>&1
cp bench/out/gpu.csv "$OUT/" 2>/dev/null
fi
if stage scaling; then
COPY_GBPS=${copy:-0} MEM_GB=${MEM_GB:-20} bash bench/run_scaling.sh build-device/detcgd > "$OUT/scaling.txt" 2>&1
cp bench/out/scaling_quad.csv bench/out/scaling_clients.csv bench/out/scaling.png "$OUT/" 2>/dev/null
fi

if stage together; then # R runs' gradients in one pass on the device (cuda_problem_grad_many)
for f in a1a:4000 a9a:1000; do
  build-device/detcgd_bench_floor --data ../shared/data/libsvm/${f%:*} --iters ${f#*:} --repeats 3 --together 1 \
    --backend cuda >> "$OUT/together.txt" 2>&1
done
fi

echo "== summary" | tee -a "$OUT/log.txt"
{ echo "build rc=$build_rc  tests rc=$test_rc  sanitizers:$san  copy bandwidth ${copy:-?} GB/s"
  grep -E "^cuda +(dense|dense32|cols|rows|bernq|cublas) +b=(64|256)|^cuda +(sample|mc)|^(cpu|cuda) +setup" "$OUT/kernels.txt" 2>/dev/null
  cat "$OUT/bench.txt" "$OUT/together.txt" 2>/dev/null; grep -v "^scaling: wrote" "$OUT/scaling.txt" 2>/dev/null; } | tee -a "$OUT/log.txt"
