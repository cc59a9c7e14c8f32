/*
 * cpu_problems.c -- the CPU backend's problems (logreg-nc, quad-nc and poly-nc: f and its gradient, quad-nc's
 * sparse steps' residual) and clients (a chunk's gradients and losses).
 */
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdlib.h>
#include <string.h>
#include "backend_cpu.h"
#include "cpu_math.h"
#include "minibatch.h"

/* ==== Problems ==== */

/* From this many nonzeros on, logreg-nc's gradient goes by rows and columns over the cores (logreg_grad_by_columns):
 * about 20 us of work on one core, against the 2 us libgomp's fork, barrier and join take on the 2-core development
 * machine (a1a, 22 249 nonzeros: 29 us a gradient on one core by rows alone, 15 on two by rows and columns). */
#define DC_BY_COLUMNS_FROM 20000

static void free_columns(DcProbData* P) {
  free(P->colptr);
  free(P->rowidx);
  free(P->colval);
  free(P->margins);
  P->colptr = NULL;
  P->rowidx = NULL;
  P->colval = NULL;
  P->margins = NULL;
}

/* The rows by columns (a counting sort by column: each column's entries in row order), and room for the margins and
 * weights.  Out of memory, the problem keeps to its rows (the same bits, on one core). */
static void make_columns(DcProbData* P) {
  const DcHostProblem* h = &P->h;
  int64_t d = h->layout->dim, n = h->nrows, p0 = h->rowptr[0], nnz = h->rowptr[n] - p0, i, j, p, *next;
  P->colptr = (int64_t*)calloc((size_t)d + 1, sizeof(int64_t));
  P->rowidx = (int32_t*)malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof(int32_t));
  P->colval = (double*)malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof(double));
  P->margins = (double*)malloc((size_t)(2 * n) * sizeof(double));
  next = (int64_t*)malloc((size_t)d * sizeof(int64_t));
  if (!P->colptr || !P->rowidx || !P->colval || !P->margins || !next) {
    free(next);
    free_columns(P);
    return;
  }
  P->unit_values = 1;
  for (p = p0; p < p0 + nnz; ++p) { /* a client's rows start where its range of the data does */
    ++P->colptr[h->colidx[p] + 1];
    P->unit_values &= h->val[p] == 1.0;
  }
  for (i = 0; i < d; ++i) P->colptr[i + 1] += P->colptr[i];
  memcpy(next, P->colptr, (size_t)d * sizeof(int64_t));
  for (j = 0; j < n; ++j)
    for (p = h->rowptr[j]; p < h->rowptr[j + 1]; ++p) {
      int64_t q = next[h->colidx[p]]++;
      P->rowidx[q] = (int32_t)j;
      P->colval[q] = h->val[p];
    }
  free(next);
}

int cpu_problem_create(DcBackend* be, const DcHostProblem* h, DcProbData** P) {
  (void)be;
  *P = (DcProbData*)dc_calloc(1, sizeof(DcProbData));
  if (!*P) return DETCGD_ERR_ALLOC;
  (*P)->h = *h;
  if (h->kind == DETCGD_PROBLEM_LOGREG_NC && h->rowptr[h->nrows] - h->rowptr[0] >= DC_BY_COLUMNS_FROM) make_columns(*P);
  return DETCGD_OK;
}

