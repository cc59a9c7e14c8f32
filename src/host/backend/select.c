/*
 * select.c -- status strings, the run-time backend choice, and what every backend checks alike.
 *
 * DETCGD_WITH_CUDA and DETCGD_WITH_MPI appear here and in CMakeLists.txt only (and in the build line, detcgd_build_info).
 */
#include <string.h>
#include "backend.h"
#include "transport.h"

int dc_vec_view_check(int64_t off, int64_t n, int64_t len) {
  if (off >= 0 && n >= 0 && off + n <= len) return DETCGD_OK;
  return dc_fail(DETCGD_ERR_INTERNAL, "vec_view: [%lld, %lld) outside a vector of %lld", (long long)off,
                 (long long)(off + n), (long long)len);
}

int dc_host_problem_same_rows(const DcHostProblem* a, const DcHostProblem* b) {
  return a->kind == DETCGD_PROBLEM_LOGREG_NC && b->kind == a->kind && a->nrows == b->nrows && a->rowptr == b->rowptr &&
         a->colidx == b->colidx && a->val == b->val && a->label == b->label && a->layout->dim == b->layout->dim &&
         a->store32 == b->store32;
}

const char* detcgd_status_str(int st) {
  switch (st) {
    case DETCGD_OK: return "ok";
    case DETCGD_ERR_ARG: return "invalid argument";
    case DETCGD_ERR_ALLOC: return "out of memory";
    case DETCGD_ERR_IO: return "i/o error";
    case DETCGD_ERR_PARSE: return "malformed input";
    case DETCGD_ERR_NUMERIC: return "numerical error";
    case DETCGD_ERR_CERT: return "stepsize condition fails";
    case DETCGD_ERR_NO_DEVICE: return "no CUDA device";
    case DETCGD_ERR_CUDA: return "CUDA error";
    case DETCGD_ERR_INTERNAL: return "internal error";
    default: return "unknown status";
  }
}

#ifndef DETCGD_GIT_COMMIT
#define DETCGD_GIT_COMMIT "unknown"
#endif
#ifdef DETCGD_WITH_CUDA
#define BUILT_CUDA "on"
#else
#define BUILT_CUDA "off"
#endif
#ifdef DETCGD_WITH_MPI
#define BUILT_MPI "on"
#else
#define BUILT_MPI "off"
#endif
#ifdef _OPENMP
#define BUILT_OPENMP "on"
#else
#define BUILT_OPENMP "off"
#endif

const char* detcgd_version(void) { return DETCGD_VERSION; }
size_t detcgd_problem_spec_size(void) { return sizeof(DetcgdProblemSpec); }
size_t detcgd_settings_size(void) { return sizeof(DetcgdSettings); }

const char* detcgd_build_info(void) {
  return "commit " DETCGD_GIT_COMMIT ", CUDA " BUILT_CUDA ", MPI " BUILT_MPI ", OpenMP " BUILT_OPENMP;
}

const char* detcgd_termination_str(int t) {
  switch (t) {
    case DETCGD_TERM_NONE: return "not run";
    case DETCGD_TERM_MAX_ITER: return "max_iter";
    case DETCGD_TERM_TARGET_G: return "target_g";
    case DETCGD_TERM_TIME: return "time_limit";
    case DETCGD_TERM_NONFINITE: return "nonfinite";
    case DETCGD_TERM_INTERRUPTED: return "interrupted";
    default: return "unknown";
  }
}

#ifdef DETCGD_WITH_CUDA
extern const DcBackendOps dc_backend_cuda_ops;
int dc_cuda_device_count(void);
int detcgd_cuda_device_count(void) { return dc_cuda_device_count(); }
#else
int detcgd_cuda_device_count(void) { return 0; }
#endif

int dc_backend_open(DcBackend* be, int kind) {
  int st;
  be->state = NULL;
  be->ops = &dc_backend_cpu_ops;
  if (kind == DETCGD_BACKEND_CUDA || (kind == DETCGD_BACKEND_AUTO && detcgd_cuda_device_count() > 0)) {
#ifdef DETCGD_WITH_CUDA
    if (detcgd_cuda_device_count() <= 0)
      return dc_fail(DETCGD_ERR_NO_DEVICE, "backend: cuda requested but no CUDA device is available");
    be->ops = &dc_backend_cuda_ops;
#else
    return dc_fail(DETCGD_ERR_NO_DEVICE, "backend: cuda requested but detcgd was built without CUDA");
#endif
  }
  st = be->ops->open(be);
  if (st != DETCGD_OK) dc_backend_close(be); /* what the failed open set up */
  return st;
}

void dc_backend_close(DcBackend* be) {
  if (be->ops) be->ops->close(be);
  be->ops = NULL;
}

/* ==== Transports ==== */

#ifndef DETCGD_WITH_MPI
int detcgd_mpi_available(void) { return 0; }
int detcgd_mpi_rank(int* rank, int* nranks) { *rank = 0; *nranks = 1; return DETCGD_OK; }
void detcgd_mpi_abort(int code) { (void)code; }
void detcgd_mpi_finalize(void) {}
#endif

int dc_transport_open(DcTransport* t, int mode, int nclients, double timeout) {
  memset(t, 0, sizeof *t);
  t->nranks = 1;
  t->timeout = timeout;
  t->last_client = nclients;
  if (mode != DETCGD_DIST_MPI) return DETCGD_OK;
#ifdef DETCGD_WITH_MPI
  return dc_transport_mpi_open(t, nclients);
#else
  return dc_fail(DETCGD_ERR_ARG, "mode: mpi requested but detcgd was built without MPI");
#endif
}

void dc_transport_close(DcTransport* t) {
  if (t->close) t->close(t);
  t->close = NULL;
}
