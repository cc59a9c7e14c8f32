/*
 * dist.h -- distributed problems (n clients) and the stepsizes of the
 * distributed theory: Corollary 1 for D = gamma W (Algorithms 1 and 2) and the
 * scalar DCGD stepsize of Khaled & Richtarik (2020).
 */
#ifndef DETCGD_DIST_H
#define DETCGD_DIST_H

#include "problem.h"
#include "compressor.h"
#include "stepsize.h"

/* Reorders the rows by spec.split and cuts them into spec.clients contiguous shares. */
int dc_split_clients(DetcgdProblem* p);

/* Inputs of the distributed stepsize that come from runs (f^inf estimates). */
typedef struct DcDistInputs {
  double f0_gap;    /* f(x0) - f^inf */
  double delta_inf; /* Delta^inf = f^inf - (1/n) sum_c f_c^inf, >= 0 */
} DcDistInputs;

/* What the distributed stepsize reports besides D. */
typedef struct DcDistTheory {
  double lambda_w;      /* lambda_D at D = W (gamma = 1) */
  double lambda_d;      /* gamma^2 lambda_W */
  double gamma[3];      /* the three bounds of Corollary 1 (or of DCGD) */
  int active;           /* which of them is the minimum */
  double k_lower_bound; /* 12 (f(x0) - f^inf) / (det(D)^{1/d} eps^2) */
  double omega;         /* DCGD: compression variance omega */
} DcDistTheory;

/* D for stepsize COR1 / DCGD_KR (certificate: lambda_max(D^{1/2} Lbar D^{1/2}) <= 1, i.e. DLD <= D). */
int dc_dist_stepsize(DcStepsize* st, DcDistTheory* th, const DetcgdProblem* p, const DetcgdSettings* s,
                     const DcSketchSpec* sk, const DcDistInputs* in);

/* Theorem 3's right-hand side (20). */
double dc_theorem3_bound(const DcDistTheory* th, double det_factor, int n, int64_t K, double f0_gap,
                         double delta_inf);

#endif /* DETCGD_DIST_H */
