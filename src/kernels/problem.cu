/*
 * problem.cu -- gradients and losses on the device.
 *
 * logreg-nc, client c with rows R_c (N_c = |R_c|):
 *   f_c = (1/N_c) sum_{j in R_c} log(1 + e^{-z_j}) + lam sum_i x_i^2/(1+x_i^2) + (mu/2) ||x||^2,  z_j = b_j a_j.x;
 *   grad f_c = sum_{j in R_c} w_j a_j + 2 lam x/(1+x^2)^2 + mu x,  w_j = -b_j / (N_c (1 + e^{z_j})).
 *   The clients' rows are concatenated in client order (one client: the whole problem).  A x by
 *   rows (one warp per row).  A_c^T w: CSR rows are also held as a CSC, whose entries for
 *   (client c, column i) form a segment; segments are cut into pieces of DC_K_PIECE entries, one
 *   warp per piece, and each segment's pieces are summed in order -- so a long column (a feature
 *   of most rows) is spread over many warps, and the cut, hence the bits, depend only on the
 *   segment: one client's gradient is the same whether computed alone or in a batch.  Dense
 *   float rows (data-precision fp32 and dense enough: 4 bytes per entry instead of 24 for CSR +
 *   CSC): each client's rows are cut into pieces of DC_K_ROW_PIECE rows, one thread per (piece,
 *   column) -- coalesced over columns -- and the pieces summed in order.  No atomics.  R runs on
 *   one client's rows (runs together): the same kernels with R sums where they have one, so that
 *   the rows are read once for all runs and every run's sums keep their order (its bits alone).
 *   Not cuSPARSE SpMM or cuBLAS GEMM: their summation order is not the single run's.
 * quad-nc: grad_i = A_i (x_i - c_i) + 2 lam x/(1+x^2)^2, f = sum 1/2 r^T A r + lam sum x^2/(1+x^2).
 * poly-nc: grad_j = 4 a_j x_j^3 + 2 lam x_j/(1+x_j^2)^2, f = sum a_j x_j^4 + lam sum x^2/(1+x^2).
 */
#include "common.cuh"
#include "minibatch.h"

/* log(1 + exp(-z)) without overflow */
__device__ __forceinline__ double log1p_exp_neg(double z) { return z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z)); }

/* rows j in [r0, r1): w_j and loss_j */
static __global__ void logreg_rows_kernel(DcDevLogreg P, int64_t r0, int64_t r1, const double* __restrict__ x) {
  int lane = threadIdx.x & 31;
  int64_t warps = (int64_t)gridDim.x * (blockDim.x >> 5);
  for (int64_t j = r0 + blockIdx.x * (int64_t)(blockDim.x >> 5) + (threadIdx.x >> 5); j < r1; j += warps) {
    int c = dc_find_block(P.row_off, P.nclients, j);
    double z = 0.0, invn = 1.0 / (double)(P.row_off[c + 1] - P.row_off[c]);
    if (P.dense) {
      const float* a = P.dense + j * P.dim;
      for (int64_t k = lane; k < P.dim; k += 32) z += (double)a[k] * x[k];
    } else {
      for (int64_t p = P.rowptr[j] + lane; p < P.rowptr[j + 1]; p += 32) z += P.val[p] * x[P.col[p]];
    }
    z = dc_warp_sum(z);
    if (lane == 0) {
      z *= P.label[j];
      P.loss[j] = log1p_exp_neg(z);
      P.w[j] = -P.label[j] * invn / (1.0 + exp(z));
    }
  }
}

/* Sum in order of the pieces of client c's segment for column i (0 if it has none): binary search of
 * t = c dim + i among the client's segments, whose outputs increase. */
__device__ __forceinline__ double segment_sum(const DcDevLogreg& P, int c, int64_t i, const double* partial,
                                              int stride) {
  int64_t lo = P.seg_off[c], hi = P.seg_off[c + 1], t = (int64_t)c * P.dim + i, k;
  double s = 0.0;
  while (lo < hi) {
    int64_t mid = lo + ((hi - lo) >> 1);
    if (P.seg_t[mid] < t) lo = mid + 1; else hi = mid;
  }
  if (lo < P.seg_off[c + 1] && P.seg_t[lo] == t)
    for (k = P.piece_off[lo]; k < P.piece_off[lo + 1]; ++k) s += partial[k * stride];
  return s;
}

