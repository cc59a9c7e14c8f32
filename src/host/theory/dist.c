/*
 * dist.c -- clients and the distributed stepsizes.
 *
 * f = (1/n) sum_c f_c, L_c the smoothness matrix of f_c, Lbar = (1/n) sum_c L_c.
 *
 * Algorithm 1 (D-det-CGD1), Theorem 3:
 *   lambda_D = max_c lambda_max(L_c^{1/2} E[(S - I) D Lbar D (S - I)] L_c^{1/2}).
 * Algorithm 2 (D-det-CGD2), the same argument with g = (1/n) sum_c T_c D grad f_c:
 *   lambda_D = max_c lambda_max(L_c^{1/2} D E[(T - I) Lbar (T - I)] D L_c^{1/2}).
 * With layer-wise independent sketches of mean I, E[(S - I) M (S - I)] is block
 * diagonal: its blocks are the per-layer variances of M_ii (sketch.h).
 *
 * Corollary 1 for D = gamma W (lambda_D = gamma^2 lambda_W):
 *   gamma <= 1 / lambda_max(W^{1/2} Lbar W^{1/2})            (DLD <= D)
 *   gamma <= sqrt(n / (K lambda_W))                           (lambda_D <= n/K)
 *   gamma <= n eps^2 det(W)^{1/d} / (4 Delta^inf lambda_W)    (lambda_D <= n eps^2 det(D)^{1/d} / (4 Delta^inf))
 *   and K >= 12 (f(x0) - f^inf) / (det(D)^{1/d} eps^2) is reported.
 * Scalar DCGD (Khaled & Richtarik 2020), L = lambda_max(Lbar), L_max = max_c lambda_max(L_c):
 *   gamma <= min{1/L, sqrt(n / (omega L L_max K)), n eps^2 / (4 L L_max omega Delta^inf)},
 *   omega = max_i lambda_max(E[(S_i - I)^2]) (= d_i/k_i - 1 for rand-k).
 * Only the blocks Lbar_ii are formed; every lambda_max over L_c or Lbar is
 * Lanczos on products with the clients' rows (gram.h), so memory is
 * O(nnz + d b) for any number of clients.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dist.h"
#include "gram.h"
#include "linalg.h"
#include "philox.h"
#include "method.h"

/* ==== Clients ==== */

/* Row order: file order, a Philox permutation, or stable by label (-1 first). */
static int row_order(const DetcgdProblem* p, int64_t* perm) {
  int64_t N = p->data.nrows, j, n = 0;
  for (j = 0; j < N; ++j) perm[j] = j;
  if (p->spec.split == DETCGD_SPLIT_SHUFFLED) {
    for (j = N - 1; j > 0; --j) { /* Fisher-Yates */
      DcPhiloxOut r = dc_philox_draw(p->spec.seed, (uint32_t)j, 0x5B117u, (uint32_t)(j >> 32), 0);
      int64_t t = (int64_t)(dc_uniform53(r) * (double)(j + 1)), tmp;
      if (t > j) t = j;
      tmp = perm[j]; perm[j] = perm[t]; perm[t] = tmp;
    }
  } else if (p->spec.split == DETCGD_SPLIT_LABEL_SKEW) {
    for (j = 0; j < N; ++j) if (p->data.label[j] < 0) perm[n++] = j;
    for (j = 0; j < N; ++j) if (p->data.label[j] > 0) perm[n++] = j;
  }
  return DETCGD_OK;
}

/* Rewrites the CSR arrays in the order perm. */
static int permute_rows(DcLibsvm* D, const int64_t* perm) {
  int64_t N = D->nrows, j, p, at = 0;
  int64_t* rowptr = (int64_t*)dc_calloc((size_t)N + 1, sizeof(int64_t));
  int32_t* col = (int32_t*)dc_calloc((size_t)D->nnz, sizeof(int32_t));
  double* val = (double*)dc_calloc((size_t)D->nnz, sizeof(double));
  double* lab = (double*)dc_calloc((size_t)N, sizeof(double));
  if (!rowptr || !col || !val || !lab) { free(rowptr); free(col); free(val); free(lab); return DETCGD_ERR_ALLOC; }
  for (j = 0; j < N; ++j) {
    int64_t r = perm[j];
    lab[j] = D->label[r];
    for (p = D->rowptr[r]; p < D->rowptr[r + 1]; ++p, ++at) { col[at] = D->colidx[p]; val[at] = D->val[p]; }
    rowptr[j + 1] = at;
  }
  free(D->rowptr); free(D->colidx); free(D->val); free(D->label);
  D->rowptr = rowptr; D->colidx = col; D->val = val; D->label = lab;
  return DETCGD_OK;
}

