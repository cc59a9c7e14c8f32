/*
 * stepsize.c -- the stepsize matrices of DESIGN.md section 2.
 *
 *   GD          D = I / lambda_max(L)
 *   CGD scalar  D = gamma I, gamma = 1 / (lambda_max(L) max_i lambda_max(E[S_i^2]))
 *   CGD-mat     D = gamma I, gamma = 1 / max_i lambda_max(E[S_i L_i S_i])
 *   det2-opt    D_i = (E[T_i L_i T_i])^{-1}                                   (12)
 *   thm2        D_i = gamma_i W_i, gamma_i = 1/lambda_max(W_i^{-1/2} E[S_i W_i L_i W_i S_i] W_i^{-1/2})
 *   user        read from a file
 * Each D is then checked against (7) (GD, det-CGD1) or (8) (det-CGD2).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "linalg.h"
#include "stepsize.h"
#include "method.h"

/* What the per-block functions below read (dc_for_each_block runs them on every core). */
typedef struct BlockCtx {
  const DetcgdProblem* p;
  const DcSketchSpec* sk;
  const DcHostBlocks* D; /* certificates, log det (fp32 rounding: D == out) */
  DcHostBlocks* out;     /* stepsizes: block i written by block i's call only */
  int flag;              /* use_L / weight / det2 */
} BlockCtx;

/* Runs fn over p's blocks with nscratch scratch matrices each; per-block values in *values (may be NULL). */
static int each_block(const BlockCtx* c, int nscratch, DcBlockFn fn, double** values) {
  const DcLayout* lay = c->p ? &c->p->layout : c->D->layout;
  int st;
  if (values && !(*values = (double*)dc_calloc((size_t)lay->nblocks + 1, sizeof(double)))) return DETCGD_ERR_ALLOC;
  st = dc_for_each_block(lay->nblocks, lay->max_size, nscratch, fn, (void*)c, values ? *values : NULL);
  if (st != DETCGD_OK && values) { free(*values); *values = NULL; }
  return st;
}

/* The largest of fn's per-block values (and 0). */
static int max_over_blocks(const BlockCtx* c, int nscratch, DcBlockFn fn, double* out) {
  double* v = NULL;
  int st = each_block(c, nscratch, fn, &v);
  *out = st == DETCGD_OK ? dc_max_of(v, c->p->layout.nblocks) : 0.0;
  free(v);
  return st;
}

/* ==== Scalar stepsizes ==== */

/* lambda_max(E[S_i A_i S_i]) with A_i = L_i (flag) or I. */
static int moment_eig_block(void* ctx, int i, double** w, double* lm) {
  const BlockCtx* c = (const BlockCtx*)ctx;
  int m = c->p->layout.size[i], r;
  if (c->flag) dc_problem_L_get(c->p, i, w[0]);
  else {
    memset(w[0], 0, (size_t)m * m * sizeof(double));
    for (r = 0; r < m; ++r) w[0][r + (int64_t)r * m] = 1.0;
  }
  dc_sketch_second_moment(c->sk, i, w[0], w[1]);
  return dc_lambda_max(w[1], m, lm);
}

/* max_i lambda_max(E[S_i A_i S_i]) with A_i = L_i (use_L) or I. */
static int max_moment_eig(const DetcgdProblem* p, const DcSketchSpec* sk, int use_L, double* out) {
  BlockCtx c = {p, sk, NULL, NULL, use_L};
  return max_over_blocks(&c, 2, moment_eig_block, out);
}

static int scalar_stepsize(DcHostBlocks* D, double gamma) {
  int i;
  for (i = 0; i < D->layout->nblocks; ++i) D->data[i] = gamma;
  return DETCGD_OK;
}

/* ==== Matrix stepsizes ==== */

