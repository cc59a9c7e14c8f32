/*
 * values.cu -- the compressors of the values on the device (value_ops.h: the same coordinate rules and draws as
 * the CPU backend).  One block per (layer, client row): top-k by a radix select of the keys |x_j| (8-bit digits,
 * a shared histogram per pass, stopping once the candidates left are all kept; no sort of the layer), ties to the
 * lower index by an ordered scan only when the last candidates tie; norms by the block's fixed reduction tree.
 */
#include "common.cuh"
#include "value_ops.h"

#define VALUES_THREADS 256

__device__ __forceinline__ double sent(double v, int round32) { return round32 ? (double)(float)v : v; }

/* v_j of the layer: x_j - h_j (h NULL: x_j) */
__device__ __forceinline__ double layer_value(const double* x, const double* h, int j) { return h ? x[j] - h[j] : x[j]; }

/* The block's sum of v, in every thread. */
__device__ double block_sum_all(double v) {
  __shared__ double total;
  v = dc_block_sum(v);
  if (threadIdx.x == 0) total = v;
  __syncthreads();
  v = total;
  __syncthreads();
  return v;
}

/* top-k of the layer into y (value_ops.h's rule, as the CPU's topk_layer) */
__device__ void topk_layer(const double* x, const double* h, int m, int k, int round32, double* y) {
  __shared__ unsigned int hist[256];
  __shared__ unsigned long long pick_prefix;
  __shared__ int pick_need;
  __shared__ int pick_equal;
  __shared__ int scan[VALUES_THREADS];
  __shared__ int taken;
  uint64_t prefix = 0, mask = 0;
  int need = k, equal = m;
  for (int shift = 56; shift >= 0 && equal != need; shift -= 8) {
    for (int d = threadIdx.x; d < 256; d += blockDim.x) hist[d] = 0;
    __syncthreads();
    for (int j = threadIdx.x; j < m; j += blockDim.x) {
      uint64_t key = dc_abs_key(layer_value(x, h, j));
      if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int n = need, d = dc_radix_pick(hist, &n);
      pick_need = n;
      pick_prefix = prefix | ((uint64_t)d << shift);
      pick_equal = (int)hist[d];
    }
    __syncthreads();
    need = pick_need;
    prefix = pick_prefix;
    equal = pick_equal;
    mask |= (uint64_t)255 << shift;
  }
  if (equal == need) { /* every candidate is kept: no order needed */
    for (int j = threadIdx.x; j < m; j += blockDim.x) {
      double v = layer_value(x, h, j);
      y[j] = (dc_abs_key(v) & mask) >= prefix ? sent(v, round32) : 0.0;
    }
    return;
  }
  if (threadIdx.x == 0) taken = 0;
  __syncthreads();
  for (int t0 = 0; t0 < m; t0 += blockDim.x) { /* tiles in index order; an inclusive scan of the ties in each */
    int j = t0 + threadIdx.x, tie, rank;
    double v = j < m ? layer_value(x, h, j) : 0.0;
    uint64_t km = dc_abs_key(v) & mask;
    tie = j < m && km == prefix;
    scan[threadIdx.x] = tie;
    __syncthreads();
    for (int off = 1; off < blockDim.x; off <<= 1) {
      int add = threadIdx.x >= off ? scan[threadIdx.x - off] : 0;
      __syncthreads();
      scan[threadIdx.x] += add;
      __syncthreads();
    }
    rank = taken + scan[threadIdx.x] - tie;
    if (j < m) y[j] = km > prefix || (tie && rank < need) ? sent(v, round32) : 0.0;
    __syncthreads();
    if (threadIdx.x == blockDim.x - 1) taken += scan[threadIdx.x];
    __syncthreads();
  }
}

