/*
 * problem.cu -- gradients and losses on the device.
 *
 * logreg-nc, client c with rows R_c (N_c = |R_c|):
 *   f_c = (1/N_c) sum_{j in R_c} log(1 + e^{-z_j}) + lam sum_i x_i^2/(1+x_i^2),  z_j = b_j a_j.x;
 *   grad f_c = sum_{j in R_c} w_j a_j + 2 lam x/(1+x^2)^2,  w_j = -b_j / (N_c (1 + e^{z_j})).
 *   The clients' rows are concatenated in client order (one client: the whole problem).  A x by
 *   rows (one warp per row) and A_c^T w by columns (one thread per client and column, the
 *   client's rows summed in increasing order): no atomics, each gradient entry summed in the
 *   CPU's order, and one client's gradient the same bits whether computed alone or in a batch.
 *   Rows are CSR (the CSC's rows of client c found by binary search) or dense floats
 *   (data-precision fp32 and dense enough: 4 bytes per entry instead of 12, coalesced both ways).
 * quad-nc: grad_i = A_i (x_i - c_i) + 2 lam x/(1+x^2)^2, f = sum 1/2 r^T A r + lam sum x^2/(1+x^2).
 */
#include "common.cuh"

/* log(1 + exp(-z)) without overflow */
__device__ __forceinline__ double log1p_exp_neg(double z) { return z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z)); }

/* first p in [lo, hi) with row[p] >= r (rows increasing) */
__device__ __forceinline__ int64_t lower_row(const int32_t* __restrict__ row, int64_t lo, int64_t hi, int64_t r) {
  while (lo < hi) {
    int64_t mid = lo + ((hi - lo) >> 1);
    if (row[mid] < r) lo = mid + 1; else hi = mid;
  }
  return lo;
}

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

/* t = (c - c0) dim + i for clients c0..c0+nc-1: G_t = (grad f_c)_i; reg_i = x_i^2/(1+x_i^2) */
static __global__ void logreg_cols_kernel(DcDevLogreg P, int c0, int nc, const double* __restrict__ x, double lambda,
                                          double* __restrict__ G) {
  int64_t n = (int64_t)nc * P.dim;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < n; t += (int64_t)blockDim.x * gridDim.x) {
    int64_t i = t % P.dim;
    int c = c0 + (int)(t / P.dim);
    double s = 0.0, tt = 1.0 + x[i] * x[i];
    if (P.dense) {
      for (int64_t j = P.row_off[c]; j < P.row_off[c + 1]; ++j) s += P.w[j] * (double)P.dense[j * P.dim + i];
    } else {
      int64_t lo = lower_row(P.row, P.colptr[i], P.colptr[i + 1], P.row_off[c]);
      int64_t hi = lower_row(P.row, lo, P.colptr[i + 1], P.row_off[c + 1]);
      for (int64_t p = lo; p < hi; ++p) s += P.w[P.row[p]] * P.cval[p];
    }
    G[t] = s + 2.0 * lambda * x[i] / (tt * tt);
    if (c == c0) P.reg[i] = x[i] * x[i] / tt;
  }
}

/* block b: fc[b] = (1/N_c) sum_{j in R_c} loss_j + lam reg_sum for client c = c0 + b */
static __global__ void logreg_client_f_kernel(DcDevLogreg P, int c0, double lambda, const double* __restrict__ reg_sum,
                                              double* __restrict__ fc) {
  int c = c0 + blockIdx.x;
  double v = 0.0;
  for (int64_t j = P.row_off[c] + threadIdx.x; j < P.row_off[c + 1]; j += blockDim.x) v += P.loss[j];
  v = dc_block_sum(v);
  if (threadIdx.x == 0) fc[blockIdx.x] = v / (double)(P.row_off[c + 1] - P.row_off[c]) + lambda * reg_sum[0];
}

extern "C" cudaError_t detcgd_k_logreg_grad(DcDevLogreg P, int64_t r0, int64_t r1, int c0, int nc, const double* x,
                                            double lambda, double* G, int grid_cap, cudaStream_t s) {
  cudaError_t e;
  if (nc <= 0 || P.dim == 0) return cudaSuccess;
  if (r1 > r0) {
    logreg_rows_kernel<<<dc_grid((r1 - r0) * 32, DC_K_THREADS, 1 << 20), DC_K_THREADS, 0, s>>>(P, r0, r1, x);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
  }
  logreg_cols_kernel<<<dc_grid((int64_t)nc * P.dim, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(P, c0, nc, x, lambda, G);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_logreg_client_f(DcDevLogreg P, int c0, int nc, double lambda, const double* reg_sum,
                                                double* fc, cudaStream_t s) {
  if (nc <= 0) return cudaSuccess;
  logreg_client_f_kernel<<<nc, DC_K_THREADS, 0, s>>>(P, c0, lambda, reg_sum, fc);
  return cudaGetLastError();
}

/* row j = voff_i + r per thread: g_j = sum_c (A_i)_rc (x_c - c_c) + reg'(x_j); partials[b] = thread block b's
 * share of f = sum_j 1/2 (x_j - c_j) (A (x - c))_j + lam x_j^2 / (1 + x_j^2) */
static __global__ void quad_grad_kernel(DcDevLayout L, const double* __restrict__ A, const double* __restrict__ cen,
                                        const double* __restrict__ x, double lambda, double* __restrict__ g,
                                        double* __restrict__ partials) {
  double f = 0.0;
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < L.dim; j += (int64_t)blockDim.x * gridDim.x) {
    int i = dc_find_block(L.voff, L.nblocks, j), m = L.size[i], r = (int)(j - L.voff[i]), c;
    const double* Ai = A + L.moff[i];
    const double* xi = x + L.voff[i];
    const double* ci = cen + L.voff[i];
    double acc = 0.0, tt = 1.0 + x[j] * x[j];
    for (c = 0; c < m; ++c) acc += Ai[r + (int64_t)c * m] * (xi[c] - ci[c]);
    f += 0.5 * (x[j] - cen[j]) * acc + lambda * (x[j] * x[j] / tt);
    g[j] = acc + 2.0 * lambda * x[j] / (tt * tt);
  }
  f = dc_block_sum(f);
  if (threadIdx.x == 0) partials[blockIdx.x] = f;
}

extern "C" cudaError_t detcgd_k_quad_grad(DcDevLayout L, const double* A, const double* c, const double* x, double lambda,
                                          double* g, double* partials, double* f, int grid_cap, cudaStream_t s) {
  int grid = dc_grid(L.dim, DC_K_THREADS, grid_cap < DC_K_RED_MAX ? grid_cap : DC_K_RED_MAX);
  cudaError_t e;
  quad_grad_kernel<<<grid, DC_K_THREADS, 0, s>>>(L, A, c, x, lambda, g, partials);
  e = cudaGetLastError();
  return e != cudaSuccess || !f ? e : detcgd_k_sum(grid, partials, f, s);
}
