/*
 * cpu_sketches.c -- the CPU backend's sketches: draws (one or a chunk of rows), their tally, messages
 * (compress, accumulate) and the Monte Carlo second moments of every layer.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend_cpu.h"
#include "value_ops.h"

/* ==== Sketches ==== */

static void tally_layer(DcSketch* S, int i, int n);

void cpu_sketch_destroy(DcBackend* be, DcSketch** S) {
  (void)be;
  if (!S || !*S) return;
  free((*S)->idx); free((*S)->scale); free((*S)->count);
  free((*S)->index_bits); free((*S)->mark); free((*S)->layer);
  free(*S);
  *S = NULL;
}

int cpu_sketch_create(DcBackend* be, const DcSketchSpec* spec, int rows, DcSketch** S) {
  const DcLayout* lay = spec->layout;
  int64_t cap = spec->cap_off[lay->nblocks] * rows;
  int i;
  *S = (DcSketch*)dc_calloc(1, sizeof(DcSketch));
  if (!*S) return DETCGD_ERR_ALLOC;
  (*S)->spec = spec;
  (*S)->rows = rows;
  (*S)->idx = (int*)dc_calloc((size_t)(cap > 0 ? cap : 1), sizeof(int));
  (*S)->scale = (double*)dc_calloc((size_t)(cap > 0 ? cap : 1), sizeof(double));
  (*S)->count = (int*)dc_calloc((size_t)lay->nblocks * (size_t)rows, sizeof(int));
  (*S)->index_bits = (int*)dc_calloc((size_t)lay->nblocks, sizeof(int));
  (*S)->mark = (unsigned char*)dc_calloc((size_t)lay->max_size, 1);
  (*S)->layer = (double*)dc_calloc((size_t)lay->max_size + 1, sizeof(double));
  if (!(*S)->idx || !(*S)->scale || !(*S)->count || !(*S)->index_bits || !(*S)->mark || !(*S)->layer) {
    cpu_sketch_destroy(be, S);
    return DETCGD_ERR_ALLOC;
  }
  for (i = 0; i < lay->nblocks; ++i) (*S)->index_bits[i] = dc_index_bits(lay->size[i]);
  return DETCGD_OK;
}

/* Row r of the sketch's arrays. */
typedef struct DrawRow { int* idx; double* scale; int* count; } DrawRow;

static DrawRow draw_row(const DcSketch* S, int r) {
  const DcSketchSpec* sp = S->spec;
  DrawRow d;
  int64_t cap = sp->cap_off[sp->layout->nblocks];
  d.idx = S->idx + r * cap;
  d.scale = S->scale + r * cap;
  d.count = S->count + (int64_t)r * sp->layout->nblocks;
  return d;
}

/* Draws every layer into row r; bits += sum_i n_i (value_bits + [indices] ceil(log2 d_i)) + flags. */
static void sample_row(DcSketch* S, int r, uint64_t seed, uint32_t iter, uint32_t client) {
  const DcSketchSpec* sp = S->spec;
  DrawRow d = draw_row(S, r);
  int i;
  for (i = 0; i < sp->layout->nblocks; ++i) {
    const DcSketchLayer* L = &sp->layers[i];
    unsigned char* mark = L->k > 32 ? S->mark : NULL;
    int n = dc_draw_layer(L, sp->aux, seed, iter, client, (uint32_t)i, d.idx + sp->cap_off[i], d.scale + sp->cap_off[i],
                          mark);
    d.count[i] = n;
    tally_layer(S, i, n);
  }
}

int cpu_sketch_sample(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t client) {
  (void)be;
  sample_row(S, 0, seed, iter, client);
  return DETCGD_OK;
}

int cpu_sketch_sample_rows(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t c0, int nc) {
  int r;
  (void)be;
  for (r = 0; r < nc; ++r) sample_row(S, r, seed, iter, c0 + (uint32_t)r);
  return DETCGD_OK;
}

int cpu_sketch_read(DcBackend* be, const DcSketch* S, DcSketchDraw* out) {
  const DcSketchSpec* sp = S->spec;
  int64_t cap = sp->cap_off[sp->layout->nblocks];
  (void)be;
  memcpy(out->idx, S->idx, (size_t)cap * sizeof(int));
  memcpy(out->scale, S->scale, (size_t)cap * sizeof(double));
  memcpy(out->count, S->count, (size_t)sp->layout->nblocks * sizeof(int));
  return DETCGD_OK;
}

/* Adds one draw of layer i with n kept coordinates to the tally. */
static void tally_layer(DcSketch* S, int i, int n) {
  const DcSketchSpec* sp = S->spec;
  S->tally_coords += n;
  S->tally_bits += (int64_t)n * (sp->value_bits + (sp->send_indices ? S->index_bits[i] : 0)) + sp->layer_flag_bits;
}