/* t = (c - c0) dim + i for clients c0..c0+nc-1: G_t = (A_c^T w)_i from its pieces' sums in order (CSC
 * segment pieces, or dense row pieces) + 2 lam x_i / (1 + x_i^2)^2; reg_i = x_i^2/(1+x_i^2) */
static __global__ void logreg_cols_kernel(DcDevLogreg P, int c0, int nc, const double* __restrict__ x, double lambda,
                                          double* __restrict__ G) {
  int64_t n = (int64_t)nc * P.dim;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < n; t += (int64_t)blockDim.x * gridDim.x) {
    int64_t i = t % P.dim;
    int c = c0 + (int)(t / P.dim);
    double s = 0.0, tt = 1.0 + x[i] * x[i];
    if (P.dense)
      for (int64_t k = P.row_piece_off[c]; k < P.row_piece_off[c + 1]; ++k) s += P.partial[k * P.dim + i];
    else if (P.seg_off)
      s = segment_sum(P, c, i, P.partial, 1);
    G[t] = s + 2.0 * lambda * x[i] / (tt * tt);
    if (P.mu != 0.0) G[t] += P.mu * x[i];
    if (c == c0) P.reg[i] = x[i] * x[i] / tt;
  }
}

/* u = (k - k0) dim + i over dense row pieces k in [k0, k1): partial[k dim + i] = sum of w_j a_ji over the
 * piece's rows in increasing order (consecutive threads, consecutive columns: coalesced) */
static __global__ void logreg_dense_pieces_kernel(DcDevLogreg P, int64_t k0, int64_t k1) {
  int64_t n = (k1 - k0) * P.dim;
  for (int64_t u = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; u < n; u += (int64_t)blockDim.x * gridDim.x) {
    int64_t k = k0 + u / P.dim, i = u % P.dim;
    int c = dc_find_block(P.row_piece_off, P.nclients, k);
    int64_t j = P.row_off[c] + (k - P.row_piece_off[c]) * DC_K_ROW_PIECE, end = j + DC_K_ROW_PIECE;
    double s = 0.0;
    if (end > P.row_off[c + 1]) end = P.row_off[c + 1];
    for (; j < end; ++j) s += P.w[j] * (double)P.dense[j * P.dim + i];
    P.partial[k * P.dim + i] = s;
  }
}

