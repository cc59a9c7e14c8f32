/*
 * problem.c -- logreg-nc (LIBSVM data) and quad-nc (synthetic wide layered
 * model): construction, layers, and the smoothness matrices.
 *
 * logreg-nc  f(x) = (1/N) sum_j log(1 + exp(-b_j a_j^T x)) + lam sum_j x_j^2/(1+x_j^2) + (mu/2) ||x||^2
 *            on a LIBSVM file or on synthetic rows of a planted model (synthetic.c);
 *            L = (1/(4N)) A^T A + (2 lam + mu) I (mu = l2; lam = 0, mu > 0: strongly convex).  With l > 1 layers L is not block
 *            diagonal; we use the certified bound L <= c B, B = Blockdiag(L_ii),
 *            c = lambda_max(B^{-1/2} L B^{-1/2}) <= l.
 * quad-nc    f(x) = sum_i 1/2 (x_i - c_i)^T A_i (x_i - c_i) + lam sum_j x_j^2/(1+x_j^2)
 *            A_i = a Diag(s) + (1 - a) Q Lambda Q^T, spectrum log-spaced in
 *            [spec_min, spec_max]; L_i = A_i + 2 lam I (the regulariser's
 *            second derivative (2 - 6x^2)/(1+x^2)^3 is at most 2).
 * poly-nc    f(x) = sum_j a_j x_j^4 + lam sum_j x_j^2/(1+x_j^2), a_j log-spaced in [spec_min, spec_max]
 *            and shuffled; f >= 0 = f(0), so f^inf = 0.  Not L-smooth: Hess = Diag(12 a_j x_j^2 + lam r''),
 *            bounded by L = Diag(12 a_j R^2 + 2 lam) only on the box |x_j| <= R (poly_radius).
 *            (L0, L1)-smooth for every L1 > 0 (derived): 12 a t^2 - L1 4 a t^3 <= 16 a / L1^2 (its
 *            maximum, at t = 2 / L1), and 4 a |x|^3 <= |g_j| + lam max|r'| with max|r'| = 3 sqrt(3) / 8,
 *            so |Hess_jj| <= 16 a_j / L1^2 + (2 + 3 sqrt(3) L1 / 8) lam + L1 |g_j| <= L0 + L1 ||g||.
 * Strong convexity (derived): the regulariser's second derivative lam (2 - 6 t) / (1 + t)^3, t = x^2, is least
 * at t = 1, -lam / 2; so Hess f_c >= (mu - lam / 2) I for logreg-nc (mu = l2) and (spec_min - lam / 2) I for
 * quad-nc (both parts of A_i have spectrum in [spec_min, spec_max]), strongly convex when positive.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "linalg.h"
#include "philox.h"
#include "dist.h"
#include "gram.h"
#include "options.h"
#include "problem.h"

#define DC_DENSE_LAYER_MAX 20000 /* logreg-nc forms the dense blocks L_ii on the host */

/* ==== Layers ==== */

/* Layer widths from spec (nlayers near-equal split, or the list), checked to sum to d. */
static int build_layout(DetcgdProblem* p, int64_t d) {
  int *sizes = NULL, n = 0, i, st;
  int64_t sum = 0;
  if (p->spec.nlayers > 0) {
    if (p->spec.nlayers > d)
      return dc_fail(DETCGD_ERR_ARG, "nlayers: %d layers for d = %lld coordinates", p->spec.nlayers, (long long)d);
    n = p->spec.nlayers;
    sizes = (int*)dc_calloc((size_t)n, sizeof(int));
    if (!sizes) return DETCGD_ERR_ALLOC;
    for (i = 0; i < n; ++i) sizes[i] = (int)(d / n + (i < d % n ? 1 : 0));
  } else {
    st = dc_parse_layers(p->spec.layers, &sizes, &n, "layers");
    if (st != DETCGD_OK) return st;
    if (n == 0) {
      if (d <= 0) return dc_fail(DETCGD_ERR_ARG, "layers: %s needs layer widths (e.g. layers = 16x64)",
                            detcgd_problem_kind_name(p->spec.kind));
      if (d > 1000000000LL) return dc_fail(DETCGD_ERR_ARG, "layers: d = %lld is too wide for one layer", (long long)d);
      sizes = (int*)dc_calloc(1, sizeof(int));
      if (!sizes) return DETCGD_ERR_ALLOC;
      sizes[0] = (int)d;
      n = 1;
    }
  }
  for (i = 0; i < n; ++i) sum += sizes[i];
  if (d > 0 && sum != d) {
    free(sizes);
    return dc_fail(DETCGD_ERR_ARG, "layers: widths sum to %lld but the problem has d = %lld", (long long)sum, (long long)d);
  }
  st = dc_layout_init(&p->layout, n, sizes);
  free(sizes);
  return st;
}

