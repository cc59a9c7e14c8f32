/*
 * value_ops.h -- what the compressors of the values (compress/values.c) do to one coordinate, and the exact bits
 * of a layer's message; compiled into the CPU backend and the CUDA kernels (DETCGD_HD), so both backends make the
 * same choices from the same Philox draws.  Coordinates 2t and 2t + 1 of layer `layer` draw u_2t and u_2t+1 from
 * the two halves of one Philox block at the counters (slot t, layer, client, iter).
 *
 *   top-k        the k largest |x_j| of the layer, unscaled; ties to the lower index.  Ranked by the bits of |x_j|
 *                as an unsigned integer (monotone for doubles >= 0; NaN ranks above infinity).
 *   rand-k-c     k uniform coordinates (rand-k's draw), unscaled: (k/m) rand-k.
 *   sign         sign(x_j), with sign(0) = +1: one bit per coordinate is exactly what travels.
 *   scaled sign  (||x||_1 / m) sign(x_j), sign(0) = +1 as above.
 *   QSGD         ||x||_2 sign(x_j) xi_j / s, xi_j = floor(s |x_j| / ||x||_2) + [u_j < the fraction]; 0 when x = 0.
 *   natural      sign(t) 2^a or 2^(a+1) for 2^a <= |t| < 2^(a+1), up with probability |t| / 2^a - 1 (unbiased);
 *                below the value format's smallest normal, 0 or it.
 */
#ifndef DETCGD_VALUE_OPS_H
#define DETCGD_VALUE_OPS_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "sketch_draw.h"

/* The rank of |v| as an integer: u < w iff |v| < |w| for non-NaN v, w. */
DETCGD_HD uint64_t dc_abs_key(double v) {
  double a = fabs(v);
  uint64_t k;
  memcpy(&k, &a, sizeof k);
  return k;
}

/* Top-k's radix select, one 8-bit digit of the keys a pass at a time (from the top): hist counts the digits of the
 * candidates (keys equal to the prefix chosen so far).  Returns the digit holding the need-th largest candidate and
 * lowers *need by the candidates above it.  After the passes (or once the candidates left are exactly *need), the
 * message keeps every key above the prefix and the first *need candidates by index. */
DETCGD_HD int dc_radix_pick(const unsigned int* hist, int* need) {
  int d;
  for (d = 255; d > 0 && (int64_t)hist[d] < *need; --d) *need -= (int)hist[d];
  return d;
}

/* The uniforms u_2t, u_2t+1 of coordinates 2t and 2t + 1 of a layer's message: the halves of slot t's block. */
DETCGD_HD void dc_value_uniforms(uint64_t seed, uint32_t iter, uint32_t client, uint32_t layer, int t, double u[2]) {
  DcPhiloxOut r = dc_philox_draw(seed, iter, client, layer, (uint32_t)t);
  u[0] = dc_uniform53(r);
  u[1] = dc_uniform53_b(r);
}

/* sign with sign(0) = +1 */
DETCGD_HD double dc_sign_bit(double v) { return v < 0 ? -1.0 : 1.0; }

/* QSGD of v in a layer of l2 norm `norm` with s levels, from u */
DETCGD_HD double dc_qsgd_value(double v, double norm, int s, double u) {
  double r, lo;
  if (!(norm > 0)) return 0.0;
  r = (double)s * fabs(v) / norm;
  lo = floor(r);
  return copysign(norm * (lo + (u < r - lo ? 1.0 : 0.0)) / (double)s, v);
}

/* Natural compression of v from u, to the powers of two of the value format (round32: a float's): below its
 * smallest normal t_min, 0 or t_min (up with probability |v| / t_min); 0, infinities and NaN unchanged. */
DETCGD_HD double dc_natural_value(double v, double u, int round32) {
  uint64_t bits;
  double t = fabs(v), lo, t_min = round32 ? 0x1p-126 : 0x1p-1022;
  if (t == 0.0 || !isfinite(t)) return v;
  if (t < t_min) return copysign(u < t / t_min ? t_min : 0.0, v);
  memcpy(&bits, &t, sizeof bits);
  bits &= 0xfff0000000000000ull; /* 2^a <= t < 2^(a+1): t's exponent, mantissa 0 */
  memcpy(&lo, &bits, sizeof lo);
  return copysign(u < t / lo - 1.0 ? 2.0 * lo : lo, v); /* t / lo - 1 is exact */
}

/* Bits of a QSGD level in 0..s: ceil(log2(s + 1)). */
DETCGD_HD int dc_qsgd_level_bits(int s) {
  int b = 0;
  while (((int64_t)1 << b) < (int64_t)s + 1) ++b;
  return b;
}

/* Values a layer's message carries (its "coordinates sent"). */
DETCGD_HD int dc_value_layer_count(const DcSketchLayer* L) {
  return L->kind == DC_SK_TOPK || L->kind == DC_SK_RANDK_C ? L->k : L->m;
}

/* Exact bits of one message of layer L: values of value_bits, indices of index_bits (top-k always; rand-k-c unless
 * the seed is shared), sign bits, QSGD levels, natural exponents (8 bits of fp32, 11 of fp64) and norms. */
DETCGD_HD int64_t dc_value_layer_bits(const DcSketchLayer* L, int value_bits, int send_indices, int index_bits) {
  int64_t m = L->m;
  switch (L->kind) {
    case DC_SK_TOPK: return (int64_t)L->k * (value_bits + index_bits);
    case DC_SK_RANDK_C: return (int64_t)L->k * (value_bits + (send_indices ? index_bits : 0));
    case DC_SK_SIGN: return m;
    case DC_SK_SCALED_SIGN: return m + value_bits;
    case DC_SK_QSGD: return value_bits + m * (1 + dc_qsgd_level_bits(L->levels));
    case DC_SK_NATURAL: return m * (value_bits == 32 ? 9 : 12);
    default: return 0;
  }
}

#endif /* DETCGD_VALUE_OPS_H */
