/*
 * optimum.c -- x* and f* of F = f + R for strongly convex problems (detcgd_optimum, detcgd.h): the oracle that
 * the variance-reduced methods' traces are measured against (||x^k - x*||^2, f - f*).  Host only, so that every
 * backend measures against the same bits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gram.h"
#include "problem.h"

#define OPT_MAX_ITERS 1000000
#define OPT_CHECK_EVERY 25
#define OPT_RTOL 1e-12

/* f = (1/n) sum_c f_c(x) and its gradient on the host (the problem's clients, or its one f). */
static double smooth_part(const DetcgdProblem* p, const double* x, double* g, double* tmp) {
  int64_t d = p->layout.dim, j;
  int c, n = p->nclients > 0 ? p->nclients : 1;
  double f = 0.0;
  if (p->nclients == 0) return dc_host_problem_grad(&p->host, x, g);
  memset(g, 0, (size_t)d * sizeof(double));
  for (c = 0; c < n; ++c) {
    f += dc_host_problem_grad(&p->client_host[c], x, tmp);
    for (j = 0; j < d; ++j) g[j] += tmp[j];
  }
  for (j = 0; j < d; ++j) g[j] /= n;
  return f / n;
}

static double norm2(const double* x, int64_t d) {
  double s = 0.0;
  int64_t j;
  for (j = 0; j < d; ++j) s += x[j] * x[j];
  return sqrt(s);
}

/* R(x) (an indicator: 0 on its set, where the prox keeps every iterate). */
static double regulariser(const DetcgdSettings* s, const double* x, int64_t d) {
  double r = 0.0;
  int64_t j;
  if (s->prox != DETCGD_PROX_L1) return 0.0;
  for (j = 0; j < d; ++j) r += fabs(x[j]);
  return s->prox_weight * r;
}

/* x = prox_{t R}(x) */
static void prox(const DetcgdSettings* s, double t, double* x, int64_t d) {
  int64_t j;
  double tv = s->prox == DETCGD_PROX_L1 ? t * s->prox_weight : s->prox_radius, shrink;
  switch (s->prox) {
    case DETCGD_PROX_L1:
      for (j = 0; j < d; ++j) x[j] = x[j] > tv ? x[j] - tv : x[j] < -tv ? x[j] + tv : 0.0;
      break;
    case DETCGD_PROX_BOX:
      for (j = 0; j < d; ++j) x[j] = x[j] > tv ? tv : x[j] < -tv ? -tv : x[j];
      break;
    case DETCGD_PROX_BALL:
      shrink = norm2(x, d);
      if (shrink > tv) for (j = 0; j < d; ++j) x[j] *= tv / shrink;
      break;
    default: break;
  }
}

/* L of f = (1/n) sum f_c: Lanczos on the clients' Gram matrices (logreg-nc), else the problem's block bound. */
static int smoothness(const DetcgdProblem* p, double* L) {
  if (p->spec.kind != DETCGD_PROBLEM_LOGREG_NC) { *L = p->lmax; return DETCGD_OK; }
  return dc_gram_lambda_max(p->nclients > 0 ? p->client_host : &p->host, p->nclients > 0 ? p->nclients : 1,
                            &p->layout, NULL, DC_RTOL_CONSTANT, L);
}

int detcgd_optimum(const DetcgdProblem* p, const DetcgdSettings* s, double* x_star, DetcgdOptimumInfo* info) {
  int64_t d, j, k;
  double *x, *x_prev, *y, *g, *tmp, L, mu, q, beta, e;
  int st;
  if (!p || !s || !x_star || !info) return dc_fail(DETCGD_ERR_ARG, "detcgd_optimum: NULL argument");
  memset(info, 0, sizeof *info);
  d = p->layout.dim;
  mu = dc_problem_mu(p);
  if (!(mu > 0))
    return dc_fail(DETCGD_ERR_ARG, "optimum: x* needs a strongly convex problem (logreg-nc with l2 > lambda / 2, or quad-nc "
                   "with spec-min > lambda / 2); this %s has mu = 0", detcgd_problem_kind_name(p->spec.kind));
  if (s->prox == DETCGD_PROX_L1 && !(s->prox_weight > 0))
    return dc_fail(DETCGD_ERR_ARG, "prox-weight: prox l1 needs lambda_1 > 0");
  if ((st = smoothness(p, &L)) != DETCGD_OK) return st;
  if (mu > L) mu = L;
  q = 1.0 - mu / L;
  beta = (sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu));
  x = (double*)dc_calloc((size_t)(5 * d), sizeof(double));
  if (!x) return DETCGD_ERR_ALLOC;
  x_prev = x + d; y = x + 2 * d; g = x + 3 * d; tmp = x + 4 * d;
  detcgd_starting_point(s, d, x);
  prox(s, 1.0 / L, x, d);
  memcpy(x_prev, x, (size_t)d * sizeof(double));
  for (k = 1; k <= OPT_MAX_ITERS; ++k) {
    double up = 0.0;
    for (j = 0; j < d; ++j) y[j] = x[j] + beta * (x[j] - x_prev[j]);
    smooth_part(p, y, g, tmp);
    memcpy(x_prev, x, (size_t)d * sizeof(double));
    for (j = 0; j < d; ++j) x[j] = y[j] - g[j] / L;
    prox(s, 1.0 / L, x, d);
    for (j = 0; j < d; ++j) up += (y[j] - x[j]) * (x[j] - x_prev[j]);
    if (up > 0) memcpy(x_prev, x, (size_t)d * sizeof(double)); /* the step goes uphill: restart the momentum */
    if (k % OPT_CHECK_EVERY) continue;
    smooth_part(p, x, g, tmp); /* e = ||x - T(x)|| */
    for (j = 0; j < d; ++j) y[j] = x[j] - g[j] / L;
    prox(s, 1.0 / L, y, d);
    for (j = 0; j < d; ++j) tmp[j] = x[j] - y[j];
    e = norm2(tmp, d);
    if (q * e / (1.0 - q) <= OPT_RTOL * fmax(1.0, norm2(x, d))) break;
  }
  /* x* = T(x), its certificate from e */
  smooth_part(p, x, g, tmp);
  for (j = 0; j < d; ++j) x_star[j] = x[j] - g[j] / L;
  prox(s, 1.0 / L, x_star, d);
  for (j = 0; j < d; ++j) tmp[j] = x[j] - x_star[j];
  e = norm2(tmp, d);
  info->f_smooth = smooth_part(p, x_star, g, tmp);
  info->f_star = info->f_smooth + regulariser(s, x_star, d);
  info->dist_bound = q * e / (1.0 - q);
  info->gap_bound = 2.0 * L * e * info->dist_bound;
  info->L = L;
  info->mu = mu;
  if (k > OPT_MAX_ITERS) k = OPT_MAX_ITERS;
  info->iterations = k + k / OPT_CHECK_EVERY + 2;
  free(x);
  return DETCGD_OK;
}