/* ==== logreg-nc ==== */

/* data-precision fp32: every value becomes the nearest float (the problem is the rounded data). */
static int round_values_to_float(DetcgdProblem* p) {
  int64_t e, j;
  for (e = 0; e < p->data.nnz; ++e) {
    double v = p->data.val[e];
    if (fabs(v) > FLT_MAX) {
      for (j = 0; p->data.rowptr[j + 1] <= e; ++j) {}
      return dc_fail(DETCGD_ERR_ARG, "data-precision: fp32 cannot hold the value %g of row %lld", v, (long long)j + 1);
    }
    p->data.val[e] = (double)(float)v;
  }
  return DETCGD_OK;
}

/* L_i = c L_ii with c = lambda_max(B^{-1/2} L B^{-1/2}), B = Blockdiag(L_ii) (matrix-free, gram.h). */
static int logreg_block_bound(DetcgdProblem* p) {
  const DcLayout* lay = &p->layout;
  double* Bh = NULL; /* B^{-1/2} */
  int64_t e;
  int st;
  dc_gram_add_blocks(&p->host, lay, 1.0, p->L.data);
  p->block_c = 1.0;
  if (lay->nblocks == 1) return DETCGD_OK;
  if (!(Bh = (double*)dc_calloc((size_t)lay->moff[lay->nblocks], sizeof(double)))) return DETCGD_ERR_ALLOC;
  st = dc_blocks_power(&p->L, -0.5, Bh);
  if (st == DETCGD_OK) st = dc_gram_lambda_max(&p->host, 1, lay, Bh, DC_RTOL_CONSTANT, &p->block_c);
  free(Bh);
  if (st != DETCGD_OK) return st;
  for (e = 0; e < lay->moff[lay->nblocks]; ++e) p->L.data[e] *= p->block_c;
  return DETCGD_OK;
}

/* logreg-nc on the caller's arrays (arrays != NULL), synthetic rows or the LIBSVM file. */
static int logreg_create(DetcgdProblem* p, const DetcgdData* arrays) {
  int64_t d;
  int st;
  if (arrays) {
    d = p->spec.features > 0 ? p->spec.features : arrays->ncols;
    if (d != arrays->ncols)
      return dc_fail(DETCGD_ERR_ARG, "features: %lld, but the data has %lld columns", (long long)d, (long long)arrays->ncols);
    st = dc_libsvm_from_arrays(arrays, &p->data);
  } else if (p->spec.samples > 0) {
    d = p->spec.features;
    st = dc_synthetic_logistic(p->spec.samples, d, p->spec.density, p->spec.seed, &p->data);
  } else {
    st = dc_libsvm_read(p->spec.data_path, &p->data);
    d = p->spec.features > 0 ? p->spec.features : p->data.max_index;
  }
  if (st == DETCGD_OK && p->spec.data_precision == DETCGD_PREC_FP32) st = round_values_to_float(p);
  if (st != DETCGD_OK) return st;
  if (d <= 0) return dc_fail(DETCGD_ERR_ARG, "%s: no features in the file", p->spec.data_path);
  if (p->data.max_index > d)
    return dc_fail(DETCGD_ERR_ARG, "features: %lld, but %s uses index %d", (long long)d, p->spec.data_path, p->data.max_index);
  st = build_layout(p, d);
  if (st == DETCGD_OK && p->layout.max_size > DC_DENSE_LAYER_MAX)
    return dc_fail(DETCGD_ERR_ARG, "layers: a layer of %d coordinates exceeds %d, the widest whose dense smoothness block logreg-nc forms; split d = %lld into layers (nlayers = %lld or more)",
                   p->layout.max_size, DC_DENSE_LAYER_MAX, (long long)d, (long long)((d + DC_DENSE_LAYER_MAX - 1) / DC_DENSE_LAYER_MAX));
  if (st == DETCGD_OK) st = dc_split_clients(p);
  if (st == DETCGD_OK) st = dc_blocks_alloc(&p->L, &p->layout, DC_BLOCKS_DENSE);
  if (st != DETCGD_OK) return st;
  p->host.kind = DETCGD_PROBLEM_LOGREG_NC;
  p->host.layout = &p->layout;
  p->host.lambda = p->spec.lambda;
  p->host.l2 = p->spec.l2;
  p->host.nrows = p->data.nrows;
  p->host.rowptr = p->data.rowptr;
  p->host.colidx = p->data.colidx;
  p->host.val = p->data.val;
  p->host.label = p->data.label;
  p->host.store32 = p->spec.data_precision == DETCGD_PREC_FP32;
  return logreg_block_bound(p);
}

