/*
 * sketch_draw.h -- drawing one layer of a sketch from the shared Philox stream.
 *
 * Compiled into both the CPU backend and the CUDA kernels (DETCGD_HD), so the
 * two backends select the same coordinates with the same scales.  A draw of
 * layer `layer` at iteration `iter` for client `client` uses only the Philox
 * counters (slot, layer, client, iter) with slot = 0, 1, 2, ...
 *
 *   rand-k      Floyd's algorithm: for j = m-k..m-1 draw t uniform in {0..j};
 *               take t unless already taken, else take j.  Uniform k-subset;
 *               scale m/k.  Slot s = j - (m-k).
 *   Bernoulli   coordinate j kept iff u_j < p (slot j); scale 1/p.
 *   Bern-q      whole layer kept iff u < q (slot 0); scale 1/q.
 *   importance  one j with P(j) = p_j by inverse CDF of u (slot 0); scale 1/p_j.
 *   identity    every coordinate, scale 1.
 */
#ifndef DETCGD_SKETCH_DRAW_H
#define DETCGD_SKETCH_DRAW_H

#include <stdint.h>
#include "philox.h"

/* Sketch kinds, numerically equal to DetcgdSketchKind. */
enum { DC_SK_IDENTITY = 0, DC_SK_RANDK = 1, DC_SK_RAND1 = 2, DC_SK_IMPORTANCE1 = 3,
       DC_SK_BERNOULLI = 4, DC_SK_BERNQ = 5,
       /* compressors of the values (compress/value_ops.h): no draw of their own, the values op makes the message */
       DC_SK_TOPK = 6, DC_SK_RANDK_C = 7, DC_SK_SIGN = 8, DC_SK_SCALED_SIGN = 9, DC_SK_QSGD = 10, DC_SK_NATURAL = 11 };

/* Is kind one of the compressors of the values? */
#define DC_SK_IS_VALUES(kind) ((kind) >= DC_SK_TOPK)

/* Parameters of one layer's sketch. */
typedef struct DcSketchLayer {
  int kind;        /* DC_SK_* */
  int m;           /* layer width d_i */
  int k;           /* rand-k, rand-k-c, top-k: coordinates kept (1 for rand-1) */
  double prob;     /* Bernoulli: p; Bern-q: q */
  int64_t aux_off; /* importance: p_j at aux[aux_off + j], CDF at aux[aux_off + m + j] */
  int levels;      /* QSGD: s, the levels of |x_j| / ||x||_2 */
} DcSketchLayer;

/* Largest number of coordinates one draw of this layer can keep. */
DETCGD_HD int dc_sketch_layer_capacity(const DcSketchLayer* L) {
  if (L->kind == DC_SK_RANDK || L->kind == DC_SK_RAND1 || L->kind == DC_SK_RANDK_C) return L->k;
  if (L->kind == DC_SK_IMPORTANCE1) return 1;
  if (L->kind == DC_SK_QSGD) return 1;    /* the layer's norm, as sent */
  if (DC_SK_IS_VALUES(L->kind)) return 0; /* the values op writes the message itself */
  return L->m;
}

/* ceil(log2 m): bits of one index into a layer of width m (0 when m = 1). */
DETCGD_HD int dc_index_bits(int m) {
  int b = 0;
  while (((int64_t)1 << b) < m) ++b;
  return b;
}

/* Uniform integer in {0..n-1} from one Philox draw (53-bit multiply; bias < n 2^-53). */
DETCGD_HD int dc_uniform_index(DcPhiloxOut r, int n) {
  int t = (int)(dc_uniform53(r) * (double)n);
  return t < n ? t : n - 1;
}

/* Is v among sel[0..n)?  Linear scan, or the marker array when one is given. */
DETCGD_HD int dc_taken(const int* sel, int n, int v, const unsigned char* mark) {
  int i;
  if (mark) return mark[v];
  for (i = 0; i < n; ++i)
    if (sel[i] == v) return 1;
  return 0;
}

/* Floyd's uniform k-subset of {0..m-1}.  `mark` (m bytes, all zero) is an
 * optional O(1) membership table; it is left zeroed on return. */
DETCGD_HD int dc_draw_randk(const DcSketchLayer* L, uint64_t seed, uint32_t iter, uint32_t client,
                            uint32_t layer, int* idx, double* scale, unsigned char* mark) {
  int m = L->m, k = L->k, j, n = 0;
  double s = (double)m / (double)k;
  for (j = m - k; j < m; ++j) {
    DcPhiloxOut r = dc_philox_draw(seed, iter, client, layer, (uint32_t)(j - (m - k)));
    int t = dc_uniform_index(r, j + 1);
    int pick = dc_taken(idx, n, t, mark) ? j : t;
    idx[n] = pick;
    scale[n] = s;
    if (mark) mark[pick] = 1;
    ++n;
  }
  if (mark)
    for (j = 0; j < n; ++j) mark[idx[j]] = 0;
  return n;
}

/* Inverse CDF: first j with u < cdf[j] (binary search; cdf[m-1] = 1). */
DETCGD_HD int dc_inverse_cdf(const double* cdf, int m, double u) {
  int lo = 0, hi = m - 1;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (u < cdf[mid]) hi = mid; else lo = mid + 1;
  }
  return lo;
}

/* Draws layer `layer`; writes its kept local indices and scales, returns the count. */
DETCGD_HD int dc_draw_layer(const DcSketchLayer* L, const double* aux, uint64_t seed, uint32_t iter,
                            uint32_t client, uint32_t layer, int* idx, double* scale,
                            unsigned char* mark) {
  int j, n = 0;
  switch (L->kind) {
    case DC_SK_RANDK:
    case DC_SK_RAND1:
      return dc_draw_randk(L, seed, iter, client, layer, idx, scale, mark);
    case DC_SK_IMPORTANCE1: {
      double u = dc_uniform53(dc_philox_draw(seed, iter, client, layer, 0));
      j = dc_inverse_cdf(aux + L->aux_off + L->m, L->m, u);
      idx[0] = j;
      scale[0] = 1.0 / aux[L->aux_off + j];
      return 1;
    }
    case DC_SK_BERNOULLI:
      for (j = 0; j < L->m; ++j)
        if (dc_uniform53(dc_philox_draw(seed, iter, client, layer, (uint32_t)j)) < L->prob) {
          idx[n] = j; scale[n] = 1.0 / L->prob; ++n;
        }
      return n;
    case DC_SK_BERNQ:
      if (!(dc_uniform53(dc_philox_draw(seed, iter, client, layer, 0)) < L->prob)) return 0;
      for (j = 0; j < L->m; ++j) { idx[j] = j; scale[j] = 1.0 / L->prob; }
      return L->m;
    default: /* identity */
      for (j = 0; j < L->m; ++j) { idx[j] = j; scale[j] = 1.0; }
      return L->m;
  }
}

#endif /* DETCGD_SKETCH_DRAW_H */