/* W_i for Theorem 2 into out. */
static int weight_block(const double* L, int m, int weight, double* out) {
  int r;
  switch (weight) {
    case DETCGD_W_IDENTITY:
      memset(out, 0, (size_t)m * m * sizeof(double));
      for (r = 0; r < m; ++r) out[r + (int64_t)r * m] = 1.0;
      return DETCGD_OK;
    case DETCGD_W_DIAG_INV:
      memset(out, 0, (size_t)m * m * sizeof(double));
      for (r = 0; r < m; ++r) out[r + (int64_t)r * m] = 1.0 / L[r + (int64_t)r * m];
      return DETCGD_OK;
    case DETCGD_W_INV:
      return dc_spd_inverse(L, m, out);
    default:
      return dc_sym_power(L, m, -0.5, out);
  }
}

/* D_i = gamma_i W_i, gamma_i = 1 / lambda_max(W^{-1} E[S (W L W) S]) (Theorem 2). */
static int thm2_block(void* ctx, int i, double** w, double* unused) {
  const BlockCtx* c = (const BlockCtx*)ctx;
  int m = c->p->layout.size[i], st;
  int64_t e, mm = (int64_t)m * m;
  double lm, *L = w[3];
  double* Di = c->out->data + c->p->layout.moff[i];
  (void)unused;
  dc_problem_L_get(c->p, i, L);
  if ((st = weight_block(L, m, c->flag, Di)) != DETCGD_OK) return st; /* Di = W */
  dc_matmul(Di, L, m, w[0]);                           /* W L */
  dc_matmul(w[0], Di, m, w[1]);                        /* W L W */
  dc_sketch_second_moment(c->sk, i, w[1], w[2]);       /* E[S W L W S] */
  st = dc_gen_lambda_max(w[2], Di, m, &lm);
  for (e = 0; e < mm && st == DETCGD_OK; ++e) Di[e] /= lm;
  return st;
}

static int thm2_stepsize(const DetcgdProblem* p, const DcSketchSpec* sk, int weight, DcHostBlocks* D) {
  BlockCtx c = {p, sk, NULL, D, weight};
  return each_block(&c, 4, thm2_block, NULL);
}

/* D_i = (E[T_i L_i T_i])^{-1}, the det-CGD2 optimum (12). */
static int det2_opt_block(void* ctx, int i, double** w, double* unused) {
  const BlockCtx* c = (const BlockCtx*)ctx;
  (void)unused;
  dc_problem_L_get(c->p, i, w[1]);
  dc_sketch_second_moment(c->sk, i, w[1], w[0]);
  if (dc_spd_inverse(w[0], c->p->layout.size[i], c->out->data + c->p->layout.moff[i]) != DETCGD_OK)
    return dc_fail(DETCGD_ERR_NUMERIC, "stepsize: E[T L T] of block %d is not positive definite", i);
  return DETCGD_OK;
}

static int det2_opt_stepsize(const DetcgdProblem* p, const DcSketchSpec* sk, DcHostBlocks* D) {
  BlockCtx c = {p, sk, NULL, D, 0};
  return each_block(&c, 2, det2_opt_block, NULL);
}

/* D_i = (k_i/d_i) diag^{-1}(L_i): the gamma Table 1 (row 8) states for rand-k with W = diag^{-1}(L), which is
 * Theorem 2's for k = 1 only (for k > 1 it is larger, and (7) fails: the certificate says by how much). */
static int table1_stepsize(const DetcgdProblem* p, const DcSketchSpec* sk, DcHostBlocks* D) {
  const DcLayout* lay = &p->layout;
  double* L = (double*)dc_calloc((size_t)lay->max_size * (size_t)lay->max_size, sizeof(double));
  int i, r;
  if (sk->kind != DC_SK_RANDK && sk->kind != DC_SK_RAND1) {
    free(L);
    return dc_fail(DETCGD_ERR_ARG, "stepsize: table1 is Table 1 row 8's gamma = k/d for rand-k sketches; this "
                   "sketch is not rand-k (use thm2)");
  }
  if (!L) return DETCGD_ERR_ALLOC;
  for (i = 0; i < lay->nblocks; ++i) {
    int m = lay->size[i];
    dc_problem_L_get(p, i, L);
    for (r = 0; r < m; ++r)
      D->data[lay->voff[i] + r] = (double)sk->layers[i].k / m / L[r + (int64_t)r * m];
  }
  free(L);
  return DETCGD_OK;
}

