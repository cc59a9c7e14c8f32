/*
 * bench_timing.h -- clocks and order statistics shared by the benchmark harness.
 */
#ifndef DETCGD_BENCH_TIMING_H
#define DETCGD_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

typedef struct DcBenchStats {
  double median, p10, p90; /* seconds per call over the repeats */
  double bytes;            /* bytes one call moves, counted by hand */
  double gbps;             /* bytes / median / 1e9 */
} DcBenchStats;

static inline double dc_bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int dc_bench_cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Sorts t[0..n) and fills the median, the 10th and 90th percentiles and the bandwidth. */
static inline void dc_bench_stats(double* t, int n, double bytes, DcBenchStats* s) {
  qsort(t, (size_t)n, sizeof(double), dc_bench_cmp);
  s->median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  s->p10 = t[(n - 1) / 10];
  s->p90 = t[(n - 1) - (n - 1) / 10];
  s->bytes = bytes;
  s->gbps = s->median > 0 ? bytes / s->median / 1e9 : 0.0;
}

/* bench_cuda.c (CUDA builds only) */
int dc_bench_cuda_device_present(void);
void dc_bench_cuda_flush(void);
int dc_bench_copy_bandwidth(size_t bytes, int repeats, int batch, DcBenchStats* out);
int dc_bench_cublas_gemv(int nblocks, int b, int repeats, int batch, DcBenchStats* out);

#endif /* DETCGD_BENCH_TIMING_H */
