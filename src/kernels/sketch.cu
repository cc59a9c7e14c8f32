/*
 * sketch.cu -- sketches on the device: drawing every layer with the shared
 * Philox code (sketch_draw.h, the same indices as the CPU), the bit tally,
 * message values (compress) and their accumulation, and Monte Carlo moments.
 */
#include "common.cuh"

/* Bits of n kept coordinates of layer i: n (value_bits + [indices] ceil(log2 d_i)) + the layer's flag bits */
__device__ __forceinline__ unsigned long long layer_bits(const DcDevSketch& S, int i, int n) {
  return (unsigned long long)n * (S.value_bits + (S.send_indices ? S.index_bits[i] : 0)) +
         (unsigned long long)S.layer_flag_bits;
}

/* tally += the block's (coords, bits): summed over each warp by shuffles, then over the warps by thread 0, one
 * pair of atomics per block (not per layer: 10^6 layers on one address would serialise).  Integer sums: exact
 * in any order.  Every thread of the block calls it. */
__device__ void tally_add_block(unsigned long long* tally, unsigned long long coords, unsigned long long bits) {
  __shared__ unsigned long long part[2][32];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
  for (int off = 16; off > 0; off >>= 1) {
    coords += __shfl_down_sync(0xffffffffu, coords, off);
    bits += __shfl_down_sync(0xffffffffu, bits, off);
  }
  if (lane == 0) { part[0][warp] = coords; part[1][warp] = bits; }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < nwarps; ++w) { coords += part[0][w]; bits += part[1][w]; }
    if (coords || bits) { atomicAdd(&tally[0], coords); atomicAdd(&tally[1], bits); }
  }
}

/* thread per layer i, block row cc: the draw of (seed, iter (+ *iter_base), client c0 + cc, layer i) into
 * client slice cc (idx, scale + cc cap; count + cc nblocks; mark + cc dim) */
static __global__ void sample_kernel(DcDevLayout L, DcDevSketch S, uint64_t seed, uint32_t iter,
                                     const uint32_t* iter_base, uint32_t c0) {
  int64_t cc = blockIdx.y;
  unsigned long long coords = 0, bits = 0;
  if (iter_base) iter += *iter_base;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < L.nblocks; i += blockDim.x * gridDim.x) {
    const DcSketchLayer* layer = &S.layers[i];
    int64_t slot = cc * S.cap + S.cap_off[i];
    unsigned char* mark = layer->k > 32 ? S.mark + cc * L.dim + L.voff[i] : NULL;
    int n = dc_draw_layer(layer, S.aux, seed, iter, c0 + (uint32_t)cc, (uint32_t)i, S.idx + slot, S.scale + slot, mark);
    S.count[cc * L.nblocks + i] = n;
    coords += (unsigned long long)n;
    bits += layer_bits(S, i, n);
  }
  tally_add_block(S.tally, coords, bits);
}

static __global__ void tally_kernel(DcDevLayout L, DcDevSketch S) {
  unsigned long long coords = 0, bits = 0;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < L.nblocks; i += blockDim.x * gridDim.x) {
    coords += (unsigned long long)S.count[i];
    bits += layer_bits(S, i, S.count[i]);
  }
  tally_add_block(S.tally, coords, bits);
}

extern "C" cudaError_t detcgd_k_sketch_sample(DcDevLayout L, DcDevSketch S, uint64_t seed, uint32_t iter,
                                              const uint32_t* iter_base, uint32_t c0, int nc, cudaStream_t s) {
  if (nc <= 0) return cudaSuccess;
  sample_kernel<<<dim3(dc_grid(L.nblocks, 128, 1 << 20), nc), 128, 0, s>>>(L, S, seed, iter, iter_base, c0);
  return cudaGetLastError();
}

