/*
 * prox.h -- prox_{t R} of the prox settings (DetcgdProx) on the backend: the elementwise map a method with a prox
 * step (DC_STEP_PROX) applies after its server step.  l1: soft threshold at t lambda_1; box: clip at r; ball:
 * x min(1, r / ||x||), the norm read where it is (no copy to the host).  A method stepping with a diagonal D
 * (det-marina, det-dasha) takes the prox in the D^{-1}-norm, argmin_x R(x) + (1/2) ||x - y||^2_{D^{-1}}:
 *   l1    the soft threshold at D_jj lambda_1, x = D soft(D^{-1} y, lambda_1)
 *   box   the same clip (separable)
 *   ball  x_j = y_j / (1 + nu D_jj), nu >= 0 the root of sum_j y_j^2 / (1 + nu D_jj)^2 = r^2 when ||y|| > r (the
 *         KKT conditions), found on the host by safeguarded Newton to rounding: d values down and up a round.
 */
#ifndef DETCGD_PROX_H
#define DETCGD_PROX_H

#include "backend.h"

typedef struct DcProx {
  int kind;      /* DetcgdProx */
  double weight; /* lambda_1 */
  double radius; /* r */
  DcVec* norm2;  /* owns (ball): [||x||^2] */
  /* in the D^{-1}-norm (dc_prox_open_diagonal) */
  const DcBlocks* D;  /* borrowed */
  DcBlocks* Dinv;     /* owns (l1) */
  DcVec* t;           /* owns (l1): D^{-1} y */
  double *d, *y;      /* own (ball): D's diagonal and y on the host */
  int64_t dim;
} DcProx;

int dc_prox_open(DcProx* p, DcBackend* be, const DetcgdSettings* s);
/* The prox in the D^{-1}-norm: D on the backend and its diagonal diag[0..dim) on the host (copied). */
int dc_prox_open_diagonal(DcProx* p, DcBackend* be, const DetcgdSettings* s, const DcBlocks* D, const DcLayout* lay,
                          const double* diag);
void dc_prox_close(DcProx* p, DcBackend* be);
/* x = prox_{t R}(x) (nothing for R = 0); opened diagonal, x = prox^{D^{-1}}_R(x) and t is not read */
int dc_prox_apply(DcProx* p, DcBackend* be, double t, DcVec* x);
/* What the summary says of R ("none", "l1 (lambda_1 = ...)", ...), into out[0..n). */
void dc_prox_describe(const DcProx* p, char* out, size_t n);

#endif /* DETCGD_PROX_H */