void cpu_problem_destroy(DcBackend* be, DcProbData** P) {
  (void)be;
  if (!P || !*P) return;
  free_columns(*P);
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

/* l2's (mu/2) ||x||^2: adds mu x to g, returns its value (nothing when mu = 0, so that its traces keep their bits). */
static double add_l2(const double* x, double* g, int64_t d, double mu) {
  double r = 0.0;
  int64_t j;
  if (mu == 0.0) return 0.0;
  for (j = 0; j < d; ++j) {
    r += x[j] * x[j];
    g[j] += mu * x[j];
  }
  return 0.5 * mu * r;
}

/* ---- logreg-nc: R runs' x_r through the data at once (one run: R = 1), in blocks of rows ----
 * The runs' vectors interleaved, x_r[i] at X[i R + r]: each nonzero a_ji is read once for every run, and each
 * run's sums come in the order of its own run alone (the same bits whatever R). */

#define DC_ROW_BLOCK 256 /* margins and weights held at once: DC_ROW_BLOCK values (R runs: rows of R) */
#define DC_MANY_RUNS 16  /* the most runs one pass takes: 16 values of x per nonzero are two cache lines */
/* The vector loops compiled three times, for AVX-512, AVX2 and any x86-64 (SSE2), chosen when the library loads:
 * the same bits each way (additions and multiplications only, none fused). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(DETCGD_NO_VECTOR_CLONES)
#define DC_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DC_VECTOR_CLONES
#endif
#if defined(__GNUC__)
#define DC_INLINE inline __attribute__((always_inline)) /* R = 1 compiled as its own loops (logreg_data_terms) */
#else
#define DC_INLINE inline
#endif

/* The rows as restrict pointers: the compiler may then keep the runs' sums in vector registers and put the runs'
 * loops on vectors (through h's members it must assume that a store into G could change the data). */
typedef struct Rows {
  const int64_t* restrict rowptr;
  const int32_t* restrict colidx;
  const double* restrict val;
  const double* restrict label;
} Rows;

/* Four runs' values as one vector (GCC's and clang's vector extension): the runs' loops of 4, 8 and 16 on SSE2 or
 * AVX2 or AVX-512 registers, lane by lane the same multiplications and additions as one run's scalar loop. */
#if defined(__GNUC__)
typedef double DcRuns4 __attribute__((vector_size(32)));
#define DC_RUNS4(R) ((R) % 4 == 0)
#else
typedef struct { double v[4]; } DcRuns4; /* unused: no vector extension */
#define DC_RUNS4(R) 0
#endif

/* (unaligned: a run's values start at any 8 bytes; through pointers, so that no vector crosses a call's ABI) */
static DC_INLINE void load4(DcRuns4* v, const double* p) { memcpy(v, p, sizeof *v); }
static DC_INLINE void store4(double* p, const DcRuns4* v) { memcpy(p, v, sizeof *v); }

/* z_{tr} = b_j a_j . x_r and c_{tr} = -b_j / N for the rows j = j0 + t of the block */
static DC_INLINE void block_margins(Rows a, double invn, int64_t j0, int nb, const double* restrict X, int R,
                                    double* restrict z, double* restrict c) {
  int t, r, q;
  int64_t p;
  for (t = 0; t < nb; ++t) {
    int64_t j = j0 + t;
    if (DC_RUNS4(R)) {
#if defined(__GNUC__)
      DcRuns4 acc[DC_MANY_RUNS / 4];
      for (q = 0; q < R / 4; ++q) acc[q] = (DcRuns4){0.0, 0.0, 0.0, 0.0};
      for (p = a.rowptr[j]; p < a.rowptr[j + 1]; ++p) {
        const double* xc = X + (int64_t)a.colidx[p] * R;
        DcRuns4 v = {a.val[p], a.val[p], a.val[p], a.val[p]};
        for (q = 0; q < R / 4; ++q) {
          DcRuns4 x4;
          load4(&x4, xc + 4 * q);
          acc[q] += v * x4;
        }
      }
      for (q = 0; q < R / 4; ++q) {
        acc[q] *= a.label[j];
        store4(z + (int64_t)t * R + 4 * q, &acc[q]);
      }
#endif
    } else {
      double acc[DC_MANY_RUNS]; /* the runs' sums in registers (a local array: nothing else writes it) */
      for (r = 0; r < R; ++r) acc[r] = 0.0;
      for (p = a.rowptr[j]; p < a.rowptr[j + 1]; ++p) {
        const double* xc = X + (int64_t)a.colidx[p] * R;
        double v = a.val[p];
        for (r = 0; r < R; ++r) acc[r] += v * xc[r];
      }
      for (r = 0; r < R; ++r) z[(int64_t)t * R + r] = acc[r] * a.label[j];
    }
    for (r = 0; r < R; ++r) c[(int64_t)t * R + r] = -a.label[j] * invn;
  }
}

/* w = c / (1 + exp(z)), n <= DC_ROW_BLOCK values, on vectors (dc_exp): AVX-512 or AVX2 where the processor has
 * them, else SSE2 -- the same bits each way */
DC_VECTOR_CLONES
static void logistic_weights(const double* restrict z, const double* restrict c, int n, double* restrict w) {
  double zc[DC_ROW_BLOCK];
  int i;
  for (i = 0; i < n; ++i) zc[i] = dc_exp_clamp(z[i]);
  for (i = 0; i < n; ++i) w[i] = c[i] / (1.0 + dc_exp(zc[i]));
}

/* G_r += w_{tr} a_j for the rows j = j0 + t of the block */
static DC_INLINE void block_scatter(Rows a, int64_t j0, int nb, const double* restrict w, int R, double* restrict G) {
  int t, r, q;
  int64_t p;
  for (t = 0; t < nb; ++t) {
    int64_t j = j0 + t;
    if (DC_RUNS4(R)) {
#if defined(__GNUC__)
      DcRuns4 wt[DC_MANY_RUNS / 4];
      for (q = 0; q < R / 4; ++q) load4(&wt[q], w + (int64_t)t * R + 4 * q);
      for (p = a.rowptr[j]; p < a.rowptr[j + 1]; ++p) {
        double* gc = G + (int64_t)a.colidx[p] * R;
        DcRuns4 v = {a.val[p], a.val[p], a.val[p], a.val[p]};
        for (q = 0; q < R / 4; ++q) {
          DcRuns4 g4;
          load4(&g4, gc + 4 * q);
          g4 += wt[q] * v;
          store4(gc + 4 * q, &g4);
        }
      }
#endif
    } else {
      double wt[DC_MANY_RUNS]; /* a local copy: the compiler sees that G's stores cannot change it */
      for (r = 0; r < R; ++r) wt[r] = w[(int64_t)t * R + r];
      for (p = a.rowptr[j]; p < a.rowptr[j + 1]; ++p) {
        double* gc = G + (int64_t)a.colidx[p] * R;
        double v = a.val[p];
        for (r = 0; r < R; ++r) gc[r] += wt[r] * v;
      }
    }
  }
}

/* G = the data terms of the R gradients (zeroed first); loss[r] = sum_j log(1 + exp(-z_jr)) when loss != NULL.
 * z, c, w: DC_ROW_BLOCK values each, blocks of DC_ROW_BLOCK / R rows. */
static DC_INLINE void data_terms(const DcHostProblem* h, const double* X, int R, double* G, double* loss, double* z,
                                 double* c, double* w) {
  Rows a = {h->rowptr, h->colidx, h->val, h->label};
  double invn = 1.0 / (double)h->nrows;
  int64_t j0;
  int i, r, rows = DC_ROW_BLOCK / R;
  memset(G, 0, (size_t)h->layout->dim * R * sizeof(double));
  if (loss) for (r = 0; r < R; ++r) loss[r] = 0.0;
  for (j0 = 0; j0 < h->nrows; j0 += rows) {
    int nb = h->nrows - j0 < rows ? (int)(h->nrows - j0) : rows;
    block_margins(a, invn, j0, nb, X, R, z, c);
    if (loss)
      for (i = 0; i < nb * R; ++i) loss[i % R] += log1p_exp_neg(z[i]);
    logistic_weights(z, c, nb * R, w);
    block_scatter(a, j0, nb, w, R, G);
  }
}

/* data_terms compiled for each R a pass takes, 1, 2, 4, 8 or 16 (the runs' loops unrolled onto vectors) */
DC_VECTOR_CLONES
static void logreg_data_terms(const DcHostProblem* h, const double* X, int R, double* G, double* loss, double* z,
                              double* c, double* w) {
  switch (R) {
  case 1: data_terms(h, X, 1, G, loss, z, c, w); break;
  case 2: data_terms(h, X, 2, G, loss, z, c, w); break;
  case 4: data_terms(h, X, 4, G, loss, z, c, w); break;
  case 8: data_terms(h, X, 8, G, loss, z, c, w); break;
  default: data_terms(h, X, 16, G, loss, z, c, w);
  }
}

/* The regularisers' terms added to g (the data terms'), and f from the summed loss of the rows (0: no f asked) */
static double logreg_finish(const DcHostProblem* h, double loss, const double* x, double* g) {
  loss = loss * (1.0 / (double)h->nrows) + add_nc_regulariser(x, g, h->layout->dim, h->lambda);
  return loss + add_l2(x, g, h->layout->dim, h->l2);
}

/* logreg-nc: f = (1/N) sum_j log(1+exp(-b_j a_j.x)) + reg + (mu/2) ||x||^2 (with_f; else 0, the log terms left
 * out: most rounds need no f);  grad = -(1/N) sum_j b_j sigma(-b_j a_j.x) a_j + reg' */
static double logreg_grad(const DcHostProblem* h, const double* x, double* g, int with_f) {
  double z[DC_ROW_BLOCK], c[DC_ROW_BLOCK], w[DC_ROW_BLOCK], loss = 0.0;
  logreg_data_terms(h, x, 1, g, with_f ? &loss : NULL, z, c, w);
  return logreg_finish(h, loss, x, g);
}

/* ---- logreg-nc by rows and by columns: one run's gradient over the cores ----
 * The margins and weights of the rows split over the cores by rows, then the gradient's sums g_i = sum_j w_j a_ji
 * by columns, gathered down each column in row order: the order in which data_terms' scatter adds them, from the
 * same zero.  Nothing is summed across a split, so the bits are data_terms' on any number of cores. */

/* a_ji x_i, or x_i where every value of the data is 1 (binary features: 1 x_i = x_i exactly, one load fewer) */
#define DC_TERM(unit, value, x) ((unit) ? (x) : (value) * (x))

/* sum_p val_p y_{idx_p} over the segment [ptr[0], ptr[1]) (a row of the data, or a column of its CSC copy) in its
 * order; unit: every value is 1 */
static DC_INLINE double segment_dot(const int64_t* restrict ptr, const int32_t* restrict idx,
                                    const double* restrict val, int unit, const double* restrict y) {
  double s = 0.0;
  int64_t p;
  for (p = ptr[0]; p < ptr[1]; ++p) s += DC_TERM(unit, val[p], y[idx[p]]);
  return s;
}

/* segment_dot of the four segments [ptr[k], ptr[k + 1]) at once: four independent chains of additions, each
 * segment's in its order */
static DC_INLINE void segment_dots4(const int64_t* restrict ptr, const int32_t* restrict idx,
                                    const double* restrict val, int unit, const double* restrict y, double s[4]) {
  int64_t n = ptr[1] - ptr[0], q, p;
  int k;
  for (k = 1; k < 4; ++k)
    if (ptr[k + 1] - ptr[k] < n) n = ptr[k + 1] - ptr[k];
  for (k = 0; k < 4; ++k) s[k] = 0.0;
  for (q = 0; q < n; ++q) {
    s[0] += DC_TERM(unit, val[ptr[0] + q], y[idx[ptr[0] + q]]);
    s[1] += DC_TERM(unit, val[ptr[1] + q], y[idx[ptr[1] + q]]);
    s[2] += DC_TERM(unit, val[ptr[2] + q], y[idx[ptr[2] + q]]);
    s[3] += DC_TERM(unit, val[ptr[3] + q], y[idx[ptr[3] + q]]);
  }
  for (k = 0; k < 4; ++k)
    for (p = ptr[k] + n; p < ptr[k + 1]; ++p) s[k] += DC_TERM(unit, val[p], y[idx[p]]);
}

/* z_j and w_j of the rows [j0, j1): block_margins' sums for one run, four rows at a time */
static DC_INLINE void row_weights_of(const DcHostProblem* h, int unit, int64_t j0, int64_t j1, const double* restrict x,
                                     double* restrict z, double* restrict w) {
  double c[DC_ROW_BLOCK], acc[4], invn = 1.0 / (double)h->nrows;
  int64_t j;
  int t, r;
  for (; j0 < j1; j0 += DC_ROW_BLOCK) {
    int nb = j1 - j0 < DC_ROW_BLOCK ? (int)(j1 - j0) : DC_ROW_BLOCK;
    for (t = 0; t < nb; t += 4) {
      j = j0 + t;
      if (t + 4 <= nb) segment_dots4(h->rowptr + j, h->colidx, h->val, unit, x, acc);
      for (r = 0; r < 4 && t + r < nb; ++r) {
        if (t + 4 > nb) acc[r] = segment_dot(h->rowptr + j + r, h->colidx, h->val, unit, x);
        z[j + r] = acc[r] * h->label[j + r];
        c[t + r] = -h->label[j + r] * invn;
      }
    }
    logistic_weights(z + j0, c, nb, w + j0);
  }
}

DC_VECTOR_CLONES
static void row_weights(const DcProbData* P, int64_t j0, int64_t j1, const double* x, double* z, double* w) {
  if (P->unit_values) row_weights_of(&P->h, 1, j0, j1, x, z, w);
  else row_weights_of(&P->h, 0, j0, j1, x, z, w);
}

/* g_i = sum_j w_j a_ji for the columns [i0, i1), four columns at a time */
static DC_INLINE void column_sums_of(const DcProbData* P, int unit, const double* restrict w, int64_t i0, int64_t i1,
                                     double* restrict g) {
  int64_t i;
  for (i = i0; i + 4 <= i1; i += 4) segment_dots4(P->colptr + i, P->rowidx, P->colval, unit, w, g + i);
  for (; i < i1; ++i) g[i] = segment_dot(P->colptr + i, P->rowidx, P->colval, unit, w);
}

static void column_sums(const DcProbData* P, const double* w, int64_t i0, int64_t i1, double* g) {
  if (P->unit_values) column_sums_of(P, 1, w, i0, i1, g);
  else column_sums_of(P, 0, w, i0, i1, g);
}

/* The first of n items that core t of T takes, the items' nonzeros ptr[0..n] split evenly */
static int64_t split_at(const int64_t* ptr, int64_t n, int t, int T) {
  int64_t all = ptr[n] - ptr[0], lo = 0, hi = n, target = ptr[0] + all / T * t + all % T * t / T;
  if (t >= T) return n;
  while (lo < hi) { /* the first i with ptr[i] >= target */
    int64_t mid = lo + (hi - lo) / 2;
    if (ptr[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* R runs' z and w (R values a row, interleaved as X) of the rows [j0, j1): block_margins and logistic_weights */
static DC_INLINE void runs_row_weights_of(const DcHostProblem* h, int64_t j0, int64_t j1, const double* X, int R,
                                          double* z, double* w) {
  Rows a = {h->rowptr, h->colidx, h->val, h->label};
  double c[DC_ROW_BLOCK], invn = 1.0 / (double)h->nrows;
  int64_t rows = DC_ROW_BLOCK / R;
  for (; j0 < j1; j0 += rows) {
    int nb = j1 - j0 < rows ? (int)(j1 - j0) : (int)rows;
    block_margins(a, invn, j0, nb, X, R, z + j0 * R, c);
    logistic_weights(z + j0 * R, c, nb * R, w + j0 * R);
  }
}

/* acc_r += W_r v for the R runs: block_scatter's multiplications and additions (R / 4 vectors where R allows) */
static DC_INLINE void add_runs_term(double* restrict acc, const double* restrict W, double v, int R) {
  int r;
#if defined(__GNUC__)
  if (DC_RUNS4(R)) {
    DcRuns4 v4 = {v, v, v, v};
    for (r = 0; r < R; r += 4) {
      DcRuns4 a4, w4;
      load4(&a4, acc + r);
      load4(&w4, W + r);
      a4 += w4 * v4;
      store4(acc + r, &a4);
    }
    return;
  }
#endif
  for (r = 0; r < R; ++r) acc[r] += W[r] * v;
}

/* R runs' G_i = sum_j W_j a_ji (R values a column) for the columns [i0, i1), two columns at once, each run's sum down
 * its column in row order: block_scatter's additions */
static DC_INLINE void runs_column_sums_of(const DcProbData* P, const double* restrict W, int R, int64_t i0, int64_t i1,
                                          double* restrict G) {
  const int64_t* restrict cp = P->colptr;
  const int32_t* restrict ri = P->rowidx;
  const double* restrict v = P->colval;
  int64_t i, t, n;
  int u, r;
  for (i = i0; i < i1; i += 2) {
    const int cols = i + 1 < i1 ? 2 : 1;
    double acc[2][DC_MANY_RUNS];
    n = cols == 2 && cp[i + 2] - cp[i + 1] < cp[i + 1] - cp[i] ? cp[i + 2] - cp[i + 1] : cp[i + 1] - cp[i];
    if (cols == 1) n = 0;
    for (u = 0; u < 2; ++u)
      for (r = 0; r < R; ++r) acc[u][r] = 0.0;
    for (t = 0; t < n; ++t)
      for (u = 0; u < 2; ++u) add_runs_term(acc[u], W + (int64_t)ri[cp[i + u] + t] * R, v[cp[i + u] + t], R);
    for (u = 0; u < cols; ++u) {
      for (t = cp[i + u] + n; t < cp[i + u + 1]; ++t) add_runs_term(acc[u], W + (int64_t)ri[t] * R, v[t], R);
      memcpy(G + (i + u) * R, acc[u], (size_t)R * sizeof(double));
    }
  }
}

/* runs_row_weights_of and runs_column_sums_of compiled for each R a pass takes, 2, 4, 8 or 16 */
DC_VECTOR_CLONES
static void runs_row_weights(const DcHostProblem* h, int64_t j0, int64_t j1, const double* X, int R, double* z,
                             double* w) {
  switch (R) {
  case 2: runs_row_weights_of(h, j0, j1, X, 2, z, w); break;
  case 4: runs_row_weights_of(h, j0, j1, X, 4, z, w); break;
  case 8: runs_row_weights_of(h, j0, j1, X, 8, z, w); break;
  default: runs_row_weights_of(h, j0, j1, X, 16, z, w);
  }
}

DC_VECTOR_CLONES
static void runs_column_sums(const DcProbData* P, const double* W, int R, int64_t i0, int64_t i1, double* G) {
  switch (R) {
  case 2: runs_column_sums_of(P, W, 2, i0, i1, G); break;
  case 4: runs_column_sums_of(P, W, 4, i0, i1, G); break;
  case 8: runs_column_sums_of(P, W, 8, i0, i1, G); break;
  default: runs_column_sums_of(P, W, 16, i0, i1, G);
  }
}

/* data_terms by rows and columns over the cores: R runs (1, 2, 4, 8 or DC_MANY_RUNS) with X and G interleaved as
 * data_terms has them, z and w n R values each (the caller's) */
static void data_terms_by_columns(const DcProbData* P, const double* X, int R, double* G, double* loss, double* z,
                                  double* w) {
  const DcHostProblem* h = &P->h;
  int64_t n = h->nrows, d = h->layout->dim, i;
  int r;
#pragma omp parallel
  {
    int t = 0, T = 1;
    int64_t j0, j1, i0, i1;
#ifdef _OPENMP
    t = omp_get_thread_num();
    T = omp_get_num_threads();
#endif
    j0 = split_at(h->rowptr, n, t, T);
    j1 = split_at(h->rowptr, n, t + 1, T);
    i0 = split_at(P->colptr, d, t, T);
    i1 = split_at(P->colptr, d, t + 1, T);
    if (R == 1) row_weights(P, j0, j1, X, z, w);
    else runs_row_weights(h, j0, j1, X, R, z, w);
#pragma omp barrier
    if (R == 1) column_sums(P, w, i0, i1, G);
    else runs_column_sums(P, w, R, i0, i1, G);
  }
  if (!loss) return;
  for (r = 0; r < R; ++r) loss[r] = 0.0;
  for (i = 0; i < n * R; ++i) loss[i % R] += log1p_exp_neg(z[i]); /* in row order, as data_terms sums it */
}

static double logreg_grad_by_columns(const DcProbData* P, const double* x, double* g, int with_f) {
  double loss = 0.0;
  data_terms_by_columns(P, x, 1, g, with_f ? &loss : NULL, P->margins, P->margins + P->h.nrows);
  return logreg_finish(&P->h, loss, x, g);
}

/* logreg_grad of R runs (1, 2, 4, 8 or DC_MANY_RUNS) on one problem's data, in one pass over it: the runs'
 * x interleaved into X, their gradients' data terms into G (X and G: d R values each, the caller's), then each
 * run's own regularisers (its bits alone). */
static void logreg_grad_pass(const DcProbData* const* P, const DcVec* const* x, DcVec* const* g, DcVec* const* m,
                             const int* fslot, int R, double* X, double* G, double* zw) {
  const DcHostProblem* h = &P[0]->h;
  int64_t d = h->layout->dim, i;
  double z[DC_ROW_BLOCK], c[DC_ROW_BLOCK], w[DC_ROW_BLOCK], loss[DC_MANY_RUNS];
  int r, with_f = 0;
  for (r = 0; r < R; ++r) {
    with_f |= fslot[r] >= 0;
    for (i = 0; i < d; ++i) X[i * R + r] = x[r]->data[i];
  }
  if (zw) data_terms_by_columns(P[0], X, R, G, with_f ? loss : NULL, zw, zw + h->nrows * R);
  else logreg_data_terms(h, X, R, G, with_f ? loss : NULL, z, c, w);
  for (r = 0; r < R; ++r) {
    double f;
    for (i = 0; i < d; ++i) g[r]->data[i] = G[i * R + r];
    f = logreg_finish(&P[r]->h, with_f ? loss[r] : 0.0, x[r]->data, g[r]->data);
    if (fslot[r] >= 0) m[r]->data[fslot[r]] = f;
  }
}

/* The backend's scratch for R runs of d values: their x and gradients interleaved (2 d R), the passes (2 R), the
 * margins and weights of a pass by columns (zw_len); grown as needed and kept, so that runs together allocate
 * nothing per iteration. */
static int cpu_runs_scratch(DcCpuState* cs, int R, int64_t d, int64_t zw_len) {
  if (2 * d * R > cs->runs_xg_cap) {
    double* xg = (double*)realloc(cs->runs_xg, (size_t)(2 * d * R) * sizeof(double));
    if (!xg) return dc_fail(DETCGD_ERR_ALLOC, "problem_grad_many: out of host memory for %d runs of %lld values", R,
                            (long long)d);
    cs->runs_xg = xg;
    cs->runs_xg_cap = 2 * d * R;
  }
  if (2 * R > cs->runs_pass_cap) {
    int* pass = (int*)realloc(cs->runs_pass, (size_t)(2 * R) * sizeof(int));
    if (!pass) return dc_fail(DETCGD_ERR_ALLOC, "problem_grad_many: out of host memory for %d runs", R);
    cs->runs_pass = pass;
    cs->runs_pass_cap = 2 * R;
  }
  if (zw_len > cs->runs_zw_cap) {
    double* zw = (double*)realloc(cs->runs_zw, (size_t)zw_len * sizeof(double));
    if (!zw) return dc_fail(DETCGD_ERR_ALLOC, "problem_grad_many: out of host memory for %d runs' margins", R);
    cs->runs_zw = zw;
    cs->runs_zw_cap = zw_len;
  }
  return DETCGD_OK;
}

/* Passes over the cores from this many multiply-adds (nonzeros x runs) on: about 10 us of work, against the 2 us
 * libgomp's fork and join take on the 2-core development machine. */
#define DC_PARALLEL_PASSES_FROM 20000
/* Fewer runs than this many a core, on data with its columns (DC_BY_COLUMNS_FROM nonzeros on), go in passes of up
 * to DC_MANY_RUNS runs one after the other, each over the cores by rows and by columns; more fill the cores with
 * passes of their own.  On 2 cores, per run-iteration: 4 runs of a1a 7.7 us by columns, 10.5 in passes (a9a 135
 * and 228); 16 runs 4.9 and 4.7 (a9a 183 and 120: their weights, 16 a row, no longer stay in cache). */
#define DC_COLUMN_PASSES_BELOW 4

int cpu_problem_grad_many(DcBackend* const* be, const DcProbData* const* P, const DcVec* const* x, DcVec* const* g,
                          DcVec* const* m, const int* fslot, int R) {
  int64_t d, nnz;
  DcCpuState* cs = (DcCpuState*)be[0]->state;
  int r, q, npass = 0, width = DC_MANY_RUNS, threads = 1, by_columns, st = DETCGD_OK;
  int *start, *len;
  double* XG;
  for (r = 1; r < R; ++r)
    if (!dc_host_problem_same_rows(&P[0]->h, &P[r]->h)) break;
  if (R == 0 || r < R || P[0]->h.kind != DETCGD_PROBLEM_LOGREG_NC) { /* not one logreg-nc data set: run by run */
    for (r = 0; r < R && st == DETCGD_OK; ++r) st = cpu_problem_grad(be[r], P[r], x[r], g[r], m[r], fslot[r]);
    return st;
  }
  d = P[0]->h.layout->dim;
  nnz = P[0]->h.rowptr[P[0]->h.nrows] - P[0]->h.rowptr[0];
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  by_columns = P[0]->colptr != NULL && R < DC_COLUMN_PASSES_BELOW * threads;
  while (!by_columns && width > 1 && R / width < threads) width /= 2; /* a pass a core at least, where runs allow */
  if ((st = cpu_runs_scratch(cs, R, d, by_columns ? 2 * P[0]->h.nrows * (R < width ? R : width) : 0)) != DETCGD_OK)
    return st;
  start = cs->runs_pass;
  len = start + R;
  XG = cs->runs_xg;
  for (r = 0; r < R; r += len[npass++]) { /* passes of width, then 8, 4, 2, 1 runs: the unrolled widths */
    int n = width;
    while (n > R - r) n /= 2;
    start[npass] = r;
    len[npass] = n;
  }
  if (by_columns) {
    for (q = 0; q < npass; ++q) {
      double* X = XG + 2 * d * start[q];
      logreg_grad_pass(P + start[q], x + start[q], g + start[q], m + start[q], fslot + start[q], len[q], X,
                       X + d * len[q], cs->runs_zw);
    }
    return DETCGD_OK;
  }
#pragma omp parallel for schedule(static) if (npass > 1 && nnz * R >= DC_PARALLEL_PASSES_FROM)
  for (q = 0; q < npass; ++q) {
    double* X = XG + 2 * d * start[q];
    logreg_grad_pass(P + start[q], x + start[q], g + start[q], m + start[q], fslot + start[q], len[q], X,
                     X + d * len[q], NULL);
  }
  return DETCGD_OK;
}

/* logreg-nc's minibatch gradient (backend.h): g = (1/b) sum_t grad phi_{j_t}(x) + reg'(x), j_t of `client` */
static void logreg_sampled_grad(const DcHostProblem* h, const double* x, uint64_t seed, uint32_t iter,
                                uint32_t client, int batch, double* g) {
  double invb = 1.0 / (double)batch;
  int64_t t, p;
  memset(g, 0, (size_t)h->layout->dim * sizeof(double));
  for (t = 0; t < batch; ++t) {
    int64_t j = dc_minibatch_row(seed, iter, client, t, h->nrows);
    double z = 0.0, w;
    for (p = h->rowptr[j]; p < h->rowptr[j + 1]; ++p) z += h->val[p] * x[h->colidx[p]];
    z *= h->label[j];
    w = -h->label[j] * invb / (1.0 + dc_exp(dc_exp_clamp(z)));
    for (p = h->rowptr[j]; p < h->rowptr[j + 1]; ++p) g[h->colidx[p]] += w * h->val[p];
  }
  add_nc_regulariser(x, g, h->layout->dim, h->lambda);
  add_l2(x, g, h->layout->dim, h->l2);
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

/* poly-nc: f = sum_j a_j x_j^4 + reg; grad_j = 4 a_j x_j^3 + reg' */
static double poly_grad(const DcHostProblem* h, const double* x, double* g) {
  double f = 0.0;
  int64_t j;
  for (j = 0; j < h->layout->dim; ++j) {
    double x2 = x[j] * x[j];
    f += h->coef[j] * x2 * x2;
    g[j] = 4.0 * h->coef[j] * x2 * x[j];
  }
  return f + add_nc_regulariser(x, g, h->layout->dim, h->lambda);
}

/* g = grad f(x), and f(x) returned when with_f (else what logreg_grad returns without it) */
static double host_grad(const DcHostProblem* h, const double* x, double* g, int with_f) {
  switch (h->kind) {
  case DETCGD_PROBLEM_LOGREG_NC: return logreg_grad(h, x, g, with_f);
  case DETCGD_PROBLEM_QUAD_NC: return quad_grad(h, x, g);
  default: return poly_grad(h, x, g);
  }
}

double dc_host_problem_grad(const DcHostProblem* h, const double* x, double* g) { return host_grad(h, x, g, 1); }

int cpu_problem_grad(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* g,
                            DcVec* m, int fslot) {
  double f;
  (void)be;
  if (P->colptr) f = logreg_grad_by_columns(P, x->data, g->data, fslot >= 0);
  else f = host_grad(&P->h, x->data, g->data, fslot >= 0);
  if (fslot >= 0) m->data[fslot] = f;
  return DETCGD_OK;
}

/* g = q + reg'(x); returns reg(x) */
static double quad_grad_from_residual(const DcProbData* P, const DcVec* x, const DcVec* q, DcVec* g) {
  memcpy(g->data, q->data, (size_t)q->n * sizeof(double));
  return add_nc_regulariser(x->data, g->data, q->n, P->h.lambda);
}

int cpu_quad_residual(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* q, DcVec* g, DcVec* m,
                             int fslot) {
  double f;
  (void)be;
  f = quad_residual(&P->h, x->data, q->data);
  f += quad_grad_from_residual(P, x, q, g);
  if (fslot >= 0) m->data[fslot] = f;
  return DETCGD_OK;
}

/* q_i += alpha A_i[:, j_t] v_t over the kept j_t in slot order; g = q + reg'(x) */
int cpu_quad_step(DcBackend* be, const DcProbData* P, const DcSketch* S, const DcVec* vals, double alpha,
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

void cpu_clients_destroy(DcBackend* be, DcClients** C) {
  (void)be;
  if (!C || !*C) return;
  free(*C);
  *C = NULL;
}

/* A chunk's gradients and messages within 1 MiB, so that they stay in cache between the ops of a round. */
int cpu_clients_create(DcBackend* be, int n, const DcHostProblem* hosts, const DcSketchSpec* spec, DcClients** C) {
  int64_t per = 8 * (spec->layout->dim + spec->cap_off[spec->layout->nblocks]) + 8, chunk = ((int64_t)1 << 20) / per;
  (void)be;
  *C = (DcClients*)dc_calloc(1, sizeof(DcClients));
  if (!*C) return DETCGD_ERR_ALLOC;
  (*C)->n = n;
  (*C)->chunk = chunk < 1 ? 1 : chunk > n ? n : (int)chunk;
  (*C)->hosts = hosts;
  return DETCGD_OK;
}

int cpu_clients_chunk(const DcBackend* be, const DcClients* C) {
  (void)be;
  return C->chunk;
}

int cpu_clients_grad(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, DcVec* G, DcVec* F) {
  int64_t dim = C->hosts[0].layout->dim;
  int r;
  (void)be;
  for (r = 0; r < nc; ++r) {
    double f = host_grad(&C->hosts[c0 + r], x->data, G->data + r * dim, F != NULL);
    if (F) F->data[r] = f;
  }
  return DETCGD_OK;
}

int cpu_clients_grad_sampled(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, uint64_t seed,
                             uint32_t iter, int batch, DcVec* G) {
  int64_t dim = C->hosts[0].layout->dim;
  int r;
  (void)be;
  if (C->hosts[0].kind != DETCGD_PROBLEM_LOGREG_NC) return dc_fail(DETCGD_ERR_ARG, "batch: only logreg-nc has samples to draw");
  for (r = 0; r < nc; ++r)
    logreg_sampled_grad(&C->hosts[c0 + r], x->data, seed, iter, (uint32_t)(c0 + r), batch, G->data + r * dim);
  return DETCGD_OK;
}

int cpu_problem_grad_sampled(DcBackend* be, const DcProbData* P, const DcVec* x, uint64_t seed, uint32_t iter,
                             uint32_t client, int batch, DcVec* g) {
  (void)be;
  if (P->h.kind != DETCGD_PROBLEM_LOGREG_NC) return dc_fail(DETCGD_ERR_ARG, "batch: only logreg-nc has samples to draw");
  logreg_sampled_grad(&P->h, x->data, seed, iter, client, batch, g->data);
  return DETCGD_OK;
}
