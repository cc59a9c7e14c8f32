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
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dist.h"
#include "linalg.h"
#include "philox.h"

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
    h->nrows = p->client_row[c + 1] - p->client_row[c];
    h->rowptr = p->data.rowptr + p->client_row[c];
    h->colidx = p->data.colidx;
    h->val = p->data.val;
    h->label = p->data.label + p->client_row[c];
  }
  return DETCGD_OK;
}

/* ==== Stepsizes ==== */

/* Full d x d matrices of the distributed theory. */
typedef struct Mats {
  int64_t d;
  double* Lbar; /* owns */
  double** Lc;  /* owns: n matrices */
  int n;
} Mats;

static void mats_free(Mats* m) {
  int c;
  if (m->Lc) for (c = 0; c < m->n; ++c) free(m->Lc[c]);
  free(m->Lc);
  free(m->Lbar);
}

static int mats_build(Mats* m, const DetcgdProblem* p) {
  int64_t d = p->layout.dim, e;
  int c;
  memset(m, 0, sizeof *m);
  if ((double)p->nclients * (double)d * (double)d > 4e8)
    return dc_fail(DETCGD_ERR_ARG, "clients: the exact distributed constants need n d^2 = %.3g doubles (limit 4e8)",
                   (double)p->nclients * (double)d * (double)d);
  m->d = d;
  m->n = p->nclients;
  m->Lbar = (double*)dc_calloc((size_t)(d * d), sizeof(double));
  m->Lc = (double**)dc_calloc((size_t)m->n, sizeof(double*));
  if (!m->Lbar || !m->Lc) { mats_free(m); return DETCGD_ERR_ALLOC; }
  for (c = 0; c < m->n; ++c) {
    m->Lc[c] = dc_logreg_full_smoothness(&p->client_host[c], d);
    if (!m->Lc[c]) { mats_free(m); return DETCGD_ERR_ALLOC; }
    for (e = 0; e < d * d; ++e) m->Lbar[e] += m->Lc[c][e] / m->n;
  }
  return DETCGD_OK;
}

/* Block i of a full d x d matrix into out. */
static void diag_block(const DcLayout* lay, const double* M, int i, double* out) {
  int64_t d = lay->dim, r, c, o = lay->voff[i];
  int m = lay->size[i];
  for (c = 0; c < m; ++c)
    for (r = 0; r < m; ++r) out[r + c * m] = M[(o + r) + (o + c) * d];
}

/* Writes block i (m x m) into a full d x d matrix. */
static void put_block(const DcLayout* lay, double* M, int i, const double* B) {
  int64_t d = lay->dim, r, c, o = lay->voff[i];
  int m = lay->size[i];
  for (c = 0; c < m; ++c)
    for (r = 0; r < m; ++r) M[(o + r) + (o + c) * d] = B[r + c * m];
}

/* W_i from Lbar_ii by the weight choice (Theorem 2's menu). */
static int weight_blocks(const DetcgdProblem* p, const Mats* M, int weight, DcHostBlocks* W) {
  const DcLayout* lay = &p->layout;
  double* Li = (double*)dc_calloc((size_t)lay->max_size * lay->max_size, sizeof(double));
  int i, r, st = DETCGD_OK;
  if (!Li) return DETCGD_ERR_ALLOC;
  for (i = 0; i < lay->nblocks && st == DETCGD_OK; ++i) {
    int m = lay->size[i];
    double* Wi = W->data + lay->moff[i];
    diag_block(lay, M->Lbar, i, Li);
    memset(Wi, 0, (size_t)m * m * sizeof(double));
    if (weight == DETCGD_W_IDENTITY) for (r = 0; r < m; ++r) Wi[r + (int64_t)r * m] = 1.0;
    else if (weight == DETCGD_W_DIAG_INV) for (r = 0; r < m; ++r) Wi[r + (int64_t)r * m] = 1.0 / Li[r + (int64_t)r * m];
    else if (weight == DETCGD_W_INV) st = dc_spd_inverse(Li, m, Wi);
    else st = dc_sym_power(Li, m, -0.5, Wi);
  }
  free(Li);
  return st;
}