int dc_split_clients(DetcgdProblem* p) {
  int n = p->spec.clients, c, st;
  int64_t N = p->data.nrows, *perm;
  if (n == 0) return DETCGD_OK;
  if (n > N) return dc_fail(DETCGD_ERR_ARG, "clients: %d clients for %lld samples (each client needs a row)", n, (long long)N);
  perm = (int64_t*)dc_calloc((size_t)N, sizeof(int64_t));
  if (!perm) return DETCGD_ERR_ALLOC;
  row_order(p, perm);
  st = permute_rows(&p->data, perm);
  free(perm);
  if (st != DETCGD_OK) return st;
  p->nclients = n;
  p->client_row = (int64_t*)dc_calloc((size_t)n + 1, sizeof(int64_t));
  p->client_host = (DcHostProblem*)dc_calloc((size_t)n, sizeof(DcHostProblem));
  if (!p->client_row || !p->client_host) return DETCGD_ERR_ALLOC;
  for (c = 0; c < n; ++c) { /* shares differ by at most one row */
    DcHostProblem* h = &p->client_host[c];
    p->client_row[c + 1] = p->client_row[c] + N / n + (c < N % n ? 1 : 0);
    h->kind = DETCGD_PROBLEM_LOGREG_NC;
    h->layout = &p->layout;
    h->lambda = p->spec.lambda;
    h->l2 = p->spec.l2;
    h->nrows = p->client_row[c + 1] - p->client_row[c];
    h->rowptr = p->data.rowptr + p->client_row[c];
    h->colidx = p->data.colidx;
    h->val = p->data.val;
    h->label = p->data.label + p->client_row[c];
    h->store32 = p->spec.data_precision == DETCGD_PREC_FP32;
  }
  return DETCGD_OK;
}

/* ==== Stepsizes ==== */

/* Lbar_ii = (1/n) sum_c (L_c)_ii, dense blocks at moff: the only blocks of Lbar the theory forms
 * (lambda_max of products with L_c and Lbar are matrix-free, gram.h). */
static int lbar_blocks(const DetcgdProblem* p, double** Lb) {
  int c;
  *Lb = (double*)dc_calloc((size_t)p->layout.moff[p->layout.nblocks], sizeof(double));
  if (!*Lb) return DETCGD_ERR_ALLOC;
  for (c = 0; c < p->nclients; ++c) dc_gram_add_blocks(&p->client_host[c], &p->layout, 1.0 / p->nclients, *Lb);
  return DETCGD_OK;
}

/* W_i from Lbar_ii by the weight choice (Theorem 2's menu). */
static int weight_blocks(const DetcgdProblem* p, const double* Lb, int weight, DcHostBlocks* W) {
  const DcLayout* lay = &p->layout;
  int i, r, st = DETCGD_OK;
  for (i = 0; i < lay->nblocks && st == DETCGD_OK; ++i) {
    int m = lay->size[i];
    const double* Li = Lb + lay->moff[i];
    double* Wi = W->data + lay->moff[i];
    memset(Wi, 0, (size_t)m * m * sizeof(double));
    if (weight == DETCGD_W_IDENTITY) for (r = 0; r < m; ++r) Wi[r + (int64_t)r * m] = 1.0;
    else if (weight == DETCGD_W_DIAG_INV) for (r = 0; r < m; ++r) Wi[r + (int64_t)r * m] = 1.0 / Li[r + (int64_t)r * m];
    else if (weight == DETCGD_W_INV) st = dc_spd_inverse(Li, m, Wi);
    else st = dc_sym_power(Li, m, -0.5, Wi);
  }
  return st;
}

