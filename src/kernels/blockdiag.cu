/*
 * blockdiag.cu -- block-diagonal products for ragged layers: y_i += alpha B_i x_i,
 * the sketch-aware variants that read only the kept columns (det-CGD1, D S g)
 * or compute only the kept rows (det-CGD2, T D g), and x^T B x.
 *
 * Dense blocks are column-major; each thread takes rows j of the whole layout
 * (grid-stride), finds the layer i with voff_i <= j < voff_{i+1}, and sums row
 * r = j - voff_i, so consecutive threads read consecutive entries of a column
 * (and a warp spans several layers when they are narrow).  Kept rows of a
 * symmetric B_i are read as columns.  Every row is summed in the same order as
 * on the CPU.
 * Dense blocks are float or double (T); products accumulate in double, so a
 * float block gives the same bits as a double block holding the same values.
 */
#include "common.cuh"

/* ---- y += alpha B x ---- */

/* scalar / diagonal: y_j += alpha b_j x_j */
static __global__ void apply_diag_kernel(DcDevLayout L, int kind, const double* __restrict__ B,
                                         const double* __restrict__ x, double alpha, double* __restrict__ y) {
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < L.dim; j += (int64_t)blockDim.x * gridDim.x) {
    int i = kind == 0 ? dc_layer_of(L, j) : 0;
    double b = kind == 0 ? B[i] : B[j];
    y[j] += alpha * b * x[j];
  }
}

/* dense: y_j += sum_c (B_i)_rc (alpha x_c), row j = voff_i + r per thread */
template <typename T>
static __global__ void apply_dense_kernel(const T* __restrict__ B, DcDevLayout L, const double* __restrict__ x,
                                          double alpha, double* __restrict__ y) {
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < L.dim; j += (int64_t)blockDim.x * gridDim.x) {
    int i = dc_layer_of(L, j), m = L.size[i], r = (int)(j - L.voff[i]), c;
    const T* Bi = B + L.moff[i];
    const double* xi = x + L.voff[i];
    double acc = y[j];
    for (c = 0; c < m; ++c) acc += (double)Bi[r + (int64_t)c * m] * (alpha * xi[c]);
    y[j] = acc;
  }
}

extern "C" cudaError_t detcgd_k_bd_apply(DcDevLayout L, DcDevBlocks B, const double* x, double alpha, double* y,
                                         int grid_cap, cudaStream_t s) {
  int grid = dc_grid(L.dim, DC_K_THREADS, grid_cap);
  if (L.dim == 0) return cudaSuccess;
  if (B.kind != 2)
    apply_diag_kernel<<<grid, DC_K_THREADS, 0, s>>>(L, B.kind, (const double*)B.data, x, alpha, y);
  else DC_LAUNCH_DENSE(apply_dense_kernel, grid, DC_K_THREADS, s, B, L, x, alpha, y);
  return cudaGetLastError();
}

/* ---- y += alpha B S x: only the kept columns ---- */

/* scalar / diagonal: one thread per kept slot; indices are distinct within a layer */
static __global__ void cols_diag_kernel(DcDevLayout L, int kind, const double* __restrict__ B, DcDevSketch S,
                                        const double* __restrict__ x, double alpha, double* __restrict__ y) {
  for (int64_t g = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; g < S.cap; g += (int64_t)blockDim.x * gridDim.x) {
    int i = dc_slot_layer(S, L.nblocks, g);
    if (g - S.cap_off[i] >= S.count[i]) continue;
    {
      int j = S.idx[g];
      double v = alpha * S.scale[g] * x[L.voff[i] + j];
      y[L.voff[i] + j] += dc_diag_entry(kind, B, L.voff, i, j) * v;
    }
  }
}

/* dense: y_j += sum_t (B_i)_{r j_t} (alpha s_t x_{j_t}) over layer i's kept slots t, row j = voff_i + r per thread */
template <typename T>
static __global__ void cols_dense_kernel(const T* __restrict__ B, DcDevLayout L, DcDevSketch S,
                                         const double* __restrict__ x, double alpha, double* __restrict__ y) {
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < L.dim; j += (int64_t)blockDim.x * gridDim.x) {
    int i = dc_layer_of(L, j), m = L.size[i], n = S.count[i], r = (int)(j - L.voff[i]), q;
    if (n == 0) continue; /* nothing kept in layer i (a dropped Bern-q layer): y_j stays, unread */
    const T* Bi = B + L.moff[i];
    const double* xi = x + L.voff[i];
    const int* idx = S.idx + S.cap_off[i];
    const double* sc = S.scale + S.cap_off[i];
    double acc = y[j];
    for (q = 0; q < n; ++q) acc += (double)Bi[r + (int64_t)idx[q] * m] * (alpha * sc[q] * xi[idx[q]]);
    y[j] = acc;
  }
}