int cpu_sketch_load(DcBackend* be, DcSketch* S, const DcSketchDraw* in) {
  const DcSketchSpec* sp = S->spec;
  int i;
  (void)be;
  for (i = 0; i < sp->layout->nblocks; ++i) {
    int64_t o = sp->cap_off[i];
    memcpy(S->idx + o, in->idx + o, (size_t)in->count[i] * sizeof(int));
    memcpy(S->scale + o, in->scale + o, (size_t)in->count[i] * sizeof(double));
    S->count[i] = in->count[i];
    tally_layer(S, i, in->count[i]);
  }
  return DETCGD_OK;
}

int cpu_sketch_tally(DcBackend* be, const DcSketch* S, int64_t* coords, int64_t* bits) {
  (void)be;
  *coords = S->tally_coords;
  *bits = S->tally_bits;
  return DETCGD_OK;
}

int cpu_sketch_set_tally(DcBackend* be, DcSketch* S, int64_t coords, int64_t bits) {
  (void)be;
  S->tally_coords = coords;
  S->tally_bits = bits;
  return DETCGD_OK;
}

/* v_t = s_t (B x)_{j_t} or s_t x_{j_t} of draw d, packed at cap_off[i] */
static void compress_row(const DcBlocks* B, const DcSketch* S, DrawRow d, const double* x, const double* h, int round32,
                         double* vals) {
  const DcLayout* lay = S->spec->layout;
  int i, t;
  for (i = 0; i < lay->nblocks; ++i) {
    int64_t o = S->spec->cap_off[i];
    const double *xi = x + lay->voff[i], *hi = h ? h + lay->voff[i] : NULL;
    int m = lay->size[i];
    for (t = 0; t < d.count[i]; ++t) {
      int r = d.idx[o + t];
      double v = hi ? xi[r] - hi[r] : xi[r];
      if (B && B->h.kind != DC_BLOCKS_DENSE) v = cpu_block_entry(&B->h, i, r, r) * v;
      else if (B && hi) v = cpu_col_dot_shifted(B, lay->moff[i] + (int64_t)r * m, m, xi, hi);
      else if (B) v = cpu_col_dot(B, lay->moff[i] + (int64_t)r * m, m, xi); /* row r = column r (symmetric) */
      v *= d.scale[o + t];
      vals[o + t] = round32 ? (double)(float)v : v;
    }
  }
}

/* y_{j_t} += alpha v_t over draw d */
static void accumulate_row(const DcSketch* S, DrawRow d, const double* vals, double alpha, double* y) {
  const DcLayout* lay = S->spec->layout;
  int i, t;
  for (i = 0; i < lay->nblocks; ++i) {
    int64_t o = S->spec->cap_off[i];
    for (t = 0; t < d.count[i]; ++t) y[lay->voff[i] + d.idx[o + t]] += alpha * vals[o + t];
  }
}

int cpu_sketch_compress(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x,
                               int round32, DcVec* vals) {
  (void)be;
  compress_row(B, S, draw_row(S, 0), x->data, NULL, round32, vals->data);
  return DETCGD_OK;
}

int cpu_sketch_accumulate(DcBackend* be, const DcSketch* S, const DcVec* vals, double alpha, DcVec* y) {
  (void)be;
  accumulate_row(S, draw_row(S, 0), vals->data, alpha, y->data);
  return DETCGD_OK;
}

/* messages packed by layer, cap_off[l] values per row */
int64_t cpu_message_row_len(const DcBackend* be, const DcSketchSpec* spec) {
  (void)be;
  return spec->cap_off[spec->layout->nblocks];
}

int cpu_sketch_compress_rows(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* X, const DcVec* H, int nc,
                             int round32, DcVec* M) {
  int64_t len = cpu_message_row_len(be, S->spec), dim = S->spec->layout->dim;
  int r;
  for (r = 0; r < nc; ++r)
    compress_row(B, S, draw_row(S, r), X->data + r * dim, H ? H->data + r * dim : NULL, round32, M->data + r * len);
  return DETCGD_OK;
}

int cpu_sketch_accumulate_rows(DcBackend* be, const DcSketch* S, const DcVec* M, int nc, double alpha, int fresh,
                               int per_row, DcVec* y) {
  int64_t len = cpu_message_row_len(be, S->spec), dim = S->spec->layout->dim, j;
  int r;
  if (fresh && !per_row) cpu_vec_fill(be, y, 0.0);
  if (fresh && per_row) for (j = 0; j < nc * dim; ++j) y->data[j] = 0.0;
  for (r = 0; r < nc; ++r)
    accumulate_row(S, draw_row(S, r), M->data + r * len, alpha, y->data + (per_row ? r * dim : 0));
  return DETCGD_OK;
}

