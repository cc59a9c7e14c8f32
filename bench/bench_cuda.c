/*
 * bench_cuda.c -- the CUDA-only parts of the kernel benchmark: the measured
 * device-to-device copy bandwidth (the ceiling every memory-bound op is quoted
 * against) and cuBLAS's strided-batched gemv, the library alternative to the
 * custom block-diagonal apply.  Timed like the backend ops in bench_kernels.c:
 * wall clock around a synchronised batch of launches, median over repeats,
 * the L2 cache flushed between repeats.
 */
#include <stdlib.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include "bench_timing.h"

int dc_bench_cuda_device_present(void) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) { cudaGetLastError(); return 0; }
  return n > 0;
}

static size_t l2_flush_bytes(void) {
  int l2 = 0;
  cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0);
  return 2 * (size_t)(l2 > 0 ? l2 : 64 << 20);
}

/* Overwrites twice the L2 cache so that the next repeat starts cold (buffer kept for the process). */
void dc_bench_cuda_flush(void) {
  static void* scratch = NULL;
  static size_t bytes = 0;
  if (!scratch) {
    bytes = l2_flush_bytes();
    if (cudaMalloc(&scratch, bytes) != cudaSuccess) { cudaGetLastError(); scratch = NULL; return; }
  }
  cudaMemsetAsync(scratch, 0x5a, bytes, 0);
  cudaDeviceSynchronize();
}

int dc_bench_copy_bandwidth(size_t bytes, int repeats, int batch, DcBenchStats* out) {
  void *a = NULL, *b = NULL;
  double* t = (double*)calloc((size_t)repeats, sizeof(double));
  int r, i, ok = t && cudaMalloc(&a, bytes) == cudaSuccess && cudaMalloc(&b, bytes) == cudaSuccess;
  if (ok) cudaMemset(a, 1, bytes);
  for (r = 0; ok && r < repeats; ++r) {
    double t0;
    dc_bench_cuda_flush();
    t0 = dc_bench_now();
    for (i = 0; i < batch; ++i) cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, 0);
    ok = cudaDeviceSynchronize() == cudaSuccess;
    t[r] = (dc_bench_now() - t0) / batch;
  }
  if (ok) dc_bench_stats(t, repeats, 2.0 * (double)bytes, out); /* read + write */
  cudaFree(a); cudaFree(b);
  free(t);
  return ok ? 0 : -1;
}

/* y_i = A_i x_i for nblocks dense b x b blocks (column-major, contiguous): cublasDgemvStridedBatched. */
int dc_bench_cublas_gemv(int nblocks, int b, int repeats, int batch, DcBenchStats* out) {
  size_t mm = (size_t)b * b, d = (size_t)nblocks * b;
  double *A = NULL, *x = NULL, *y = NULL, one = 1.0, zero = 0.0;
  double* t = (double*)calloc((size_t)repeats, sizeof(double));
  cublasHandle_t h = NULL;
  int r, i, ok = t && cublasCreate(&h) == CUBLAS_STATUS_SUCCESS &&
                 cudaMalloc((void**)&A, mm * nblocks * sizeof(double)) == cudaSuccess &&
                 cudaMalloc((void**)&x, d * sizeof(double)) == cudaSuccess &&
                 cudaMalloc((void**)&y, d * sizeof(double)) == cudaSuccess;
  if (ok) ok = cudaMemset(A, 0, mm * nblocks * sizeof(double)) == cudaSuccess && cudaMemset(x, 0, d * sizeof(double)) == cudaSuccess;
  for (r = 0; ok && r < repeats; ++r) {
    double t0;
    dc_bench_cuda_flush();
    t0 = dc_bench_now();
    for (i = 0; i < batch && ok; ++i)
      ok = cublasDgemvStridedBatched(h, CUBLAS_OP_N, b, b, &one, A, b, (long long)mm, x, 1, b, &zero, y, 1, b,
                                     nblocks) == CUBLAS_STATUS_SUCCESS;
    ok = ok && cudaDeviceSynchronize() == cudaSuccess;
    t[r] = (dc_bench_now() - t0) / batch;
  }
  if (ok) dc_bench_stats(t, repeats, (double)(mm * nblocks + 2 * d) * sizeof(double), out);
  if (h) cublasDestroy(h);
  cudaFree(A); cudaFree(x); cudaFree(y);
  free(t);
  return ok ? 0 : -1;
}
