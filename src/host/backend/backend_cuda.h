/*
 * backend_cuda.h -- the CUDA backend's types and the functions its files share (private to backend/).
 */
#ifndef DETCGD_BACKEND_CUDA_H
#define DETCGD_BACKEND_CUDA_H

#include <stdlib.h>
#include <string.h>
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <cusolverDn.h>
#include <nvtx3/nvToolsExt.h>
#include "arena.h"
#include "backend.h"
#include "client_rows.h"
#include "kernels.h"
#include "stepsize.h"

typedef struct CudaState {
  DcArena arena;       /* owns: every device allocation of the solver */
  cudaStream_t stream;
  int grid_cap;        /* 32 blocks per SM */
  double* d_partials;  /* owns: DC_K_RED_MAX partial sums of every reduction (one stream: one at a time) */
  double* d_scalars;   /* owns: 4 scratch scalars */
  uint32_t* d_iter;    /* owns: the iteration counter of replayed graphs */
  int capturing;       /* 1 while a replay is being recorded: draws read d_iter */
  cudaEvent_t runs_mark; /* owns: runs together, the point their streams wait for (cuda_problem_grad_many) */
  double* runs_scratch;  /* owns: runs together's scratch (DcDevRuns), grown as needed */
  size_t runs_scratch_bytes;
} CudaState;

/* Layout arrays on the device (size, voff, moff). */
typedef struct DevLayoutMem { DcDevLayout L; void* mem; /* owns */ } DevLayoutMem;

struct DcVec { int64_t n; double* d; /* owns unless view */ int view; };
struct DcBlocks {
  DcDevBlocks B;       /* kind, f32 (DENSE stored as float) and the data (owned) */
  DevLayoutMem lay;
};
struct DcSketch {
  const DcSketchSpec* spec; /* borrowed */
  DevLayoutMem lay;
  DcDevSketch S;            /* its device arrays are owned */
};
/* logreg-nc rows of one or more clients on the device (DcDevLogreg views these arrays) */
typedef struct DevLogreg {
  DcDevLogreg P;
  int64_t* h_row_off; /* owns: host copy of P.row_off */
  int64_t *h_seg_off, *h_piece_off, *h_row_piece_off; /* owns: host copies of P's arrays */
  void* mem[19];      /* owns: every device array */
} DevLogreg;
struct DcProbData {
  int kind;
  double lambda;
  DcHostProblem h;    /* the host's data (its arrays borrowed): which runs share rows */
  DevLayoutMem lay;
  DevLogreg lr;       /* logreg-nc: one client */
  DcDevBlocks A;      /* owns data: quad-nc's A_i (float when data-precision fp32) */
  double* d_c;        /* owns: quad-nc's centres, poly-nc's coefficients a_j */
};
/* n clients, processed `chunk` at a time: gradients G and scattered messages M (chunk x dim),
 * their f_c, and their draws (chunk slices of idx, scale, count, mark). */
struct DcClients {
  int n, chunk;
  double lambda;
  DevLogreg lr;
};

#define ST(be) ((CudaState*)(be)->state)