extern "C" cudaError_t detcgd_k_bd_apply_cols(DcDevLayout L, DcDevBlocks B, DcDevSketch S, const double* x,
                                              double alpha, double* y, int grid_cap, cudaStream_t s) {
  if (L.dim == 0) return cudaSuccess;
  if (B.kind != 2)
    cols_diag_kernel<<<dc_grid(S.cap, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(L, B.kind, (const double*)B.data,
                                                                                     S, x, alpha, y);
  else DC_LAUNCH_DENSE(cols_dense_kernel, dc_grid(L.dim, DC_K_THREADS, grid_cap), DC_K_THREADS, s, B, L, S, x, alpha, y);
  return cudaGetLastError();
}

/* ---- y += alpha T B x: only the kept rows ---- */

/* one warp per kept slot: (B_i x_i)_j from column j of the symmetric B_i, then y_j += alpha s_t (.) */
static __global__ void rows_kernel(DcDevLayout L, DcDevBlocks B, DcDevSketch S,
                                   const double* __restrict__ x, double alpha, double* __restrict__ y) {
  int lane = threadIdx.x & 31;
  int64_t warps = (int64_t)gridDim.x * (blockDim.x >> 5);
  for (int64_t g = blockIdx.x * (int64_t)(blockDim.x >> 5) + (threadIdx.x >> 5); g < S.cap; g += warps) {
    int i = dc_slot_layer(S, L.nblocks, g);
    if (g - S.cap_off[i] >= S.count[i]) continue;
    {
      int j = S.idx[g];
      double v = dc_kept_row(L, B, i, j, x + L.voff[i], lane);
      if (lane == 0) y[L.voff[i] + j] += alpha * S.scale[g] * v;
    }
  }
}

extern "C" cudaError_t detcgd_k_bd_apply_rows(DcDevLayout L, DcDevBlocks B, DcDevSketch S, const double* x,
                                              double alpha, double* y, int grid_cap, cudaStream_t s) {
  if (L.dim == 0 || S.cap == 0) return cudaSuccess;
  rows_kernel<<<dc_grid(S.cap * 32, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(L, B, S, x, alpha, y);
  return cudaGetLastError();
}

/* ---- x^T B x ---- */

/* thread block b's share of sum_j x_j (B x)_j (dense rows (B_i x_i)_r, or b_j x_j for scalar / diagonal B) into
 * partials[b], or for a one-block grid into out[0] (acc[0] += it) */
template <typename T>
static __global__ void quadform_kernel(const T* __restrict__ B, DcDevLayout L, int kind, const double* __restrict__ x,
                                       double* __restrict__ partials, double* out, double* acc) {
  double v = 0.0;
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < L.dim; j += (int64_t)blockDim.x * gridDim.x) {
    int i = kind == 1 ? 0 : dc_layer_of(L, j), c;
    double s = 0.0;
    if (kind == 2) {
      int m = L.size[i], r = (int)(j - L.voff[i]);
      const T* Bi = B + L.moff[i];
      const double* xi = x + L.voff[i];
      for (c = 0; c < m; ++c) s += (double)Bi[r + (int64_t)c * m] * xi[c];
    } else {
      s = (double)B[kind == 0 ? i : j] * x[j];
    }
    v += x[j] * s;
  }
  v = dc_block_sum(v);
  dc_block_result(v, partials, out, acc);
}

extern "C" cudaError_t detcgd_k_bd_quadform(DcDevLayout L, DcDevBlocks B, const double* x, double* partials,
                                            double* out, double* acc, int grid_cap, cudaStream_t s) {
  int grid = dc_grid(L.dim, DC_K_THREADS, grid_cap < DC_K_RED_MAX ? grid_cap : DC_K_RED_MAX);
  cudaError_t e;
  if (B.kind == 2) DC_LAUNCH_DENSE(quadform_kernel, grid, DC_K_THREADS, s, B, L, 2, x, partials, out, acc);
  else quadform_kernel<double><<<grid, DC_K_THREADS, 0, s>>>((const double*)B.data, L, B.kind, x, partials, out, acc);
  e = cudaGetLastError();
  return e != cudaSuccess || grid == 1 ? e : detcgd_k_sum(grid, partials, out, acc, s);
}