/* s in [s0, s1) with piece_off[s] <= k < piece_off[s+1] (every segment has a piece) */
__device__ __forceinline__ int64_t segment_of(const int64_t* __restrict__ piece_off, int64_t s0, int64_t s1, int64_t k) {
  int64_t lo = s0, hi = s1 - 1;
  while (lo < hi) {
    int64_t mid = lo + ((hi - lo + 1) >> 1);
    if (piece_off[mid] <= k) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/* one warp per piece k in [k0, k1): partial[k] = sum of w_row cval over its entries (lanes strided, then
 * the warp's shuffle tree) -- the same bits whatever the batch, as pieces are cut per segment */
static __global__ void logreg_pieces_kernel(DcDevLogreg P, int64_t s0, int64_t s1, int64_t k0, int64_t k1) {
  int lane = threadIdx.x & 31;
  int64_t warps = (int64_t)gridDim.x * (blockDim.x >> 5);
  for (int64_t k = k0 + blockIdx.x * (int64_t)(blockDim.x >> 5) + (threadIdx.x >> 5); k < k1; k += warps) {
    int64_t sg = segment_of(P.piece_off, s0, s1, k);
    int64_t a = P.seg_lo[sg] + (k - P.piece_off[sg]) * DC_K_PIECE, b = a + DC_K_PIECE;
    double v = 0.0;
    if (b > P.seg_hi[sg]) b = P.seg_hi[sg];
    for (int64_t p = a + lane; p < b; p += 32) v += P.w[P.row[p]] * P.cval[p];
    v = dc_warp_sum(v);
    if (lane == 0) P.partial[k] = v;
  }
}

/* block b: fc[b] = (1/N_c) sum_{j in R_c} loss_j + lam reg_sum[0] (+ (mu/2) reg_sum[1]) for client c = c0 + b */
static __global__ void logreg_client_f_kernel(DcDevLogreg P, int c0, double lambda, const double* __restrict__ reg_sum,
                                              double* __restrict__ fc) {
  int c = c0 + blockIdx.x;
  double v = 0.0;
  for (int64_t j = P.row_off[c] + threadIdx.x; j < P.row_off[c + 1]; j += blockDim.x) v += P.loss[j];
  v = dc_block_sum(v);
  if (threadIdx.x == 0) {
    v = v / (double)(P.row_off[c + 1] - P.row_off[c]) + lambda * reg_sum[0];
    fc[blockIdx.x] = P.mu != 0.0 ? v + 0.5 * P.mu * reg_sum[1] : v;
  }
}

extern "C" cudaError_t detcgd_k_logreg_grad(DcDevLogreg P, int64_t r0, int64_t r1, int c0, int nc, int64_t s0,
                                            int64_t s1, int64_t k0, int64_t k1, const double* x, double lambda,
                                            double* G, int grid_cap, cudaStream_t s) {
  cudaError_t e;
  if (nc <= 0 || P.dim == 0) return cudaSuccess;
  if (r1 > r0) {
    logreg_rows_kernel<<<dc_grid((r1 - r0) * 32, DC_K_THREADS, 1 << 20), DC_K_THREADS, 0, s>>>(P, r0, r1, x);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
  }
  if (k1 > k0 && P.dense)
    logreg_dense_pieces_kernel<<<dc_grid((k1 - k0) * P.dim, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(P, k0, k1);
  else if (k1 > k0)
    logreg_pieces_kernel<<<dc_grid((k1 - k0) * 32, DC_K_THREADS, 1 << 20), DC_K_THREADS, 0, s>>>(P, s0, s1, k0, k1);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  logreg_cols_kernel<<<dc_grid((int64_t)nc * P.dim, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(P, c0, nc, x, lambda, G);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_logreg_client_f(DcDevLogreg P, int c0, int nc, double lambda, const double* reg_sum,
                                                double* fc, cudaStream_t s) {
  if (nc <= 0) return cudaSuccess;
  logreg_client_f_kernel<<<nc, DC_K_THREADS, 0, s>>>(P, c0, lambda, reg_sum, fc);
  return cudaGetLastError();
}

/* ==== R runs on one client's rows (detcgd_k_logreg_grad_many): the kernels above with R sums where they
 * have one, each in their order -- every run gets the bits of its gradient alone ==== */

/* X[i R + r] = x_r[i] */
static __global__ void runs_interleave_kernel(DcDevRuns U, int64_t dim) {
  int64_t n = dim * U.R;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < n; t += (int64_t)blockDim.x * gridDim.x)
    U.X[t] = U.x[t % U.R][t / U.R];
}

/* logreg_rows_kernel for R runs: row j's entries read once, w[j R + r] and loss[r rows + j] */
template <int R>
static __global__ void logreg_rows_many_kernel(DcDevLogreg P, DcDevRuns U, int64_t nrows) {
  int lane = threadIdx.x & 31;
  int64_t warps = (int64_t)gridDim.x * (blockDim.x >> 5);
  double invn = 1.0 / (double)nrows;
  for (int64_t j = blockIdx.x * (int64_t)(blockDim.x >> 5) + (threadIdx.x >> 5); j < nrows; j += warps) {
    double z[R];
#pragma unroll
    for (int r = 0; r < R; ++r) z[r] = 0.0;
    if (P.dense) {
      const float* a = P.dense + j * P.dim;
      for (int64_t k = lane; k < P.dim; k += 32) {
        double v = (double)a[k];
        const double* xk = U.X + k * R;
#pragma unroll
        for (int r = 0; r < R; ++r) z[r] += v * xk[r];
      }
    } else {
      for (int64_t p = P.rowptr[j] + lane; p < P.rowptr[j + 1]; p += 32) {
        double v = P.val[p];
        const double* xk = U.X + (int64_t)P.col[p] * R;
#pragma unroll
        for (int r = 0; r < R; ++r) z[r] += v * xk[r];
      }
    }
#pragma unroll
    for (int r = 0; r < R; ++r) z[r] = dc_warp_sum(z[r]);
    if (lane == 0)
#pragma unroll
      for (int r = 0; r < R; ++r) {
        double zr = z[r] * P.label[j];
        U.loss[r * nrows + j] = log1p_exp_neg(zr);
        U.w[j * R + r] = -P.label[j] * invn / (1.0 + exp(zr));
      }
  }
}

/* logreg_pieces_kernel for R runs (segments [0, nsegs), pieces [0, npieces)): partial[k R + r] */
template <int R>
static __global__ void logreg_pieces_many_kernel(DcDevLogreg P, DcDevRuns U, int64_t nsegs, int64_t npieces) {
  int lane = threadIdx.x & 31;
  int64_t warps = (int64_t)gridDim.x * (blockDim.x >> 5);
  for (int64_t k = blockIdx.x * (int64_t)(blockDim.x >> 5) + (threadIdx.x >> 5); k < npieces; k += warps) {
    int64_t sg = segment_of(P.piece_off, 0, nsegs, k);
    int64_t a = P.seg_lo[sg] + (k - P.piece_off[sg]) * DC_K_PIECE, b = a + DC_K_PIECE;
    double v[R];
#pragma unroll
    for (int r = 0; r < R; ++r) v[r] = 0.0;
    if (b > P.seg_hi[sg]) b = P.seg_hi[sg];
    for (int64_t p = a + lane; p < b; p += 32) {
      double c = P.cval[p];
      const double* wr = U.w + (int64_t)P.row[p] * R;
#pragma unroll
      for (int r = 0; r < R; ++r) v[r] += wr[r] * c;
    }
#pragma unroll
    for (int r = 0; r < R; ++r) v[r] = dc_warp_sum(v[r]);
    if (lane == 0)
#pragma unroll
      for (int r = 0; r < R; ++r) U.partial[k * R + r] = v[r];
  }
}

/* logreg_dense_pieces_kernel for R runs (row pieces [0, npieces)): u = k dim + i, partial[u R + r] */
template <int R>
static __global__ void logreg_dense_pieces_many_kernel(DcDevLogreg P, DcDevRuns U, int64_t nrows, int64_t npieces) {
  int64_t n = npieces * P.dim;
  for (int64_t u = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; u < n; u += (int64_t)blockDim.x * gridDim.x) {
    int64_t k = u / P.dim, i = u % P.dim, j = k * DC_K_ROW_PIECE, end = j + DC_K_ROW_PIECE;
    double s[R];
#pragma unroll
    for (int r = 0; r < R; ++r) s[r] = 0.0;
    if (end > nrows) end = nrows;
    for (; j < end; ++j) {
      double a = (double)P.dense[j * P.dim + i];
      const double* wj = U.w + j * R;
#pragma unroll
      for (int r = 0; r < R; ++r) s[r] += wj[r] * a;
    }
#pragma unroll
    for (int r = 0; r < R; ++r) U.partial[u * R + r] = s[r];
  }
}

/* logreg_cols_kernel for R runs: t = r dim + i, g_r[i] from run r's piece sums in order, each run with its own
 * lambda and mu; reg[t] = x_i^2 / (1 + x_i^2) */
static __global__ void logreg_cols_many_kernel(DcDevLogreg P, DcDevRuns U, int64_t npieces) {
  int64_t n = (int64_t)U.R * P.dim;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < n; t += (int64_t)blockDim.x * gridDim.x) {
    int r = (int)(t / P.dim);
    int64_t i = t % P.dim;
    double x = U.X[i * U.R + r], s = 0.0, tt = 1.0 + x * x, g;
    if (P.dense)
      for (int64_t k = 0; k < npieces; ++k) s += U.partial[(k * P.dim + i) * U.R + r];
    else if (P.seg_off)
      s = segment_sum(P, 0, i, U.partial + r, U.R);
    g = s + 2.0 * U.lambda[r] * x / (tt * tt);
    if (U.mu[r] != 0.0) g += U.mu[r] * x;
    U.g[r][i] = g;
    U.reg[t] = x * x / tt;
  }
}

#define DC_RUNS_LAUNCH(kernel, grid, s, R, ...)                                          \
  do {                                                                                   \
    switch (R) {                                                                         \
    case 1: kernel<1><<<(grid), DC_K_THREADS, 0, (s)>>>(__VA_ARGS__); break;             \
    case 2: kernel<2><<<(grid), DC_K_THREADS, 0, (s)>>>(__VA_ARGS__); break;             \
    case 4: kernel<4><<<(grid), DC_K_THREADS, 0, (s)>>>(__VA_ARGS__); break;             \
    case 8: kernel<8><<<(grid), DC_K_THREADS, 0, (s)>>>(__VA_ARGS__); break;             \
    default: kernel<DC_K_MANY><<<(grid), DC_K_THREADS, 0, (s)>>>(__VA_ARGS__);           \
    }                                                                                    \
  } while (0)

extern "C" cudaError_t detcgd_k_logreg_grad_many(DcDevLogreg P, DcDevRuns U, int64_t nrows, int64_t nsegs,
                                                 int64_t npieces, int grid_cap, cudaStream_t s) {
  cudaError_t e;
  if (U.R != 1 && U.R != 2 && U.R != 4 && U.R != 8 && U.R != DC_K_MANY) return cudaErrorInvalidValue;
  if (P.dim == 0) return cudaSuccess;
  runs_interleave_kernel<<<dc_grid(P.dim * U.R, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(U, P.dim);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  if (nrows > 0) DC_RUNS_LAUNCH(logreg_rows_many_kernel, dc_grid(nrows * 32, DC_K_THREADS, 1 << 20), s, U.R, P, U, nrows);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  if (npieces > 0 && P.dense)
    DC_RUNS_LAUNCH(logreg_dense_pieces_many_kernel, dc_grid(npieces * P.dim, DC_K_THREADS, grid_cap), s, U.R, P, U,
                   nrows, npieces);
  else if (npieces > 0)
    DC_RUNS_LAUNCH(logreg_pieces_many_kernel, dc_grid(npieces * 32, DC_K_THREADS, 1 << 20), s, U.R, P, U, nsegs,
                   npieces);
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  logreg_cols_many_kernel<<<dc_grid((int64_t)U.R * P.dim, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(P, U, npieces);
  return cudaGetLastError();
}

/* One block per client c = c0 + blockIdx.x (its samples drawn as client client0 + blockIdx.x), its row of G the minibatch gradient of backend.h: the samples' rows
 * and weights w_t = -b_j / (batch (1 + e^{z_j})) a tile at a time in shared memory (a thread per sample, its dot
 * product in entry order), then their sum in t order -- dense rows: a thread per column; CSR: sample after sample,
 * a thread per entry (a row's columns are distinct) -- then the regulariser's term, as the CPU backend adds them. */
#define BATCH_TILE 512
static __global__ void logreg_sampled_kernel(DcDevLogreg P, int c0, uint32_t client0, uint64_t seed, uint32_t iter,
                                             const uint32_t* iter_base, int batch, const double* __restrict__ x,
                                             double lambda, double* __restrict__ G) {
  __shared__ double w[BATCH_TILE];
  __shared__ int64_t rows[BATCH_TILE];
  int c = c0 + blockIdx.x;
  int64_t first = P.row_off[c], m = P.row_off[c + 1] - first, i, t0, t;
  uint32_t it = iter + (iter_base ? *iter_base : 0u);
  double invb = 1.0 / (double)batch;
  double* g = G + (int64_t)blockIdx.x * P.dim;
  for (i = threadIdx.x; i < P.dim; i += blockDim.x) g[i] = 0.0;
  for (t0 = 0; t0 < batch; t0 += BATCH_TILE) {
    int64_t nt = batch - t0 < BATCH_TILE ? batch - t0 : BATCH_TILE;
    __syncthreads(); /* the previous tile is summed */
    for (t = threadIdx.x; t < nt; t += blockDim.x) {
      int64_t j = first + dc_minibatch_row(seed, it, client0 + blockIdx.x, t0 + t, m), p;
      double z = 0.0;
      if (P.dense)
        for (p = 0; p < P.dim; ++p) z += (double)P.dense[j * P.dim + p] * x[p];
      else
        for (p = P.rowptr[j]; p < P.rowptr[j + 1]; ++p) z += P.val[p] * x[P.col[p]];
      z *= P.label[j];
      rows[t] = j;
      w[t] = -P.label[j] * invb / (1.0 + exp(z));
    }
    __syncthreads();
    if (P.dense) {
      for (i = threadIdx.x; i < P.dim; i += blockDim.x) {
        double s = g[i];
        for (t = 0; t < nt; ++t) s += w[t] * (double)P.dense[rows[t] * P.dim + i];
        g[i] = s;
      }
    } else {
      for (t = 0; t < nt; ++t) {
        for (int64_t p = P.rowptr[rows[t]] + threadIdx.x; p < P.rowptr[rows[t] + 1]; p += blockDim.x)
          g[P.col[p]] += w[t] * P.val[p];
        __syncthreads(); /* the next sample may share a column */
      }
    }
  }
  __syncthreads();
  for (i = threadIdx.x; i < P.dim; i += blockDim.x) {
    double tt = 1.0 + x[i] * x[i];
    g[i] += 2.0 * lambda * x[i] / (tt * tt);
    if (P.mu != 0.0) g[i] += P.mu * x[i];
  }
}

extern "C" cudaError_t detcgd_k_logreg_sampled_grad(DcDevLogreg P, int c0, int nc, uint32_t client0, uint64_t seed,
                                                    uint32_t iter,
                                                    const uint32_t* iter_base, int batch, const double* x,
                                                    double lambda, double* G, cudaStream_t s) {
  if (nc <= 0 || P.dim == 0) return cudaSuccess;
  logreg_sampled_kernel<<<nc, DC_K_THREADS, 0, s>>>(P, c0, client0, seed, iter, iter_base, batch, x, lambda, G);
  return cudaGetLastError();
}

/* row j = voff_i + r per thread: q_j = sum_c (A_i)_rc (x_c - c_c) (stored when q != NULL), g_j = q_j + reg'(x_j);
 * thread block b's share of f = sum_j 1/2 (x_j - c_j) q_j + lam x_j^2 / (1 + x_j^2) into partials[b], or for a
 * one-block grid into f[0] (f NULL: nowhere) */
template <typename T>
static __global__ void quad_grad_kernel(const T* __restrict__ A, DcDevLayout L, const double* __restrict__ cen,
                                        const double* __restrict__ x, double lambda, double* __restrict__ q,
                                        double* __restrict__ g, double* __restrict__ partials, double* fout) {
  double f = 0.0;
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < L.dim; j += (int64_t)blockDim.x * gridDim.x) {
    int i = dc_layer_of(L, j), m = L.size[i], r = (int)(j - L.voff[i]), c;
    const T* Ai = A + L.moff[i];
    const double* xi = x + L.voff[i];
    const double* ci = cen + L.voff[i];
    double acc = 0.0, tt = 1.0 + x[j] * x[j];
    for (c = 0; c < m; ++c) acc += (double)Ai[r + (int64_t)c * m] * (xi[c] - ci[c]);
    f += 0.5 * (x[j] - cen[j]) * acc + lambda * (x[j] * x[j] / tt);
    if (q) q[j] = acc;
    g[j] = acc + 2.0 * lambda * x[j] / (tt * tt);
  }
  f = dc_block_sum(f);
  dc_block_result(f, partials, fout, NULL);
}

extern "C" cudaError_t detcgd_k_quad_grad(DcDevLayout L, DcDevBlocks A, const double* c, const double* x, double lambda,
                                          double* q, double* g, double* partials, double* f, int grid_cap, cudaStream_t s) {
  int grid = dc_grid(L.dim, DC_K_THREADS, grid_cap < DC_K_RED_MAX ? grid_cap : DC_K_RED_MAX);
  cudaError_t e;
  DC_LAUNCH_DENSE(quad_grad_kernel, grid, DC_K_THREADS, s, A, L, c, x, lambda, q, g, partials, f);
  e = cudaGetLastError();
  return e != cudaSuccess || !f || grid == 1 ? e : detcgd_k_sum(grid, partials, f, NULL, s);
}

/* coordinate j per thread: g_j, and thread block b's share of f into partials[b] (or f[0] for one block) */
static __global__ void poly_grad_kernel(int64_t dim, const double* __restrict__ a, const double* __restrict__ x,
                                        double lambda, double* __restrict__ g, double* __restrict__ partials,
                                        double* fout) {
  double f = 0.0;
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < dim; j += (int64_t)blockDim.x * gridDim.x) {
    double x2 = x[j] * x[j], tt = 1.0 + x2;
    f += a[j] * x2 * x2 + lambda * (x2 / tt);
    g[j] = 4.0 * a[j] * x2 * x[j] + 2.0 * lambda * x[j] / (tt * tt);
  }
  f = dc_block_sum(f);
  dc_block_result(f, partials, fout, NULL);
}

extern "C" cudaError_t detcgd_k_poly_grad(int64_t dim, const double* a, const double* x, double lambda, double* g,
                                          double* partials, double* f, int grid_cap, cudaStream_t s) {
  int grid = dc_grid(dim, DC_K_THREADS, grid_cap < DC_K_RED_MAX ? grid_cap : DC_K_RED_MAX);
  cudaError_t e;
  poly_grad_kernel<<<grid, DC_K_THREADS, 0, s>>>(dim, a, x, lambda, g, partials, f);
  e = cudaGetLastError();
  return e != cudaSuccess || !f || grid == 1 ? e : detcgd_k_sum(grid, partials, f, NULL, s);
}

/* row j = voff_i + r per thread: q_j += sum_t (A_i)_{r, j_t} (alpha v_t) over layer i's kept j_t in slot
 * order (A's kept columns only; the threads of a layer read the same j_t and v_t), g_j = q_j + reg'(x_j) */
template <typename T>
static __global__ void quad_step_kernel(const T* __restrict__ A, DcDevLayout L, DcDevSketch S,
                                        const double* __restrict__ vals, double alpha, const double* __restrict__ x,
                                        double lambda, double* __restrict__ q, double* __restrict__ g) {
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < L.dim; j += (int64_t)blockDim.x * gridDim.x) {
    int i = dc_layer_of(L, j), m = L.size[i], r = (int)(j - L.voff[i]), t;
    const T* Ai = A + L.moff[i];
    int64_t o = S.cap_off[i];
    double acc = q[j], tt = 1.0 + x[j] * x[j];
    for (t = 0; t < S.count[i]; ++t) acc += (double)Ai[r + (int64_t)S.idx[o + t] * m] * (alpha * vals[o + t]);
    q[j] = acc;
    g[j] = acc + 2.0 * lambda * x[j] / (tt * tt);
  }
}

extern "C" cudaError_t detcgd_k_quad_step(DcDevLayout L, DcDevBlocks A, DcDevSketch S, const double* vals, double alpha,
                                          const double* x, double lambda, double* q, double* g, int grid_cap,
                                          cudaStream_t s) {
  DC_LAUNCH_DENSE(quad_step_kernel, dc_grid(L.dim, DC_K_THREADS, grid_cap), DC_K_THREADS, s, A, L, S, vals, alpha, x,
                  lambda, q, g);
  return cudaGetLastError();
}