/* Reads d numbers (diagonal D) or sum d_i^2 numbers (dense blocks, column-major). */
static int user_stepsize(const DetcgdProblem* p, const char* path, DcHostBlocks* D) {
  const DcLayout* lay = &p->layout;
  int64_t n = 0, dense_n = lay->moff[lay->nblocks], cap = dense_n;
  double* v;
  FILE* f = fopen(path, "r");
  int st = DETCGD_OK, c;
  if (!f) return dc_fail(DETCGD_ERR_IO, "stepsize-file: cannot open %s (%s)", path, strerror(errno));
  v = (double*)dc_calloc((size_t)cap + 1, sizeof(double));
  if (!v) { fclose(f); return DETCGD_ERR_ALLOC; }
  for (;;) {
    double x;
    while ((c = fgetc(f)) != EOF && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {}
    if (c == EOF) break;
    ungetc(c, f);
    if (fscanf(f, "%lf", &x) != 1 || !isfinite(x)) { st = dc_fail(DETCGD_ERR_PARSE, "stepsize-file: %s: entry %lld is not a finite number", path, (long long)n + 1); break; }
    if (n > cap) { st = dc_fail(DETCGD_ERR_PARSE, "stepsize-file: %s has more than %lld numbers", path, (long long)cap); break; }
    v[n++] = x;
  }
  fclose(f);
  if (st == DETCGD_OK && n != lay->dim && n != dense_n)
    st = dc_fail(DETCGD_ERR_PARSE, "stepsize-file: %s has %lld numbers; expected d = %lld (diagonal) or %lld (dense blocks)",
                 path, (long long)n, (long long)lay->dim, (long long)dense_n);
  if (st == DETCGD_OK && n == lay->dim && n != dense_n) {
    dc_blocks_free(D);
    st = dc_blocks_alloc(D, lay, DC_BLOCKS_DIAG);
  }
  if (st == DETCGD_OK) memcpy(D->data, v, (size_t)n * sizeof(double));
  free(v);
  return st;
}

/* ==== Certificates and log det ==== */

/* log det D_i */
static int log_det_block(void* ctx, int i, double** w, double* ld) {
  const DcHostBlocks* D = ((const BlockCtx*)ctx)->D;
  const DcLayout* lay = D->layout;
  int r, st;
  (void)w;
  *ld = 0.0;
  if (D->kind == DC_BLOCKS_DENSE) {
    st = dc_chol_logdet(D->data + lay->moff[i], lay->size[i], ld);
    return st == DETCGD_OK ? st : dc_fail(st, "stepsize: block %d of D is not positive definite", i);
  }
  for (r = 0; r < lay->size[i]; ++r) {
    double v = D->kind == DC_BLOCKS_SCALAR ? D->data[i] : D->data[lay->voff[i] + r];
    if (!(v > 0.0)) return dc_fail(DETCGD_ERR_NUMERIC, "stepsize: D has a non-positive diagonal entry %g in block %d", v, i);
    *ld += log(v);
  }
  return DETCGD_OK;
}

int dc_log_det(const DcHostBlocks* D, double* out) {
  BlockCtx c = {NULL, NULL, D, NULL, 0};
  double* v = NULL;
  int st = each_block(&c, 0, log_det_block, &v);
  *out = st == DETCGD_OK ? dc_sum_of(v, D->layout->nblocks) : 0.0;
  free(v);
  return st;
}

/* lambda_max(D_i^{-1} E[S D_i L_i D_i S]) */
static int cert_det1_block(void* ctx, int i, double** w, double* lm) {
  const BlockCtx* c = (const BlockCtx*)ctx;
  int m = c->p->layout.size[i];
  dc_blocks_get_dense(c->D, i, w[3]);
  dc_problem_L_get(c->p, i, w[4]);
  dc_matmul(w[3], w[4], m, w[0]);
  dc_matmul(w[0], w[3], m, w[1]);                 /* D L D */
  dc_sketch_second_moment(c->sk, i, w[1], w[2]);  /* E[S D L D S] */
  return dc_gen_lambda_max(w[2], w[3], m, lm);
}

int dc_certificate_det1(const DetcgdProblem* p, const DcSketchSpec* sk, const DcHostBlocks* D, double* out) {
  BlockCtx c = {p, sk, D, NULL, 0};
  return max_over_blocks(&c, 5, cert_det1_block, out);
}

/* lambda_max(D_i E[T L_i T]) */
static int cert_det2_block(void* ctx, int i, double** w, double* lm) {
  const BlockCtx* c = (const BlockCtx*)ctx;
  int m = c->p->layout.size[i], st;
  dc_blocks_get_dense(c->D, i, w[1]);
  if ((st = dc_spd_inverse(w[1], m, w[2])) != DETCGD_OK) return st;  /* D^{-1} */
  dc_problem_L_get(c->p, i, w[3]);
  dc_sketch_second_moment(c->sk, i, w[3], w[0]);                      /* E[T L T] */
  return dc_gen_lambda_max(w[0], w[2], m, lm);
}

int dc_certificate_det2(const DetcgdProblem* p, const DcSketchSpec* sk, const DcHostBlocks* D, double* out) {
  BlockCtx c = {p, sk, D, NULL, 0};
  return max_over_blocks(&c, 4, cert_det2_block, out);
}

/* ==== Builder ==== */

static int build_raw(DcStepsize* out, const DetcgdProblem* p, const DetcgdSettings* s, const DcSketchSpec* sk) {
  const DcLayout* lay = &p->layout;
  double v;
  int st;
  switch (s->stepsize.kind) {
    case DETCGD_STEP_GD:
      st = dc_blocks_alloc(&out->D, lay, DC_BLOCKS_SCALAR);
      return st ? st : scalar_stepsize(&out->D, 1.0 / p->lmax);
    case DETCGD_STEP_CGD_SCALAR:
      st = dc_blocks_alloc(&out->D, lay, DC_BLOCKS_SCALAR);
      if (st == DETCGD_OK) st = max_moment_eig(p, sk, 0, &v);
      return st ? st : scalar_stepsize(&out->D, 1.0 / (p->lmax * v));
    case DETCGD_STEP_CGD_MAT:
      st = dc_blocks_alloc(&out->D, lay, DC_BLOCKS_SCALAR);
      if (st == DETCGD_OK) st = max_moment_eig(p, sk, 1, &v);
      return st ? st : scalar_stepsize(&out->D, 1.0 / v);
    case DETCGD_STEP_DET2_OPT:
      st = dc_blocks_alloc(&out->D, lay, DC_BLOCKS_DENSE);
      return st ? st : det2_opt_stepsize(p, sk, &out->D);
    case DETCGD_STEP_THM2:
      st = dc_blocks_alloc(&out->D, lay, DC_BLOCKS_DENSE);
      return st ? st : thm2_stepsize(p, sk, s->stepsize.weight, &out->D);
    case DETCGD_STEP_USER:
      st = dc_blocks_alloc(&out->D, lay, DC_BLOCKS_DENSE);
      return st ? st : user_stepsize(p, s->stepsize.file, &out->D);
    case DETCGD_STEP_TABLE1:
      st = dc_blocks_alloc(&out->D, lay, DC_BLOCKS_DIAG);
      return st ? st : table1_stepsize(p, sk, &out->D);
    default:
      return dc_fail(DETCGD_ERR_ARG, "stepsize: %s is for distributed runs (clients >= 1)", detcgd_stepsize_name(s->stepsize.kind));
  }
}

/* Symmetric? (user-given dense blocks must be) */
static int check_symmetric(const DcHostBlocks* D) {
  const DcLayout* lay = D->layout;
  int i, r, c;
  if (D->kind != DC_BLOCKS_DENSE) return DETCGD_OK;
  for (i = 0; i < lay->nblocks; ++i) {
    const double* B = D->data + lay->moff[i];
    int m = lay->size[i];
    for (c = 0; c < m; ++c)
      for (r = 0; r < c; ++r)
        if (fabs(B[r + (int64_t)c * m] - B[c + (int64_t)r * m]) > 1e-12 * (fabs(B[r + (int64_t)c * m]) + fabs(B[c + (int64_t)r * m])))
          return dc_fail(DETCGD_ERR_NUMERIC, "stepsize: block %d of D is not symmetric (entries (%d,%d) and (%d,%d))", i, r, c, c, r);
  }
  return DETCGD_OK;
}

/* The excess of a stepsize's conditions at its current entries. */
typedef int (*DcEvalFn)(void* ctx, double* out);

/* stepsize-precision fp32 on entries v[0..n) of D (entry `first` on): rounds them to float; when that lifts
 * the excess above 1 although it held in double, v = exact * shrink, the shrink lowered by the excess and a
 * few float ulps, and rounded again.  exact: n doubles of scratch; *after: the excess of the rounded v. */
static int round_keeping_condition(double* v, double* exact, int64_t n, int64_t first, DcEvalFn excess, void* ctx,
                                   double* after) {
  double before, shrink = 1.0;
  int64_t e;
  int st, attempt;
  memcpy(exact, v, (size_t)n * sizeof(double));
  st = excess(ctx, &before);
  for (attempt = 0; st == DETCGD_OK && attempt < DC_ROUND_ATTEMPTS; ++attempt) {
    for (e = 0; e < n; ++e) v[e] = exact[e] * shrink;
    st = dc_round_float_entries(v, n, first, "stepsize-precision");
    if (st == DETCGD_OK) st = excess(ctx, after);
    if (st != DETCGD_OK || *after <= 1.0 || before > 1.0 + DC_CERT_TOL) break; /* holds, or did not hold in double */
    shrink = dc_round_next_shrink(shrink, attempt, *after);
  }
  return st;
}

double dc_round_next_shrink(double shrink, int attempt, double after) {
  return shrink * (1.0 - ldexp(1.0, attempt - 22)) / after;
}

/* The excess of the whole D (dc_stepsize_round_float). */
typedef struct WholeExcess { DcExcessFn excess; void* ctx; const DcHostBlocks* D; } WholeExcess;

static int whole_excess(void* ctx, double* out) {
  const WholeExcess* c = (const WholeExcess*)ctx;
  return c->excess(c->ctx, c->D, out);
}

int dc_stepsize_round_float(DcHostBlocks* D, DcExcessFn excess, void* ctx) {
  int64_t n = dc_blocks_count(D);
  double* exact = (double*)dc_calloc((size_t)n + 1, sizeof(double));
  WholeExcess whole = {excess, ctx, D};
  double after;
  int st;
  if (!exact) return DETCGD_ERR_ALLOC;
  st = round_keeping_condition(D->data, exact, n, 0, whole_excess, &whole, &after);
  if (st == DETCGD_OK) D->store32 = 1;
  free(exact);
  return st;
}

/* Does the method's stepsize satisfy (8), D E[T L T] D <= D (sketch after D), rather than (7)? */
static int condition_8(const DetcgdSettings* s) { return dc_method_type(s->method)->condition == 8; }

/* The certificate of (7) (sketch before D: GD, det-CGD1) or (8) (after D: det-CGD2) for D. */
static int certificate(const DetcgdProblem* p, const DetcgdSettings* s, const DcSketchSpec* sk, const DcHostBlocks* D,
                       double* out) {
  return condition_8(s) ? dc_certificate_det2(p, sk, D, out) : dc_certificate_det1(p, sk, D, out);
}

/* The certificate of block i alone, with scratch w[0..4]. */
typedef struct BlockExcess { const BlockCtx* c; int i; double** w; } BlockExcess;

static int block_excess(void* ctx, double* out) {
  const BlockExcess* b = (const BlockExcess*)ctx;
  return (b->c->flag ? cert_det2_block : cert_det1_block)((void*)b->c, b->i, b->w, out);
}

/* stepsize-precision fp32 on block i ((7) and (8) hold iff they hold on every block, so a block that
 * rounding breaks is scaled alone).  *cert: the rounded block's certificate. */
static int round_float_block(void* ctx, int i, double** w, double* cert) {
  const BlockCtx* c = (const BlockCtx*)ctx;
  BlockExcess b = {c, i, w};
  int64_t first, n = dc_blocks_block_entries(c->out, i, &first);
  return round_keeping_condition(c->out->data + first, w[5], n, first, block_excess, &b, cert);
}

/* D rounded to float block by block, and its certificate. */
static int round_float_certified(const DetcgdProblem* p, const DetcgdSettings* s, const DcSketchSpec* sk,
                                 DcHostBlocks* D, double* cert) {
  BlockCtx c = {p, sk, D, D, condition_8(s)};
  int st = max_over_blocks(&c, 6, round_float_block, cert);
  if (st == DETCGD_OK) D->store32 = 1;
  return st;
}

/* D, its certificate and log det on the host (LAPACK on every core). */
static int build_on_host(DcStepsize* out, const DetcgdProblem* p, const DetcgdSettings* s, const DcSketchSpec* sk) {
  int64_t e, n;
  int st = build_raw(out, p, s, sk);
  out->built_on = "host";
  if (st == DETCGD_OK) st = check_symmetric(&out->D);
  if (st == DETCGD_OK) {
    n = dc_blocks_count(&out->D);
    for (e = 0; e < n; ++e) out->D.data[e] *= s->stepsize.scale;
    st = dc_blocks_compact(&out->D);
  }
  /* the certificate and log det are those of the D the backend applies */
  if (st == DETCGD_OK) st = s->stepsize.precision == DETCGD_PREC_FP32 ? round_float_certified(p, s, sk, &out->D, &out->certificate)
                                                                      : certificate(p, s, sk, &out->D, &out->certificate);
  if (st == DETCGD_OK) st = dc_log_det(&out->D, &out->log_det);
  return st;
}

/* The backend's formula for s's dense stepsize on quad-nc, or -1 where the host builds D (also where the A_i are
 * diagonal, diag-dominance 1 or width-1 layers: D is then diagonal, and the host stores it so). */
static int backend_formula(const DcBackend* be, const DetcgdProblem* p, const DetcgdSettings* s) {
  if (!be || !be->ops->stepsize_setup || s->stepsize.setup != DETCGD_SETUP_AUTO || p->spec.kind != DETCGD_PROBLEM_QUAD_NC ||
      p->spec.diag_dominance >= 1.0 || p->layout.max_size == 1)
    return -1;
  if (s->stepsize.kind == DETCGD_STEP_DET2_OPT) return DC_SETUP_DET2_OPT;
  if (s->stepsize.kind != DETCGD_STEP_THM2) return -1;
  return s->stepsize.weight == DETCGD_W_INV ? DC_SETUP_THM2_INV : s->stepsize.weight == DETCGD_W_INV_SQRT ? DC_SETUP_THM2_INV_SQRT : -1;
}

/* D on the backend, block by block; the host keeps only D's kind, the certificate (max of the blocks')
 * and log det (sum of the blocks'). */
static int build_on_backend(DcStepsize* out, const DetcgdProblem* p, const DetcgdSettings* s, const DcSketchSpec* sk,
                            DcBackend* be, const DcProbData* P, int formula, DcBlocks** dev) {
  const DcLayout* lay = &p->layout;
  DcSetupJob job = {formula, condition_8(s), s->stepsize.scale, s->stepsize.precision == DETCGD_PREC_FP32, sk};
  double* cert = (double*)dc_calloc((size_t)lay->nblocks + 1, sizeof(double));
  double* logdet = (double*)dc_calloc((size_t)lay->nblocks + 1, sizeof(double));
  int st = cert && logdet ? be->ops->stepsize_setup(be, P, &job, dev, cert, logdet) : DETCGD_ERR_ALLOC;
  out->built_on = be->ops->name;
  out->D.kind = DC_BLOCKS_DENSE;
  out->D.layout = lay;
  out->D.store32 = job.round32;
  if (st == DETCGD_OK) {
    out->certificate = dc_max_of(cert, lay->nblocks);
    out->log_det = dc_sum_of(logdet, lay->nblocks);
  }
  free(cert);
  free(logdet);
  return st;
}

int dc_stepsize_check_invertible(const DetcgdProblem* p, const DetcgdSettings* s) {
  const DcLayout* lay = &p->layout;
  const int k = s->stepsize.kind, w = s->stepsize.weight, weighted = k == DETCGD_STEP_THM2 || k == DETCGD_STEP_COR1;
  const int diag = weighted && w == DETCGD_W_DIAG_INV;
  const int inverts = k == DETCGD_STEP_DET2_OPT || (weighted && (w == DETCGD_W_INV || w == DETCGD_W_INV_SQRT));
  double* Li;
  int i, r, st = DETCGD_OK;
  if (p->spec.lambda > 0 || (!diag && !inverts)) return DETCGD_OK; /* L = ... + 2 lambda I is positive definite */
  if (!(Li = (double*)dc_calloc((size_t)lay->max_size * (size_t)lay->max_size + 1, sizeof(double)))) return DETCGD_ERR_ALLOC;
  for (i = 0; i < lay->nblocks && st == DETCGD_OK; ++i) {
    int m = lay->size[i];
    double logdet;
    dc_problem_L_get(p, i, Li);
    for (r = 0; diag && r < m && st == DETCGD_OK; ++r)
      if (!(Li[r + (int64_t)r * m] > 0))
        st = dc_fail(DETCGD_ERR_NUMERIC, "stepsize: %s with weight diag-inv divides by diag(L_%d), whose entry %d is 0 "
                     "(a feature that never occurs, with lambda = 0): use lambda > 0 or weight identity",
                     detcgd_stepsize_name(k), i, r);
    if (st == DETCGD_OK && inverts && dc_chol_logdet(Li, m, &logdet) != DETCGD_OK)
      st = dc_fail(DETCGD_ERR_NUMERIC, "stepsize: %s inverts L_%d, which is singular (a feature that never occurs, with "
                   "lambda = 0): use lambda > 0, or gd, cgd, cgd-mat, or weight identity or diag-inv",
                   detcgd_stepsize_name(k), i);
  }
  free(Li);
  return st;
}

int dc_stepsize_build(DcStepsize* out, const DetcgdProblem* p, const DetcgdSettings* s, const DcSketchSpec* sk,
                      DcBackend* be, const DcProbData* P, DcBlocks** dev) {
  int formula = backend_formula(be, p, s), st;
  memset(out, 0, sizeof *out);
  if ((st = dc_stepsize_check_invertible(p, s)) != DETCGD_OK) return st;
  st = formula >= 0 ? build_on_backend(out, p, s, sk, be, P, formula, dev) : build_on_host(out, p, s, sk);
  if (st != DETCGD_OK) {
    if (formula >= 0) be->ops->blocks_destroy(be, dev);
    dc_stepsize_free(out);
    return st;
  }
  out->det_factor = exp(-out->log_det / (double)p->layout.dim);
  if (out->certificate > 1.0 + DC_CERT_TOL && !s->stepsize.force) {
    double c = out->certificate;
    if (formula >= 0) be->ops->blocks_destroy(be, dev);
    dc_stepsize_free(out);
    return dc_fail(DETCGD_ERR_CERT, "stepsize: condition (%s) fails, certificate %.6g > 1 (use force = 1 to run anyway)",
                   condition_8(s) ? "8" : "7", c);
  }
  return DETCGD_OK;
}

int dc_stepsize_identity(DcStepsize* st, const DetcgdProblem* p) {
  int rc;
  memset(st, 0, sizeof *st);
  if ((rc = dc_blocks_alloc(&st->D, &p->layout, DC_BLOCKS_SCALAR)) != DETCGD_OK) return rc;
  scalar_stepsize(&st->D, 1.0);
  st->built_on = "host";
  st->certificate = NAN;
  st->log_det = 0.0;
  st->det_factor = 1.0;
  return DETCGD_OK;
}

void dc_stepsize_free(DcStepsize* st) { dc_blocks_free(&st->D); }
