/*
 * backend_cuda.c -- the CUDA backend: host side of every backend op.  Here its table, errors, device memory
 * (the arena), the stream and layouts; vectors and block-diagonal products in cuda_vectors.c, sketches and
 * Monte Carlo moments in cuda_sketches.c, problems and clients in cuda_problems.c, trace snapshots, replays
 * and profiling in cuda_stream.c, the stepsize setup on the device in cuda_setup.c.
 *
 * One stream per solver, every launch through the extern "C" wrappers of
 * src/kernels (kernels.h).  Reductions write into the metrics vector on the
 * device; nothing is copied back inside an iteration except where the loop asks
 * (trace points).  The grid cap (32 x SM count) is queried once at open.
 */
#include <stdlib.h>
#include <string.h>
#include "backend_cuda.h"

/* ==== Errors and memory ==== */

int cuda_fail(cudaError_t e, const char* call, const char* file, int line) {
  return dc_fail(DETCGD_ERR_CUDA, "%s:%d: %s -> %s", file, line, call, cudaGetErrorString(e));
}


#define DEV_MIN_CHUNK ((size_t)32 << 20) /* the arena asks cudaMalloc for at least this much at a time */

/* DETCGD_NO_ARENA=1 in the environment: every buffer a cudaMalloc of its own, as compute-sanitizer (and the CUDA
 * emulation's guard pages) check bounds per allocation; a kernel reading past a buffer's end then shows there. */
static size_t dev_min_chunk(void) {
  const char* v = getenv("DETCGD_NO_ARENA");
  return v && strcmp(v, "1") == 0 ? 1 : DEV_MIN_CHUNK;
}

/* The arena's chunks (arena.h): cudaMalloc and cudaFree. */
static void* chunk_alloc(void* ctx, size_t bytes) {
  void* p = NULL;
  (void)ctx;
  if (cudaMalloc(&p, bytes) != cudaSuccess) { cudaGetLastError(); return NULL; }
  return p;
}

static void chunk_release(void* ctx, void* p) {
  (void)ctx;
  cudaFree(p);
}

/* Device memory from the solver's arena; when the device is full the error names what, the bytes needed, the
 * bytes free and the bytes the solver already holds. */
int dev_alloc(DcBackend* be, void** p, size_t bytes, const char* what) {
  DcArena* a = &ST(be)->arena;
  if (dc_arena_alloc(a, bytes, p) != DETCGD_OK) {
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    cudaGetLastError();
    return dc_fail(DETCGD_ERR_ALLOC, "CUDA: cannot allocate %s: %zu bytes needed, %zu bytes free of %zu "
                   "(this solver holds %zu)", what, bytes, free_b, total_b, a->held);
  }
  return DETCGD_OK;
}

/* Back to the arena (NULL, or after close: nothing).  All device work runs on the solver's one stream, so space
 * released here and handed out again is used in stream order: no synchronisation needed. */
void dev_free(DcBackend* be, void* p) {
  if (p && be->state) dc_arena_free(&ST(be)->arena, p);
}

/* host -> device copy on the solver's stream, completed before returning */
int h2d(DcBackend* be, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return DETCGD_OK;
  CU_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ST(be)->stream));
  CU_TRY(cudaStreamSynchronize(ST(be)->stream));
  return DETCGD_OK;
}

int d2h(DcBackend* be, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return DETCGD_OK;
  CU_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ST(be)->stream));
  CU_TRY(cudaStreamSynchronize(ST(be)->stream));
  return DETCGD_OK;
}

/* device copy of an array (NULL-safe for n = 0) */
int upload_new(DcBackend* be, void** d, const void* h, size_t bytes, const char* what) {
  int st = dev_alloc(be, d, bytes, what);
  return st ? st : h2d(be, *d, h, bytes);
}

/* device float copy of n doubles, converted DC_FLOAT_CHUNK at a time (no host copy of the whole) */
#define DC_FLOAT_CHUNK ((int64_t)1 << 24)
int upload_float_new(DcBackend* be, void** d, const double* h, int64_t n, const char* what) {
  float* buf = (float*)dc_calloc((size_t)(n < DC_FLOAT_CHUNK ? n : DC_FLOAT_CHUNK) + 1, sizeof(float));
  int64_t e0, e;
  int st = buf ? dev_alloc(be, d, (size_t)n * sizeof(float), what) : DETCGD_ERR_ALLOC;
  for (e0 = 0; st == DETCGD_OK && e0 < n; e0 += DC_FLOAT_CHUNK) {
    int64_t len = n - e0 < DC_FLOAT_CHUNK ? n - e0 : DC_FLOAT_CHUNK;
    for (e = 0; e < len; ++e) buf[e] = (float)h[e0 + e];
    st = h2d(be, (float*)*d + e0, buf, (size_t)len * sizeof(float));
  }
  free(buf);
  return st;
}


/* ==== Device, stream ==== */

int dc_cuda_device_count(void) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) { cudaGetLastError(); return 0; }
  return n;
}

