/*
 * prox.c -- prox_{t R} on the backend (prox.h).
 */
#include <stdio.h>
#include "prox.h"

int dc_prox_open(DcProx* p, DcBackend* be, const DetcgdSettings* s) {
  p->kind = s->prox;
  p->weight = s->prox_weight;
  p->radius = s->prox_radius;
  p->norm2 = NULL;
  if (p->kind == DETCGD_PROX_L1 && !(p->weight > 0))
    return dc_fail(DETCGD_ERR_ARG, "prox-weight: prox l1 needs lambda_1 > 0 (prox none for R = 0)");
  return p->kind == DETCGD_PROX_BALL ? be->ops->vec_create(be, 1, &p->norm2) : DETCGD_OK;
}

void dc_prox_close(DcProx* p, DcBackend* be) { be->ops->vec_destroy(be, &p->norm2); }

int dc_prox_apply(DcProx* p, DcBackend* be, double t, DcVec* x) {
  const DcBackendOps* o = be->ops;
  DcScalar thr = {t * p->weight, NULL, 0, 1.0}, r = {p->radius, NULL, 0, 1.0}, ball = {p->radius, p->norm2, 0, -0.5};
  int rc;
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
}
