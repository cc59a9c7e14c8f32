/*
 * problem.cu -- gradients and losses on the device.
 *
 * logreg-nc: f = (1/N) sum_j log(1 + e^{-z_j}) + lam sum_c x_c^2/(1+x_c^2), z_j = b_j a_j.x;
 *   grad = A^T w + 2 lam x/(1+x^2)^2, w_j = -b_j / (N (1 + e^{z_j})).
 *   A x by rows (CSR, one warp per row) and A^T w by columns (CSC, one thread per
 *   column, rows in increasing order): no atomics, and each gradient entry is
 *   summed in the CPU's order.
 * quad-nc: grad_i = A_i (x_i - c_i) + 2 lam x/(1+x^2)^2, f = sum 1/2 r^T A r + lam sum x^2/(1+x^2).
 */
#include "common.cuh"

/* log(1 + exp(-z)) without overflow */
__device__ __forceinline__ double log1p_exp_neg(double z) { return z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z)); }

static __global__ void logreg_rows_kernel(int64_t nrows, const int64_t* __restrict__ rowptr, const int32_t* __restrict__ col,
                                          const double* __restrict__ val, const double* __restrict__ label,
                                          const double* __restrict__ x, double* __restrict__ w, double* __restrict__ loss) {
  int lane = threadIdx.x & 31;
  int64_t warps = (int64_t)gridDim.x * (blockDim.x >> 5);
  double invn = 1.0 / (double)nrows;
  for (int64_t j = blockIdx.x * (int64_t)(blockDim.x >> 5) + (threadIdx.x >> 5); j < nrows; j += warps) {
    double z = 0.0;
    for (int64_t p = rowptr[j] + lane; p < rowptr[j + 1]; p += 32) z += val[p] * x[col[p]];
    z = dc_warp_sum(z);
    if (lane == 0) {
      z *= label[j];
      loss[j] = log1p_exp_neg(z);
      w[j] = -label[j] * invn / (1.0 + exp(z));
    }
  }
}

static __global__ void logreg_cols_kernel(int64_t dim, const int64_t* __restrict__ colptr, const int32_t* __restrict__ row,
                                          const double* __restrict__ val, const double* __restrict__ w,
                                          const double* __restrict__ x, double lambda, double* __restrict__ g,
                                          double* __restrict__ reg) {
  for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < dim; c += (int64_t)blockDim.x * gridDim.x) {
    double s = 0.0, t = 1.0 + x[c] * x[c];
    for (int64_t p = colptr[c]; p < colptr[c + 1]; ++p) s += w[row[p]] * val[p];
    g[c] = s + 2.0 * lambda * x[c] / (t * t);
    reg[c] = x[c] * x[c] / t;
  }
}

extern "C" cudaError_t detcgd_k_logreg_rows(int64_t nrows, const int64_t* rowptr, const int32_t* col, const double* val,
                                            const double* label, const double* x, double* w, double* loss, cudaStream_t s) {
  if (nrows == 0) return cudaSuccess;
  logreg_rows_kernel<<<dc_grid(nrows * 32, DC_K_THREADS, 1 << 20), DC_K_THREADS, 0, s>>>(nrows, rowptr, col, val, label, x, w, loss);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_logreg_cols(int64_t dim, const int64_t* colptr, const int32_t* row, const double* val,
                                            const double* w, const double* x, double lambda, double* g, double* reg,
                                            int grid_cap, cudaStream_t s) {
  if (dim == 0) return cudaSuccess;
  logreg_cols_kernel<<<dc_grid(dim, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(dim, colptr, row, val, w, x, lambda, g, reg);
  return cudaGetLastError();
}

/* row r of a tile: g_r = sum_c A_rc (x_c - c_c) + reg'(x_r); partials[t] = tile's share of f */
static __global__ void quad_grad_kernel(DcDevLayout L, const double* __restrict__ A, const double* __restrict__ cen,
                                        const double* __restrict__ x, double lambda, double* __restrict__ g,
                                        double* __restrict__ partials) {
  for (int64_t t = blockIdx.x; t < L.ntiles; t += gridDim.x) {
    int i = dc_find_block(L.tile_off, L.nblocks, t), m = L.size[i], c;
    int r = (int)(t - L.tile_off[i]) * DC_K_TILE + threadIdx.x;
    double f = 0.0;
    if (r < m) {
      const double* Ai = A + L.moff[i];
      const double* xi = x + L.voff[i];
      const double* ci = cen + L.voff[i];
      double acc = 0.0, tt = 1.0 + xi[r] * xi[r];
      for (c = 0; c < m; ++c) acc += Ai[r + (int64_t)c * m] * (xi[c] - ci[c]);
      f = 0.5 * (xi[r] - ci[r]) * acc + lambda * (xi[r] * xi[r] / tt);
      g[L.voff[i] + r] = acc + 2.0 * lambda * xi[r] / (tt * tt);
    }
    f = dc_block_sum(f);
    if (threadIdx.x == 0) partials[t] = f;
  }
}

extern "C" cudaError_t detcgd_k_quad_grad(DcDevLayout L, const double* A, const double* c, const double* x, double lambda,
                                          double* g, double* partials, cudaStream_t s) {
  if (L.ntiles == 0) return cudaSuccess;
  quad_grad_kernel<<<(int)(L.ntiles < 65535 ? L.ntiles : 65535), DC_K_TILE, 0, s>>>(L, A, c, x, lambda, g, partials);
  return cudaGetLastError();
}
