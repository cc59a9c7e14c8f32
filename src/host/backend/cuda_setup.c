/*
 * cuda_setup.c -- the CUDA backend's stepsize setup: dense D_i, certificates and log det on the device.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend_cuda.h"

/* ==== Stepsize setup: dense D_i on the device, a chunk of equal-width blocks at a time ====
 * The steps of stepsize.c per block, batched: L = A + 2 lam I; E[S X S] = W o X (dc_sketch_moment_weight);
 * inverses X^{-1} = C^{-T} C^{-1} from X = C C^T (potrfBatched, trsmBatched, a strided gemm); eigenvalues by
 * syevBatched.  Certificates: (8) lambda_max(C^T E[T L T] C), (7) lambda_max(C^{-1} E[S D L D S] C^{-T}),
 * with D = C C^T; log det D = 2 sum log C_jj.  fp32: the blocks rounded, and a block whose certificate
 * rounding lifts above 1 scaled down and rounded again (round_keeping_condition's rule, dc_round_next_shrink). */
#if DETCGD_HAVE_SYEV_BATCHED

#define SETUP_NB_MAX 65536              /* most blocks per chunk */
#define SETUP_BYTES_MAX ((size_t)2 << 30) /* chunk scratch: at most 2 GiB, a quarter of the free memory */

enum { SL_L, SL_M, SL_D, SL_C, SL_T1, SL_T2, SL_E, SL_COUNT };

typedef struct SetupWork {
  DcBackend* be;
  const DcSetupJob* job;
  cublasHandle_t blas;
  cusolverDnHandle_t solver;
  cusolverDnParams_t params;
  int first, nb, m;               /* the chunk: blocks first .. first + nb - 1, all m wide */
  int64_t slot_entries;           /* doubles per slot */
  double* slot[SL_COUNT];         /* into mem */
  double** ptr[3];                /* pointer arrays of slots C, M, T1 (into mem) */
  double *w, *off, *diag, *vec;   /* eigenvalues (nb m), moment weights (nb, nb m), per-block numbers (nb) */
  int* info;                      /* nb */
  void* mem;                      /* owns: all of the above */
  void* eig_dev; size_t eig_dev_bytes;  /* owns: syevBatched's workspaces */
  void* eig_host; size_t eig_host_bytes;
  double *h_off, *h_diag, *h_vec; /* owns: host staging */
  int* h_info;                    /* owns */
} SetupWork;

