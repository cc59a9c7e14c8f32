/*
 * libraries.cc -- the cuBLAS and cuSOLVER calls of the CUDA backend in the CPU emulation (see device.h),
 * computed by the reference BLAS and LAPACK, whose conventions (column-major, leading dimensions,
 * operations, triangles) the CUDA libraries share: a wrong argument gives a wrong result here as there.
 * Every call runs in its handle's stream order (recorded while the stream is captured); the matrices
 * must lie inside device allocations.
 */
#include <cublas_v2.h>
#include <cusolverDn.h>
#include <stdint.h>
#include <vector>
#include "emu.h"

using dc_emu::enqueue;
using dc_emu::require_device;

/* Fortran BLAS / LAPACK (character arguments with their hidden lengths) */
extern "C" {
void dgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const double* alpha,
            const double* A, const int* lda, const double* B, const int* ldb, const double* beta, double* C,
            const int* ldc, size_t, size_t);
void dgemv_(const char* ta, const int* m, const int* n, const double* alpha, const double* A, const int* lda,
            const double* x, const int* incx, const double* beta, double* y, const int* incy, size_t);
void dtrsm_(const char* side, const char* uplo, const char* ta, const char* diag, const int* m, const int* n,
            const double* alpha, const double* A, const int* lda, double* B, const int* ldb, size_t, size_t, size_t,
            size_t);
void dpotrf_(const char* uplo, const int* n, double* A, const int* lda, int* info, size_t);
void dsyev_(const char* jobz, const char* uplo, const int* n, double* A, const int* lda, double* w, double* work,
            const int* lwork, int* info, size_t, size_t);
}

struct cublasContext { cudaStream_t stream = nullptr; };
struct cusolverDnContext { cudaStream_t stream = nullptr; };
struct cusolverDnParams { int unused = 0; };

namespace {

char op_char(cublasOperation_t op) { return op == CUBLAS_OP_N ? 'N' : op == CUBLAS_OP_T ? 'T' : 'C'; }
char fill_char(cublasFillMode_t f) { return f == CUBLAS_FILL_MODE_LOWER ? 'L' : 'U'; }

/* bytes of a rows x cols column-major matrix with leading dimension ld */
size_t matrix_bytes(int64_t rows, int64_t cols, int64_t ld) {
  return rows > 0 && cols > 0 ? (size_t)((cols - 1) * ld + rows) * sizeof(double) : 0;
}

/* the device bytes syevBatched asks for: one n x n matrix per batch entry */
size_t syev_device_bytes(int64_t n, int64_t batch) { return (size_t)(n * n * batch) * sizeof(double); }

/* Library handles (cuBLAS, cuSOLVER) hold their stream: created, given a stream, destroyed; `ok` is the success
 * status. */
template <typename Context, typename Status>
Status create_handle(Context** h, Status ok) {
  *h = new Context();
  return ok;
}

template <typename Context, typename Status>
Status destroy_handle(Context* h, Status ok) {
  delete h;
  return ok;
}

template <typename Context, typename Status>
Status set_handle_stream(Context* h, cudaStream_t s, Status ok) {
  h->stream = s;
  return ok;
}

}  // namespace

extern "C" {

/* ---- cuBLAS ---- */

cublasStatus_t cublasCreate_v2(cublasHandle_t* h) { return create_handle(h, CUBLAS_STATUS_SUCCESS); }
cublasStatus_t cublasDestroy_v2(cublasHandle_t h) { return destroy_handle(h, CUBLAS_STATUS_SUCCESS); }
cublasStatus_t cublasSetStream_v2(cublasHandle_t h, cudaStream_t s) {
  return set_handle_stream(h, s, CUBLAS_STATUS_SUCCESS);
}

/* C_b = alpha op(A_b) op(B_b) + beta C_b, X_b = X + b strideX (alpha, beta on the host) */
cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const double* alpha, const double* A, int lda, long long strideA,
                                         const double* B, int ldb, long long strideB, const double* beta, double* C,
                                         int ldc, long long strideC, int batch) {
  int64_t ar = ta == CUBLAS_OP_N ? m : k, ac = ta == CUBLAS_OP_N ? k : m;
  int64_t br = tb == CUBLAS_OP_N ? k : n, bc = tb == CUBLAS_OP_N ? n : k;
  double a = *alpha, b = *beta;
  if (m < 0 || n < 0 || k < 0 || batch < 0 || lda < (ar > 1 ? ar : 1) || ldb < (br > 1 ? br : 1) ||
      ldc < (m > 1 ? m : 1))
    return CUBLAS_STATUS_INVALID_VALUE;
  for (int t = 0; t < batch; ++t) {
    require_device(A + t * strideA, matrix_bytes(ar, ac, lda), "cublasDgemmStridedBatched: A");
    require_device(B + t * strideB, matrix_bytes(br, bc, ldb), "cublasDgemmStridedBatched: B");
    require_device(C + t * strideC, matrix_bytes(m, n, ldc), "cublasDgemmStridedBatched: C");
  }
  enqueue(h->stream, [=]() {
    char cta = op_char(ta), ctb = op_char(tb);
    for (int t = 0; t < batch; ++t)
      dgemm_(&cta, &ctb, &m, &n, &k, &a, A + t * strideA, &lda, B + t * strideB, &ldb, &b, C + t * strideC, &ldc, 1, 1);
  });
  return CUBLAS_STATUS_SUCCESS;
}

