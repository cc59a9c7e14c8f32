/*
 * common.cuh -- device helpers shared by the kernel sources (included only by .cu files).
 */
#ifndef DETCGD_COMMON_CUH
#define DETCGD_COMMON_CUH

#include <stdint.h>
#include "kernels.h"

/* Blocks for n items at `threads` per block, at most grid_cap (a multiple of the SM count). */
static inline int dc_grid(int64_t n, int threads, int grid_cap) {
  int64_t g = (n + threads - 1) / threads;
  if (g < 1) g = 1;
  return (int)(g < grid_cap ? g : grid_cap);
}

/* Sum of v over the block, valid in thread 0.  Fixed shuffle tree: deterministic. */
__device__ __forceinline__ double dc_block_sum(double v) {
  __shared__ double warp_sums[32];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5, off;
  for (off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  __syncthreads(); /* warp_sums may still be read by a previous call */
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  v = threadIdx.x < nwarps ? warp_sums[threadIdx.x] : 0.0;
  if (warp == 0)
    for (off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

/* Thread 0 of block b stores its sum v: to partials[b] when there are several blocks (a second pass sums them), to
 * out[0] (and acc[0] += v) when the grid has one block and no second pass follows. */
__device__ __forceinline__ void dc_block_result(double v, double* partials, double* out, double* acc) {
  if (threadIdx.x != 0) return;
  if (gridDim.x > 1) { partials[blockIdx.x] = v; return; }
  if (out) out[0] = v;
  if (acc) acc[0] += v;
}

/* Sum of v over the warp, valid in lane 0. */
__device__ __forceinline__ double dc_warp_sum(double v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

/* i with off[i] <= t < off[i+1] (off has n+1 increasing entries). */
__device__ __forceinline__ int dc_find_block(const int64_t* off, int n, int64_t t) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) >> 1;
    if (off[mid] <= t) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/* Layer i of row j: j / width for equal widths (no search: layouts of 10^6 layers), else the search on voff. */
__device__ __forceinline__ int dc_layer_of(const DcDevLayout& L, int64_t j) {
  return L.width > 0 ? (int)(j / L.width) : dc_find_block(L.voff, L.nblocks, j);
}

/* Layer i of draw slot g, likewise on cap_off. */
__device__ __forceinline__ int dc_slot_layer(const DcDevSketch& S, int nblocks, int64_t g) {
  return S.cap_width > 0 ? (int)(g / S.cap_width) : dc_find_block(S.cap_off, nblocks, g);
}

/* Entry (r, r) of block i for the scalar (0) and diagonal (1) kinds. */
__device__ __forceinline__ double dc_diag_entry(int kind, const double* B, const int64_t* voff, int i, int r) {
  return kind == 0 ? B[i] : B[voff[i] + r];
}

/* sum_c col_c x_c over c = lane, lane + 32, ... then over the warp (valid in lane 0) */
template <typename T>
__device__ __forceinline__ double dc_warp_dot(const T* __restrict__ col, const double* __restrict__ x, int m, int lane) {
  double v = 0.0;
  for (int c = lane; c < m; c += 32) v += (double)col[c] * x[c];
  return dc_warp_sum(v);
}

/* sum_c col_c (x_c - h_c), as dc_warp_dot */
template <typename T>
__device__ __forceinline__ double dc_warp_dot_shifted(const T* __restrict__ col, const double* __restrict__ x,
                                                      const double* __restrict__ h, int m, int lane) {
  double v = 0.0;
  for (int c = lane; c < m; c += 32) v += (double)col[c] * (x[c] - h[c]);
  return dc_warp_sum(v);
}

/* (B_i x_i)_j for a kept row j of layer i, computed by a whole warp (valid in lane 0):
 * column j of a symmetric dense B_i read with consecutive lanes, or b_j x_j. */
__device__ __forceinline__ double dc_kept_row(const DcDevLayout& L, DcDevBlocks B, int i, int j,
                                              const double* __restrict__ xi, int lane) {
  int m = L.size[i];
  int64_t off = L.moff[i] + (int64_t)j * m;
  if (B.kind != 2) return dc_diag_entry(B.kind, (const double*)B.data, L.voff, i, j) * xi[j];
  return B.f32 ? dc_warp_dot((const float*)B.data + off, xi, m, lane) : dc_warp_dot((const double*)B.data + off, xi, m, lane);
}

/* (B_i (x_i - h_i))_j, as dc_kept_row */
__device__ __forceinline__ double dc_kept_row_shifted(const DcDevLayout& L, DcDevBlocks B, int i, int j,
                                                      const double* __restrict__ xi, const double* __restrict__ hi,
                                                      int lane) {
  int m = L.size[i];
  int64_t off = L.moff[i] + (int64_t)j * m;
  if (B.kind != 2) return dc_diag_entry(B.kind, (const double*)B.data, L.voff, i, j) * (xi[j] - hi[j]);
  return B.f32 ? dc_warp_dot_shifted((const float*)B.data + off, xi, hi, m, lane)
               : dc_warp_dot_shifted((const double*)B.data + off, xi, hi, m, lane);
}

/* Launches kernel<float> or kernel<double> on the dense data of B (its first argument). */
#define DC_LAUNCH_DENSE(kernel, grid, threads, stream, B, ...)                                          \
  do {                                                                                                 \
    if ((B).f32) kernel<float><<<(grid), (threads), 0, (stream)>>>((const float*)(B).data, __VA_ARGS__); \
    else kernel<double><<<(grid), (threads), 0, (stream)>>>((const double*)(B).data, __VA_ARGS__);       \
  } while (0)

#endif /* DETCGD_COMMON_CUH */