/* V (full, block diagonal) = Alg 1: Blockdiag Var_i(W_i Lbar_ii W_i);  Alg 2: Blockdiag W_i Var_i(Lbar_ii) W_i. */
static int variance_matrix(const DetcgdProblem* p, const Mats* M, const DcSketchSpec* sk, const DcHostBlocks* W,
                           int method, double* V) {
  const DcLayout* lay = &p->layout;
  size_t mm = (size_t)lay->max_size * lay->max_size;
  double *a = (double*)dc_calloc(mm, sizeof(double)), *b = (double*)dc_calloc(mm, sizeof(double));
  double *Wi = (double*)dc_calloc(mm, sizeof(double));
  int i;
  if (!a || !b || !Wi) { free(a); free(b); free(Wi); return DETCGD_ERR_ALLOC; }
  memset(V, 0, (size_t)(lay->dim * lay->dim) * sizeof(double));
  for (i = 0; i < lay->nblocks; ++i) {
    int m = lay->size[i];
    dc_blocks_get_dense(W, i, Wi);
    diag_block(lay, M->Lbar, i, a);
    if (method == DETCGD_METHOD_DET2) {
      dc_sketch_variance(sk, i, a, b);   /* Var(Lbar_ii) */
      dc_matmul(Wi, b, m, a);
      dc_matmul(a, Wi, m, b);            /* W Var W */
    } else {
      dc_matmul(Wi, a, m, b);
      dc_matmul(b, Wi, m, a);            /* W Lbar_ii W */
      dc_sketch_variance(sk, i, a, b);
    }
    put_block(lay, V, i, b);
  }
  free(a); free(b); free(Wi);
  return DETCGD_OK;
}

/* max_c lambda_max(L_c^{1/2} V L_c^{1/2}) = max_c lambda_max(R_c^T V R_c), L_c = R_c R_c^T. */
static int max_client_eig(const Mats* M, const double* V, double* out) {
  int64_t d = M->d;
  double *R = (double*)dc_calloc((size_t)(d * d), sizeof(double)), *T = (double*)dc_calloc((size_t)(d * d), sizeof(double));
  double *Rt = (double*)dc_calloc((size_t)(d * d), sizeof(double));
  int c, st = DETCGD_OK;
  int64_t r, k;
  if (!R || !T || !Rt) { free(R); free(T); free(Rt); return DETCGD_ERR_ALLOC; }
  *out = 0.0;
  for (c = 0; c < M->n && st == DETCGD_OK; ++c) {
    double lm;
    st = dc_sym_power(M->Lc[c], (int)d, 0.5, R); /* symmetric square root: R^T = R */
    if (st != DETCGD_OK) break;
    dc_matmul(V, R, (int)d, T);
    dc_matmul(R, T, (int)d, Rt);
    for (r = 0; r < d; ++r)
      for (k = 0; k < r; ++k) Rt[r + k * d] = Rt[k + r * d] = 0.5 * (Rt[r + k * d] + Rt[k + r * d]);
    st = dc_lambda_max(Rt, (int)d, &lm);
    if (lm > *out) *out = lm;
  }
  free(R); free(T); free(Rt);
  return st;
}

/* lambda_max(W^{1/2} Lbar W^{1/2}) = lambda_max of the pencil (Lbar, W^{-1}). */
static int lbar_in_w(const DetcgdProblem* p, const Mats* M, const DcHostBlocks* W, double* out) {
  const DcLayout* lay = &p->layout;
  int64_t d = lay->dim;
  size_t mm = (size_t)lay->max_size * lay->max_size;
  double* Winv = (double*)dc_calloc((size_t)(d * d), sizeof(double));
  double *Wi = (double*)dc_calloc(mm, sizeof(double)), *Ii = (double*)dc_calloc(mm, sizeof(double));
  int i, st = DETCGD_OK;
  if (!Winv || !Wi || !Ii) { free(Winv); free(Wi); free(Ii); return DETCGD_ERR_ALLOC; }
  for (i = 0; i < lay->nblocks && st == DETCGD_OK; ++i) {
    dc_blocks_get_dense(W, i, Wi);
    st = dc_spd_inverse(Wi, lay->size[i], Ii);
    put_block(lay, Winv, i, Ii);
  }
  if (st == DETCGD_OK) st = dc_gen_lambda_max(M->Lbar, Winv, (int)d, out);
  free(Winv); free(Wi); free(Ii);
  return st;
}

