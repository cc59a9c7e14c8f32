/*
 * linalg.h -- dense symmetric linear algebra on host blocks, through LAPACK.
 * All matrices are m x m, column-major.  No hand-written solvers.
 */
#ifndef DETCGD_LINALG_H
#define DETCGD_LINALG_H

#include <stdint.h>
#include "internal.h"

/* log det A from the Cholesky factor: 2 sum log R_jj.  DETCGD_ERR_NUMERIC if A is not SPD. */
int dc_chol_logdet(const double* A, int m, double* logdet);
/* Eigenvalues w (ascending) and, if V != NULL, eigenvectors of symmetric A. */
int dc_sym_eig(const double* A, int m, double* w, double* V);
/* lambda_max(A) of symmetric A. */
int dc_lambda_max(const double* A, int m, double* out);
/* lambda_max(B^{-1} A) = lambda_max(B^{-1/2} A B^{-1/2}), A symmetric, B SPD. */
int dc_gen_lambda_max(const double* A, const double* B, int m, double* out);
/* out = A^p (eigen-decomposition): SPD A for p < 0; PSD A for p > 0 (eigenvalues that are
 * negative by rounding, >= -1e-12 lambda_max, count as 0). */
int dc_sym_power(const double* A, int m, double p, double* out);
/* out_i = B_i^p (dense, at moff[i]) for every block of B, on every core (dc_sym_power's conditions). */
int dc_blocks_power(const DcHostBlocks* B, double p, double* out);
/* out = A^{-1} for SPD A (Cholesky, dpotri). */
int dc_spd_inverse(const double* A, int m, double* out);
/* y = A x for a symmetric operator A of dimension n (the Lanczos callback). */
typedef void (*DcSymApply)(void* ctx, const double* x, double* y);
/* lambda_max of a symmetric operator by Lanczos (full reorthogonalisation, restarts from the
 * top Ritz vector) to a relative residual rtol.  out = theta + r for the top Ritz pair
 * (theta, y), r = ||A y - theta y||: theta <= lambda_max, and the eigenvalue Lanczos converged to
 * lies in [theta - r, theta + r], so out errs on the safe (large) side.  Deterministic: the start
 * vector is a fixed Philox draw. */
int dc_lanczos_max(DcSymApply apply, void* ctx, int64_t n, double rtol, double* out);
/* C = A B (m x m). */
void dc_matmul(const double* A, const double* B, int m, double* C);
/* Random orthogonal Q (QR of a Gaussian matrix drawn from Philox(seed, stream)). */
int dc_random_orthogonal(int m, uint64_t seed, uint32_t stream, double* Q);
/* Standard normal number i of (seed, stream) by Box-Muller on Philox. */
double dc_gaussian(uint64_t seed, uint32_t stream, uint32_t i);

#endif /* DETCGD_LINALG_H */
