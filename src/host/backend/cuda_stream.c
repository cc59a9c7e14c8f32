/*
 * cuda_stream.c -- the CUDA backend's trace snapshots (asynchronous copies into pinned memory, an event
 * per slot), replays (CUDA graphs of recorded iterations) and profiling (synchronisation, NVTX ranges).
 */
#include <stdlib.h>
#include "backend_cuda.h"

/* ==== Trace snapshots: asynchronous copies into pinned host memory, an event per slot ==== */

struct DcRing {
  int slots;
  int64_t nm;
  double* h_m;                /* owns (pinned): slots x nm */
  unsigned long long* h_tally; /* owns (pinned): slots x 2 */
  cudaEvent_t* ev;            /* owns: one per slot, recorded after its copies */
  cudaEvent_t e0;             /* owns: the reference point of the time stamps */
  double w0;                  /* dc_wall_time() when e0 completed */
};

void cuda_ring_destroy(DcBackend* be, DcRing** R) {
  int i;
  (void)be;
  if (!R || !*R) return;
  for (i = 0; (*R)->ev && i < (*R)->slots; ++i)
    if ((*R)->ev[i]) cudaEventDestroy((*R)->ev[i]);
  if ((*R)->e0) cudaEventDestroy((*R)->e0);
  free((*R)->ev);
  if ((*R)->h_m) cudaFreeHost((*R)->h_m);
  if ((*R)->h_tally) cudaFreeHost((*R)->h_tally);
  free(*R);
  *R = NULL;
}

static int ring_init(DcBackend* be, DcRing* R) {
  int i;
  CU_TRY(cudaMallocHost((void**)&R->h_m, (size_t)(R->slots * R->nm) * sizeof(double)));
  CU_TRY(cudaMallocHost((void**)&R->h_tally, (size_t)R->slots * 2 * sizeof(unsigned long long)));
  for (i = 0; i < R->slots; ++i) CU_TRY(cudaEventCreate(&R->ev[i]));
  CU_TRY(cudaEventCreate(&R->e0));
  CU_TRY(cudaEventRecord(R->e0, ST(be)->stream));
  CU_TRY(cudaEventSynchronize(R->e0));
  R->w0 = dc_wall_time();
  return DETCGD_OK;
}

int cuda_ring_create(DcBackend* be, int slots, int64_t nmetrics, DcRing** R) {
  int st;
  *R = (DcRing*)dc_calloc(1, sizeof(DcRing));
  if (!*R) return DETCGD_ERR_ALLOC;
  (*R)->slots = slots;
  (*R)->nm = nmetrics;
  (*R)->ev = (cudaEvent_t*)dc_calloc((size_t)slots, sizeof(cudaEvent_t));
  st = (*R)->ev ? ring_init(be, *R) : DETCGD_ERR_ALLOC;
  if (st != DETCGD_OK) cuda_ring_destroy(be, R);
  return st;
}

int cuda_ring_put(DcBackend* be, DcRing* R, int slot, const DcVec* m, const DcSketch* S) {
  cudaStream_t st = ST(be)->stream;
  unsigned long long* t = R->h_tally + 2 * slot;
  CU_TRY(cudaMemcpyAsync(R->h_m + slot * R->nm, m->d, (size_t)R->nm * sizeof(double), cudaMemcpyDeviceToHost, st));
  if (S) CU_TRY(cudaMemcpyAsync(t, S->S.tally, 2 * sizeof(unsigned long long), cudaMemcpyDeviceToHost, st));
  else t[0] = t[1] = 0; /* the slot is free: its last copy was read */
  CU_TRY(cudaEventRecord(R->ev[slot], st));
  return DETCGD_OK;
}