/* ==== Compressors of the values (value_ops.h) ==== */

static double as_sent(double v, int round32) { return round32 ? (double)(float)v : v; }

enum { TOPK_SMALL = 64 }; /* top-k keeps at most this many in one pass */

/* top-k for a small k: one pass keeping the k best (key descending, index ascending) in keys / idx; an entry enters
 * only above the k-th key, so an equal key with a higher index stays out -- the radix select's result. */
static void topk_small(const double* v, int m, int k, int round32, uint64_t* keys, int* idx, double* y) {
  int n = 0, j, t;
  for (j = 0; j < m; ++j) {
    uint64_t key = dc_abs_key(v[j]);
    y[j] = 0.0;
    if (n == k && key <= keys[k - 1]) continue;
    t = n < k ? n++ : k - 1; /* the slot freed: the end, or the k-th's */
    while (t > 0 && keys[t - 1] < key) { keys[t] = keys[t - 1]; idx[t] = idx[t - 1]; --t; }
    keys[t] = key;
    idx[t] = j;
  }
  for (t = 0; t < n; ++t) y[idx[t]] = as_sent(v[idx[t]], round32);
}

/* top-k of v (m values) into y: the radix select of value_ops.h, then every key above the prefix and the first
 * `need` equal to it */
static void topk_layer(const double* v, int m, int k, int round32, double* y) {
  uint64_t prefix = 0, mask = 0;
  int need = k, equal = m, shift, j, taken = 0;
  for (shift = 56; shift >= 0 && equal != need; shift -= 8) {
    unsigned int hist[256] = {0};
    int d;
    for (j = 0; j < m; ++j) {
      uint64_t key = dc_abs_key(v[j]);
      if ((key & mask) == prefix) ++hist[(key >> shift) & 255u];
    }
    d = dc_radix_pick(hist, &need);
    prefix |= (uint64_t)d << shift;
    mask |= (uint64_t)255 << shift;
    equal = (int)hist[d];
  }
  for (j = 0; j < m; ++j) {
    uint64_t km = dc_abs_key(v[j]) & mask;
    int keep = km > prefix || (km == prefix && taken++ < need);
    y[j] = keep ? as_sent(v[j], round32) : 0.0;
  }
}

/* C(v) of layer i for client `client` into y (dense); the draw of rand-k-c into row r of S */
static void values_layer(DcSketch* S, int r, int i, const double* v, uint64_t seed, uint32_t iter, uint32_t client,
                         int round32, uint64_t* keys, double* y) {
  const DcSketchSpec* sp = S->spec;
  const DcSketchLayer* L = &sp->layers[i];
  int m = L->m, j;
  double norm = 0.0, scale;
  switch (L->kind) {
    case DC_SK_TOPK: /* small k: one pass; else the radix passes */
      if (L->k <= TOPK_SMALL) topk_small(v, m, L->k, round32, keys, (int*)(keys + TOPK_SMALL), y);
      else topk_layer(v, m, L->k, round32, y);
      break;
    case DC_SK_RANDK_C: {
      DrawRow d = draw_row(S, r);
      int* idx = d.idx + sp->cap_off[i];
      d.count[i] = dc_draw_randk(L, seed, iter, client, (uint32_t)i, idx, d.scale + sp->cap_off[i],
                                 L->k > 32 ? S->mark : NULL);
      for (j = 0; j < m; ++j) y[j] = 0.0;
      for (j = 0; j < L->k; ++j) y[idx[j]] = as_sent(v[idx[j]], round32);
      break;
    }
    case DC_SK_SIGN: for (j = 0; j < m; ++j) y[j] = dc_sign_bit(v[j]); break;
    case DC_SK_SCALED_SIGN:
      for (j = 0; j < m; ++j) norm += fabs(v[j]);
      scale = as_sent(norm / m, round32);
      for (j = 0; j < m; ++j) y[j] = scale * dc_sign_bit(v[j]);
      break;
    case DC_SK_QSGD: {
      DrawRow d = draw_row(S, r);
      for (j = 0; j < m; ++j) norm += v[j] * v[j];
      norm = as_sent(sqrt(norm), round32);
      d.scale[sp->cap_off[i]] = norm; /* what the message sends first */
      d.count[i] = 1;
      for (j = 0; j < m; j += 2) {
        double u[2];
        dc_value_uniforms(seed, iter, client, (uint32_t)i, j >> 1, u);
        y[j] = dc_qsgd_value(v[j], norm, L->levels, u[0]);
        if (j + 1 < m) y[j + 1] = dc_qsgd_value(v[j + 1], norm, L->levels, u[1]);
      }
      break;
    }
    case DC_SK_NATURAL:
      for (j = 0; j < m; j += 2) {
        double u[2];
        dc_value_uniforms(seed, iter, client, (uint32_t)i, j >> 1, u);
        y[j] = dc_natural_value(as_sent(v[j], round32), u[0], round32);
        if (j + 1 < m) y[j + 1] = dc_natural_value(as_sent(v[j + 1], round32), u[1], round32);
      }
      break;
    default: for (j = 0; j < m; ++j) y[j] = as_sent(v[j], round32); /* identity */
  }
  S->tally_coords += L->kind == DC_SK_IDENTITY ? m : dc_value_layer_count(L);
  S->tally_bits += L->kind == DC_SK_IDENTITY ? (int64_t)m * sp->value_bits
                                             : dc_value_layer_bits(L, sp->value_bits, sp->send_indices, S->index_bits[i]);
}

