/*
 * gram.c -- blocks and extreme eigenvalues of L = (1/(4N)) A^T A + (2 lam + mu) I
 * without forming it (gram.h).
 *
 * Products are deterministic for any number of threads: the rows are cut into
 * a number of chunks fixed by the data, each chunk sums its rows' u_j a_j into
 * its own vector, and the chunk vectors are added in chunk order.
 */
#include <stdlib.h>
#include <string.h>
#include "gram.h"
#include "internal.h"
#include "linalg.h"

#define DC_GRAM_MAX_CHUNKS 32
#define DC_GRAM_CHUNK_DOUBLES ((int64_t)1 << 25) /* chunk vectors: at most 256 MB */
#define DC_GRAM_LAYER_RANGES 256                 /* layer ranges of the block sums */

/* ==== Blocks ==== */

/* First entry of row [lo, hi) with column >= col (columns increase along a row). */
static int64_t row_lower_bound(const int32_t* colidx, int64_t lo, int64_t hi, int64_t col) {
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (colidx[mid] < col) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/* L_ii += w sum_j a_{j,i} a_{j,i}^T for the layers i in [i0, i1), a_{j,i} the entries of row j in layer i:
 * one search per row for the range's first column, then the row's entries walked layer by layer. */
static void add_layer_range(const DcHostProblem* h, const DcLayout* lay, double w, int i0, int i1, double* out) {
  int64_t j, p, q, e;
  for (j = 0; j < h->nrows; ++j) {
    int i = i0;
    for (p = row_lower_bound(h->colidx, h->rowptr[j], h->rowptr[j + 1], lay->voff[i0]);
         p < h->rowptr[j + 1] && h->colidx[p] < lay->voff[i1]; p = q) {
      int64_t o, m;
      double* Li;
      while (lay->voff[i + 1] <= h->colidx[p]) ++i;
      o = lay->voff[i];
      m = lay->size[i];
      Li = out + lay->moff[i];
      for (q = p; q < h->rowptr[j + 1] && h->colidx[q] < o + m; ++q) {}
      for (e = p; e < q; ++e) { /* rank-1 update with the layer's entries of row j */
        const double ve = w * h->val[e];
        double* col = Li + (h->colidx[e] - o) * m;
        int64_t f;
        for (f = p; f < q; ++f) col[h->colidx[f] - o] += ve * h->val[f];
      }
    }
  }
}

/* L_ii = (1/(4N)) sum_j a_{j,i} a_{j,i}^T + (2 lam + mu) I (mu: l2).  Layers are split into a fixed number of ranges
 * (by layer index, not by thread), each range summed row by row on one thread. */
void dc_gram_add_blocks(const DcHostProblem* h, const DcLayout* lay, double weight, double* out) {
  const double w = weight / (4.0 * (double)h->nrows);
  const int nr = lay->nblocks < DC_GRAM_LAYER_RANGES ? lay->nblocks : DC_GRAM_LAYER_RANGES;
  int k;
#pragma omp parallel for schedule(dynamic)
  for (k = 0; k < nr; ++k) {
    const int i0 = (int)((int64_t)k * lay->nblocks / nr), i1 = (int)((int64_t)(k + 1) * lay->nblocks / nr);
    int i;
    int64_t r;
    add_layer_range(h, lay, w, i0, i1, out);
    for (i = i0; i < i1; ++i)
      for (r = 0; r < lay->size[i]; ++r) out[lay->moff[i] + r + r * lay->size[i]] += weight * (2.0 * h->lambda + h->l2);
  }
}

/* ==== Products ==== */

typedef struct GramWork {
  int64_t d;
  int nchunks;
  double* acc; /* nchunks x d */
} GramWork;

static int work_alloc(GramWork* g, int64_t d) {
  g->d = d;
  g->nchunks = (int)(DC_GRAM_CHUNK_DOUBLES / d < DC_GRAM_MAX_CHUNKS ? DC_GRAM_CHUNK_DOUBLES / d : DC_GRAM_MAX_CHUNKS);
  if (g->nchunks < 1) g->nchunks = 1;
  g->acc = (double*)dc_calloc((size_t)g->nchunks * (size_t)d, sizeof(double));
  return g->acc ? DETCGD_OK : DETCGD_ERR_ALLOC;
}

/* Chunks of A^T u for h: at most g->nchunks and N, and few enough that adding the chunk vectors
 * (nc d) costs at most an eighth of the product (nnz); a function of the data, not of the threads. */
static int chunk_count(const DcHostProblem* h, const GramWork* g) {
  int64_t nnz = h->rowptr[h->nrows] - h->rowptr[0], nc = nnz / (8 * g->d);
  if (nc > g->nchunks) nc = g->nchunks;
  if (nc > h->nrows) nc = h->nrows;
  return nc < 1 ? 1 : (int)nc;
}

/* y = L x for the rows of h: each row's dot product a_j.x and its share u_j a_j of A^T u in one
 * pass (the row is still in cache for the second use). */
static void gram_apply(const DcHostProblem* h, GramWork* g, const double* x, double* y) {
  const int64_t N = h->nrows, d = g->d;
  const int nc = chunk_count(h, g);
  const double w = 1.0 / (4.0 * (double)N);
  int64_t e;
  int k;
#pragma omp parallel for schedule(static)
  for (k = 0; k < nc; ++k) { /* chunk k of A^T (A x) / (4N) */
    double* a = g->acc + (int64_t)k * d;
    int64_t r, p;
    memset(a, 0, (size_t)d * sizeof(double));
    for (r = k * N / nc; r < (k + 1) * N / nc; ++r) {
      double u = 0.0;
      for (p = h->rowptr[r]; p < h->rowptr[r + 1]; ++p) u += h->val[p] * x[h->colidx[p]];
      u *= w;
      for (p = h->rowptr[r]; p < h->rowptr[r + 1]; ++p) a[h->colidx[p]] += u * h->val[p];
    }
  }
#pragma omp parallel for schedule(static)
  for (e = 0; e < d; ++e) {
    double s = 0.0;
    int kk;
    for (kk = 0; kk < nc; ++kk) s += g->acc[(int64_t)kk * d + e];
    y[e] = s + (2.0 * h->lambda + h->l2) * x[e];
  }
}

/* y_i = P_i x_i for every layer (P = NULL: y = x). */
static void blocks_apply(const DcLayout* lay, const double* P, const double* x, double* y) {
  int i;
  if (!P) { memcpy(y, x, (size_t)lay->dim * sizeof(double)); return; }
#pragma omp parallel for schedule(static)
  for (i = 0; i < lay->nblocks; ++i) {
    const int64_t o = lay->voff[i], m = lay->size[i];
    const double* Pi = P + lay->moff[i];
    int64_t r, c;
    for (r = 0; r < m; ++r) y[o + r] = 0.0;
    for (c = 0; c < m; ++c)
      for (r = 0; r < m; ++r) y[o + r] += Pi[r + c * m] * x[o + c];
  }
}

/* ==== lambda_max(P Lbar P) ==== */

typedef struct Sandwich {
  const DcHostProblem* hs;
  int n;
  const DcLayout* lay;
  const double* P;
  GramWork g;
  double *t, *lx, *sum; /* d each */
} Sandwich;

static void sandwich_apply(void* ctx, const double* x, double* y) {
  Sandwich* S = (Sandwich*)ctx;
  const int64_t d = S->lay->dim;
  int64_t e;
  int c;
  blocks_apply(S->lay, S->P, x, S->t);
  memset(S->sum, 0, (size_t)d * sizeof(double));
  for (c = 0; c < S->n; ++c) { /* Lbar t, clients in order */
    gram_apply(&S->hs[c], &S->g, S->t, S->lx);
    for (e = 0; e < d; ++e) S->sum[e] += S->lx[e] / S->n;
  }
  blocks_apply(S->lay, S->P, S->sum, y);
}

int dc_gram_lambda_max(const DcHostProblem* hs, int n, const DcLayout* lay, const double* P, double rtol,
                       double* out) {
  Sandwich S;
  const int64_t d = lay->dim;
  int st;
  memset(&S, 0, sizeof S);
  S.hs = hs;
  S.n = n;
  S.lay = lay;
  S.P = P;
  st = work_alloc(&S.g, d);
  S.t = (double*)dc_calloc((size_t)d, sizeof(double));
  S.lx = (double*)dc_calloc((size_t)d, sizeof(double));
  S.sum = (double*)dc_calloc((size_t)d, sizeof(double));
  if (st == DETCGD_OK && (!S.t || !S.lx || !S.sum)) st = DETCGD_ERR_ALLOC;
  if (st == DETCGD_OK) st = dc_lanczos_max(sandwich_apply, &S, d, rtol, out);
  free(S.g.acc); free(S.t); free(S.lx); free(S.sum);
  return st;
}
