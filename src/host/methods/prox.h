/*
 * prox.h -- prox_{t R} of the prox settings (DetcgdProx) on the backend: the elementwise map a method with a prox
 * step (DC_STEP_PROX) applies after its server step.  l1: soft threshold at t lambda_1; box: clip at r; ball:
 * x min(1, r / ||x||), the norm read where it is (no copy to the host).  With a diagonal D in place of t the
 * l1 prox in the D^{-1}-norm is the soft threshold at D_jj lambda_1 and the box's is the same clip; a method with a
 * matrix step would need those (none has one here).
 */
#ifndef DETCGD_PROX_H
#define DETCGD_PROX_H

#include "backend.h"

typedef struct DcProx {
  int kind;      /* DetcgdProx */
  double weight; /* lambda_1 */
  double radius; /* r */
  DcVec* norm2;  /* owns (ball): [||x||^2] */
} DcProx;

int dc_prox_open(DcProx* p, DcBackend* be, const DetcgdSettings* s);
void dc_prox_close(DcProx* p, DcBackend* be);
/* x = prox_{t R}(x) (nothing for R = 0) */
int dc_prox_apply(DcProx* p, DcBackend* be, double t, DcVec* x);
/* What the summary says of R ("none", "l1 (lambda_1 = ...)", ...), into out[0..n). */
void dc_prox_describe(const DcProx* p, char* out, size_t n);

#endif /* DETCGD_PROX_H */
