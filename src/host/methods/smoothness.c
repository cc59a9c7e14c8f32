/*
 * smoothness.c -- the Euclidean smoothness constants the scalar-step methods' theory reads (EF21, DCGD, DIANA):
 * L of f = (1/n) sum_c f_c, and of the clients' f_c their largest L_max and quadratic mean L~ = sqrt((1/n) sum L_c^2).
 * logreg-nc: lambda_max of the Gram matrices (Lanczos, an upper estimate to 1e-12); quad-nc and poly-nc: the
 * problem's block bound (single node).
 */
#include <math.h>
#include "gram.h"
#include "method.h"
#include "problem.h"

/* Euclidean smoothness of the mean of n clients' f_c (hosts[0..n)). */
static int smoothness(const DetcgdProblem* p, const DcHostProblem* hosts, int n, double* L) {
  if (p->spec.kind != DETCGD_PROBLEM_LOGREG_NC) { *L = p->lmax; return DETCGD_OK; }
  return dc_gram_lambda_max(hosts, n, &p->layout, NULL, DC_RTOL_CONSTANT, L);
}

int dc_method_smoothness(const DetcgdProblem* p, int n, DcSmoothness* out) {
  double sq = 0.0;
  int c, rc;
  if (n == 1 || p->nclients == 0) {
    if ((rc = smoothness(p, &p->host, 1, &out->L))) return rc;
    out->L_tilde = out->L_max = out->L_mean = out->L;
    return DETCGD_OK;
  }
  if ((rc = smoothness(p, p->client_host, n, &out->L))) return rc;
  out->L_max = out->L_mean = 0.0;
  for (c = 0; c < n; ++c) {
    double lc;
    if ((rc = smoothness(p, &p->client_host[c], 1, &lc))) return rc;
    sq += lc * lc / n;
    out->L_mean += lc / n;
    if (lc > out->L_max) out->L_max = lc;
  }
  out->L_tilde = sqrt(sq);
  return DETCGD_OK;
}