extern "C" cudaError_t detcgd_k_sketch_tally(DcDevLayout L, DcDevSketch S, cudaStream_t s) {
  tally_kernel<<<dc_grid(L.nblocks, 128, 1 << 20), 128, 0, s>>>(L, S);
  return cudaGetLastError();
}

/* one warp per kept slot g of client slice cc (block row): v = s_g (B_i x_i)_j (kept row j) or s_g x_j,
 * x = X + cc dim; float-rounded when round32; out[cc cap + g] = v, or out[cc dim + voff_i + j] = v (scatter) */
static __global__ void compress_kernel(DcDevLayout L, DcDevBlocks B, DcDevSketch S, const double* __restrict__ X,
                                       const double* __restrict__ H, int round32, int scatter,
                                       double* __restrict__ out) {
  int lane = threadIdx.x & 31;
  int64_t cc = blockIdx.y, warps = (int64_t)gridDim.x * (blockDim.x >> 5);
  const double* x = X + cc * L.dim;
  const double* h = H ? H + cc * L.dim : NULL;
  for (int64_t g = blockIdx.x * (int64_t)(blockDim.x >> 5) + (threadIdx.x >> 5); g < S.cap; g += warps) {
    int i = dc_slot_layer(S, L.nblocks, g);
    if (g - S.cap_off[i] >= S.count[cc * L.nblocks + i]) continue;
    {
      int j = S.idx[cc * S.cap + g];
      double v;
      if (!h) v = B.data ? dc_kept_row(L, B, i, j, x + L.voff[i], lane) : x[L.voff[i] + j];
      else v = B.data ? dc_kept_row_shifted(L, B, i, j, x + L.voff[i], h + L.voff[i], lane) : x[L.voff[i] + j] - h[L.voff[i] + j];
      v *= S.scale[cc * S.cap + g];
      if (lane == 0) out[scatter ? cc * L.dim + L.voff[i] + j : cc * S.cap + g] = round32 ? (double)(float)v : v;
    }
  }
}

extern "C" cudaError_t detcgd_k_sketch_compress(DcDevLayout L, DcDevBlocks B, DcDevSketch S, const double* X,
                                                const double* H, int nc, int round32, int scatter, double* out,
                                                int grid_cap, cudaStream_t s) {
  if (S.cap == 0 || nc <= 0) return cudaSuccess;
  compress_kernel<<<dim3(dc_grid(S.cap * 32, DC_K_THREADS, grid_cap), nc), DC_K_THREADS, 0, s>>>(L, B, S, X, H, round32,
                                                                                                  scatter, out);
  return cudaGetLastError();
}

/* y_{j_g} += alpha vals_g for every kept slot (distinct indices within a layer) */
static __global__ void accumulate_kernel(DcDevLayout L, DcDevSketch S, const double* __restrict__ vals, double alpha,
                                         double* __restrict__ y) {
  for (int64_t g = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; g < S.cap; g += (int64_t)blockDim.x * gridDim.x) {
    int i = dc_slot_layer(S, L.nblocks, g);
    if (g - S.cap_off[i] < S.count[i]) y[L.voff[i] + S.idx[g]] += alpha * vals[g];
  }
}

extern "C" cudaError_t detcgd_k_sketch_accumulate(DcDevLayout L, DcDevSketch S, const double* vals, double alpha,
                                                  double* y, int grid_cap, cudaStream_t s) {
  if (S.cap == 0) return cudaSuccess;
  accumulate_kernel<<<dc_grid(S.cap, DC_K_THREADS, grid_cap), DC_K_THREADS, 0, s>>>(L, S, vals, alpha, y);
  return cudaGetLastError();
}

/* ---- Monte Carlo E[S_i A_i S_i] of every layer ---- */

/* block (p, i): layer i's samples p, p + P, ... (P = gridDim.x); its threads add s_a s_b (A_i)_ab and its
 * square at the kept pairs into part p's sums (psum, psq + p mm_total + moff_i).  Layers stride over y. */