static int blas_fail(int status, const char* call, const char* file, int line) {
  return dc_fail(DETCGD_ERR_CUDA, "%s:%d: %s -> status %d", file, line, call, status);
}
#define LIB_TRY(call, ok)                                                                 \
  do {                                                                                    \
    int lib_s_ = (int)(call);                                                             \
    if (lib_s_ != (int)(ok)) return blas_fail(lib_s_, #call, __FILE__, __LINE__);         \
  } while (0)
#define CB_TRY(call) LIB_TRY(call, CUBLAS_STATUS_SUCCESS)
#define CS_TRY(call) LIB_TRY(call, CUSOLVER_STATUS_SUCCESS)

#define SW_GRID(w) ST((w)->be)->grid_cap
#define SW_STREAM(w) ST((w)->be)->stream

/* C = op(A) op(B) for every block of the chunk */
static int setup_gemm(SetupWork* w, cublasOperation_t ta, cublasOperation_t tb, const double* A, const double* B, double* C) {
  const double one = 1.0, zero = 0.0;
  long long mm = (long long)w->m * w->m;
  CB_TRY(cublasDgemmStridedBatched(w->blas, ta, tb, w->m, w->m, w->m, &one, A, w->m, mm, B, w->m, mm, &zero, C, w->m,
                                   mm, w->nb));
  return DETCGD_OK;
}

/* Y = E[S X S] with the chunk's weights */
static int setup_moment(SetupWork* w, const double* X, double* Y) {
  CU_TRY(detcgd_k_setup_moment(X, w->nb, w->m, w->off, w->diag, Y, SW_GRID(w), SW_STREAM(w)));
  return DETCGD_OK;
}

/* The first block t with h_info[t] != 0 after copying nb flags from the device, or -1. */
static int setup_first_bad(SetupWork* w, int* bad) {
  int t, st = d2h(w->be, w->h_info, w->info, (size_t)w->nb * sizeof(int));
  *bad = -1;
  for (t = 0; st == DETCGD_OK && t < w->nb; ++t)
    if (w->h_info[t] != 0) { *bad = t; break; }
  return st;
}

/* dst = src, the chunk's blocks */
static int setup_copy(SetupWork* w, double* dst, const double* src) {
  CU_TRY(cudaMemcpyAsync(dst, src, (size_t)w->nb * w->m * w->m * sizeof(double), cudaMemcpyDeviceToDevice, SW_STREAM(w)));
  return DETCGD_OK;
}

/* C = the lower Cholesky factor of X (upper triangle zero); `what` names X in the error */
static int setup_chol(SetupWork* w, const double* X, const char* what) {
  int bad, st = setup_copy(w, w->slot[SL_C], X);
  if (st) return st;
  CS_TRY(cusolverDnDpotrfBatched(w->solver, CUBLAS_FILL_MODE_LOWER, w->m, w->ptr[0], w->m, w->info, w->nb));
  if ((st = setup_first_bad(w, &bad)) != DETCGD_OK) return st;
  if (bad >= 0) return dc_fail(DETCGD_ERR_NUMERIC, "stepsize: %s of block %d is not positive definite", what, w->first + bad);
  CU_TRY(detcgd_k_setup_upper(w->slot[SL_C], w->nb, w->m, 0, SW_GRID(w), SW_STREAM(w)));
  return DETCGD_OK;
}

/* X = C^{-1} X (left) or X C^{-T} (right), X one of the slots with a pointer array */
static int setup_trsm(SetupWork* w, cublasSideMode_t side, double** X) {
  const double one = 1.0;
  CB_TRY(cublasDtrsmBatched(w->blas, side, CUBLAS_FILL_MODE_LOWER, side == CUBLAS_SIDE_LEFT ? CUBLAS_OP_N : CUBLAS_OP_T,
                            CUBLAS_DIAG_NON_UNIT, w->m, w->m, &one, (const double* const*)w->ptr[0], w->m, X, w->m,
                            w->nb));
  return DETCGD_OK;
}

/* Eigenvalues of every X_t into w (ascending), and eigenvectors into X when `vectors`; with top != NULL the
 * largest of each block copied to the host */
static int setup_eig(SetupWork* w, double* X, int vectors, double* top) {
  cusolverEigMode_t jobz = vectors ? CUSOLVER_EIG_MODE_VECTOR : CUSOLVER_EIG_MODE_NOVECTOR;
  size_t dev_b = 0, host_b = 0;
  int bad, st;
  CS_TRY(cusolverDnXsyevBatched_bufferSize(w->solver, w->params, jobz, CUBLAS_FILL_MODE_LOWER, w->m, CUDA_R_64F, X,
                                           w->m, CUDA_R_64F, w->w, CUDA_R_64F, &dev_b, &host_b, w->nb));
  if (dev_b > w->eig_dev_bytes) {
    dev_free(w->be, w->eig_dev);
    w->eig_dev_bytes = 0;
    if ((st = dev_alloc(w->be, &w->eig_dev, dev_b, "eigensolver workspace")) != DETCGD_OK) return st;
    w->eig_dev_bytes = dev_b;
  }
  if (host_b > w->eig_host_bytes) {
    free(w->eig_host);
    if (!(w->eig_host = dc_calloc(host_b, 1))) { w->eig_host_bytes = 0; return DETCGD_ERR_ALLOC; }
    w->eig_host_bytes = host_b;
  }
  CS_TRY(cusolverDnXsyevBatched(w->solver, w->params, jobz, CUBLAS_FILL_MODE_LOWER, w->m, CUDA_R_64F, X, w->m,
                                CUDA_R_64F, w->w, CUDA_R_64F, w->eig_dev, dev_b, w->eig_host, host_b, w->info, w->nb));
  if ((st = setup_first_bad(w, &bad)) != DETCGD_OK) return st;
  if (bad >= 0) return dc_fail(DETCGD_ERR_NUMERIC, "stepsize: the eigensolver did not converge on block %d", w->first + bad);
  if (!top) return DETCGD_OK;
  CU_TRY(cudaMemcpy2DAsync(top, sizeof(double), w->w + w->m - 1, (size_t)w->m * sizeof(double), sizeof(double), w->nb,
                           cudaMemcpyDeviceToHost, SW_STREAM(w)));
  CU_TRY(cudaStreamSynchronize(SW_STREAM(w)));
  return DETCGD_OK;
}

/* D = X^{-1} = C^{-T} C^{-1} */
static int setup_inverse(SetupWork* w, const double* X, const char* what) {
  int st = setup_chol(w, X, what);
  if (st != DETCGD_OK) return st;
  CU_TRY(detcgd_k_setup_identity(w->slot[SL_T1], w->nb, w->m, SW_GRID(w), SW_STREAM(w)));
  if ((st = setup_trsm(w, CUBLAS_SIDE_LEFT, w->ptr[2])) != DETCGD_OK) return st; /* T1 = C^{-1} */
  return setup_gemm(w, CUBLAS_OP_T, CUBLAS_OP_N, w->slot[SL_T1], w->slot[SL_T1], w->slot[SL_D]);
}

/* D = L^{-1/2} = V Diag(w)^{-1/2} V^T */
static int setup_inv_sqrt(SetupWork* w) {
  int bad, st = setup_copy(w, w->slot[SL_T1], w->slot[SL_L]);
  if (!st) st = setup_eig(w, w->slot[SL_T1], 1, NULL);
  if (st) return st;
  CU_TRY(cudaMemsetAsync(w->info, 0, (size_t)w->nb * sizeof(int), SW_STREAM(w)));
  CU_TRY(detcgd_k_setup_scale_cols(w->slot[SL_T1], w->w, w->nb, w->m, -0.5, w->slot[SL_T2], w->info, SW_GRID(w), SW_STREAM(w)));
  if ((st = setup_first_bad(w, &bad)) != DETCGD_OK) return st;
  if (bad >= 0) return dc_fail(DETCGD_ERR_NUMERIC, "stepsize: L of block %d is not positive definite", w->first + bad);
  return setup_gemm(w, CUBLAS_OP_N, CUBLAS_OP_T, w->slot[SL_T2], w->slot[SL_T1], w->slot[SL_D]);
}

/* top[t] = lambda_max(D^{-1} E[S D L D S]) = lambda_max(C^{-1} E C^{-T}) with D = C C^T: Theorem 2's scale
 * (D = W) and the certificate of (7); `what` names D in the error */
static int setup_det1_excess(SetupWork* w, const char* what, double* top) {
  double** S = w->slot;
  int st = setup_chol(w, S[SL_D], what);
  if (!st) st = setup_gemm(w, CUBLAS_OP_N, CUBLAS_OP_N, S[SL_D], S[SL_L], S[SL_T1]);
  if (!st) st = setup_gemm(w, CUBLAS_OP_N, CUBLAS_OP_N, S[SL_T1], S[SL_D], S[SL_T2]); /* D L D */
  if (!st) st = setup_moment(w, S[SL_T2], S[SL_M]);
  if (!st) st = setup_trsm(w, CUBLAS_SIDE_LEFT, w->ptr[1]);
  if (!st) st = setup_trsm(w, CUBLAS_SIDE_RIGHT, w->ptr[1]);
  return st ? st : setup_eig(w, S[SL_M], 0, top);
}

/* D = W / lambda_max(W^{-1} E[S W L W S]) with W = D on entry (Theorem 2) */
static int setup_thm2_scale(SetupWork* w) {
  int st = setup_det1_excess(w, "W", w->h_vec);
  if (!st) st = h2d(w->be, w->vec, w->h_vec, (size_t)w->nb * sizeof(double));
  if (st) return st;
  CU_TRY(detcgd_k_setup_scale(w->slot[SL_D], w->nb, w->m, w->vec, 1.0, NULL, 0, w->slot[SL_D], SW_GRID(w), SW_STREAM(w)));
  return DETCGD_OK;
}

/* cert[t]: the certificate of D's block t, and C = D's Cholesky factor */
static int setup_certificate(SetupWork* w, double* cert) {
  double** S = w->slot;
  int st;
  if (!w->job->det2) return setup_det1_excess(w, "D", cert);
  /* lambda_max(D E[T L T]) = lambda_max(C^T E C) */
  st = setup_chol(w, S[SL_D], "D");
  if (!st) st = setup_moment(w, S[SL_L], S[SL_M]);
  if (!st) st = setup_gemm(w, CUBLAS_OP_N, CUBLAS_OP_N, S[SL_M], S[SL_C], S[SL_T1]);
  if (!st) st = setup_gemm(w, CUBLAS_OP_T, CUBLAS_OP_N, S[SL_C], S[SL_T1], S[SL_T2]);
  return st ? st : setup_eig(w, S[SL_T2], 0, cert);
}

/* D = round32(E shrink_t) for every block t, E the exact D, and the rounded blocks' certificates */
static int setup_round_pass(SetupWork* w, const double* shrink, double* cert) {
  int st = h2d(w->be, w->vec, shrink, (size_t)w->nb * sizeof(double));
  if (st) return st;
  CU_TRY(detcgd_k_setup_scale(w->slot[SL_E], w->nb, w->m, NULL, 1.0, w->vec, 1, w->slot[SL_D], SW_GRID(w), SW_STREAM(w)));
  return setup_certificate(w, cert);
}

/* stepsize-precision fp32: block t rounded at shrink_t = 1, lowered (dc_round_next_shrink) while rounding lifts its
 * certificate above 1 although it held before rounding; cert[t] of the rounded block */
static int setup_round(SetupWork* w, double* cert) {
  int nb = w->nb, t, attempt, st, again = 1;
  double *before = (double*)dc_calloc((size_t)nb, sizeof(double)), *shrink = (double*)dc_calloc((size_t)nb, sizeof(double));
  unsigned char* active = (unsigned char*)dc_calloc((size_t)nb, 1);
  if (!before || !shrink || !active) { free(before); free(shrink); free(active); return DETCGD_ERR_ALLOC; }
  st = setup_certificate(w, before);
  if (!st) st = setup_copy(w, w->slot[SL_E], w->slot[SL_D]);
  for (t = 0; t < nb; ++t) { shrink[t] = 1.0; active[t] = 1; }
  for (attempt = 0; !st && again && attempt < DC_ROUND_ATTEMPTS; ++attempt) {
    st = setup_round_pass(w, shrink, cert);
    for (again = 0, t = 0; !st && t < nb; ++t) {
      if (!active[t]) continue;
      if (cert[t] <= 1.0 || before[t] > 1.0 + DC_CERT_TOL) { active[t] = 0; continue; }
      shrink[t] = dc_round_next_shrink(shrink[t], attempt, cert[t]);
      again = 1;
    }
  }
  free(before); free(shrink); free(active);
  return st;
}

/* The chunk's D_i into D's blocks, their certificates and log dets */
static int setup_chunk(SetupWork* w, const DcProbData* P, DcBlocks* D, double* cert, double* logdet) {
  const DcSetupJob* job = w->job;
  const DcLayout* lay = job->spec->layout;
  int64_t mm = (int64_t)w->m * w->m, first_entry = lay->moff[w->first];
  int t, r, k, st = DETCGD_OK;
  for (k = 0; k < 3; ++k)
    CU_TRY(detcgd_k_setup_ptrs(w->slot[k == 0 ? SL_C : k == 1 ? SL_M : SL_T1], w->nb, mm, w->ptr[k], SW_STREAM(w)));
  for (t = 0; t < w->nb; ++t) {
    w->h_off[t] = w->m > 1 ? dc_sketch_moment_weight(job->spec, w->first + t, 0, 1) : 0.0;
    for (r = 0; r < w->m; ++r) w->h_diag[(int64_t)t * w->m + r] = dc_sketch_moment_weight(job->spec, w->first + t, r, r);
  }
  st = h2d(w->be, w->off, w->h_off, (size_t)w->nb * sizeof(double));
  if (!st) st = h2d(w->be, w->diag, w->h_diag, (size_t)w->nb * w->m * sizeof(double));
  if (st) return st;
  CU_TRY(detcgd_k_setup_L(P->A, first_entry, w->nb, w->m, P->lambda, w->slot[SL_L], SW_GRID(w), SW_STREAM(w)));
  switch (job->formula) {
    case DC_SETUP_DET2_OPT:
      st = setup_moment(w, w->slot[SL_L], w->slot[SL_M]);
      if (!st) st = setup_inverse(w, w->slot[SL_M], "E[T L T]");
      break;
    case DC_SETUP_THM2_INV:
      st = setup_inverse(w, w->slot[SL_L], "L");
      if (!st) st = setup_thm2_scale(w);
      break;
    default:
      st = setup_inv_sqrt(w);
      if (!st) st = setup_thm2_scale(w);
  }
  if (st) return st;
  CU_TRY(detcgd_k_setup_upper(w->slot[SL_D], w->nb, w->m, 1, SW_GRID(w), SW_STREAM(w))); /* exactly symmetric */
  CU_TRY(detcgd_k_setup_scale(w->slot[SL_D], w->nb, w->m, NULL, job->scale, NULL, 0, w->slot[SL_D], SW_GRID(w), SW_STREAM(w)));
  st = job->round32 ? setup_round(w, cert + w->first) : setup_certificate(w, cert + w->first);
  if (st) return st;
  CU_TRY(detcgd_k_setup_logdet(w->slot[SL_C], w->nb, w->m, w->vec, SW_STREAM(w)));
  if ((st = d2h(w->be, logdet + w->first, w->vec, (size_t)w->nb * sizeof(double))) != DETCGD_OK) return st;
  CU_TRY(detcgd_k_setup_store(w->slot[SL_D], w->nb * mm, D->B.f32,
                              D->B.f32 ? (void*)((float*)D->B.data + first_entry) : (void*)((double*)D->B.data + first_entry),
                              SW_GRID(w), SW_STREAM(w)));
  return DETCGD_OK;
}

/* Blocks per chunk for width m: the slots' share of the scratch, syevBatched's n lda batch < 2^31. */
static int setup_chunk_blocks(const SetupWork* w, int m) {
  int64_t mm = (int64_t)m * m, nb = w->slot_entries / mm;
  if (nb > INT32_MAX / mm) nb = INT32_MAX / mm;
  return (int)(nb < SETUP_NB_MAX ? nb : SETUP_NB_MAX);
}

static void setup_work_free(SetupWork* w) {
  if (w->blas) cublasDestroy(w->blas);
  if (w->params) cusolverDnDestroyParams(w->params);
  if (w->solver) cusolverDnDestroy(w->solver);
  dev_free(w->be, w->mem);
  dev_free(w->be, w->eig_dev);
  free(w->eig_host); free(w->h_off); free(w->h_diag); free(w->h_vec); free(w->h_info);
}

/* Handles on the solver's stream and the scratch: SL_COUNT slots of a quarter of the free memory (at most
 * SETUP_BYTES_MAX, at least one block of the widest layer each) plus the per-block arrays. */
static int setup_work_init(SetupWork* w, DcBackend* be, const DcSetupJob* job) {
  const DcLayout* lay = job->spec->layout;
  size_t free_b = 0, total_b = 0, bytes;
  int64_t min_entries = (int64_t)lay->max_size * lay->max_size, nbw;
  unsigned char* p;
  int k, st;
  w->be = be;
  w->job = job;
  CB_TRY(cublasCreate(&w->blas));
  CB_TRY(cublasSetStream(w->blas, ST(be)->stream));
  CS_TRY(cusolverDnCreate(&w->solver));
  CS_TRY(cusolverDnSetStream(w->solver, ST(be)->stream));
  CS_TRY(cusolverDnCreateParams(&w->params));
  CU_TRY(cudaMemGetInfo(&free_b, &total_b));
  bytes = free_b / 4 < SETUP_BYTES_MAX ? free_b / 4 : SETUP_BYTES_MAX;
  w->slot_entries = (int64_t)(bytes / (SL_COUNT * sizeof(double)));
  if (w->slot_entries < min_entries) w->slot_entries = min_entries;
  nbw = SETUP_NB_MAX * (int64_t)lay->max_size; /* entries of w and diag */
  bytes = (size_t)w->slot_entries * SL_COUNT * sizeof(double) + 3 * SETUP_NB_MAX * sizeof(double*) +
          2 * (size_t)nbw * sizeof(double) + 2 * SETUP_NB_MAX * sizeof(double) + SETUP_NB_MAX * sizeof(int);
  if ((st = dev_alloc(w->be, &w->mem, bytes, "stepsize setup scratch")) != DETCGD_OK) return st;
  p = (unsigned char*)w->mem;
  for (k = 0; k < SL_COUNT; ++k, p += w->slot_entries * sizeof(double)) w->slot[k] = (double*)p;
  for (k = 0; k < 3; ++k, p += SETUP_NB_MAX * sizeof(double*)) w->ptr[k] = (double**)p;
  w->w = (double*)p; p += nbw * sizeof(double);
  w->diag = (double*)p; p += nbw * sizeof(double);
  w->off = (double*)p; p += SETUP_NB_MAX * sizeof(double);
  w->vec = (double*)p; p += SETUP_NB_MAX * sizeof(double);
  w->info = (int*)p;
  w->h_off = (double*)dc_calloc(SETUP_NB_MAX, sizeof(double));
  w->h_diag = (double*)dc_calloc((size_t)nbw, sizeof(double));
  w->h_vec = (double*)dc_calloc(SETUP_NB_MAX, sizeof(double));
  w->h_info = (int*)dc_calloc(SETUP_NB_MAX, sizeof(int));
  return w->h_off && w->h_diag && w->h_vec && w->h_info ? DETCGD_OK : DETCGD_ERR_ALLOC;
}

/* D's device storage: float when rounded to float, else double */
static int setup_blocks_alloc(DcBackend* be, const DcLayout* lay, int f32, DcBlocks** D) {
  int64_t n = lay->moff[lay->nblocks];
  int st;
  *D = (DcBlocks*)dc_calloc(1, sizeof(DcBlocks));
  if (!*D) return DETCGD_ERR_ALLOC;
  (*D)->B.kind = DC_BLOCKS_DENSE;
  (*D)->B.f32 = f32;
  st = layout_create(be, lay, &(*D)->lay);
  if (!st) st = dev_alloc(be, (void**)&(*D)->B.data, (size_t)n * (f32 ? sizeof(float) : sizeof(double)), "stepsize matrix D");
  if (st) cuda_blocks_destroy(be, D);
  return st;
}

int cuda_stepsize_setup(DcBackend* be, const DcProbData* P, const DcSetupJob* job, DcBlocks** D, double* cert,
                               double* logdet) {
  const DcLayout* lay = job->spec->layout;
  SetupWork w;
  int st, i1, cap;
  memset(&w, 0, sizeof w);
  *D = NULL;
  if (P->kind != DETCGD_PROBLEM_QUAD_NC)
    return dc_fail(DETCGD_ERR_INTERNAL, "stepsize setup (cuda): quad-nc data only");
  st = setup_blocks_alloc(be, lay, job->round32, D);
  if (!st) st = setup_work_init(&w, be, job);
  for (w.first = 0; !st && w.first < lay->nblocks; w.first = i1) {
    w.m = lay->size[w.first];
    cap = setup_chunk_blocks(&w, w.m);
    for (i1 = w.first + 1; i1 < lay->nblocks && lay->size[i1] == w.m && i1 - w.first < cap; ++i1) {}
    w.nb = i1 - w.first;
    st = setup_chunk(&w, P, *D, cert, logdet);
  }
  if (!st && cudaStreamSynchronize(ST(be)->stream) != cudaSuccess)
    st = cuda_fail(cudaGetLastError(), "cudaStreamSynchronize", __FILE__, __LINE__);
  setup_work_free(&w);
  if (st) cuda_blocks_destroy(be, D);
  return st;
}
#endif /* DETCGD_HAVE_SYEV_BATCHED */
