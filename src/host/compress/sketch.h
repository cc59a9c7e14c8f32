/*
 * sketch.h -- sketch specifications and their exact second moments.
 *
 * Closed forms per block of width m (A symmetric):
 *   identity             E[SAS] = A
 *   rand-k               (m/k) [ ((m-k)/(m-1)) diag(A) + ((k-1)/(m-1)) A ]
 *   importance rand-1    Diag(A_jj / p_j)
 *   coordinate Bernoulli A + Diag((1/p - 1) A_jj)     (diagonal A_jj / p)
 *   Bern-q (layer)       A / q
 * and E[(S-I)A(S-I)] = E[SAS] - A (because E[S] = I).
 */
#ifndef DETCGD_SKETCH_H
#define DETCGD_SKETCH_H

#include "backend.h"

/* Builds the per-layer sketch of `s` on problem `p` (k_i, q_i, p_j checked against d_i). */
int dc_sketch_spec_build(DcSketchSpec* sp, const DetcgdSketchSettings* s,
                         const DetcgdCommSettings* comm, const DetcgdProblem* p);
/* The identity sketch on `lay` (GD, and det-CGD with S = I). */
int dc_sketch_spec_identity(DcSketchSpec* sp, const DcLayout* lay, const DetcgdCommSettings* comm);
void dc_sketch_spec_free(DcSketchSpec* sp);

/* The weight w_rc of entry (r, c) in E[S_i A S_i]_rc = w_rc A_rc: every closed form above is one
 * (off-diagonal entries share one weight; the diagonal's may vary with r). */
double dc_sketch_moment_weight(const DcSketchSpec* sp, int i, int r, int c);
/* out = E[S_i A S_i] for layer i (m x m, column-major). */
void dc_sketch_second_moment(const DcSketchSpec* sp, int i, const double* A, double* out);
/* out = E[(S_i - I) A (S_i - I)] = E[S_i A S_i] - A. */
void dc_sketch_variance(const DcSketchSpec* sp, int i, const double* A, double* out);
/* Expected kept coordinates of layer i per draw. */
double dc_sketch_expected_count(const DcSketchSpec* sp, int i);
/* Expected uplink bits of one draw of the whole sketch. */
double dc_sketch_expected_bits(const DcSketchSpec* sp);

#endif /* DETCGD_SKETCH_H */