static __global__ void mc_partial_kernel(DcDevLayout L, DcDevSketch S, int cap_max, const double* __restrict__ A,
                                         int64_t nsamples, uint64_t seed, int64_t mm_total, double* __restrict__ psum,
                                         double* __restrict__ psq, unsigned char* __restrict__ marks) {
  extern __shared__ unsigned char smem[];
  double* sc = (double*)smem;
  int* idx = (int*)(sc + cap_max);
  __shared__ int n;
  for (int i = blockIdx.y; i < L.nblocks; i += gridDim.y) {
    const DcSketchLayer* layer = &S.layers[i];
    int m = L.size[i];
    const double* Ai = A + L.moff[i];
    double* my_sum = psum + blockIdx.x * mm_total + L.moff[i];
    double* my_sq = psq + blockIdx.x * mm_total + L.moff[i];
    unsigned char* mark = layer->k > 32 ? marks + blockIdx.x * L.dim + L.voff[i] : NULL;
    for (int64_t s = blockIdx.x; s < nsamples; s += gridDim.x) {
      if (threadIdx.x == 0) n = dc_draw_layer(layer, S.aux, seed, (uint32_t)s, 0, (uint32_t)i, idx, sc, mark);
      __syncthreads();
      for (int q = threadIdx.x; q < n * n; q += blockDim.x) {
        int a = q % n, b = q / n;
        int64_t e = idx[a] + (int64_t)idx[b] * m;
        double v = sc[a] * sc[b] * Ai[e];
        my_sum[e] += v;
        my_sq[e] += v * v;
      }
      __syncthreads();
    }
  }
}

/* mean = sum / N, std_err = sqrt(var / N) with the unbiased variance, entry by entry, parts summed in order */
static __global__ void mc_finish_kernel(int64_t mm, int nparts, int64_t nsamples, const double* __restrict__ psum,
                                        const double* __restrict__ psq, double* __restrict__ mean,
                                        double* __restrict__ std_err) {
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < mm; e += (int64_t)blockDim.x * gridDim.x) {
    double s = 0.0, q = 0.0, mu, var, N = (double)nsamples;
    for (int p = 0; p < nparts; ++p) { s += psum[p * mm + e]; q += psq[p * mm + e]; }
    mu = s / N;
    var = (q / N - mu * mu) * N / (N - 1.0);
    mean[e] = mu;
    std_err[e] = sqrt((var > 0 ? var : 0.0) / N);
  }
}

extern "C" cudaError_t detcgd_k_mc_moments(DcDevLayout L, DcDevSketch S, int cap_max, const double* A,
                                           int64_t mm_total, int64_t nsamples, uint64_t seed, int nparts,
                                           double* psum, double* psq, unsigned char* marks, double* mean,
                                           double* std_err, cudaStream_t s) {
  size_t shared = (size_t)cap_max * (sizeof(double) + sizeof(int)), sums = (size_t)(nparts * mm_total) * sizeof(double);
  int ylayers = L.nblocks < 65535 ? L.nblocks : 65535;
  cudaError_t e;
  if (L.nblocks == 0 || mm_total == 0) return cudaSuccess;
  e = cudaMemsetAsync(psum, 0, sums, s);
  if (e == cudaSuccess) e = cudaMemsetAsync(psq, 0, sums, s);
  if (e == cudaSuccess) e = cudaMemsetAsync(marks, 0, (size_t)(nparts * L.dim), s);
  if (e != cudaSuccess) return e;
  mc_partial_kernel<<<dim3(nparts, ylayers), DC_K_THREADS, shared, s>>>(L, S, cap_max, A, nsamples, seed, mm_total,
                                                                          psum, psq, marks);
  e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  mc_finish_kernel<<<dc_grid(mm_total, DC_K_THREADS, 4096), DC_K_THREADS, 0, s>>>(mm_total, nparts, nsamples, psum,
                                                                                   psq, mean, std_err);
  return cudaGetLastError();
}
