/*
 * setup.cu -- the elementwise steps of the stepsize setup on the device (backend_cuda.c's stepsize_setup):
 * a chunk holds nb m x m blocks column-major, block t at t m^2; cuBLAS and cuSOLVER do the products,
 * factorisations and eigenvalues in between.
 */
#include "common.cuh"

#define GRID_STRIDE(e, n) for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < (n); e += (int64_t)gridDim.x * blockDim.x)

/* X = A + 2 lam I (the regulariser's curvature bound), A's entries converted to double */
template <typename T>
__global__ void k_setup_L(const T* __restrict__ A, int64_t n, int m, double two_lam, double* __restrict__ X) {
  GRID_STRIDE(e, n) {
    int64_t local = e % ((int64_t)m * m);
    X[e] = (double)A[e] + (local % m == local / m ? two_lam : 0.0);
  }
}

cudaError_t detcgd_k_setup_L(DcDevBlocks A, int64_t first_entry, int nb, int m, double lambda, double* X, int grid_cap,
                             cudaStream_t s) {
  int64_t n = (int64_t)nb * m * m;
  int g = dc_grid(n, DC_K_THREADS, grid_cap);
  if (A.f32) k_setup_L<float><<<g, DC_K_THREADS, 0, s>>>((const float*)A.data + first_entry, n, m, 2.0 * lambda, X);
  else k_setup_L<double><<<g, DC_K_THREADS, 0, s>>>((const double*)A.data + first_entry, n, m, 2.0 * lambda, X);
  return cudaGetLastError();
}

/* E[S X S]_rc = w_rc X_rc: w = diag[t m + r] on the diagonal of block t, off[t] off it */
__global__ void k_setup_moment(const double* __restrict__ X, int64_t n, int m, const double* __restrict__ off,
                               const double* __restrict__ diag, double* __restrict__ Y) {
  GRID_STRIDE(e, n) {
    int64_t mm = (int64_t)m * m, t = e / mm, local = e % mm;
    int r = (int)(local % m), c = (int)(local / m);
    Y[e] = (r == c ? diag[t * m + r] : off[t]) * X[e];
  }
}

cudaError_t detcgd_k_setup_moment(const double* X, int nb, int m, const double* off, const double* diag, double* Y,
                                  int grid_cap, cudaStream_t s) {
  int64_t n = (int64_t)nb * m * m;
  k_setup_moment<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(X, n, m, off, diag, Y);
  return cudaGetLastError();
}

/* Y_t = ((X_t / div_t) a) mul_t, rounded to float when round32 (div, mul NULL: 1) */
__global__ void k_setup_scale(const double* __restrict__ X, int64_t n, int64_t mm, const double* __restrict__ div,
                              double a, const double* __restrict__ mul, int round32, double* Y) {
  GRID_STRIDE(e, n) {
    int64_t t = e / mm;
    double y = X[e];
    if (div) y /= div[t];
    y *= a;
    if (mul) y *= mul[t];
    Y[e] = round32 ? (double)(float)y : y;
  }
}

cudaError_t detcgd_k_setup_scale(const double* X, int nb, int m, const double* div, double a, const double* mul,
                                 int round32, double* Y, int grid_cap, cudaStream_t s) {
  int64_t mm = (int64_t)m * m, n = nb * mm;
  k_setup_scale<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(X, n, mm, div, a, mul, round32, Y);
  return cudaGetLastError();
}

/* strictly upper triangle of every block: the lower one's mirror (mirror) or zero */
__global__ void k_setup_upper(double* X, int64_t n, int m, int mirror) {
  GRID_STRIDE(e, n) {
    int64_t mm = (int64_t)m * m, t = e / mm, local = e % mm;
    int r = (int)(local % m), c = (int)(local / m);
    if (r < c) X[e] = mirror ? X[t * mm + c + (int64_t)r * m] : 0.0;
  }
}

cudaError_t detcgd_k_setup_upper(double* X, int nb, int m, int mirror, int grid_cap, cudaStream_t s) {
  int64_t n = (int64_t)nb * m * m;
  k_setup_upper<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(X, n, m, mirror);
  return cudaGetLastError();
}

__global__ void k_setup_identity(double* X, int64_t n, int m) {
  GRID_STRIDE(e, n) {
    int64_t local = e % ((int64_t)m * m);
    X[e] = local % m == local / m ? 1.0 : 0.0;
  }
}

cudaError_t detcgd_k_setup_identity(double* X, int nb, int m, int grid_cap, cudaStream_t s) {
  int64_t n = (int64_t)nb * m * m;
  k_setup_identity<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(X, n, m);
  return cudaGetLastError();
}

/* Y_t[:, c] = V_t[:, c] w_tc^p; bad[t] = 1 when some w_tc <= 0 (p < 0 needs a positive definite block) */
__global__ void k_setup_scale_cols(const double* __restrict__ V, const double* __restrict__ w, int64_t n, int m,
                                   double p, double* __restrict__ Y, int* bad) {
  GRID_STRIDE(e, n) {
    int64_t t = e / ((int64_t)m * m), col = e / m; /* col = t m + c */
    double wc = w[col];
    if (!(wc > 0.0)) bad[t] = 1;
    Y[e] = V[e] * pow(wc, p);
  }
}

cudaError_t detcgd_k_setup_scale_cols(const double* V, const double* w, int nb, int m, double p, double* Y, int* bad,
                                      int grid_cap, cudaStream_t s) {
  int64_t n = (int64_t)nb * m * m;
  k_setup_scale_cols<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(V, w, n, m, p, Y, bad);
  return cudaGetLastError();
}

/* out[t] = 2 sum_j log C_t(j, j), j in order (dc_chol_logdet's sum) */
__global__ void k_setup_logdet(const double* __restrict__ C, int nb, int m, double* __restrict__ out) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= nb) return;
  const double* Ct = C + (int64_t)t * m * m;
  double s = 0.0;
  for (int j = 0; j < m; ++j) s += 2.0 * log(Ct[j + (int64_t)j * m]);
  out[t] = s;
}

cudaError_t detcgd_k_setup_logdet(const double* C, int nb, int m, double* out, cudaStream_t s) {
  k_setup_logdet<<<(nb + DC_K_THREADS - 1) / DC_K_THREADS, DC_K_THREADS, 0, s>>>(C, nb, m, out);
  return cudaGetLastError();
}

/* ptr[t] = base + t stride: the pointer arrays of the batched cuSOLVER and cuBLAS calls */
__global__ void k_setup_ptrs(double* base, int nb, int64_t stride, double** ptr) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t < nb) ptr[t] = base + t * stride;
}

cudaError_t detcgd_k_setup_ptrs(double* base, int nb, int64_t stride, double** ptr, cudaStream_t s) {
  k_setup_ptrs<<<(nb + DC_K_THREADS - 1) / DC_K_THREADS, DC_K_THREADS, 0, s>>>(base, nb, stride, ptr);
  return cudaGetLastError();
}

/* dst = X as float (its entries are floats already when stored so) */
__global__ void k_setup_store_f32(const double* __restrict__ X, int64_t n, float* __restrict__ dst) {
  GRID_STRIDE(e, n) dst[e] = (float)X[e];
}

cudaError_t detcgd_k_setup_store(const double* X, int64_t n, int f32, void* dst, int grid_cap, cudaStream_t s) {
  if (!f32) return cudaMemcpyAsync(dst, X, (size_t)n * sizeof(double), cudaMemcpyDeviceToDevice, s);
  k_setup_store_f32<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(X, n, (float*)dst);
  return cudaGetLastError();
}