/* ==== quad-nc ==== */

/* Eigenvalue j of m, log-spaced from spec_min to spec_max. */
static double spectrum_value(const DetcgdProblemSpec* s, int j, int m) {
  if (m == 1) return s->spec_max;
  return s->spec_min * pow(s->spec_max / s->spec_min, (double)j / (double)(m - 1));
}

/* Fisher-Yates shuffle of v[0..n) from the counter stream (seed, j, stream). */
static void seeded_shuffle(double* v, int n, uint64_t seed, uint32_t stream) {
  int j;
  for (j = n - 1; j > 0; --j) {
    int t = dc_uniform_index(dc_philox_draw(seed, (uint32_t)j, stream, 0, 0), j + 1);
    double tmp = v[j]; v[j] = v[t]; v[t] = tmp;
  }
}

/* A = a Diag(shuffled spectrum) + (1 - a) Q Diag(spectrum) Q^T for layer i. */
static int quad_block(const DetcgdProblemSpec* s, int i, int m, double* A) {
  double a = s->diag_dominance;
  double* lam = (double*)dc_calloc((size_t)m, sizeof(double));
  double* Q = a < 1.0 ? (double*)dc_calloc((size_t)m * m, sizeof(double)) : NULL;
  int j, r, c, st = DETCGD_OK;
  if (!lam || (a < 1.0 && !Q)) { free(lam); free(Q); return DETCGD_ERR_ALLOC; }
  for (j = 0; j < m; ++j) lam[j] = spectrum_value(s, j, m);
  memset(A, 0, (size_t)m * m * sizeof(double));
  if (a < 1.0) {
    st = dc_random_orthogonal(m, s->seed, 3u * (uint32_t)i, Q);
    for (c = 0; c < m && st == DETCGD_OK; ++c)
      for (r = 0; r < m; ++r) {
        double v = 0.0;
        for (j = 0; j < m; ++j) v += Q[r + (int64_t)j * m] * lam[j] * Q[c + (int64_t)j * m];
        A[r + (int64_t)c * m] = (1.0 - a) * v;
      }
  }
  seeded_shuffle(lam, m, s->seed, 3u * (uint32_t)i + 1u); /* the diagonal part's spectrum */
  for (j = 0; j < m; ++j) A[j + (int64_t)j * m] += a * lam[j];
  free(lam);
  free(Q);
  return st;
}

/* Layer i of quad-nc: A_i (data-precision fp32: rounded to float, the problem is then the rounded A) and
 * its centre c_i. */
static int quad_layer(void* ctx, int i, double** w, double* unused) {
  DetcgdProblem* p = (DetcgdProblem*)ctx;
  const DcLayout* lay = &p->layout;
  int m = lay->size[i], r, st;
  (void)w;
  (void)unused;
  if ((st = quad_block(&p->spec, i, m, p->A + lay->moff[i])) != DETCGD_OK) return st;
  if (p->spec.data_precision == DETCGD_PREC_FP32 &&
      (st = dc_round_float_entries(p->A + lay->moff[i], (int64_t)m * m, lay->moff[i], "data-precision")) != DETCGD_OK)
    return st;
  for (r = 0; r < m; ++r)
    p->c[lay->voff[i] + r] = p->spec.center_scale * dc_gaussian(p->spec.seed, 3u * (uint32_t)i + 2u, (uint32_t)r);
  return DETCGD_OK;
}

static int quad_create(DetcgdProblem* p) {
  const DcLayout* lay;
  int st = build_layout(p, 0);
  if (st != DETCGD_OK) return st;
  lay = &p->layout;
  p->A = (double*)dc_calloc((size_t)lay->moff[lay->nblocks], sizeof(double));
  p->c = (double*)dc_calloc((size_t)lay->dim, sizeof(double));
  if (!p->A || !p->c) return DETCGD_ERR_ALLOC;
  st = dc_for_each_block(lay->nblocks, lay->max_size, 0, quad_layer, p, NULL);
  p->block_c = 1.0;
  p->host.A = p->A;
  p->host.c = p->c;
  p->host.store32 = p->spec.data_precision == DETCGD_PREC_FP32;
  return st;
}