/* block (layers strided over x, client rows over y) */
static __global__ void values_kernel(DcDevLayout L, DcDevSketch S, const double* __restrict__ X,
                                     const double* __restrict__ H, int nc, uint64_t seed, uint32_t iter,
                                     const uint32_t* iter_base, uint32_t c0, int round32, double* __restrict__ Y) {
  if (iter_base) iter += *iter_base;
  for (int cc = blockIdx.y; cc < nc; cc += gridDim.y)
    for (int i = blockIdx.x; i < L.nblocks; i += gridDim.x) {
      const DcSketchLayer* layer = &S.layers[i];
      int m = L.size[i];
      const double* x = X + (int64_t)cc * L.dim + L.voff[i];
      const double* h = H ? H + (int64_t)cc * L.dim + L.voff[i] : NULL;
      double* y = Y + (int64_t)cc * L.dim + L.voff[i];
      uint32_t client = c0 + (uint32_t)cc;
      double norm;
      switch (layer->kind) {
        case DC_SK_TOPK: topk_layer(x, h, m, layer->k, round32, y); break;
        case DC_SK_RANDK_C: {
          int64_t slot = (int64_t)cc * S.cap + S.cap_off[i];
          unsigned char* mark = layer->k > 32 ? S.mark + (int64_t)cc * L.dim + L.voff[i] : NULL;
          for (int j = threadIdx.x; j < m; j += blockDim.x) y[j] = 0.0;
          if (threadIdx.x == 0)
            S.count[(int64_t)cc * L.nblocks + i] =
                dc_draw_randk(layer, seed, iter, client, (uint32_t)i, S.idx + slot, S.scale + slot, mark);
          __syncthreads();
          for (int t = threadIdx.x; t < layer->k; t += blockDim.x) {
            int j = S.idx[slot + t];
            y[j] = sent(layer_value(x, h, j), round32);
          }
          break;
        }
        case DC_SK_SIGN:
          for (int j = threadIdx.x; j < m; j += blockDim.x) y[j] = dc_sign_bit(layer_value(x, h, j));
          break;
        case DC_SK_SCALED_SIGN: {
          double a = 0.0;
          for (int j = threadIdx.x; j < m; j += blockDim.x) a += fabs(layer_value(x, h, j));
          norm = sent(block_sum_all(a) / m, round32);
          for (int j = threadIdx.x; j < m; j += blockDim.x) y[j] = norm * dc_sign_bit(layer_value(x, h, j));
          break;
        }
        case DC_SK_QSGD: {
          double a = 0.0;
          for (int j = threadIdx.x; j < m; j += blockDim.x) { double v = layer_value(x, h, j); a += v * v; }
          norm = sent(sqrt(block_sum_all(a)), round32);
          if (threadIdx.x == 0) { /* the norm, as sent: the message's first field */
            S.scale[(int64_t)cc * S.cap + S.cap_off[i]] = norm;
            S.count[(int64_t)cc * L.nblocks + i] = 1;
          }
          for (int t = threadIdx.x; 2 * t < m; t += blockDim.x) { /* a thread per pair: one Philox block */
            double u[2];
            dc_value_uniforms(seed, iter, client, (uint32_t)i, t, u);
            y[2 * t] = dc_qsgd_value(layer_value(x, h, 2 * t), norm, layer->levels, u[0]);
            if (2 * t + 1 < m) y[2 * t + 1] = dc_qsgd_value(layer_value(x, h, 2 * t + 1), norm, layer->levels, u[1]);
          }
          break;
        }
        case DC_SK_NATURAL:
          for (int t = threadIdx.x; 2 * t < m; t += blockDim.x) {
            double u[2];
            dc_value_uniforms(seed, iter, client, (uint32_t)i, t, u);
            y[2 * t] = dc_natural_value(sent(layer_value(x, h, 2 * t), round32), u[0], round32);
            if (2 * t + 1 < m) y[2 * t + 1] = dc_natural_value(sent(layer_value(x, h, 2 * t + 1), round32), u[1], round32);
          }
          break;
        default: /* identity */
          for (int j = threadIdx.x; j < m; j += blockDim.x) y[j] = sent(layer_value(x, h, j), round32);
      }
      if (threadIdx.x == 0) {
        int identity = layer->kind == DC_SK_IDENTITY;
        atomicAdd(&S.tally[0], (unsigned long long)(identity ? m : dc_value_layer_count(layer)));
        atomicAdd(&S.tally[1], (unsigned long long)(identity ? (int64_t)m * S.value_bits
                                                             : dc_value_layer_bits(layer, S.value_bits, S.send_indices,
                                                                                   S.index_bits[i])));
      }
      __syncthreads(); /* the block's shared memory is reused by the next layer */
    }
}

extern "C" cudaError_t detcgd_k_compress_values(DcDevLayout L, DcDevSketch S, const double* X, const double* H, int nc,
                                                uint64_t seed, uint32_t iter, const uint32_t* iter_base, uint32_t c0,
                                                int round32, double* Y, cudaStream_t s) {
  if (nc <= 0 || L.nblocks == 0) return cudaSuccess;
  values_kernel<<<dim3(L.nblocks < 4096 ? L.nblocks : 4096, nc < 65535 ? nc : 65535), VALUES_THREADS, 0, s>>>(
      L, S, X, H, nc, seed, iter, iter_base, c0, round32, Y);
  return cudaGetLastError();
}
