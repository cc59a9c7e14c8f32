/*
 * backend_cpu.c -- the plain-C reference implementation of every backend op.
 *
 * Straight loops over blocks, in a fixed order, so results are deterministic
 * and readable.  This is the oracle the CUDA backend is tested against.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"

struct DcVec { int64_t n; double* data; /* owns */ };
struct DcBlocks {
  DcHostBlocks h; /* owns h.data (NULL when f32 holds the dense blocks) */
  float* f32;     /* owns: DENSE blocks stored as float (store32) */
};
struct DcSketch {
  const DcSketchSpec* spec; /* borrowed */
  int rows;                 /* draws it holds; the arrays below are row after row, row 0 the current draw */
  int* idx;                 /* owns: cap_off[l] kept local indices per row */
  double* scale;            /* owns: cap_off[l] scales per row */
  int* count;               /* owns: kept per layer, l per row */
  int* index_bits;          /* owns: ceil(log2 d_i) per layer */
  unsigned char* mark;      /* owns: membership table for Floyd (max d_i) */
  int64_t tally_coords, tally_bits;
};
struct DcProbData { DcHostProblem h; /* arrays borrowed from the DetcgdProblem */ };
struct DcClients {
  int n, chunk;
  const DcHostProblem* hosts; /* borrowed: n */
};

/* ==== Vectors ==== */

static int cpu_open(DcBackend* be) { be->state = NULL; return DETCGD_OK; }
static void cpu_close(DcBackend* be) { (void)be; }

static int cpu_vec_create(DcBackend* be, int64_t n, DcVec** v) {
  (void)be;
  *v = (DcVec*)dc_calloc(1, sizeof(DcVec));
  if (!*v) return DETCGD_ERR_ALLOC;
  (*v)->n = n;
  (*v)->data = (double*)dc_calloc((size_t)(n > 0 ? n : 1), sizeof(double));
  if (!(*v)->data) { free(*v); *v = NULL; return DETCGD_ERR_ALLOC; }
  return DETCGD_OK;
}

static void cpu_vec_destroy(DcBackend* be, DcVec** v) {
  (void)be;
  if (!v || !*v) return;
  free((*v)->data);
  free(*v);
  *v = NULL;
}

static int cpu_vec_upload(DcBackend* be, DcVec* v, const double* h) {
  (void)be;
  memcpy(v->data, h, (size_t)v->n * sizeof(double));
  return DETCGD_OK;
}

static int cpu_vec_download(DcBackend* be, const DcVec* v, double* h) {
  (void)be;
  memcpy(h, v->data, (size_t)v->n * sizeof(double));
  return DETCGD_OK;
}

static int cpu_vec_copy(DcBackend* be, DcVec* dst, const DcVec* src) {
  (void)be;
  memcpy(dst->data, src->data, (size_t)src->n * sizeof(double));
  return DETCGD_OK;
}

/* y <- y + a x */
static int cpu_axpy(DcBackend* be, double a, const DcVec* x, DcVec* y) {
  int64_t i;
  (void)be;
  for (i = 0; i < x->n; ++i) y->data[i] += a * x->data[i];
  return DETCGD_OK;
}

/* m[slot] = sum_i x_i y_i */
static int cpu_dot(DcBackend* be, const DcVec* x, const DcVec* y, DcVec* m, int slot) {
  double s = 0.0;
  int64_t i;
  (void)be;
  for (i = 0; i < x->n; ++i) s += x->data[i] * y->data[i];
  m->data[slot] = s;
  return DETCGD_OK;
}

static int cpu_metric_set(DcBackend* be, DcVec* m, int slot, double v) {
  (void)be;
  m->data[slot] = v;
  return DETCGD_OK;
}

static int cpu_vec_fill(DcBackend* be, DcVec* v, double a) {
  int64_t i;
  (void)be;
  for (i = 0; i < v->n; ++i) v->data[i] = a;
  return DETCGD_OK;
}