typedef struct VarianceCtx {
  const DetcgdProblem* p;
  const double* Lb;
  const DcSketchSpec* sk;
  const DcHostBlocks* W;
  int after_d; /* Algorithm 2: the sketch acts after D (condition (8)) */
  double* Vh;
} VarianceCtx;

/* Square root of block i of V (block diagonal, dense at moff):
 * Alg 1: V_i = Var_i(W_i Lbar_ii W_i);  Alg 2: V_i = W_i Var_i(Lbar_ii) W_i.  w: a, b, W_i. */
static int variance_sqrt_block(void* ctx, int i, double** w, double* unused) {
  const VarianceCtx* v = (const VarianceCtx*)ctx;
  const DcLayout* lay = &v->p->layout;
  const double* Li = v->Lb + lay->moff[i];
  double *a = w[0], *b = w[1], *Wi = w[2];
  int m = lay->size[i];
  (void)unused;
  dc_blocks_get_dense(v->W, i, Wi);
  if (v->after_d) {
    dc_sketch_variance(v->sk, i, Li, b);  /* Var(Lbar_ii) */
    dc_matmul(Wi, b, m, a);
    dc_matmul(a, Wi, m, b);               /* W Var W */
  } else {
    dc_matmul(Wi, Li, m, b);
    dc_matmul(b, Wi, m, a);               /* W Lbar_ii W */
    dc_sketch_variance(v->sk, i, a, b);
  }
  return dc_sym_power(b, m, 0.5, v->Vh + lay->moff[i]);
}

/* max_c lambda_max(L_c^{1/2} V L_c^{1/2}) = max_c lambda_max(V^{1/2} L_c V^{1/2}). */
static int max_client_eig(const DetcgdProblem* p, const double* Vh, double* out) {
  int c, st = DETCGD_OK;
  *out = 0.0;
  for (c = 0; c < p->nclients && st == DETCGD_OK; ++c) {
    double lm = 0.0;
    st = dc_gram_lambda_max(&p->client_host[c], 1, &p->layout, Vh, DC_RTOL_CONSTANT, &lm);
    if (lm > *out) *out = lm;
  }
  return st;
}

/* lambda_D = max_c lambda_max(L_c^{1/2} V L_c^{1/2}) for V built from W (dist.c's header). */
static int lambda_of(const DetcgdProblem* p, const double* Lb, const DcSketchSpec* sk, const DcHostBlocks* W,
                     int after_d, double* out) {
  double* Vh = (double*)dc_calloc((size_t)p->layout.moff[p->layout.nblocks], sizeof(double));
  VarianceCtx ctx = {p, Lb, sk, W, after_d, Vh};
  int st = Vh ? dc_for_each_block(p->layout.nblocks, p->layout.max_size, 3, variance_sqrt_block, &ctx, NULL)
              : DETCGD_ERR_ALLOC;
  if (st == DETCGD_OK) st = max_client_eig(p, Vh, out);
  free(Vh);
  return st;
}

/* lambda_max(W^{1/2} Lbar W^{1/2}). */
static int lbar_in_w(const DetcgdProblem* p, const DcHostBlocks* W, double* out) {
  const DcLayout* lay = &p->layout;
  double* Wh = (double*)dc_calloc((size_t)lay->moff[lay->nblocks], sizeof(double));
  int st = Wh ? dc_blocks_power(W, 0.5, Wh) : DETCGD_ERR_ALLOC;
  if (st == DETCGD_OK) st = dc_gram_lambda_max(p->client_host, p->nclients, lay, Wh, DC_RTOL_CONSTANT, out);
  free(Wh);
  return st;
}

static double min3(const double* g, int* which) {
  int i;
  *which = 0;
  for (i = 1; i < 3; ++i) if (g[i] < g[*which]) *which = i;
  return g[*which];
}