#define CU_TRY(call)                                                       \
  do {                                                                     \
    cudaError_t cu_e_ = (call);                                            \
    if (cu_e_ != cudaSuccess) return cuda_fail(cu_e_, #call, __FILE__, __LINE__); \
  } while (0)

/* ---- backend_cuda.c ---- */
int cuda_fail(cudaError_t e, const char* call, const char* file, int line);
int dev_alloc(DcBackend* be, void** p, size_t bytes, const char* what);
void dev_free(DcBackend* be, void* p);
int h2d(DcBackend* be, void* dst, const void* src, size_t bytes);
int d2h(DcBackend* be, void* dst, const void* src, size_t bytes);
int upload_new(DcBackend* be, void** d, const void* h, size_t bytes, const char* what);
int upload_float_new(DcBackend* be, void** d, const double* h, int64_t n, const char* what);
int uniform_step(const int64_t* off, int n);
int layout_create(DcBackend* be, const DcLayout* lay, DevLayoutMem* out);

/* ---- cuda_vectors.c ---- */
int cuda_vec_create(DcBackend* be, int64_t n, DcVec** v);
void cuda_vec_destroy(DcBackend* be, DcVec** v);
int cuda_vec_view(DcBackend* be, const DcVec* v, int64_t off, int64_t n, DcVec** view);
int cuda_vec_upload(DcBackend* be, DcVec* v, const double* h);
int cuda_vec_download(DcBackend* be, const DcVec* v, double* h);
int cuda_vec_copy(DcBackend* be, DcVec* dst, const DcVec* src);
int cuda_vec_fill(DcBackend* be, DcVec* v, double a);
int cuda_rows_sum(DcBackend* be, const DcVec* R, int nr, int64_t n, double alpha, int fresh, DcVec* y, int64_t yoff);
int cuda_axpy(DcBackend* be, double a, const DcVec* x, DcVec* y);
int cuda_axpby(DcBackend* be, DcScalar a, const DcVec* x, DcScalar b, DcVec* y);
int cuda_vec_map(DcBackend* be, int map, const DcVec* x, DcScalar t, DcVec* y);
int cuda_dot(DcBackend* be, const DcVec* x, const DcVec* y, DcVec* m, int slot);
int cuda_metric_set(DcBackend* be, DcVec* m, int slot, double v);
void cuda_blocks_destroy(DcBackend* be, DcBlocks** B);
int blocks_upload(DcBackend* be, const double* h, int64_t n, int kind, int store32, DcDevBlocks* B, const char* what);
int cuda_blocks_create(DcBackend* be, const DcHostBlocks* h, DcBlocks** B);
DcDevBlocks dev_blocks(const DcBlocks* B);
int cuda_bd_apply(DcBackend* be, const DcBlocks* B, int sel, const DcSketch* S, const DcVec* x, double alpha, DcVec* y);
int cuda_bd_quadform(DcBackend* be, const DcBlocks* B, const DcVec* x, DcVec* m, int slot, int sum_slot);

/* ---- cuda_sketches.c ---- */
void cuda_sketch_destroy(DcBackend* be, DcSketch** S);
int cuda_sketch_create(DcBackend* be, const DcSketchSpec* sp, int rows, DcSketch** out);
int cuda_sketch_sample(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t client);
int cuda_sketch_read(DcBackend* be, const DcSketch* S, DcSketchDraw* out);
int cuda_sketch_load(DcBackend* be, DcSketch* S, const DcSketchDraw* in);
int cuda_sketch_tally(DcBackend* be, const DcSketch* S, int64_t* coords, int64_t* bits);
int cuda_sketch_set_tally(DcBackend* be, DcSketch* S, int64_t coords, int64_t bits);
int cuda_sketch_compress(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x, int round32, DcVec* vals);
int cuda_sketch_accumulate(DcBackend* be, const DcSketch* S, const DcVec* vals, double alpha, DcVec* y);
int cuda_sketch_sample_rows(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t c0, int nc);
int64_t cuda_message_row_len(const DcBackend* be, const DcSketchSpec* spec);
int cuda_compress_values_rows(DcBackend* be, DcSketch* S, const DcVec* X, const DcVec* H, int64_t hoff, int nc,
                              uint64_t seed, uint32_t iter, uint32_t c0, int round32, DcVec* Y);
int cuda_sketch_compress_rows(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* X, const DcVec* H,
                              int nc, int round32, DcVec* M);
int cuda_sketch_accumulate_rows(DcBackend* be, const DcSketch* S, const DcVec* M, int nc, double alpha, int fresh,
                                int per_row, DcVec* y);
int cuda_mc_moments(DcBackend* be, const DcSketchSpec* spec, const double* A, int64_t nsamples, uint64_t seed, double* mean, double* std_err);

/* ---- cuda_problems.c ---- */
void cuda_problem_destroy(DcBackend* be, DcProbData** P);
int cuda_problem_create(DcBackend* be, const DcHostProblem* h, DcProbData** P);
int cuda_quad_residual(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* q, DcVec* g, DcVec* m, int fslot);
int cuda_problem_grad(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* g, DcVec* m, int fslot);
int cuda_problem_grad_many(DcBackend* const* be, const DcProbData* const* P, const DcVec* const* x, DcVec* const* g,
                           DcVec* const* m, const int* fslot, int R);
int cuda_quad_step(DcBackend* be, const DcProbData* P, const DcSketch* S, const DcVec* vals, double alpha, const DcVec* x, DcVec* q, DcVec* g);
void cuda_clients_destroy(DcBackend* be, DcClients** C);
int cuda_clients_create(DcBackend* be, int n, const DcHostProblem* hosts, const DcSketchSpec* spec, DcClients** C);
int cuda_clients_chunk(const DcBackend* be, const DcClients* C);
int cuda_clients_grad(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, DcVec* G, DcVec* F);
int cuda_clients_grad_sampled(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, uint64_t seed,
                            uint32_t iter, int batch, DcVec* G);
int cuda_problem_grad_sampled(DcBackend* be, const DcProbData* P, const DcVec* x, uint64_t seed, uint32_t iter,
                            uint32_t client, int batch, DcVec* g);

/* ---- cuda_stream.c ---- */
void cuda_ring_destroy(DcBackend* be, DcRing** R);
int cuda_ring_create(DcBackend* be, int slots, int64_t nmetrics, DcRing** R);
int cuda_ring_put(DcBackend* be, DcRing* R, int slot, const DcVec* m, const DcSketch* S);
int cuda_ring_get(DcBackend* be, DcRing* R, int slot, int wait, int* ready, double* m, int64_t tally[2], double* time);
void cuda_replay_destroy(DcBackend* be, DcReplay** R);
int cuda_replay_create(DcBackend* be, DcIterationFn body, void* ctx, int unroll, DcReplay** R);
int cuda_replay_run(DcBackend* be, DcReplay* R, uint32_t iter, int64_t n);
int cuda_sync(DcBackend* be);
void cuda_range(DcBackend* be, const char* name);

/* ---- cuda_setup.c ---- */
#if DETCGD_HAVE_SYEV_BATCHED
int cuda_stepsize_setup(DcBackend* be, const DcProbData* P, const DcSetupJob* job, DcBlocks** D, double* cert, double* logdet);
#endif

#endif /* DETCGD_BACKEND_CUDA_H */