static int cpu_rows_sum(DcBackend* be, const DcVec* R, int nr, int64_t n, double alpha, int fresh, DcVec* y, int64_t yoff) {
  double* out = y->data + yoff;
  int64_t j;
  int r;
  (void)be;
  if (fresh) for (j = 0; j < n; ++j) out[j] = 0.0;
  for (r = 0; r < nr; ++r) {
    const double* row = R->data + (int64_t)r * n;
    for (j = 0; j < n; ++j) out[j] += alpha * row[j];
  }
  return DETCGD_OK;
}

/* ==== Block-diagonal matrices ==== */

static void cpu_blocks_destroy(DcBackend* be, DcBlocks** B) {
  (void)be;
  if (!B || !*B) return;
  dc_blocks_free(&(*B)->h);
  free((*B)->f32);
  free(*B);
  *B = NULL;
}

static int cpu_blocks_create(DcBackend* be, const DcHostBlocks* h, DcBlocks** B) {
  *B = (DcBlocks*)dc_calloc(1, sizeof(DcBlocks));
  if (!*B) return DETCGD_ERR_ALLOC;
  (*B)->h = *h;
  (*B)->h.data = NULL;
  if (h->store32 && h->kind == DC_BLOCKS_DENSE) {
    if (!((*B)->f32 = dc_blocks_to_float(h))) goto fail;
    return DETCGD_OK;
  }
  if (dc_blocks_alloc(&(*B)->h, h->layout, h->kind) != DETCGD_OK) goto fail;
  (*B)->h.store32 = h->store32;
  memcpy((*B)->h.data, h->data, (size_t)dc_blocks_count(h) * sizeof(double));
  return DETCGD_OK;
fail:
  cpu_blocks_destroy(be, B);
  return DETCGD_ERR_ALLOC;
}

/* y[0..m) += col v for column `off` (entry offset) of a dense matrix, in its stored precision;
 * a float entry is exact in double, so both storages give the same bits for the same values. */
static void col_axpy(const DcBlocks* B, int64_t off, int m, double v, double* y) {
  int r;
  if (B->f32) {
    const float* col = B->f32 + off;
    for (r = 0; r < m; ++r) y[r] += (double)col[r] * v;
  } else {
    const double* col = B->h.data + off;
    for (r = 0; r < m; ++r) y[r] += col[r] * v;
  }
}

/* sum_r col_r x_r, in order, for column `off` of a dense matrix */
static double col_dot(const DcBlocks* B, int64_t off, int m, const double* x) {
  double s = 0.0;
  int r;
  if (B->f32) {
    const float* col = B->f32 + off;
    for (r = 0; r < m; ++r) s += (double)col[r] * x[r];
  } else {
    const double* col = B->h.data + off;
    for (r = 0; r < m; ++r) s += col[r] * x[r];
  }
  return s;
}

/* Entry (r, c) of block i, any storage kind. */
static double block_entry(const DcHostBlocks* B, int i, int r, int c) {
  const DcLayout* lay = B->layout;
  if (B->kind == DC_BLOCKS_SCALAR) return r == c ? B->data[i] : 0.0;
  if (B->kind == DC_BLOCKS_DIAG) return r == c ? B->data[lay->voff[i] + r] : 0.0;
  return B->data[lay->moff[i] + r + (int64_t)c * lay->size[i]];
}

/* y_i += alpha B_i x_i (column by column) */
static int cpu_bd_apply(DcBackend* be, const DcBlocks* B, const DcVec* x, double alpha, DcVec* y) {
  const DcLayout* lay = B->h.layout;
  int i, r, c;
  (void)be;
  for (i = 0; i < lay->nblocks; ++i) {
    const double* xi = x->data + lay->voff[i];
    double* yi = y->data + lay->voff[i];
    int m = lay->size[i];
    if (B->h.kind != DC_BLOCKS_DENSE) {
      for (r = 0; r < m; ++r) yi[r] += alpha * block_entry(&B->h, i, r, r) * xi[r];
      continue;
    }
    for (c = 0; c < m; ++c) col_axpy(B, lay->moff[i] + (int64_t)c * m, m, alpha * xi[c], yi);
  }
  return DETCGD_OK;
}