/* omega = max_i lambda_max(E[(S_i - I)^2]) */
static int compression_omega(const DcSketchSpec* sk, double* out) {
  const DcLayout* lay = sk->layout;
  size_t mm = (size_t)lay->max_size * lay->max_size;
  double *I = (double*)dc_calloc(mm, sizeof(double)), *V = (double*)dc_calloc(mm, sizeof(double));
  int i, r, st = DETCGD_OK;
  if (!I || !V) { free(I); free(V); return DETCGD_ERR_ALLOC; }
  *out = 0.0;
  for (i = 0; i < lay->nblocks && st == DETCGD_OK; ++i) {
    int m = lay->size[i];
    double lm;
    memset(I, 0, mm * sizeof(double));
    for (r = 0; r < m; ++r) I[r + (int64_t)r * m] = 1.0;
    dc_sketch_variance(sk, i, I, V);
    st = dc_lambda_max(V, m, &lm);
    if (lm > *out) *out = lm;
  }
  free(I); free(V);
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
                         const DcSketchSpec* sk, const DcDistInputs* in, const Mats* M) {
  const DcLayout* lay = &p->layout;
  double lbw, logdet_w, gamma, *V = NULL;
  double n = p->nclients, K = (double)s->term.max_iter, eps2 = s->dist.epsilon2;
  int64_t e;
  int rc;
  if ((rc = dc_blocks_alloc(&st->D, lay, DC_BLOCKS_DENSE)) != DETCGD_OK) return rc;
  if ((rc = weight_blocks(p, M, s->stepsize.weight, &st->D)) != DETCGD_OK) return rc;
  if (!(V = (double*)dc_calloc((size_t)(lay->dim * lay->dim), sizeof(double)))) return DETCGD_ERR_ALLOC;
  rc = variance_matrix(p, M, sk, &st->D, s->method, V);
  if (rc == DETCGD_OK) rc = max_client_eig(M, V, &th->lambda_w);
  if (rc == DETCGD_OK) rc = lbar_in_w(p, M, &st->D, &lbw);
  if (rc == DETCGD_OK) rc = dc_log_det(&st->D, &logdet_w);
  free(V);
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
                       const DcSketchSpec* sk, const DcDistInputs* in, const Mats* M) {
  const DcLayout* lay = &p->layout;
  double L, Lmax = 0.0, n = p->nclients, K = (double)s->term.max_iter, gamma;
  int c, i, rc;
  if ((rc = dc_lambda_max(M->Lbar, (int)lay->dim, &L)) != DETCGD_OK) return rc;
  for (c = 0; c < M->n; ++c) {
    double lc;
    if ((rc = dc_lambda_max(M->Lc[c], (int)lay->dim, &lc)) != DETCGD_OK) return rc;
    if (lc > Lmax) Lmax = lc;
  }
  if ((rc = compression_omega(sk, &th->omega)) != DETCGD_OK) return rc;
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
static int applied_lambda_d(const DetcgdProblem* p, const Mats* M, const DcSketchSpec* sk, const DetcgdSettings* s,
                            const DcHostBlocks* D, DcDistTheory* th) {
  double* V;
  int rc;
  if (s->stepsize.kind == DETCGD_STEP_DCGD_KR) {
    th->lambda_d = D->data[0] * D->data[0] * th->lambda_w;
    return DETCGD_OK;
  }
  if (!(V = (double*)dc_calloc((size_t)(p->layout.dim * p->layout.dim), sizeof(double)))) return DETCGD_ERR_ALLOC;
  rc = variance_matrix(p, M, sk, D, s->method, V);
  if (rc == DETCGD_OK) rc = max_client_eig(M, V, &th->lambda_d);
  free(V);
  return rc;
}

typedef struct DistContext {
  const DetcgdProblem* p;
  const Mats* M;
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
  int rc = applied_lambda_d(c->p, c->M, c->sk, c->s, D, c->th);
  if (rc == DETCGD_OK) rc = lbar_in_w(c->p, c->M, D, &cert);
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
  Mats M;
  int rc;
  double lbd;
  memset(st, 0, sizeof *st);
  memset(th, 0, sizeof *th);
  if (p->nclients < 1)
    return dc_fail(DETCGD_ERR_ARG, "clients: stepsize %s is for distributed runs; set clients >= 1", detcgd_stepsize_name(s->stepsize.kind));
  if ((rc = mats_build(&M, p)) != DETCGD_OK) return rc;
  rc = s->stepsize.kind == DETCGD_STEP_COR1 ? cor1_stepsize(st, th, p, s, sk, in, &M) : kr_stepsize(st, th, p, s, sk, in, &M);
  if (rc == DETCGD_OK) {
    int64_t e, n = dc_blocks_count(&st->D);
    for (e = 0; e < n; ++e) st->D.data[e] *= s->stepsize.scale;
    th->lambda_d *= s->stepsize.scale * s->stepsize.scale;
    rc = dc_blocks_compact(&st->D);
  }
  if (rc == DETCGD_OK && s->stepsize.precision == DETCGD_PREC_FP32) {
    DistContext ctx = {p, &M, sk, s, in, th};
    rc = dc_stepsize_round_float(&st->D, corollary1_excess, &ctx);
  }
  if (rc == DETCGD_OK) rc = dc_log_det(&st->D, &st->log_det);
  if (rc == DETCGD_OK) rc = lbar_in_w(p, &M, &st->D, &lbd); /* lambda_max(D^{1/2} Lbar D^{1/2}) */
  mats_free(&M);
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