int cpu_compress_values_rows(DcBackend* be, DcSketch* S, const DcVec* X, const DcVec* H, int64_t hoff, int nc,
                             uint64_t seed, uint32_t iter, uint32_t c0, int round32, DcVec* Y) {
  const DcLayout* lay = S->spec->layout;
  int64_t dim = lay->dim;
  double* v = S->layer; /* x_i - h_i, one layer at a time */
  uint64_t keys[2 * TOPK_SMALL]; /* top-k's best keys, then (as ints) their indices */
  int r, i, j;
  (void)be;
  for (r = 0; r < nc; ++r)
    for (i = 0; i < lay->nblocks; ++i) {
      const double* x = X->data + r * dim + lay->voff[i];
      const double* h = H ? H->data + hoff + r * dim + lay->voff[i] : NULL;
      for (j = 0; j < lay->size[i]; ++j) v[j] = h ? x[j] - h[j] : x[j];
      values_layer(S, r, i, v, seed, iter, c0 + (uint32_t)r, round32, keys, Y->data + r * dim + lay->voff[i]);
    }
  return DETCGD_OK;
}

/* ==== Monte Carlo second moments ==== */

typedef struct McCtx { const DcSketchSpec* spec; const double* A; int64_t nsamples; uint64_t seed; double *mean, *se; } McCtx;

/* Layer i: mean = (1/N) sum_s S_s A_i S_s, std_err = sqrt(var/N), entrywise over N draws.
 * Scratch: w[0] sums of squares, w[1] scales, w[2] indices then the membership table. */
static int mc_layer(void* ctx, int i, double** w, double* unused) {
  const McCtx* c = (const McCtx*)ctx;
  const DcSketchLayer* L = &c->spec->layers[i];
  int m = c->spec->layout->size[i], a, b, n;
  int64_t s, e, mm = (int64_t)m * m, off = c->spec->layout->moff[i];
  const double* A = c->A + off;
  double *mean = c->mean + off, *se = c->se + off, *sumsq = w[0], *sc = w[1];
  int* idx = (int*)w[2];
  unsigned char* mark = (unsigned char*)(idx + m);
  (void)unused;
  memset(mean, 0, (size_t)mm * sizeof(double));
  memset(sumsq, 0, (size_t)mm * sizeof(double));
  memset(mark, 0, (size_t)m);
  for (s = 0; s < c->nsamples; ++s) {
    n = dc_draw_layer(L, c->spec->aux, c->seed, (uint32_t)s, 0, (uint32_t)i, idx, sc, mark);
    for (b = 0; b < n; ++b)
      for (a = 0; a < n; ++a) {
        int64_t p = idx[a] + (int64_t)idx[b] * m;
        double v = sc[a] * sc[b] * A[p];
        mean[p] += v;
        sumsq[p] += v * v;
      }
  }
  for (e = 0; e < mm; ++e) {
    double N = (double)c->nsamples, mu = mean[e] / N, var = (sumsq[e] / N - mu * mu) * N / (N - 1.0);
    mean[e] = mu;
    se[e] = sqrt((var > 0 ? var : 0.0) / N);
  }
  return DETCGD_OK;
}

int cpu_mc_moments(DcBackend* be, const DcSketchSpec* spec, const double* A, int64_t nsamples, uint64_t seed,
                          double* mean, double* std_err) {
  McCtx c = {spec, A, nsamples, seed, mean, std_err};
  const DcLayout* lay = spec->layout;
  (void)be;
  return dc_for_each_block(lay->nblocks, lay->max_size, 3, mc_layer, &c, NULL);
}
