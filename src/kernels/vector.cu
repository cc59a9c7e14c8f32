/*
 * vector.cu -- fill, axpy, axpby and elementwise maps with device scalars, column sums in client order,
 * deterministic two-pass reductions, metric slots.
 */
#include "common.cuh"

/* v_i = a */
static __global__ void fill_kernel(double* __restrict__ v, int64_t n, double a) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)blockDim.x * gridDim.x) v[i] = a;
}

/* y_i += a x_i */
static __global__ void axpy_kernel(int64_t n, double a, const double* __restrict__ x, double* __restrict__ y) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)blockDim.x * gridDim.x)
    y[i] += a * x[i];
}

/* The scalar's value (the CPU backend's scalar_value: the same bits). */
static __device__ double scalar_value(DcDevScalar s) {
  double v;
  if (!s.v) return s.c;
  v = s.v[0];
  if (s.power == 1.0) return s.c * v;
  if (v == 0.0) return 0.0; /* a negative power of 0: the step of a normalised zero vector is 0 */
  if (s.power == -1.0) return s.c / v;
  return s.power == 0.5 ? s.c * sqrt(v) : s.c / sqrt(v);
}

/* y_i = a x_i + b y_i, or a x_i when b is the constant 0 */
static __global__ void axpby_kernel(int64_t n, DcDevScalar a, const double* __restrict__ x, DcDevScalar b,
                                    double* __restrict__ y) {
  const double av = scalar_value(a), bv = scalar_value(b);
  const int no_b = !b.v && b.c == 0.0;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)blockDim.x * gridDim.x)
    y[i] = no_b ? av * x[i] : av * x[i] + bv * y[i];
}

/* sign, soft-threshold, clip, scale, shrink (the CPU backend's maps) */
static __device__ double map_value(int map, double x, double t) {
  switch (map) {
    case 0: return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x;
    case 1: return x > t ? x - t : x < -t ? x + t : 0.0 * x;
    case 2: return x > t ? t : x < -t ? -t : x;
    case 4: return (t < 1.0 ? t : 1.0) * x;
    default: return t * x;
  }
}

static __global__ void map_kernel(int64_t n, int map, const double* x, DcDevScalar t, double* y) {
  const double tv = scalar_value(t);
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)blockDim.x * gridDim.x)
    y[i] = map_value(map, x[i], tv);
}

/* y_j = (fresh ? 0 : y_j) + alpha X_cj for c = 0..nc-1 in order (X row-major nc x n): the same bits as a fill
 * (fresh) and nc axpys */
static __global__ void colsum_kernel(int64_t n, int nc, const double* __restrict__ X, double alpha, int fresh,
                                     double* __restrict__ y) {
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < n; j += (int64_t)blockDim.x * gridDim.x) {
    double acc = fresh ? 0.0 : y[j];
    for (int c = 0; c < nc; ++c) acc += alpha * X[(int64_t)c * n + j];
    y[j] = acc;
  }
}

/* out = (add ? out : 0) + v_0 + v_1 + ... + v_{n-1}, left to right */
static __global__ void sum_seq_kernel(int n, const double* __restrict__ v, double* out, int add) {
  double acc = add ? out[0] : 0.0;
  for (int i = 0; i < n; ++i) acc += v[i];
  out[0] = acc;
}

/* block b's grid-stride share of sum x_i y_i (or x_i): partials[b], or out[0] for a one-block grid */
static __global__ void dot_partials_kernel(int64_t n, const double* __restrict__ x, const double* __restrict__ y,
                                           double* __restrict__ partials, double* out) {
  double v = 0.0;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)blockDim.x * gridDim.x)
    v += y ? x[i] * y[i] : x[i];
  v = dc_block_sum(v);
  dc_block_result(v, partials, out, NULL);
}

/* out = sum_b partials[b], one block, fixed order; acc += out unless acc is NULL */
static __global__ void sum_kernel(int64_t n, const double* __restrict__ partials, double* out, double* acc) {
  double v = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) v += partials[i];
  v = dc_block_sum(v);
  if (threadIdx.x == 0) {
    out[0] = v;
    if (acc) acc[0] += v;
  }
}

static __global__ void metric_set_kernel(double* m, int slot, double v) { m[slot] = v; }

static __global__ void counter_kernel(uint32_t* c, uint32_t v, int add) { c[0] = add ? c[0] + v : v; }

extern "C" cudaError_t detcgd_k_fill(double* v, int64_t n, double a, int grid_cap, cudaStream_t s) {
  if (n <= 0) return cudaSuccess;
  fill_kernel<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(v, n, a);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_axpy(int64_t n, double a, const double* x, double* y, int grid_cap, cudaStream_t s) {
  if (n <= 0) return cudaSuccess;
  axpy_kernel<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(n, a, x, y);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_axpby(int64_t n, DcDevScalar a, const double* x, DcDevScalar b, double* y,
                                      int grid_cap, cudaStream_t s) {
  if (n <= 0) return cudaSuccess;
  axpby_kernel<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(n, a, x, b, y);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_map(int64_t n, int map, const double* x, DcDevScalar t, double* y, int grid_cap,
                                    cudaStream_t s) {
  if (n <= 0) return cudaSuccess;
  map_kernel<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(n, map, x, t, y);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_colsum(int64_t n, int nc, const double* X, double alpha, int fresh, double* y,
                                       int grid_cap, cudaStream_t s) {
  if (n <= 0) return cudaSuccess;
  if (nc <= 0) return fresh ? detcgd_k_fill(y, n, 0.0, grid_cap, s) : cudaSuccess;
  colsum_kernel<<<dc_grid(n, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(n, nc, X, alpha, fresh, y);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_sum_seq(int n, const double* v, double* out, int add, cudaStream_t s) {
  sum_seq_kernel<<<1, 1, 0, s>>>(n, v, out, add);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_sum(int64_t n, const double* partials, double* out, double* acc, cudaStream_t s) {
  sum_kernel<<<1, DC_K_THREADS, 0, s>>>(n, partials, out, acc);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_dot(int64_t n, const double* x, const double* y, double* partials, double* out,
                                    int grid_cap, cudaStream_t s) {
  int grid = dc_grid(n, DC_K_THREADS, grid_cap < DC_K_RED_MAX ? grid_cap : DC_K_RED_MAX);
  dot_partials_kernel<<<grid, DC_K_THREADS, 0, s>>>(n, x, y, partials, out);
  cudaError_t e = cudaGetLastError();
  return e != cudaSuccess || grid == 1 ? e : detcgd_k_sum(grid, partials, out, NULL, s);
}

extern "C" cudaError_t detcgd_k_metric_set(double* m, int slot, double v, cudaStream_t s) {
  metric_set_kernel<<<1, 1, 0, s>>>(m, slot, v);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_counter(uint32_t* c, uint32_t v, int add, cudaStream_t s) {
  counter_kernel<<<1, 1, 0, s>>>(c, v, add);
  return cudaGetLastError();
}