/* y_i += alpha B_i S_i x_i: only the kept columns c of B_i, scaled by s_c x_c */
static int cpu_bd_apply_cols(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x,
                             double alpha, DcVec* y) {
  const DcLayout* lay = B->h.layout;
  int i, t;
  (void)be;
  for (i = 0; i < lay->nblocks; ++i) {
    const int* idx = S->idx + S->spec->cap_off[i];
    const double* sc = S->scale + S->spec->cap_off[i];
    const double* xi = x->data + lay->voff[i];
    double* yi = y->data + lay->voff[i];
    int m = lay->size[i];
    for (t = 0; t < S->count[i]; ++t) {
      int c = idx[t];
      double v = alpha * sc[t] * xi[c];
      if (B->h.kind != DC_BLOCKS_DENSE) {
        yi[c] += block_entry(&B->h, i, c, c) * v;
        continue;
      }
      col_axpy(B, lay->moff[i] + (int64_t)c * m, m, v, yi);
    }
  }
  return DETCGD_OK;
}

/* y_i += alpha T_i B_i x_i: only the kept rows r; row r of a symmetric B_i is its column r */
static int cpu_bd_apply_rows(DcBackend* be, const DcBlocks* B, const DcSketch* T, const DcVec* x,
                             double alpha, DcVec* y) {
  const DcLayout* lay = B->h.layout;
  int i, t;
  (void)be;
  for (i = 0; i < lay->nblocks; ++i) {
    const int* idx = T->idx + T->spec->cap_off[i];
    const double* sc = T->scale + T->spec->cap_off[i];
    const double* xi = x->data + lay->voff[i];
    double* yi = y->data + lay->voff[i];
    int m = lay->size[i];
    for (t = 0; t < T->count[i]; ++t) {
      int r = idx[t];
      double s = B->h.kind != DC_BLOCKS_DENSE ? block_entry(&B->h, i, r, r) * xi[r]
                                              : col_dot(B, lay->moff[i] + (int64_t)r * m, m, xi);
      yi[r] += alpha * sc[t] * s;
    }
  }
  return DETCGD_OK;
}

/* m[slot] = sum_i x_i^T B_i x_i */
static int cpu_bd_quadform(DcBackend* be, const DcBlocks* B, const DcVec* x, DcVec* m, int slot, int sum_slot) {
  const DcLayout* lay = B->h.layout;
  double total = 0.0;
  int i, r, c;
  (void)be;
  for (i = 0; i < lay->nblocks; ++i) {
    const double* xi = x->data + lay->voff[i];
    int w = lay->size[i];
    if (B->h.kind != DC_BLOCKS_DENSE) {
      for (r = 0; r < w; ++r) total += block_entry(&B->h, i, r, r) * xi[r] * xi[r];
      continue;
    }
    for (c = 0; c < w; ++c) total += xi[c] * col_dot(B, lay->moff[i] + (int64_t)c * w, w, xi);
  }
  m->data[slot] = total;
  if (sum_slot >= 0) m->data[sum_slot] += total;
  return DETCGD_OK;
}

/* ==== Sketches ==== */

static void tally_layer(DcSketch* S, int i, int n);

static void cpu_sketch_destroy(DcBackend* be, DcSketch** S) {
  (void)be;
  if (!S || !*S) return;
  free((*S)->idx); free((*S)->scale); free((*S)->count);
  free((*S)->index_bits); free((*S)->mark);
  free(*S);
  *S = NULL;
}