/* y_b = alpha op(A_b) x_b + beta y_b, X_b = X + b strideX */
cublasStatus_t cublasDgemvStridedBatched(cublasHandle_t h, cublasOperation_t ta, int m, int n, const double* alpha,
                                         const double* A, int lda, long long strideA, const double* x, int incx,
                                         long long stridex, const double* beta, double* y, int incy, long long stridey,
                                         int batch) {
  int64_t nx = ta == CUBLAS_OP_N ? n : m, ny = ta == CUBLAS_OP_N ? m : n;
  double a = *alpha, b = *beta;
  if (m < 0 || n < 0 || batch < 0 || lda < (m > 1 ? m : 1) || incx <= 0 || incy <= 0) return CUBLAS_STATUS_INVALID_VALUE;
  for (int t = 0; t < batch; ++t) {
    require_device(A + t * strideA, matrix_bytes(m, n, lda), "cublasDgemvStridedBatched: A");
    require_device(x + t * stridex, matrix_bytes(1, nx, incx), "cublasDgemvStridedBatched: x");
    require_device(y + t * stridey, matrix_bytes(1, ny, incy), "cublasDgemvStridedBatched: y");
  }
  enqueue(h->stream, [=]() {
    char ct = op_char(ta);
    for (int t = 0; t < batch; ++t)
      dgemv_(&ct, &m, &n, &a, A + t * strideA, &lda, x + t * stridex, &incx, &b, y + t * stridey, &incy, 1);
  });
  return CUBLAS_STATUS_SUCCESS;
}

/* B_b = alpha op(A_b)^{-1} B_b (left) or alpha B_b op(A_b)^{-1} (right), A_b triangular; the pointer arrays on
 * the device, read when the call runs */
cublasStatus_t cublasDtrsmBatched(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, cublasOperation_t ta,
                                  cublasDiagType_t diag, int m, int n, const double* alpha, const double* const A[],
                                  int lda, double* const B[], int ldb, int batch) {
  int64_t na = side == CUBLAS_SIDE_LEFT ? m : n;
  double a = *alpha;
  if (m < 0 || n < 0 || batch < 0 || lda < (na > 1 ? na : 1) || ldb < (m > 1 ? m : 1)) return CUBLAS_STATUS_INVALID_VALUE;
  require_device(A, (size_t)batch * sizeof(double*), "cublasDtrsmBatched: A's pointers");
  require_device(B, (size_t)batch * sizeof(double*), "cublasDtrsmBatched: B's pointers");
  enqueue(h->stream, [=]() {
    char cs = side == CUBLAS_SIDE_LEFT ? 'L' : 'R', cu = fill_char(uplo), ct = op_char(ta);
    char cd = diag == CUBLAS_DIAG_UNIT ? 'U' : 'N';
    for (int t = 0; t < batch; ++t) {
      require_device(A[t], matrix_bytes(na, na, lda), "cublasDtrsmBatched: A");
      require_device(B[t], matrix_bytes(m, n, ldb), "cublasDtrsmBatched: B");
      dtrsm_(&cs, &cu, &ct, &cd, &m, &n, &a, A[t], &lda, B[t], &ldb, 1, 1, 1, 1);
    }
  });
  return CUBLAS_STATUS_SUCCESS;
}

/* ---- cuSOLVER ---- */

cusolverStatus_t cusolverDnCreate(cusolverDnHandle_t* h) { return create_handle(h, CUSOLVER_STATUS_SUCCESS); }
cusolverStatus_t cusolverDnDestroy(cusolverDnHandle_t h) { return destroy_handle(h, CUSOLVER_STATUS_SUCCESS); }
cusolverStatus_t cusolverDnSetStream(cusolverDnHandle_t h, cudaStream_t s) {
  return set_handle_stream(h, s, CUSOLVER_STATUS_SUCCESS);
}

cusolverStatus_t cusolverDnCreateParams(cusolverDnParams_t* p) { return create_handle(p, CUSOLVER_STATUS_SUCCESS); }
cusolverStatus_t cusolverDnDestroyParams(cusolverDnParams_t p) { return destroy_handle(p, CUSOLVER_STATUS_SUCCESS); }