/* ==== poly-nc ==== */

#define DC_STREAM_POLY_SHUFFLE 0xFFFFFF02u /* the shuffle of poly-nc's a_j */

/* a_j: quad-nc's log-spaced spectrum over all d coordinates, shuffled. */
static int poly_create(DetcgdProblem* p) {
  const DetcgdProblemSpec* s = &p->spec;
  int d, j;
  int st = build_layout(p, 0);
  if (st != DETCGD_OK) return st;
  if (p->layout.dim > 1000000000LL)
    return dc_fail(DETCGD_ERR_ARG, "layers: poly-nc takes d <= 10^9 (got %lld)", (long long)p->layout.dim);
  d = (int)p->layout.dim;
  if (!(p->coef = (double*)dc_calloc((size_t)d, sizeof(double)))) return DETCGD_ERR_ALLOC;
  for (j = 0; j < d; ++j) p->coef[j] = spectrum_value(s, j, d);
  seeded_shuffle(p->coef, d, s->seed, DC_STREAM_POLY_SHUFFLE);
  if (s->data_precision == DETCGD_PREC_FP32 && (st = dc_round_float_entries(p->coef, d, 0, "data-precision")) != DETCGD_OK)
    return st;
  p->block_c = 1.0;
  p->host.coef = p->coef;
  p->host.store32 = s->data_precision == DETCGD_PREC_FP32;
  return DETCGD_OK;
}

/* ==== Public API ==== */

/* Ranges from the option table; here the checks that span several options. */
static int validate_spec(const DetcgdProblemSpec* s) {
  int st = dc_options_check(DC_IN_PROBLEM, s, NULL);
  if (st != DETCGD_OK) return st;
  if (s->kind == DETCGD_PROBLEM_QUAD_NC || s->kind == DETCGD_PROBLEM_POLY_NC) {
    const char* name = detcgd_problem_kind_name(s->kind);
    if (!(s->spec_max >= s->spec_min))
      return dc_fail(DETCGD_ERR_ARG, "spec-min/spec-max: need 0 < spec_min <= spec_max (got %g, %g)", s->spec_min, s->spec_max);
    if (s->nlayers > 0) return dc_fail(DETCGD_ERR_ARG, "nlayers: only for logreg-nc; give %s widths with layers", name);
    if (s->samples != 0 || s->density != 1.0)
      return dc_fail(DETCGD_ERR_ARG, "%s: only for logreg-nc (%s has no rows)", s->samples != 0 ? "samples" : "density", name);
    if (s->clients != 0) return dc_fail(DETCGD_ERR_ARG, "clients: distributed runs split a dataset; use logreg-nc");
  } else {
    if (s->samples > 0 && s->data_path[0] != '\0')
      return dc_fail(DETCGD_ERR_ARG, "samples: synthetic rows or data = %s, not both", s->data_path);
    if (s->samples == 0 && s->data_path[0] == '\0')
      return dc_fail(DETCGD_ERR_ARG, "data: logreg-nc needs a LIBSVM file (data = PATH) or synthetic rows (samples = N, features = d)");
    if (s->samples > 0 && s->features < 1)
      return dc_fail(DETCGD_ERR_ARG, "features: synthetic rows need features = d >= 1");
  }
  return DETCGD_OK;
}

uint64_t dc_problem_data_hash(const DetcgdProblem* p) {
  const DcHostProblem* h = &p->host;
  const DcLayout* lay = &p->layout;
  uint64_t x = dc_hash64(DC_HASH_START, lay->size, (size_t)lay->nblocks * sizeof(int));
  if (h->kind == DETCGD_PROBLEM_QUAD_NC) {
    x = dc_hash64(x, h->A, (size_t)lay->moff[lay->nblocks] * sizeof(double));
    return dc_hash64(x, h->c, (size_t)lay->dim * sizeof(double));
  }
  if (h->kind == DETCGD_PROBLEM_POLY_NC) return dc_hash64(x, h->coef, (size_t)lay->dim * sizeof(double));
  x = dc_hash64(x, h->rowptr, (size_t)(h->nrows + 1) * sizeof(int64_t));
  x = dc_hash64(x, h->colidx, (size_t)h->rowptr[h->nrows] * sizeof(int32_t));
  x = dc_hash64(x, h->val, (size_t)h->rowptr[h->nrows] * sizeof(double));
  return dc_hash64(x, h->label, (size_t)h->nrows * sizeof(double));
}