/* D = gamma W with Corollary 1's gamma. */
static int cor1_stepsize(DcStepsize* st, DcDistTheory* th, const DetcgdProblem* p, const DetcgdSettings* s,
                         const DcSketchSpec* sk, const DcDistInputs* in, const double* Lb) {
  const DcLayout* lay = &p->layout;
  double lbw, logdet_w, gamma;
  double n = p->nclients, K = (double)s->term.max_iter, eps2 = s->dist.epsilon2;
  int64_t e;
  int rc;
  if ((rc = dc_blocks_alloc(&st->D, lay, DC_BLOCKS_DENSE)) != DETCGD_OK) return rc;
  if ((rc = weight_blocks(p, Lb, s->stepsize.weight, &st->D)) != DETCGD_OK) return rc;
  rc = lambda_of(p, Lb, sk, &st->D, dc_method_type(s->method)->condition == 8, &th->lambda_w);
  if (rc == DETCGD_OK) rc = lbar_in_w(p, &st->D, &lbw);
  if (rc == DETCGD_OK) rc = dc_log_det(&st->D, &logdet_w);
  if (rc != DETCGD_OK) return rc;
  th->gamma[0] = 1.0 / lbw;
  th->gamma[1] = th->lambda_w > 0 ? sqrt(n / (K * th->lambda_w)) : INFINITY;
  th->gamma[2] = (in->delta_inf > 0 && th->lambda_w > 0)
                     ? n * eps2 * exp(logdet_w / (double)lay->dim) / (4.0 * in->delta_inf * th->lambda_w) : INFINITY;
  gamma = min3(th->gamma, &th->active);
  for (e = 0; e < lay->moff[lay->nblocks]; ++e) st->D.data[e] *= gamma;
  th->lambda_d = gamma * gamma * th->lambda_w;
  return DETCGD_OK;
}

/* D = gamma I with the scalar DCGD stepsize. */
static int kr_stepsize(DcStepsize* st, DcDistTheory* th, const DetcgdProblem* p, const DetcgdSettings* s,
                       const DcSketchSpec* sk, const DcDistInputs* in) {
  const DcLayout* lay = &p->layout;
  double L, Lmax = 0.0, n = p->nclients, K = (double)s->term.max_iter, gamma;
  int c, i, rc;
  if ((rc = dc_gram_lambda_max(p->client_host, p->nclients, lay, NULL, DC_RTOL_CONSTANT, &L)) != DETCGD_OK) return rc;
  for (c = 0; c < p->nclients; ++c) {
    double lc;
    if ((rc = dc_gram_lambda_max(&p->client_host[c], 1, lay, NULL, DC_RTOL_CONSTANT, &lc)) != DETCGD_OK) return rc;
    if (lc > Lmax) Lmax = lc;
  }
  th->omega = dc_sketch_omega(sk);
  th->gamma[0] = 1.0 / L;
  th->gamma[1] = th->omega > 0 ? sqrt(n / (th->omega * L * Lmax * K)) : INFINITY;
  th->gamma[2] = (th->omega > 0 && in->delta_inf > 0)
                     ? n * s->dist.epsilon2 / (4.0 * L * Lmax * th->omega * in->delta_inf) : INFINITY;
  gamma = min3(th->gamma, &th->active);
  th->lambda_w = th->omega * Lmax * L; /* the scalar analogue of lambda_W */
  th->lambda_d = gamma * gamma * th->lambda_w;
  if ((rc = dc_blocks_alloc(&st->D, lay, DC_BLOCKS_SCALAR)) != DETCGD_OK) return rc;
  for (i = 0; i < lay->nblocks; ++i) st->D.data[i] = gamma;
  return DETCGD_OK;
}

/* lambda_D of D as given (rounded entries): gamma^2 lambda_W for scalar DCGD, else recomputed from
 * its variance matrix (lambda_D is quadratic in D, so this equals gamma^2 lambda_W before rounding). */
static int applied_lambda_d(const DetcgdProblem* p, const double* Lb, const DcSketchSpec* sk, const DetcgdSettings* s,
                            const DcHostBlocks* D, DcDistTheory* th) {
  if (s->stepsize.kind == DETCGD_STEP_DCGD_KR) {
    th->lambda_d = D->data[0] * D->data[0] * th->lambda_w;
    return DETCGD_OK;
  }
  return lambda_of(p, Lb, sk, D, dc_method_type(s->method)->condition == 8, &th->lambda_d);
}

typedef struct DistContext {
  const DetcgdProblem* p;
  const double* Lb; /* Lbar_ii */
  const DcSketchSpec* sk;
  const DetcgdSettings* s;
  const DcDistInputs* in;
  DcDistTheory* th; /* lambda_d set for the D last checked */
} DistContext;