/* A_b = its Cholesky factor in the `uplo` triangle; info[b] = 0, or i > 0 when the leading minor i is not
 * positive definite */
cusolverStatus_t cusolverDnDpotrfBatched(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, double* A[], int lda,
                                         int* info, int batch) {
  if (n < 0 || batch < 0 || lda < (n > 1 ? n : 1)) return CUSOLVER_STATUS_INVALID_VALUE;
  require_device(A, (size_t)batch * sizeof(double*), "cusolverDnDpotrfBatched: A's pointers");
  require_device(info, (size_t)batch * sizeof(int), "cusolverDnDpotrfBatched: info");
  enqueue(h->stream, [=]() {
    char cu = fill_char(uplo);
    for (int t = 0; t < batch; ++t) {
      require_device(A[t], matrix_bytes(n, n, lda), "cusolverDnDpotrfBatched: A");
      dpotrf_(&cu, &n, A[t], &lda, &info[t], 1);
    }
  });
  return CUSOLVER_STATUS_SUCCESS;
}

cusolverStatus_t cusolverDnXsyevBatched_bufferSize(cusolverDnHandle_t h, cusolverDnParams_t params,
                                                   cusolverEigMode_t jobz, cublasFillMode_t uplo, int64_t n,
                                                   cudaDataType typeA, const void* A, int64_t lda, cudaDataType typeW,
                                                   const void* W, cudaDataType compute, size_t* device_bytes,
                                                   size_t* host_bytes, int64_t batch) {
  (void)h; (void)params; (void)jobz; (void)uplo; (void)A; (void)W;
  if (typeA != CUDA_R_64F || typeW != CUDA_R_64F || compute != CUDA_R_64F) return CUSOLVER_STATUS_NOT_SUPPORTED;
  if (n < 0 || batch < 0 || lda < (n > 1 ? n : 1)) return CUSOLVER_STATUS_INVALID_VALUE;
  *device_bytes = syev_device_bytes(n, batch);
  *host_bytes = 0;
  return CUSOLVER_STATUS_SUCCESS;
}

/* W_b = the eigenvalues of A_b ascending (A_b = A + b lda n, W_b = W + b n), A_b = its eigenvectors (VECTOR) or
 * destroyed; info[b] = 0 or > 0 (no convergence) */
cusolverStatus_t cusolverDnXsyevBatched(cusolverDnHandle_t h, cusolverDnParams_t params, cusolverEigMode_t jobz,
                                        cublasFillMode_t uplo, int64_t n, cudaDataType typeA, void* A, int64_t lda,
                                        cudaDataType typeW, void* W, cudaDataType compute, void* device_buf,
                                        size_t device_bytes, void* host_buf, size_t host_bytes, int* info,
                                        int64_t batch) {
  (void)params; (void)host_buf; (void)host_bytes;
  if (typeA != CUDA_R_64F || typeW != CUDA_R_64F || compute != CUDA_R_64F) return CUSOLVER_STATUS_NOT_SUPPORTED;
  if (n < 0 || batch < 0 || lda < (n > 1 ? n : 1) || n > INT32_MAX || lda > INT32_MAX) return CUSOLVER_STATUS_INVALID_VALUE;
  if (device_bytes < syev_device_bytes(n, batch)) return CUSOLVER_STATUS_INVALID_VALUE;
  if (batch == 0 || n == 0) return CUSOLVER_STATUS_SUCCESS;
  require_device(device_buf, syev_device_bytes(n, batch), "cusolverDnXsyevBatched: workspace");
  require_device(A, (size_t)((batch - 1) * lda * n) * sizeof(double) + matrix_bytes(n, n, lda), "cusolverDnXsyevBatched: A");
  require_device(W, (size_t)(batch * n) * sizeof(double), "cusolverDnXsyevBatched: W");
  require_device(info, (size_t)batch * sizeof(int), "cusolverDnXsyevBatched: info");
  enqueue(h->stream, [=]() {
    char cj = jobz == CUSOLVER_EIG_MODE_VECTOR ? 'V' : 'N', cu = fill_char(uplo);
    int nn = (int)n, ld = (int)lda, lwork = -1, q;
    double size = 0.0;
    dsyev_(&cj, &cu, &nn, (double*)A, &ld, (double*)W, &size, &lwork, &q, 1, 1);
    lwork = (int)size;
    std::vector<double> work((size_t)(lwork > 1 ? lwork : 1));
    for (int64_t t = 0; t < batch; ++t)
      dsyev_(&cj, &cu, &nn, (double*)A + t * lda * n, &ld, (double*)W + t * n, work.data(), &lwork, &info[t], 1, 1);
  });
  return CUSOLVER_STATUS_SUCCESS;
}

}  // extern "C"