void dc_problem_L_get(const DetcgdProblem* p, int i, double* out) {
  const DcLayout* lay = &p->layout;
  int m = lay->size[i], r;
  if (p->spec.kind == DETCGD_PROBLEM_LOGREG_NC) { dc_blocks_get_dense(&p->L, i, out); return; }
  if (p->spec.kind == DETCGD_PROBLEM_POLY_NC) {
    double R2 = p->spec.poly_radius * p->spec.poly_radius;
    memset(out, 0, (size_t)m * m * sizeof(double));
    for (r = 0; r < m; ++r) out[r + (int64_t)r * m] = 12.0 * p->coef[lay->voff[i] + r] * R2 + 2.0 * p->spec.lambda;
    return;
  }
  memcpy(out, p->A + lay->moff[i], (size_t)m * m * sizeof(double));
  for (r = 0; r < m; ++r) out[r + (int64_t)r * m] += 2.0 * p->spec.lambda;
}

double dc_problem_mu(const DetcgdProblem* p) {
  double base = p->spec.kind == DETCGD_PROBLEM_LOGREG_NC ? p->spec.l2
                : p->spec.kind == DETCGD_PROBLEM_QUAD_NC ? p->spec.spec_min : 0.0;
  return base > 0.5 * p->spec.lambda ? base - 0.5 * p->spec.lambda : 0.0;
}

void dc_problem_l0_l1(const DetcgdProblem* p, double* L0, double* L1) {
  const DcHostProblem* h = &p->host;
  double amax = 0.0;
  int64_t j, q;
  if (p->spec.kind == DETCGD_PROBLEM_POLY_NC) {
    double l1 = p->spec.poly_l1;
    *L1 = l1;
    *L0 = 16.0 * dc_max_of(p->coef, (int)p->layout.dim) / (l1 * l1) + (2.0 + 3.0 * sqrt(3.0) * l1 / 8.0) * p->spec.lambda;
    return;
  }
  if (p->spec.kind != DETCGD_PROBLEM_LOGREG_NC || p->spec.l2 > 0) { *L0 = p->lmax; *L1 = 0.0; return; }
  for (j = 0; j < h->nrows; ++j) {
    double s = 0.0;
    for (q = h->rowptr[j]; q < h->rowptr[j + 1]; ++q) s += h->val[q] * h->val[q];
    if (s > amax) amax = s;
  }
  *L1 = sqrt(amax);
  *L0 = 2.0 * p->spec.lambda + p->spec.lambda * sqrt((double)p->layout.dim) * *L1;
}

/* lambda_max(L_i) (L_i may be singular: lambda = 0 with a feature that never occurs; the stepsizes that
 * invert L_i say so themselves). */
static int block_lmax(void* ctx, int i, double** w, double* lm) {
  const DetcgdProblem* p = (const DetcgdProblem*)ctx;
  double* Li = w[0];
  dc_problem_L_get(p, i, Li);
  return dc_lambda_max(Li, p->layout.size[i], lm);
}

/* lambda_max over blocks. */
static int compute_lmax(DetcgdProblem* p) {
  double* v = (double*)dc_calloc((size_t)p->layout.nblocks + 1, sizeof(double));
  int st = v ? dc_for_each_block(p->layout.nblocks, p->layout.max_size, 1, block_lmax, p, v) : DETCGD_ERR_ALLOC;
  p->lmax = st == DETCGD_OK ? dc_max_of(v, p->layout.nblocks) : 0.0;
  free(v);
  return st;
}

static int problem_create(DetcgdProblem** out, const DetcgdProblemSpec* spec, const DetcgdData* arrays) {
  DetcgdProblem* p;
  int st;
  p = (DetcgdProblem*)dc_calloc(1, sizeof *p);
  if (!p) return DETCGD_ERR_ALLOC;
  *out = p;
  p->spec = *spec;
  st = spec->kind == DETCGD_PROBLEM_LOGREG_NC ? logreg_create(p, arrays)
       : spec->kind == DETCGD_PROBLEM_QUAD_NC ? quad_create(p) : poly_create(p);
  if (st == DETCGD_OK) st = compute_lmax(p);
  if (st != DETCGD_OK) { detcgd_problem_destroy(out); return st; }
  p->host.kind = spec->kind;
  p->host.layout = &p->layout;
  p->host.lambda = spec->lambda;
  return DETCGD_OK;
}

