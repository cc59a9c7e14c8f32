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

/* out = A^p elementwise on the diagonal when A is diagonal (exactly); 0 if it is not. */
static int diagonal_power(const double* A, int m, double p, double* out, int* st) {
  int r, c;
  for (c = 0; c < m; ++c)
    for (r = 0; r < m; ++r)
      if (r != c && A[r + (int64_t)c * m] != 0.0) return 0;
  *st = DETCGD_OK;
  for (r = 0; r < m; ++r) {
    double a = A[r + (int64_t)r * m];
    if (p < 0 ? !(a > 0.0) : a < 0.0)
      *st = dc_fail(DETCGD_ERR_NUMERIC, "matrix power: matrix of size %d is not positive %s (diagonal entry %g)", m,
                    p < 0 ? "definite" : "semidefinite", a);
  }
  if (*st != DETCGD_OK) return 1;
  memset(out, 0, (size_t)m * m * sizeof(double));
  for (r = 0; r < m; ++r) {
    double a = A[r + (int64_t)r * m];
    out[r + (int64_t)r * m] = a > 0.0 ? pow(a, p) : 0.0;
  }
  return 1;
}

int dc_sym_power(const double* A, int m, double p, double* out) {
  double *w, *V;
  int st, r, c, j;
  if (diagonal_power(A, m, p, out, &st)) return st;
  w = (double*)dc_calloc((size_t)m, sizeof(double));
  V = (double*)dc_calloc((size_t)m * m, sizeof(double));
  if (!w || !V) { free(w); free(V); return DETCGD_ERR_ALLOC; }
  st = dc_sym_eig(A, m, w, V);
  if (st == DETCGD_OK && (p < 0 ? w[0] <= 0.0 : w[0] < -1e-12 * fabs(w[m - 1])))
    st = dc_fail(DETCGD_ERR_NUMERIC, "matrix power: matrix of size %d is not positive %s (lambda_min = %g)", m,
                 p < 0 ? "definite" : "semidefinite", w[0]);
  if (st == DETCGD_OK) {
    /* out = V diag(w^p) V^T: lower triangle column by column (unit stride), then mirrored */
    memset(out, 0, (size_t)m * m * sizeof(double));
    for (j = 0; j < m; ++j) {
      const double* v = V + (int64_t)j * m;
      const double wj = w[j] > 0.0 ? pow(w[j], p) : 0.0;
      if (wj == 0.0) continue;
      for (c = 0; c < m; ++c) {
        const double f = wj * v[c];
        double* o = out + (int64_t)c * m;
        for (r = c; r < m; ++r) o[r] += v[r] * f;
      }
    }
    for (c = 0; c < m; ++c)
      for (r = c + 1; r < m; ++r) out[c + (int64_t)r * m] = out[r + (int64_t)c * m];
  }
  free(w);
  free(V);
  return st;
}

typedef struct PowerCtx {
  const DcHostBlocks* B;
  double p;
  double* out;
} PowerCtx;

/* Block i of B^p.  w: B_i. */
static int power_block(void* ctx, int i, double** w, double* unused) {
  const PowerCtx* c = (const PowerCtx*)ctx;
  const DcLayout* lay = c->B->layout;
  (void)unused;
  dc_blocks_get_dense(c->B, i, w[0]);
  return dc_sym_power(w[0], lay->size[i], c->p, c->out + lay->moff[i]);
}

