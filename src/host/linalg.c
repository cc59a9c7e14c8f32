/*
 * linalg.c -- LAPACK wrappers for the small dense symmetric blocks of L and D.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "linalg.h"
#include "philox.h"

/* Fortran LAPACK / BLAS symbols (reference LAPACK, OpenBLAS, MKL all export these). */
extern void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
extern void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info);
extern void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                   double* w, double* work, const int* lwork, int* info);
extern void dsygv_(const int* itype, const char* jobz, const char* uplo, const int* n, double* a,
                   const int* lda, double* b, const int* ldb, double* w, double* work,
                   const int* lwork, int* info);
extern void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau,
                    double* work, const int* lwork, int* info);
extern void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda,
                    const double* tau, double* work, const int* lwork, int* info);

static double* dup_matrix(const double* A, int m) {
  double* c = (double*)dc_calloc((size_t)m * m, sizeof(double));
  if (c) memcpy(c, A, (size_t)m * m * sizeof(double));
  return c;
}

int dc_chol_logdet(const double* A, int m, double* logdet) {
  double* R = dup_matrix(A, m);
  int info = 0, j;
  if (!R) return DETCGD_ERR_ALLOC;
  dpotrf_("L", &m, R, &m, &info);
  if (info != 0) {
    free(R);
    return dc_fail(DETCGD_ERR_NUMERIC, "matrix of size %d is not positive definite (dpotrf info %d)", m, info);
  }
  *logdet = 0.0;
  for (j = 0; j < m; ++j) *logdet += 2.0 * log(R[j + (int64_t)j * m]);
  free(R);
  return DETCGD_OK;
}

int dc_sym_eig(const double* A, int m, double* w, double* V) {
  double* a = dup_matrix(A, m);
  double* work;
  int info = 0, lwork = 3 * m + 64 * m;
  if (!a) return DETCGD_ERR_ALLOC;
  work = (double*)dc_calloc((size_t)lwork, sizeof(double));
  if (!work) { free(a); return DETCGD_ERR_ALLOC; }
  dsyev_(V ? "V" : "N", "L", &m, a, &m, w, work, &lwork, &info);
  if (V) memcpy(V, a, (size_t)m * m * sizeof(double));
  free(a);
  free(work);
  if (info != 0) return dc_fail(DETCGD_ERR_NUMERIC, "dsyev failed (info %d, size %d)", info, m);
  return DETCGD_OK;
}

int dc_lambda_max(const double* A, int m, double* out) {
  double* w = (double*)dc_calloc((size_t)m, sizeof(double));
  int st;
  if (!w) return DETCGD_ERR_ALLOC;
  st = dc_sym_eig(A, m, w, NULL);
  *out = w[m - 1];
  free(w);
  return st;
}

int dc_gen_lambda_max(const double* A, const double* B, int m, double* out) {
  double *a = dup_matrix(A, m), *b = dup_matrix(B, m), *w, *work;
  int info = 0, itype = 1, lwork = 3 * m + 64 * m;
  w = (double*)dc_calloc((size_t)m, sizeof(double));
  work = (double*)dc_calloc((size_t)lwork, sizeof(double));
  if (!a || !b || !w || !work) { free(a); free(b); free(w); free(work); return DETCGD_ERR_ALLOC; }
  dsygv_(&itype, "N", "L", &m, a, &m, b, &m, w, work, &lwork, &info);
  *out = w[m - 1];
  free(a); free(b); free(w); free(work);
  if (info > m) return dc_fail(DETCGD_ERR_NUMERIC, "generalized eigenproblem: the weight matrix (size %d) is not positive definite", m);
  if (info != 0) return dc_fail(DETCGD_ERR_NUMERIC, "dsygv failed (info %d, size %d)", info, m);
  return DETCGD_OK;
}

int dc_sym_power(const double* A, int m, double p, double* out) {
  double *w = (double*)dc_calloc((size_t)m, sizeof(double));
  double *V = (double*)dc_calloc((size_t)m * m, sizeof(double));
  int st, r, c, j;
  if (!w || !V) { free(w); free(V); return DETCGD_ERR_ALLOC; }
  st = dc_sym_eig(A, m, w, V);
  if (st == DETCGD_OK && w[0] <= 0.0)
    st = dc_fail(DETCGD_ERR_NUMERIC, "matrix power: matrix of size %d is not positive definite (lambda_min = %g)", m, w[0]);
  if (st == DETCGD_OK) {
    /* out = V diag(w^p) V^T */
    for (j = 0; j < m; ++j) w[j] = pow(w[j], p);
    for (c = 0; c < m; ++c)
      for (r = 0; r <= c; ++r) { /* upper triangle, mirrored: out is exactly symmetric */
        double s = 0.0;
        for (j = 0; j < m; ++j) s += V[r + (int64_t)j * m] * w[j] * V[c + (int64_t)j * m];
        out[r + (int64_t)c * m] = s;
        out[c + (int64_t)r * m] = s;
      }
  }
  free(w);
  free(V);
  return st;
}

int dc_spd_inverse(const double* A, int m, double* out) {
  int info = 0, r, c;
  memcpy(out, A, (size_t)m * m * sizeof(double));
  dpotrf_("L", &m, out, &m, &info);
  if (info == 0) dpotri_("L", &m, out, &m, &info);
  if (info != 0) return dc_fail(DETCGD_ERR_NUMERIC, "inverse: matrix of size %d is not positive definite", m);
  for (c = 0; c < m; ++c)
    for (r = 0; r < c; ++r) out[r + (int64_t)c * m] = out[c + (int64_t)r * m];
  return DETCGD_OK;
}

void dc_matmul(const double* A, const double* B, int m, double* C) {
  int r, c, j;
  memset(C, 0, (size_t)m * m * sizeof(double));
  for (c = 0; c < m; ++c)
    for (j = 0; j < m; ++j) {
      double b = B[j + (int64_t)c * m];
      for (r = 0; r < m; ++r) C[r + (int64_t)c * m] += A[r + (int64_t)j * m] * b;
    }
}

/* Box-Muller: sqrt(-2 log u1) cos(2 pi u2) with u1 in (0, 1]. */
double dc_gaussian(uint64_t seed, uint32_t stream, uint32_t i) {
  DcPhiloxOut r = dc_philox_draw(seed, i, stream, 0xC0FFEEu, 0);
  double u1 = 1.0 - dc_uniform53(r), u2 = dc_uniform53_b(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int dc_random_orthogonal(int m, uint64_t seed, uint32_t stream, double* Q) {
  int info = 0, lwork = 64 * m, j;
  double* tau = (double*)dc_calloc((size_t)m, sizeof(double));
  double* work = (double*)dc_calloc((size_t)lwork, sizeof(double));
  if (!tau || !work) { free(tau); free(work); return DETCGD_ERR_ALLOC; }
  for (j = 0; j < m * m; ++j) Q[j] = dc_gaussian(seed, stream, (uint32_t)j);
  dgeqrf_(&m, &m, Q, &m, tau, work, &lwork, &info);
  if (info == 0) dorgqr_(&m, &m, &m, Q, &m, tau, work, &lwork, &info);
  free(tau);
  free(work);
  return info == 0 ? DETCGD_OK : dc_fail(DETCGD_ERR_NUMERIC, "QR of a random matrix failed (info %d)", info);
}