int detcgd_problem_create(DetcgdProblem** out, const DetcgdProblemSpec* spec) {
  int st;
  if (!out || !spec) return dc_fail(DETCGD_ERR_ARG, "detcgd_problem_create: NULL argument");
  *out = NULL;
  if ((st = validate_spec(spec)) != DETCGD_OK) return st;
  return problem_create(out, spec, NULL);
}

int detcgd_problem_from_data(DetcgdProblem** out, const DetcgdProblemSpec* spec, const DetcgdData* data) {
  int st;
  if (!out || !spec || !data) return dc_fail(DETCGD_ERR_ARG, "detcgd_problem_from_data: NULL argument");
  *out = NULL;
  if (spec->kind != DETCGD_PROBLEM_LOGREG_NC)
    return dc_fail(DETCGD_ERR_ARG, "problem: the caller's rows make a logreg-nc problem, not %s", detcgd_problem_kind_name(spec->kind));
  if (spec->data_path[0] || spec->samples != 0 || spec->density != 1.0)
    return dc_fail(DETCGD_ERR_ARG, "%s: the rows come from the caller's arrays",
                   spec->data_path[0] ? "data" : spec->samples != 0 ? "samples" : "density");
  if ((st = dc_options_check(DC_IN_PROBLEM, spec, NULL)) != DETCGD_OK) return st;
  return problem_create(out, spec, data);
}

int detcgd_read_libsvm(const char* path, DetcgdData* out) {
  DcLibsvm f;
  int st;
  if (!path || !out) return dc_fail(DETCGD_ERR_ARG, "detcgd_read_libsvm: NULL argument");
  memset(out, 0, sizeof *out);
  if ((st = dc_libsvm_read(path, &f)) != DETCGD_OK) return st;
  out->nrows = f.nrows;
  out->ncols = f.max_index;
  out->indptr = f.rowptr; /* the arrays move to out */
  out->indices = f.colidx;
  out->values = f.val;
  out->labels = f.label;
  return DETCGD_OK;
}

void detcgd_data_free(DetcgdData* d) {
  if (!d) return;
  free((void*)d->indptr);
  free((void*)d->indices);
  free((void*)d->values);
  free((void*)d->labels);
  memset(d, 0, sizeof *d);
}

void detcgd_problem_destroy(DetcgdProblem** pp) {
  DetcgdProblem* p;
  if (!pp || !*pp) return;
  p = *pp;
  dc_libsvm_free(&p->data);
  free(p->client_row);
  free(p->client_host);
  dc_blocks_free(&p->L);
  dc_layout_free(&p->layout);
  free(p->A);
  free(p->c);
  free(p->coef);
  free(p);
  *pp = NULL;
}

int detcgd_problem_info(const DetcgdProblem* p, DetcgdProblemInfo* info) {
  if (!p || !info) return dc_fail(DETCGD_ERR_ARG, "detcgd_problem_info: NULL argument");
  info->dim = p->layout.dim;
  info->nlayers = p->layout.nblocks;
  info->nsamples = p->host.nrows;
  info->nnz = p->data.nnz;
  info->lmax = p->lmax;
  info->block_bound_c = p->block_c;
  dc_problem_l0_l1(p, &info->L0, &info->L1);
  info->mu = dc_problem_mu(p);
  return DETCGD_OK;
}

int detcgd_problem_layer_size(const DetcgdProblem* p, int i) {
  return (p && i >= 0 && i < p->layout.nblocks) ? p->layout.size[i] : 0;
}

int detcgd_problem_eval(const DetcgdProblem* p, const double* x, double* f, double* g) {
  double* tmp = g;
  if (!p || !x) return dc_fail(DETCGD_ERR_ARG, "detcgd_problem_eval: NULL argument");
  if (!g && !(tmp = (double*)dc_calloc((size_t)p->layout.dim, sizeof(double)))) return DETCGD_ERR_ALLOC;
  {
    double v = dc_host_problem_grad(&p->host, x, tmp);
    if (f) *f = v;
  }
  if (!g) free(tmp);
  return DETCGD_OK;
}

int detcgd_problem_smoothness_block(const DetcgdProblem* p, int i, double* out) {
  if (!p || !out || i < 0 || i >= p->layout.nblocks)
    return dc_fail(DETCGD_ERR_ARG, "detcgd_problem_smoothness_block: bad argument");
  dc_problem_L_get(p, i, out);
  return DETCGD_OK;
}