int cuda_ring_get(DcBackend* be, DcRing* R, int slot, int wait, int* ready, double* m, int64_t tally[2],
                         double* time) {
  float ms = 0.0f;
  cudaError_t e = wait ? cudaEventSynchronize(R->ev[slot]) : cudaEventQuery(R->ev[slot]);
  (void)be;
  *ready = e != cudaErrorNotReady;
  if (!*ready) {
    (void)cudaGetLastError(); /* "not ready" is no error: clear it so the next launch check does not see it */
    return DETCGD_OK;
  }
  CU_TRY(e);
  CU_TRY(cudaEventElapsedTime(&ms, R->e0, R->ev[slot]));
  memcpy(m, R->h_m + slot * R->nm, (size_t)R->nm * sizeof(double));
  tally[0] = (int64_t)R->h_tally[2 * slot];
  tally[1] = (int64_t)R->h_tally[2 * slot + 1];
  *time = R->w0 + 1e-3 * ms;
  return DETCGD_OK;
}

/* ==== Replay: a CUDA graph of `unroll` iterations whose draws read the device counter ==== */

struct DcReplay { cudaGraphExec_t exec; };

void cuda_replay_destroy(DcBackend* be, DcReplay** R) {
  (void)be;
  if (!R || !*R) return;
  if ((*R)->exec) cudaGraphExecDestroy((*R)->exec);
  free(*R);
  *R = NULL;
}

/* Captures body(ctx, 0..unroll-1) and the counter's advance; the capture ends even when an op fails. */
static int replay_capture(DcBackend* be, DcIterationFn body, void* ctx, int unroll, cudaGraph_t* g) {
  CudaState* s = ST(be);
  int st = DETCGD_OK, u;
  cudaError_t e;
  CU_TRY(cudaStreamBeginCapture(s->stream, cudaStreamCaptureModeThreadLocal));
  s->capturing = 1;
  for (u = 0; u < unroll && st == DETCGD_OK; ++u) st = body(ctx, (uint32_t)u);
  if (st == DETCGD_OK && (e = detcgd_k_counter(s->d_iter, (uint32_t)unroll, 1, s->stream)) != cudaSuccess)
    st = cuda_fail(e, "detcgd_k_counter", __FILE__, __LINE__);
  s->capturing = 0;
  e = cudaStreamEndCapture(s->stream, g);
  if (st == DETCGD_OK && e != cudaSuccess) st = cuda_fail(e, "cudaStreamEndCapture", __FILE__, __LINE__);
  (void)cudaGetLastError(); /* an op that failed inside the capture has been reported */
  return st;
}

int cuda_replay_create(DcBackend* be, DcIterationFn body, void* ctx, int unroll, DcReplay** R) {
  cudaGraph_t g = NULL;
  cudaError_t e;
  int st;
  *R = (DcReplay*)dc_calloc(1, sizeof(DcReplay));
  if (!*R) return DETCGD_ERR_ALLOC;
  st = replay_capture(be, body, ctx, unroll, &g);
  if (st == DETCGD_OK && (e = cudaGraphInstantiate(&(*R)->exec, g, 0)) != cudaSuccess)
    st = cuda_fail(e, "cudaGraphInstantiate", __FILE__, __LINE__);
  if (g) cudaGraphDestroy(g);
  if (st != DETCGD_OK) cuda_replay_destroy(be, R);
  return st;
}

int cuda_replay_run(DcBackend* be, DcReplay* R, uint32_t iter, int64_t n) {
  CudaState* s = ST(be);
  int64_t j;
  if (n <= 0) return DETCGD_OK;
  CU_TRY(detcgd_k_counter(s->d_iter, iter, 0, s->stream));
  for (j = 0; j < n; ++j) CU_TRY(cudaGraphLaunch(R->exec, s->stream));
  return DETCGD_OK;
}

/* ==== Profiling ==== */

int cuda_sync(DcBackend* be) {
  CU_TRY(cudaStreamSynchronize(ST(be)->stream));
  return DETCGD_OK;
}

void cuda_range(DcBackend* be, const char* name) {
  (void)be;
  if (name) nvtxRangePushA(name);
  else nvtxRangePop();
}
