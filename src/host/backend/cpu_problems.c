/*
 * cpu_problems.c -- the CPU backend's problems (logreg-nc, quad-nc and poly-nc: f and its gradient, quad-nc's
 * sparse steps' residual) and clients (a chunk's gradients and losses).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend_cpu.h"
#include "minibatch.h"

/* ==== Problems ==== */

int cpu_problem_create(DcBackend* be, const DcHostProblem* h, DcProbData** P) {
  (void)be;
  *P = (DcProbData*)dc_calloc(1, sizeof(DcProbData));
  if (!*P) return DETCGD_ERR_ALLOC;
  (*P)->h = *h;
  return DETCGD_OK;
}

void cpu_problem_destroy(DcBackend* be, DcProbData** P) {
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

/* logreg-nc: f = (1/N) sum_j log(1+exp(-b_j a_j.x)) + reg + (mu/2) ||x||^2 (with_f; else 0, the log terms left
 * out: most rounds need no f);  grad = -(1/N) sum_j b_j sigma(-b_j a_j.x) a_j + reg' */
static double logreg_grad(const DcHostProblem* h, const double* x, double* g, int with_f) {
  double loss = 0.0, invn = 1.0 / (double)h->nrows;
  int64_t j, p;
  memset(g, 0, (size_t)h->layout->dim * sizeof(double));
  for (j = 0; j < h->nrows; ++j) {
    double z = 0.0, w;
    for (p = h->rowptr[j]; p < h->rowptr[j + 1]; ++p) z += h->val[p] * x[h->colidx[p]];
    z *= h->label[j];
    if (with_f) loss += log1p_exp_neg(z);
    w = -h->label[j] * invn / (1.0 + exp(z));
    for (p = h->rowptr[j]; p < h->rowptr[j + 1]; ++p) g[h->colidx[p]] += w * h->val[p];
  }
  loss = loss * invn + add_nc_regulariser(x, g, h->layout->dim, h->lambda);
  return loss + add_l2(x, g, h->layout->dim, h->l2);
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
    w = -h->label[j] * invb / (1.0 + exp(z));
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
  f = host_grad(&P->h, x->data, g->data, fslot >= 0);
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
