/*
 * gram.h -- the logistic smoothness matrix L = (1/(4N)) A^T A + 2 lam I of a
 * set of CSR rows, never formed: its diagonal blocks, and lambda_max of
 * P Lbar P (Lbar a mean of such matrices, P block diagonal) by Lanczos with
 * products L x = (1/(4N)) A^T (A x) + 2 lam x.  Memory is O(nnz + d b), so
 * the constants of logreg-nc scale to any d whose layers fit.
 */
#ifndef DETCGD_GRAM_H
#define DETCGD_GRAM_H

#include "backend.h"

/* out_i += weight L_ii for every layer i (dense m_i x m_i blocks at lay->moff[i]), L of h's rows. */
void dc_gram_add_blocks(const DcHostProblem* h, const DcLayout* lay, double weight, double* out);

#define DC_RTOL_CONSTANT 1e-12 /* constants of the theory and certificates */
#define DC_RTOL_STEP 1e-4      /* the step 1/lambda_max of a GD run that estimates f^inf */

/* lambda_max(P Lbar P), Lbar = (1/n) sum_c L_c over the rows of hs[0..n-1], P block diagonal with
 * dense blocks at lay->moff (NULL: P = I).  An upper estimate to relative residual rtol
 * (dc_lanczos_max). */
int dc_gram_lambda_max(const DcHostProblem* hs, int n, const DcLayout* lay, const double* P, double rtol,
                       double* out);

#endif /* DETCGD_GRAM_H */