static int cpu_sketch_create(DcBackend* be, const DcSketchSpec* spec, int rows, DcSketch** S) {
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
  if (!(*S)->idx || !(*S)->scale || !(*S)->count || !(*S)->index_bits || !(*S)->mark) {
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

static int cpu_sketch_sample(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t client) {
  (void)be;
  sample_row(S, 0, seed, iter, client);
  return DETCGD_OK;
}

static int cpu_sketch_sample_rows(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t c0, int nc) {
  int r;
  (void)be;
  for (r = 0; r < nc; ++r) sample_row(S, r, seed, iter, c0 + (uint32_t)r);
  return DETCGD_OK;
}

static int cpu_sketch_read(DcBackend* be, const DcSketch* S, DcSketchDraw* out) {
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

static int cpu_sketch_load(DcBackend* be, DcSketch* S, const DcSketchDraw* in) {
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

static int cpu_sketch_tally(DcBackend* be, const DcSketch* S, int64_t* coords, int64_t* bits) {
  (void)be;
  *coords = S->tally_coords;
  *bits = S->tally_bits;
  return DETCGD_OK;
}

static int cpu_sketch_set_tally(DcBackend* be, DcSketch* S, int64_t coords, int64_t bits) {
  (void)be;
  S->tally_coords = coords;
  S->tally_bits = bits;
  return DETCGD_OK;
}

/* v_t = s_t (B x)_{j_t} or s_t x_{j_t} of draw d, packed at cap_off[i] */
static void compress_row(const DcBlocks* B, const DcSketch* S, DrawRow d, const double* x, int round32, double* vals) {
  const DcLayout* lay = S->spec->layout;
  int i, t;
  for (i = 0; i < lay->nblocks; ++i) {
    int64_t o = S->spec->cap_off[i];
    const double* xi = x + lay->voff[i];
    int m = lay->size[i];
    for (t = 0; t < d.count[i]; ++t) {
      int r = d.idx[o + t];
      double v = xi[r];
      if (B && B->h.kind != DC_BLOCKS_DENSE) v = block_entry(&B->h, i, r, r) * xi[r];
      else if (B) v = col_dot(B, lay->moff[i] + (int64_t)r * m, m, xi); /* row r = column r (symmetric) */
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

static int cpu_sketch_compress(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x,
                               int round32, DcVec* vals) {
  (void)be;
  compress_row(B, S, draw_row(S, 0), x->data, round32, vals->data);
  return DETCGD_OK;
}

static int cpu_sketch_accumulate(DcBackend* be, const DcSketch* S, const DcVec* vals, double alpha, DcVec* y) {
  (void)be;
  accumulate_row(S, draw_row(S, 0), vals->data, alpha, y->data);
  return DETCGD_OK;
}

/* messages packed by layer, cap_off[l] values per row */
static int64_t cpu_message_row_len(const DcBackend* be, const DcSketchSpec* spec) {
  (void)be;
  return spec->cap_off[spec->layout->nblocks];
}

static int cpu_sketch_compress_rows(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* X, int nc,
                                    int round32, DcVec* M) {
  int64_t len = cpu_message_row_len(be, S->spec), dim = S->spec->layout->dim;
  int r;
  for (r = 0; r < nc; ++r) compress_row(B, S, draw_row(S, r), X->data + r * dim, round32, M->data + r * len);
  return DETCGD_OK;
}

static int cpu_sketch_accumulate_rows(DcBackend* be, const DcSketch* S, const DcVec* M, int nc, double alpha, int fresh,
                                      DcVec* y) {
  int64_t len = cpu_message_row_len(be, S->spec);
  int r;
  if (fresh) cpu_vec_fill(be, y, 0.0);
  for (r = 0; r < nc; ++r) accumulate_row(S, draw_row(S, r), M->data + r * len, alpha, y->data);
  return DETCGD_OK;
}

/* ==== Problems ==== */

static int cpu_problem_create(DcBackend* be, const DcHostProblem* h, DcProbData** P) {
  (void)be;
  *P = (DcProbData*)dc_calloc(1, sizeof(DcProbData));
  if (!*P) return DETCGD_ERR_ALLOC;
  (*P)->h = *h;
  return DETCGD_OK;
}

static void cpu_problem_destroy(DcBackend* be, DcProbData** P) {
  (void)be;
  if (!P || !*P) return;
  free(*P);
  *P = NULL;
}

/* log(1 + exp(-z)) without overflow */
static double log1p_exp_neg(double z) {
  return z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z));
}

/* Regulariser lam x^2/(1+x^2): adds its gradient 2 lam x/(1+x^2)^2 to g, returns its value. */
static double add_nc_regulariser(const double* x, double* g, int64_t d, double lam) {
  double r = 0.0;
  int64_t j;
  for (j = 0; j < d; ++j) {
    double t = 1.0 + x[j] * x[j];
    r += x[j] * x[j] / t;
    g[j] += 2.0 * lam * x[j] / (t * t);
  }
  return lam * r;
}

/* logreg-nc: f = (1/N) sum_j log(1+exp(-b_j a_j.x)) + reg;
 * grad = -(1/N) sum_j b_j sigma(-b_j a_j.x) a_j + reg' */
static double logreg_grad(const DcHostProblem* h, const double* x, double* g) {
  double loss = 0.0, invn = 1.0 / (double)h->nrows;
  int64_t j, p;
  memset(g, 0, (size_t)h->layout->dim * sizeof(double));
  for (j = 0; j < h->nrows; ++j) {
    double z = 0.0, w;
    for (p = h->rowptr[j]; p < h->rowptr[j + 1]; ++p) z += h->val[p] * x[h->colidx[p]];
    z *= h->label[j];
    loss += log1p_exp_neg(z);
    w = -h->label[j] * invn / (1.0 + exp(z));
    for (p = h->rowptr[j]; p < h->rowptr[j + 1]; ++p) g[h->colidx[p]] += w * h->val[p];
  }
  return loss * invn + add_nc_regulariser(x, g, h->layout->dim, h->lambda);
}

/* quad-nc: q_i = A_i r_i with r_i = x_i - c_i; returns sum_i 1/2 r_i^T q_i, f without the regulariser */
static double quad_residual(const DcHostProblem* h, const double* x, double* q) {
  const DcLayout* lay = h->layout;
  double f = 0.0;
  int i, r, c;
  for (i = 0; i < lay->nblocks; ++i) {
    int m = lay->size[i];
    const double* A = h->A + lay->moff[i];
    const double* xi = x + lay->voff[i];
    const double* ci = h->c + lay->voff[i];
    double* qi = q + lay->voff[i];
    for (r = 0; r < m; ++r) qi[r] = 0.0;
    for (c = 0; c < m; ++c) {
      double rc = xi[c] - ci[c];
      for (r = 0; r < m; ++r) qi[r] += A[r + (int64_t)c * m] * rc;
    }
    for (r = 0; r < m; ++r) f += 0.5 * (xi[r] - ci[r]) * qi[r];
  }
  return f;
}

/* quad-nc: f = sum_i 1/2 r_i^T A_i r_i + reg; grad_i = A_i r_i + reg' */
static double quad_grad(const DcHostProblem* h, const double* x, double* g) {
  double f = quad_residual(h, x, g);
  return f + add_nc_regulariser(x, g, h->layout->dim, h->lambda);
}

double dc_host_problem_grad(const DcHostProblem* h, const double* x, double* g) {
  return h->kind == DETCGD_PROBLEM_LOGREG_NC ? logreg_grad(h, x, g) : quad_grad(h, x, g);
}

static int cpu_problem_grad(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* g,
                            DcVec* m, int fslot) {
  double f;
  (void)be;
  f = dc_host_problem_grad(&P->h, x->data, g->data);
  if (fslot >= 0) m->data[fslot] = f;
  return DETCGD_OK;
}

/* g = q + reg'(x); returns reg(x) */
static double quad_grad_from_residual(const DcProbData* P, const DcVec* x, const DcVec* q, DcVec* g) {
  memcpy(g->data, q->data, (size_t)q->n * sizeof(double));
  return add_nc_regulariser(x->data, g->data, q->n, P->h.lambda);
}

static int cpu_quad_residual(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* q, DcVec* g, DcVec* m,
                             int fslot) {
  double f;
  (void)be;
  f = quad_residual(&P->h, x->data, q->data);
  f += quad_grad_from_residual(P, x, q, g);
  if (fslot >= 0) m->data[fslot] = f;
  return DETCGD_OK;
}

/* q_i += alpha A_i[:, j_t] v_t over the kept j_t in slot order; g = q + reg'(x) */
static int cpu_quad_step(DcBackend* be, const DcProbData* P, const DcSketch* S, const DcVec* vals, double alpha,
                         const DcVec* x, DcVec* q, DcVec* g) {
  const DcLayout* lay = P->h.layout;
  int i, t, r;
  (void)be;
  for (i = 0; i < lay->nblocks; ++i) {
    int64_t o = S->spec->cap_off[i];
    int m = lay->size[i];
    double* qi = q->data + lay->voff[i];
    for (t = 0; t < S->count[i]; ++t) {
      const double* col = P->h.A + lay->moff[i] + (int64_t)S->idx[o + t] * m;
      double a = alpha * vals->data[o + t];
      for (r = 0; r < m; ++r) qi[r] += col[r] * a;
    }
  }
  quad_grad_from_residual(P, x, q, g);
  return DETCGD_OK;
}

/* ==== Clients: a chunk at a time, one after the other ==== */

static void cpu_clients_destroy(DcBackend* be, DcClients** C) {
  (void)be;
  if (!C || !*C) return;
  free(*C);
  *C = NULL;
}

/* A chunk's gradients and messages within 1 MiB, so that they stay in cache between the ops of a round. */
static int cpu_clients_create(DcBackend* be, int n, const DcHostProblem* hosts, const DcSketchSpec* spec, DcClients** C) {
  int64_t per = 8 * (spec->layout->dim + spec->cap_off[spec->layout->nblocks]) + 8, chunk = ((int64_t)1 << 20) / per;
  (void)be;
  *C = (DcClients*)dc_calloc(1, sizeof(DcClients));
  if (!*C) return DETCGD_ERR_ALLOC;
  (*C)->n = n;
  (*C)->chunk = chunk < 1 ? 1 : chunk > n ? n : (int)chunk;
  (*C)->hosts = hosts;
  return DETCGD_OK;
}

static int cpu_clients_chunk(const DcBackend* be, const DcClients* C) {
  (void)be;
  return C->chunk;
}

static int cpu_clients_grad(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, DcVec* G, DcVec* F) {
  int64_t dim = C->hosts[0].layout->dim;
  int r;
  (void)be;
  for (r = 0; r < nc; ++r) {
    double f = dc_host_problem_grad(&C->hosts[c0 + r], x->data, G->data + r * dim);
    if (F) F->data[r] = f;
  }
  return DETCGD_OK;
}

/* ==== Trace snapshots: copied at once, stamped with the wall clock ==== */

struct DcRing {
  int64_t nm;
  double* m;       /* owns: slots x nm */
  int64_t* tally;  /* owns: slots x 2 */
  double* time;    /* owns: slots */
};

static void cpu_ring_destroy(DcBackend* be, DcRing** R) {
  (void)be;
  if (!R || !*R) return;
  free((*R)->m); free((*R)->tally); free((*R)->time);
  free(*R);
  *R = NULL;
}

static int cpu_ring_create(DcBackend* be, int slots, int64_t nmetrics, DcRing** R) {
  *R = (DcRing*)dc_calloc(1, sizeof(DcRing));
  if (!*R) return DETCGD_ERR_ALLOC;
  (*R)->nm = nmetrics;
  (*R)->m = (double*)dc_calloc((size_t)(slots * nmetrics), sizeof(double));
  (*R)->tally = (int64_t*)dc_calloc((size_t)slots * 2, sizeof(int64_t));
  (*R)->time = (double*)dc_calloc((size_t)slots, sizeof(double));
  if ((*R)->m && (*R)->tally && (*R)->time) return DETCGD_OK;
  cpu_ring_destroy(be, R);
  return DETCGD_ERR_ALLOC;
}

static int cpu_ring_put(DcBackend* be, DcRing* R, int slot, const DcVec* m, const DcSketch* S) {
  (void)be;
  memcpy(R->m + slot * R->nm, m->data, (size_t)R->nm * sizeof(double));
  R->tally[2 * slot] = S ? S->tally_coords : 0;
  R->tally[2 * slot + 1] = S ? S->tally_bits : 0;
  R->time[slot] = dc_wall_time();
  return DETCGD_OK;
}

static int cpu_ring_get(DcBackend* be, DcRing* R, int slot, int wait, int* ready, double* m, int64_t tally[2],
                        double* time) {
  (void)be;
  (void)wait;
  *ready = 1;
  memcpy(m, R->m + slot * R->nm, (size_t)R->nm * sizeof(double));
  tally[0] = R->tally[2 * slot];
  tally[1] = R->tally[2 * slot + 1];
  *time = R->time[slot];
  return DETCGD_OK;
}

/* ==== Replay: nothing to record on the CPU; a launch calls the body for each of its iterations ==== */

struct DcReplay { DcIterationFn body; void* ctx; int unroll; };

static int cpu_replay_create(DcBackend* be, DcIterationFn body, void* ctx, int unroll, DcReplay** R) {
  (void)be;
  *R = (DcReplay*)dc_calloc(1, sizeof(DcReplay));
  if (!*R) return DETCGD_ERR_ALLOC;
  (*R)->body = body;
  (*R)->ctx = ctx;
  (*R)->unroll = unroll;
  return DETCGD_OK;
}

static void cpu_replay_destroy(DcBackend* be, DcReplay** R) {
  (void)be;
  if (!R) return;
  free(*R);
  *R = NULL;
}

static int cpu_replay_run(DcBackend* be, DcReplay* R, uint32_t iter, int64_t n) {
  int64_t j, total = n * R->unroll;
  int st = DETCGD_OK;
  (void)be;
  for (j = 0; j < total && st == DETCGD_OK; ++j) st = R->body(R->ctx, iter + (uint32_t)j);
  return st;
}

/* ==== Profiling: nothing is queued on the CPU ==== */

static int cpu_sync(DcBackend* be) { (void)be; return DETCGD_OK; }
static void cpu_range(DcBackend* be, const char* name) { (void)be; (void)name; }

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

static int cpu_mc_moments(DcBackend* be, const DcSketchSpec* spec, const double* A, int64_t nsamples, uint64_t seed,
                          double* mean, double* std_err) {
  McCtx c = {spec, A, nsamples, seed, mean, std_err};
  const DcLayout* lay = spec->layout;
  (void)be;
  return dc_for_each_block(lay->nblocks, lay->max_size, 3, mc_layer, &c, NULL);
}

const DcBackendOps dc_backend_cpu_ops = {
  "cpu", cpu_open, cpu_close,
  cpu_vec_create, cpu_vec_destroy, cpu_vec_upload, cpu_vec_download, cpu_vec_copy,
  cpu_axpy, cpu_dot, cpu_metric_set, cpu_vec_fill, cpu_rows_sum,
  cpu_blocks_create, cpu_blocks_destroy, cpu_bd_apply, cpu_bd_apply_cols, cpu_bd_apply_rows,
  cpu_bd_quadform,
  cpu_sketch_create, cpu_sketch_destroy, cpu_sketch_sample, cpu_sketch_read, cpu_sketch_load,
  cpu_sketch_tally, cpu_sketch_set_tally, cpu_sketch_compress, cpu_sketch_accumulate,
  cpu_sketch_sample_rows, cpu_sketch_compress_rows, cpu_sketch_accumulate_rows, cpu_message_row_len,
  cpu_problem_create, cpu_problem_destroy, cpu_problem_grad, cpu_quad_residual, cpu_quad_step,
  cpu_clients_create, cpu_clients_destroy, cpu_clients_chunk, cpu_clients_grad,
  cpu_ring_create, cpu_ring_destroy, cpu_ring_put, cpu_ring_get,
  cpu_replay_create, cpu_replay_destroy, cpu_replay_run,
  cpu_sync, cpu_range,
  cpu_mc_moments,
  NULL, /* stepsize_setup: the host's LAPACK path of stepsize.c is the reference */
  NULL  /* device_bytes_peak: no device memory */
};
