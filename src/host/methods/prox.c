/*
 * prox.c -- prox_{t R} on the backend (prox.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prox.h"

int dc_prox_open(DcProx* p, DcBackend* be, const DetcgdSettings* s) {
  p->kind = s->prox;
  p->weight = s->prox_weight;
  p->radius = s->prox_radius;
  p->norm2 = NULL;
  p->D = NULL;
  p->Dinv = NULL;
  p->t = NULL;
  p->d = p->y = NULL;
  p->dim = 0;
  if (p->kind == DETCGD_PROX_L1 && !(p->weight > 0))
    return dc_fail(DETCGD_ERR_ARG, "prox-weight: prox l1 needs lambda_1 > 0 (prox none for R = 0)");
  return p->kind == DETCGD_PROX_BALL ? be->ops->vec_create(be, 1, &p->norm2) : DETCGD_OK;
}

int dc_prox_open_diagonal(DcProx* p, DcBackend* be, const DetcgdSettings* s, const DcBlocks* D, const DcLayout* lay,
                          const double* diag) {
  DcHostBlocks inv = {0};
  int64_t j;
  int rc = dc_prox_open(p, be, s);
  if (rc) return rc;
  p->D = D;
  p->dim = lay->dim;
  if (p->kind == DETCGD_PROX_L1) {
    if ((rc = dc_blocks_alloc(&inv, lay, DC_BLOCKS_DIAG))) return rc;
    for (j = 0; j < lay->dim; ++j) inv.data[j] = 1.0 / diag[j];
    rc = be->ops->blocks_create(be, &inv, &p->Dinv);
    dc_blocks_free(&inv);
    return rc ? rc : be->ops->vec_create(be, lay->dim, &p->t);
  }
  if (p->kind != DETCGD_PROX_BALL) return DETCGD_OK;
  if (!(p->d = (double*)dc_calloc((size_t)(2 * lay->dim), sizeof(double)))) return DETCGD_ERR_ALLOC;
  p->y = p->d + lay->dim;
  memcpy(p->d, diag, (size_t)lay->dim * sizeof(double));
  return DETCGD_OK;
}

void dc_prox_close(DcProx* p, DcBackend* be) {
  be->ops->vec_destroy(be, &p->norm2);
  be->ops->vec_destroy(be, &p->t);
  be->ops->blocks_destroy(be, &p->Dinv);
  free(p->d);
  p->d = p->y = NULL;
}

/* The ball's nu >= 0 of sum_j y_j^2 / (1 + nu d_j)^2 = r^2 (phi(nu), convex and decreasing): Newton from the left of
 * the root, where phi's convexity keeps every iterate below it, kept inside a bracket [lo, hi] that bisection
 * shrinks whenever a Newton step would leave it; until the bracket or the step stalls in rounding. */
static double ball_multiplier(const double* y, const double* d, int64_t n, double r) {
  double lo = 0.0, hi = 1.0, nu = 0.0;
  int it;
  for (;;) { /* hi: phi(hi) <= r^2 */
    double phi = 0.0;
    int64_t j;
    for (j = 0; j < n; ++j) phi += y[j] * y[j] / ((1.0 + hi * d[j]) * (1.0 + hi * d[j]));
    if (phi <= r * r || hi > 1e300) break;
    hi *= 2.0;
  }
  for (it = 0; it < 200; ++it) {
    double phi = 0.0, dphi = 0.0, next;
    int64_t j;
    for (j = 0; j < n; ++j) {
      double q = 1.0 / (1.0 + nu * d[j]), v = y[j] * y[j] * q * q;
      phi += v;
      dphi -= 2.0 * d[j] * v * q;
    }
    if (phi > r * r) lo = nu; else hi = nu;
    next = dphi < 0 ? nu - (phi - r * r) / dphi : hi;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next == nu || hi - lo <= 1e-16 * hi) break;
    nu = next;
  }
  return nu;
}

/* x = prox^{D^{-1}}_R(x) (prox.h) */
static int apply_diagonal(DcProx* p, DcBackend* be, DcVec* x) {
  const DcBackendOps* o = be->ops;
  DcScalar thr = {p->weight, NULL, 0, 1.0}, r = {p->radius, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
  double norm2 = 0.0, nu;
  int64_t j;
  int rc;
  switch (p->kind) {
    case DETCGD_PROX_L1:
      rc = o->axpby(be, zero, x, zero, p->t);
      if (rc == DETCGD_OK) rc = o->bd_apply(be, p->Dinv, DC_SEL_FULL, NULL, x, 1.0, p->t);
      if (rc == DETCGD_OK) rc = o->vec_map(be, DC_MAP_SOFT_THRESHOLD, p->t, thr, p->t);
      if (rc == DETCGD_OK) rc = o->axpby(be, zero, p->t, zero, x);
      return rc == DETCGD_OK ? o->bd_apply(be, p->D, DC_SEL_FULL, NULL, p->t, 1.0, x) : rc;
    case DETCGD_PROX_BOX: return o->vec_map(be, DC_MAP_CLIP, x, r, x);
    case DETCGD_PROX_BALL:
      if ((rc = o->vec_download(be, x, p->y))) return rc;
      for (j = 0; j < p->dim; ++j) norm2 += p->y[j] * p->y[j];
      if (norm2 <= p->radius * p->radius) return DETCGD_OK;
      nu = ball_multiplier(p->y, p->d, p->dim, p->radius);
      for (j = 0; j < p->dim; ++j) p->y[j] /= 1.0 + nu * p->d[j];
      return o->vec_upload(be, x, p->y);
    default: return DETCGD_OK;
  }
}


int dc_prox_apply(DcProx* p, DcBackend* be, double t, DcVec* x) {
  const DcBackendOps* o = be->ops;
  DcScalar thr = {t * p->weight, NULL, 0, 1.0}, r = {p->radius, NULL, 0, 1.0}, ball = {p->radius, p->norm2, 0, -0.5};
  int rc;
  if (p->D) return apply_diagonal(p, be, x);
  switch (p->kind) {
    case DETCGD_PROX_L1: return o->vec_map(be, DC_MAP_SOFT_THRESHOLD, x, thr, x);
    case DETCGD_PROX_BOX: return o->vec_map(be, DC_MAP_CLIP, x, r, x);
    case DETCGD_PROX_BALL:
      rc = o->dot(be, x, x, p->norm2, 0);
      return rc == DETCGD_OK ? o->vec_map(be, DC_MAP_SHRINK, x, ball, x) : rc; /* ||x|| = 0: t = 0, x stays 0 */
    default: return DETCGD_OK;
  }
}

void dc_prox_describe(const DcProx* p, char* out, size_t n) {
  switch (p->kind) {
    case DETCGD_PROX_L1: snprintf(out, n, "l1: R = %.17g ||x||_1, soft threshold", p->weight); break;
    case DETCGD_PROX_BOX: snprintf(out, n, "box: |x_j| <= %.17g, projection", p->radius); break;
    case DETCGD_PROX_BALL: snprintf(out, n, "ball: ||x||_2 <= %.17g, projection", p->radius); break;
    default: snprintf(out, n, "none (R = 0)");
  }
  if (p->D && p->kind != DETCGD_PROX_NONE) {
    size_t len = strlen(out);
    snprintf(out + len, n > len ? n - len : 0, ", in the D^-1-norm");
  }
}