int dc_blocks_power(const DcHostBlocks* B, double p, double* out) {
  PowerCtx ctx = {B, p, out};
  return dc_for_each_block(B->layout->nblocks, B->layout->max_size, 1, power_block, &ctx, NULL);
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

/* ==== Lanczos ==== */

#define DC_LANCZOS_MAX_PRODUCTS 4000
#define DC_LANCZOS_BASIS_BYTES ((size_t)256 << 20)

extern void dstev_(const char* jobz, const int* n, double* d, double* e, double* z, const int* ldz,
                   double* work, int* info);

static double dot_n(const double* a, const double* b, int64_t n) {
  double s = 0.0;
  int64_t i;
  for (i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

/* Top eigenpair of the j x j tridiagonal (alpha, beta): theta and the last entry of its unit
 * eigenvector, s (length j) when s != NULL.  z, work: j^2 and 2j doubles. */
static int tridiag_top(const double* alpha, const double* beta, int j, double* z, double* work,
                       double* theta, double* s) {
  double *dd = work, *ee = work + j;
  int info = 0, k;
  memcpy(dd, alpha, (size_t)j * sizeof(double));
  if (j > 1) memcpy(ee, beta, (size_t)(j - 1) * sizeof(double));
  dstev_("V", &j, dd, ee, z, &j, work + 2 * j, &info);
  if (info != 0) return dc_fail(DETCGD_ERR_NUMERIC, "Lanczos: dstev failed (info %d, size %d)", info, j);
  *theta = dd[j - 1];
  if (s) for (k = 0; k < j; ++k) s[k] = z[k + (int64_t)(j - 1) * j];
  return DETCGD_OK;
}

/* One Lanczos pass of up to m steps from unit q0 = Q[:,0]; on return Q[:,0] holds the top Ritz
 * vector.  Stops early when the residual beta_j |s_j| <= rtol |theta| or the space is invariant. */
static int lanczos_pass(DcSymApply apply, void* ctx, int64_t n, double rtol, int m, double* Q, double* w, double* alpha,
                        double* beta, double* z, double* work, double* s, int* products, double* theta,
                        double* resid) {
  int j, i, st = DETCGD_OK, steps = 0;
  int64_t e;
  for (j = 0; j < m && *products < DC_LANCZOS_MAX_PRODUCTS; ++j) {
    double* q = Q + (int64_t)j * n;
    apply(ctx, q, w);
    ++*products;
    alpha[j] = dot_n(q, w, n);
    for (i = 0; i <= j; ++i) { /* full reorthogonalisation, twice ("twice is enough") */
      double h = dot_n(Q + (int64_t)i * n, w, n);
      for (e = 0; e < n; ++e) w[e] -= h * Q[e + (int64_t)i * n];
    }
    for (i = 0; i <= j; ++i) {
      double h = dot_n(Q + (int64_t)i * n, w, n);
      for (e = 0; e < n; ++e) w[e] -= h * Q[e + (int64_t)i * n];
    }
    beta[j] = sqrt(dot_n(w, w, n));
    steps = j + 1;
    if ((st = tridiag_top(alpha, beta, steps, z, work, theta, s)) != DETCGD_OK) return st;
    *resid = beta[j] * fabs(s[j]);
    if (*resid <= rtol * fabs(*theta) || beta[j] <= 1e-300 || j + 1 == m) break;
    for (e = 0; e < n; ++e) Q[e + (int64_t)(j + 1) * n] = w[e] / beta[j];
  }
  /* Ritz vector y = Q s into w, normalised, then to Q[:,0] */
  memset(w, 0, (size_t)n * sizeof(double));
  for (i = 0; i < steps; ++i)
    for (e = 0; e < n; ++e) w[e] += s[i] * Q[e + (int64_t)i * n];
  {
    double nrm = sqrt(dot_n(w, w, n));
    for (e = 0; e < n; ++e) Q[e] = w[e] / nrm;
  }
  return DETCGD_OK;
}

int dc_lanczos_max(DcSymApply apply, void* ctx, int64_t n, double rtol, double* out) {
  int64_t e, cap = (int64_t)(DC_LANCZOS_BASIS_BYTES / sizeof(double)) / (n > 0 ? n : 1);
  int m = (int)(n < 96 ? n : 96), products = 0, st = DETCGD_OK;
  double *Q, *w, *alpha, *beta, *z, *work, *s, theta = 0.0, resid = 0.0, nrm;
  if (n <= 0) { *out = 0.0; return DETCGD_OK; }
  if (m > cap) m = cap > 8 ? (int)cap : 8;
  if (m > n) m = (int)n;
  Q = (double*)dc_calloc((size_t)n * m, sizeof(double));
  w = (double*)dc_calloc((size_t)n, sizeof(double));
  alpha = (double*)dc_calloc((size_t)m, sizeof(double));
  beta = (double*)dc_calloc((size_t)m, sizeof(double));
  z = (double*)dc_calloc((size_t)m * m, sizeof(double));
  work = (double*)dc_calloc((size_t)4 * m, sizeof(double));
  s = (double*)dc_calloc((size_t)m, sizeof(double));
  if (!Q || !w || !alpha || !beta || !z || !work || !s) st = DETCGD_ERR_ALLOC;
  if (st == DETCGD_OK) {
    for (e = 0; e < n; ++e) Q[e] = dc_gaussian(0x1A2C05ULL, 0x5EEDu, (uint32_t)e);
    nrm = sqrt(dot_n(Q, Q, n));
    for (e = 0; e < n; ++e) Q[e] /= nrm;
  }
  while (st == DETCGD_OK) {
    st = lanczos_pass(apply, ctx, n, rtol, m, Q, w, alpha, beta, z, work, s, &products, &theta, &resid);
    if (st != DETCGD_OK || resid <= rtol * fabs(theta) || products >= DC_LANCZOS_MAX_PRODUCTS) break;
  }
  *out = theta + resid;
  free(Q); free(w); free(alpha); free(beta); free(z); free(work); free(s);
  return st;
}
