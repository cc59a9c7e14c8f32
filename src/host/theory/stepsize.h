/*
 * stepsize.h -- building the stepsize matrix D and its certificates.
 */
#ifndef DETCGD_STEPSIZE_H
#define DETCGD_STEPSIZE_H

#include "problem.h"
#include "compressor.h"

#define DC_CERT_TOL 1e-9     /* relative slack for rounding in a certificate of exactly 1 */
#define DC_ROUND_ATTEMPTS 8  /* stepsize-precision fp32: most roundings of one block (or D) */

typedef struct DcStepsize {
  DcHostBlocks D;      /* owns: the stepsize, compacted to SCALAR/DIAG when exact; data NULL when the backend built it */
  const char* built_on; /* "host" or the backend's name */
  double certificate;  /* condition (7) for GD / det-CGD1, (8) for det-CGD2 */
  double log_det;      /* log det D = sum_i log det D_i */
  double det_factor;   /* det(D)^{-1/d} = exp(-log_det / d) */
} DcStepsize;

/* D for (method, stepsize settings, sketch) on p; refuses an infeasible D unless forced.  With a backend
 * (be, its problem data P; else NULL) whose stepsize_setup covers the case and stepsize-setup auto, the
 * backend builds D into *dev (st->D then has no data); otherwise the host does and *dev stays NULL. */
/* The weights and stepsizes that invert L_i (det2-opt; thm2 / cor1 with inv or inv-sqrt) need it positive
 * definite, diag-inv a positive diagonal: with lambda = 0 a feature that never occurs breaks that; an error
 * names the block and what to use instead. */
int dc_stepsize_check_invertible(const DetcgdProblem* p, const DetcgdSettings* s);
int dc_stepsize_build(DcStepsize* st, const DetcgdProblem* p, const DetcgdSettings* s, const DcSketchSpec* sk,
                      DcBackend* be, const DcProbData* P, DcBlocks** dev);
void dc_stepsize_free(DcStepsize* st);
/* D = I for methods without a matrix stepsize (DC_STEP_NO_MATRIX): no condition (certificate NaN), det(D) = 1. */
int dc_stepsize_identity(DcStepsize* st, const DetcgdProblem* p);

/* lambda_max(D^{-1/2} E[S D L D S] D^{-1/2}) over blocks: condition (7) holds iff <= 1. */
int dc_certificate_det1(const DetcgdProblem* p, const DcSketchSpec* sk, const DcHostBlocks* D, double* out);
/* lambda_max(D^{1/2} E[T L T] D^{1/2}) over blocks: condition (8) holds iff <= 1. */
int dc_certificate_det2(const DetcgdProblem* p, const DcSketchSpec* sk, const DcHostBlocks* D, double* out);
/* Largest ratio lhs / rhs of a stepsize's conditions at D (they hold iff <= 1); each ratio falls at
 * least linearly when D is scaled down. */
typedef int (*DcExcessFn)(void* ctx, const DcHostBlocks* D, double* out);
/* stepsize-precision fp32 for conditions that couple the blocks (Corollary 1; single-node D is rounded
 * block by block): rounds D's entries to float.  When rounding lifts the excess above 1 although it
 * held in double, D is scaled down by the excess and a few float ulps and rounded again. */
int dc_stepsize_round_float(DcHostBlocks* D, DcExcessFn excess, void* ctx);
/* The shrink after `attempt` rounded at `shrink` and lifted the excess to after > 1: lower by the excess and
 * 2^(attempt-22) (a few float ulps, more each time). */
double dc_round_next_shrink(double shrink, int attempt, double after);
/* log det D through per-block Cholesky factors. */
int dc_log_det(const DcHostBlocks* D, double* out);

#endif /* DETCGD_STEPSIZE_H */