/* Largest ratio of Corollary 1's conditions at D (for D = gamma I they are the DCGD conditions):
 * lambda_max(D^{1/2} Lbar D^{1/2}) <= 1, lambda_D <= n/K, lambda_D <= n eps^2 det(D)^{1/d} / (4 Delta^inf). */
static int corollary1_excess(void* ctx, const DcHostBlocks* D, double* out) {
  const DistContext* c = (const DistContext*)ctx;
  double n = c->p->nclients, K = (double)c->s->term.max_iter, cert, logdet;
  int rc = applied_lambda_d(c->p, c->Lb, c->sk, c->s, D, c->th);
  if (rc == DETCGD_OK) rc = lbar_in_w(c->p, D, &cert);
  if (rc == DETCGD_OK) rc = dc_log_det(D, &logdet);
  if (rc != DETCGD_OK) return rc;
  *out = cert;
  if (K > 0) *out = fmax(*out, c->th->lambda_d * K / n);
  if (c->in->delta_inf > 0)
    *out = fmax(*out, c->th->lambda_d * 4.0 * c->in->delta_inf /
                          (n * c->s->dist.epsilon2 * exp(logdet / (double)c->p->layout.dim)));
  return DETCGD_OK;
}

int dc_dist_stepsize(DcStepsize* st, DcDistTheory* th, const DetcgdProblem* p, const DetcgdSettings* s,
                     const DcSketchSpec* sk, const DcDistInputs* in) {
  double lbd, *Lb = NULL;
  int rc;
  memset(st, 0, sizeof *st);
  memset(th, 0, sizeof *th);
  if (p->nclients < 1)
    return dc_fail(DETCGD_ERR_ARG, "clients: stepsize %s is for distributed runs; set clients >= 1", detcgd_stepsize_name(s->stepsize.kind));
  if ((rc = dc_stepsize_check_invertible(p, s)) != DETCGD_OK || (rc = lbar_blocks(p, &Lb)) != DETCGD_OK) return rc;
  rc = s->stepsize.kind == DETCGD_STEP_COR1 ? cor1_stepsize(st, th, p, s, sk, in, Lb) : kr_stepsize(st, th, p, s, sk, in);
  if (rc == DETCGD_OK) {
    int64_t e, n = dc_blocks_count(&st->D);
    for (e = 0; e < n; ++e) st->D.data[e] *= s->stepsize.scale;
    th->lambda_d *= s->stepsize.scale * s->stepsize.scale;
    rc = dc_blocks_compact(&st->D);
  }
  if (rc == DETCGD_OK && s->stepsize.precision == DETCGD_PREC_FP32) {
    DistContext ctx = {p, Lb, sk, s, in, th};
    rc = dc_stepsize_round_float(&st->D, corollary1_excess, &ctx);
  }
  if (rc == DETCGD_OK) rc = dc_log_det(&st->D, &st->log_det);
  if (rc == DETCGD_OK) rc = lbar_in_w(p, &st->D, &lbd); /* lambda_max(D^{1/2} Lbar D^{1/2}) */
  free(Lb);
  if (rc != DETCGD_OK) { dc_stepsize_free(st); return rc; }
  st->certificate = lbd;
  st->det_factor = exp(-st->log_det / (double)p->layout.dim);
  th->k_lower_bound = 12.0 * in->f0_gap * st->det_factor / s->dist.epsilon2;
  if (st->certificate > 1.0 + 1e-9 && !s->stepsize.force) {
    double c = st->certificate;
    dc_stepsize_free(st);
    return dc_fail(DETCGD_ERR_CERT, "stepsize: DLD <= D fails, certificate %.6g > 1 (use force = 1 to run anyway)", c);
  }
  return DETCGD_OK;
}

double dc_theorem3_bound(const DcDistTheory* th, double det_factor, int n, int64_t K, double f0_gap, double delta_inf) {
  if (K <= 0) return NAN;
  return 2.0 * pow(1.0 + th->lambda_d / n, (double)K) * f0_gap * det_factor / (double)K +
         2.0 * th->lambda_d * delta_inf * det_factor / n;
}