static void cuda_close(DcBackend* be) {
  CudaState* s = ST(be);
  if (!s) return;
  if (s->stream) cudaStreamSynchronize(s->stream);
  dc_arena_destroy(&s->arena); /* the scratch scalars and anything not destroyed before */
  if (s->runs_mark) cudaEventDestroy(s->runs_mark);
  if (s->stream) cudaStreamDestroy(s->stream);
  free(s);
  be->state = NULL;
}

static int cuda_open(DcBackend* be) {
  CudaState* s = (CudaState*)dc_calloc(1, sizeof(CudaState));
  int sms = 0, st;
  DcArenaProvider device = {chunk_alloc, chunk_release, NULL};
  if (!s) return DETCGD_ERR_ALLOC;
  be->state = s;
  dc_arena_init(&s->arena, device, dev_min_chunk());
  CU_TRY(cudaSetDevice(0));
  CU_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  s->grid_cap = 32 * (sms > 0 ? sms : 1);
  CU_TRY(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
  CU_TRY(cudaEventCreateWithFlags(&s->runs_mark, cudaEventDisableTiming));
  if ((st = dev_alloc(be, (void**)&s->d_partials, DC_K_RED_MAX * sizeof(double), "reduction scratch"))) return st;
  if ((st = dev_alloc(be, (void**)&s->d_iter, sizeof(uint32_t), "iteration counter"))) return st;
  return dev_alloc(be, (void**)&s->d_scalars, 4 * sizeof(double), "scalars");
}

static int64_t cuda_device_bytes_peak(const DcBackend* be) { return (int64_t)ST(be)->arena.peak_held; }

/* ==== Layouts ==== */

/* off[i+1] - off[i] when it is the same for every i < n, else 0: the kernels then find the layer of an entry by
 * one division instead of a search (DcDevLayout.width, DcDevSketch.cap_width). */
int uniform_step(const int64_t* off, int n) {
  int64_t w = n > 0 ? off[1] - off[0] : 0;
  int i;
  for (i = 1; i < n && w > 0; ++i)
    if (off[i + 1] - off[i] != w) return 0;
  return w > INT32_MAX ? 0 : (int)w;
}

/* voff, moff and size of lay in one device allocation */
int layout_create(DcBackend* be, const DcLayout* lay, DevLayoutMem* out) {
  int n = lay->nblocks, st;
  size_t i64 = (size_t)(n + 1) * sizeof(int64_t), bytes = 2 * i64 + (size_t)n * sizeof(int);
  unsigned char* h = (unsigned char*)dc_calloc(bytes, 1);
  if (!h) return DETCGD_ERR_ALLOC;
  memcpy(h, lay->voff, i64);
  memcpy(h + i64, lay->moff, i64);
  memcpy(h + 2 * i64, lay->size, (size_t)n * sizeof(int));
  st = upload_new(be, &out->mem, h, bytes, "layer layout");
  if (st == DETCGD_OK) {
    unsigned char* d = (unsigned char*)out->mem;
    out->L.nblocks = n;
    out->L.width = uniform_step(lay->voff, n);
    out->L.dim = lay->dim;
    out->L.voff = (const int64_t*)d;
    out->L.moff = (const int64_t*)(d + i64);
    out->L.size = (const int*)(d + 2 * i64);
  }
  free(h);
  return st;
}


const DcBackendOps dc_backend_cuda_ops = {
  "cuda", cuda_open, cuda_close,
  cuda_vec_create, cuda_vec_destroy, cuda_vec_view, cuda_vec_upload, cuda_vec_download, cuda_vec_copy,
  cuda_axpy, cuda_dot, cuda_metric_set, cuda_vec_fill, cuda_rows_sum, cuda_axpby, cuda_vec_map,
  cuda_blocks_create, cuda_blocks_destroy, cuda_bd_apply,
  cuda_bd_quadform,
  cuda_sketch_create, cuda_sketch_destroy, cuda_sketch_sample, cuda_sketch_read, cuda_sketch_load,
  cuda_sketch_tally, cuda_sketch_set_tally, cuda_sketch_compress, cuda_sketch_accumulate,
  cuda_sketch_sample_rows, cuda_sketch_compress_rows, cuda_sketch_accumulate_rows, cuda_message_row_len,
  cuda_compress_values_rows,
  cuda_problem_create, cuda_problem_destroy, cuda_problem_grad, cuda_quad_residual, cuda_quad_step,
  cuda_clients_create, cuda_clients_destroy, cuda_clients_chunk, cuda_clients_grad,
  cuda_clients_grad_sampled, cuda_problem_grad_sampled,
  cuda_ring_create, cuda_ring_destroy, cuda_ring_put, cuda_ring_get,
  cuda_replay_create, cuda_replay_destroy, cuda_replay_run,
  cuda_sync, cuda_range,
  cuda_mc_moments,
#if DETCGD_HAVE_SYEV_BATCHED
  cuda_stepsize_setup,
#else
  NULL, /* no batched symmetric eigensolver in this cuSOLVER: the host builds D */
#endif
  cuda_device_bytes_peak,
  cuda_problem_grad_many
};
