/*
 * backend_cuda.c -- the CUDA backend: host side of every backend op.
 *
 * One stream per solver, every launch through the extern "C" wrappers of
 * src/kernels (kernels.h).  Reductions write into the metrics vector on the
 * device; nothing is copied back inside an iteration except where the loop asks
 * (trace points).  The grid cap (32 x SM count) is queried once at open.
 */
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
} CudaState;

/* Layout arrays on the device (size, voff, moff). */
typedef struct DevLayoutMem { DcDevLayout L; void* mem; /* owns */ } DevLayoutMem;

struct DcVec { int64_t n; double* d; /* owns */ };
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
  DevLayoutMem lay;
  DevLogreg lr;       /* logreg-nc: one client */
  DcDevBlocks A;      /* owns data: quad-nc's A_i (float when data-precision fp32) */
  double* d_c;        /* owns: quad-nc */
};
/* n clients, processed `chunk` at a time: gradients G and scattered messages M (chunk x dim),
 * their f_c, and their draws (chunk slices of idx, scale, count, mark). */
struct DcClients {
  int n, chunk;
  double lambda;
  DevLogreg lr;
};

#define ST(be) ((CudaState*)(be)->state)

/* ==== Errors and memory ==== */

static int cuda_fail(cudaError_t e, const char* call, const char* file, int line) {
  return dc_fail(DETCGD_ERR_CUDA, "%s:%d: %s -> %s", file, line, call, cudaGetErrorString(e));
}

#define CU_TRY(call)                                                       \
  do {                                                                     \
    cudaError_t cu_e_ = (call);                                            \
    if (cu_e_ != cudaSuccess) return cuda_fail(cu_e_, #call, __FILE__, __LINE__); \
  } while (0)

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
static int dev_alloc(DcBackend* be, void** p, size_t bytes, const char* what) {
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
static void dev_free(DcBackend* be, void* p) {
  if (p && be->state) dc_arena_free(&ST(be)->arena, p);
}

/* host -> device copy on the solver's stream, completed before returning */
static int h2d(DcBackend* be, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return DETCGD_OK;
  CU_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ST(be)->stream));
  CU_TRY(cudaStreamSynchronize(ST(be)->stream));
  return DETCGD_OK;
}

static int d2h(DcBackend* be, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return DETCGD_OK;
  CU_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ST(be)->stream));
  CU_TRY(cudaStreamSynchronize(ST(be)->stream));
  return DETCGD_OK;
}

/* device copy of an array (NULL-safe for n = 0) */
static int upload_new(DcBackend* be, void** d, const void* h, size_t bytes, const char* what) {
  int st = dev_alloc(be, d, bytes, what);
  return st ? st : h2d(be, *d, h, bytes);
}

/* device float copy of n doubles, converted DC_FLOAT_CHUNK at a time (no host copy of the whole) */
#define DC_FLOAT_CHUNK ((int64_t)1 << 24)
static int upload_float_new(DcBackend* be, void** d, const double* h, int64_t n, const char* what) {
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
  if ((st = dev_alloc(be, (void**)&s->d_partials, DC_K_RED_MAX * sizeof(double), "reduction scratch"))) return st;
  if ((st = dev_alloc(be, (void**)&s->d_iter, sizeof(uint32_t), "iteration counter"))) return st;
  return dev_alloc(be, (void**)&s->d_scalars, 4 * sizeof(double), "scalars");
}

static int64_t cuda_device_bytes_peak(const DcBackend* be) { return (int64_t)ST(be)->arena.peak_held; }

/* ==== Layouts ==== */

/* off[i+1] - off[i] when it is the same for every i < n, else 0: the kernels then find the layer of an entry by
 * one division instead of a search (DcDevLayout.width, DcDevSketch.cap_width). */
static int uniform_step(const int64_t* off, int n) {
  int64_t w = n > 0 ? off[1] - off[0] : 0;
  int i;
  for (i = 1; i < n && w > 0; ++i)
    if (off[i + 1] - off[i] != w) return 0;
  return w > INT32_MAX ? 0 : (int)w;
}

/* voff, moff and size of lay in one device allocation */
static int layout_create(DcBackend* be, const DcLayout* lay, DevLayoutMem* out) {
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

/* ==== Vectors ==== */

static int cuda_vec_create(DcBackend* be, int64_t n, DcVec** v) {
  int st;
  *v = (DcVec*)dc_calloc(1, sizeof(DcVec));
  if (!*v) return DETCGD_ERR_ALLOC;
  (*v)->n = n;
  if ((st = dev_alloc(be, (void**)&(*v)->d, (size_t)n * sizeof(double), "vector"))) { free(*v); *v = NULL; return st; }
  CU_TRY(cudaMemsetAsync((*v)->d, 0, (size_t)n * sizeof(double), ST(be)->stream));
  return DETCGD_OK;
}

static void cuda_vec_destroy(DcBackend* be, DcVec** v) {
  if (!v || !*v) return;
  dev_free(be, (*v)->d);
  free(*v);
  *v = NULL;
}

static int cuda_vec_upload(DcBackend* be, DcVec* v, const double* h) { return h2d(be, v->d, h, (size_t)v->n * sizeof(double)); }
static int cuda_vec_download(DcBackend* be, const DcVec* v, double* h) { return d2h(be, h, v->d, (size_t)v->n * sizeof(double)); }

static int cuda_vec_copy(DcBackend* be, DcVec* dst, const DcVec* src) {
  CU_TRY(cudaMemcpyAsync(dst->d, src->d, (size_t)src->n * sizeof(double), cudaMemcpyDeviceToDevice, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_vec_fill(DcBackend* be, DcVec* v, double a) {
  CU_TRY(detcgd_k_fill(v->d, v->n, a, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

/* one value per row (a chunk's losses) summed left to right, otherwise column by column */
static int cuda_rows_sum(DcBackend* be, const DcVec* R, int nr, int64_t n, double alpha, int fresh, DcVec* y,
                         int64_t yoff) {
  CudaState* s = ST(be);
  if (n == 1 && alpha == 1.0) CU_TRY(detcgd_k_sum_seq(nr, R->d, y->d + yoff, !fresh, s->stream));
  else CU_TRY(detcgd_k_colsum(n, nr, R->d, alpha, fresh, y->d + yoff, s->grid_cap, s->stream));
  return DETCGD_OK;
}

static int cuda_axpy(DcBackend* be, double a, const DcVec* x, DcVec* y) {
  CU_TRY(detcgd_k_axpy(x->n, a, x->d, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_dot(DcBackend* be, const DcVec* x, const DcVec* y, DcVec* m, int slot) {
  CU_TRY(detcgd_k_dot(x->n, x->d, y->d, ST(be)->d_partials, m->d + slot, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_metric_set(DcBackend* be, DcVec* m, int slot, double v) {
  CU_TRY(detcgd_k_metric_set(m->d, slot, v, ST(be)->stream));
  return DETCGD_OK;
}

/* ==== Block-diagonal matrices ==== */

static void cuda_blocks_destroy(DcBackend* be, DcBlocks** B) {
  if (!B || !*B) return;
  dev_free(be, (void*)(*B)->B.data);
  dev_free(be, (*B)->lay.mem);
  free(*B);
  *B = NULL;
}

/* Uploads n block entries of the given kind: as float when DENSE and store32 (they are floats already),
 * else as double. */
static int blocks_upload(DcBackend* be, const double* h, int64_t n, int kind, int store32, DcDevBlocks* B,
                         const char* what) {
  void* d = NULL;
  int st;
  B->kind = kind;
  B->f32 = store32 && kind == DC_BLOCKS_DENSE;
  st = B->f32 ? upload_float_new(be, &d, h, n, what) : upload_new(be, &d, h, (size_t)n * sizeof(double), what);
  B->data = d;
  return st;
}

static int cuda_blocks_create(DcBackend* be, const DcHostBlocks* h, DcBlocks** B) {
  int st;
  *B = (DcBlocks*)dc_calloc(1, sizeof(DcBlocks));
  if (!*B) return DETCGD_ERR_ALLOC;
  st = layout_create(be, h->layout, &(*B)->lay);
  if (st == DETCGD_OK)
    st = blocks_upload(be, h->data, dc_blocks_count(h), h->kind, h->store32, &(*B)->B, "block-diagonal matrix");
  if (st != DETCGD_OK) cuda_blocks_destroy(be, B);
  return st;
}

/* B's device view; no matrix (data NULL) for B == NULL */
static DcDevBlocks dev_blocks(const DcBlocks* B) {
  DcDevBlocks none = {0, 0, NULL};
  return B ? B->B : none;
}

static int cuda_bd_apply(DcBackend* be, const DcBlocks* B, const DcVec* x, double alpha, DcVec* y) {
  CU_TRY(detcgd_k_bd_apply(B->lay.L, B->B, x->d, alpha, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_bd_apply_cols(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x, double alpha, DcVec* y) {
  CU_TRY(detcgd_k_bd_apply_cols(B->lay.L, B->B, S->S, x->d, alpha, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_bd_apply_rows(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x, double alpha, DcVec* y) {
  CU_TRY(detcgd_k_bd_apply_rows(B->lay.L, B->B, S->S, x->d, alpha, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_bd_quadform(DcBackend* be, const DcBlocks* B, const DcVec* x, DcVec* m, int slot, int sum_slot) {
  CU_TRY(detcgd_k_bd_quadform(B->lay.L, B->B, x->d, ST(be)->d_partials, m->d + slot, sum_slot >= 0 ? m->d + sum_slot : NULL,
                              ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

/* ==== Sketches ==== */

static void cuda_sketch_destroy(DcBackend* be, DcSketch** S) {
  DcDevSketch* d;
  if (!S || !*S) return;
  d = &(*S)->S;
  dev_free(be, (void*)d->layers); dev_free(be, (void*)d->aux); dev_free(be, (void*)d->cap_off); dev_free(be, d->idx);
  dev_free(be, d->scale); dev_free(be, d->count); dev_free(be, (void*)d->index_bits); dev_free(be, d->mark); dev_free(be, d->tally);
  dev_free(be, (*S)->lay.mem);
  free(*S);
  *S = NULL;
}

/* `rows` draws: row r's slice of idx, scale at r cap, of count at r nblocks, of mark at r dim */
static int cuda_sketch_create(DcBackend* be, const DcSketchSpec* sp, int rows, DcSketch** out) {
  const DcLayout* lay = sp->layout;
  int n = lay->nblocks, i, st;
  int64_t cap = sp->cap_off[n], dim = lay->dim * rows;
  int* bits = (int*)dc_calloc((size_t)n, sizeof(int));
  DcDevSketch* d;
  *out = (DcSketch*)dc_calloc(1, sizeof(DcSketch));
  if (!*out || !bits) { free(bits); free(*out); *out = NULL; return DETCGD_ERR_ALLOC; }
  (*out)->spec = sp;
  d = &(*out)->S;
  for (i = 0; i < n; ++i) bits[i] = dc_index_bits(lay->size[i]);
  d->cap = cap;
  d->cap_width = uniform_step(sp->cap_off, n);
  d->value_bits = sp->value_bits;
  d->send_indices = sp->send_indices;
  d->layer_flag_bits = sp->layer_flag_bits;
  st = layout_create(be, lay, &(*out)->lay);
  if (!st) st = upload_new(be, (void**)&d->layers, sp->layers, (size_t)n * sizeof(DcSketchLayer), "sketch layers");
  if (!st && sp->aux) st = upload_new(be, (void**)&d->aux, sp->aux, (size_t)sp->aux_len * sizeof(double), "sketch probabilities");
  if (!st) st = upload_new(be, (void**)&d->cap_off, sp->cap_off, (size_t)(n + 1) * sizeof(int64_t), "sketch offsets");
  if (!st) st = upload_new(be, (void**)&d->index_bits, bits, (size_t)n * sizeof(int), "index bits");
  if (!st) st = dev_alloc(be, (void**)&d->idx, (size_t)(cap * rows) * sizeof(int), "sketch indices");
  if (!st) st = dev_alloc(be, (void**)&d->scale, (size_t)(cap * rows) * sizeof(double), "sketch scales");
  if (!st) st = dev_alloc(be, (void**)&d->count, (size_t)n * (size_t)rows * sizeof(int), "sketch counts");
  if (!st) st = dev_alloc(be, (void**)&d->mark, (size_t)dim, "sketch membership tables");
  if (!st) st = dev_alloc(be, (void**)&d->tally, 2 * sizeof(unsigned long long), "sketch tally");
  free(bits);
  if (!st) {
    cudaError_t e = cudaMemsetAsync(d->mark, 0, (size_t)dim, ST(be)->stream);
    if (e == cudaSuccess) e = cudaMemsetAsync(d->tally, 0, 2 * sizeof(unsigned long long), ST(be)->stream);
    if (e == cudaSuccess) e = cudaMemsetAsync(d->count, 0, (size_t)n * (size_t)rows * sizeof(int), ST(be)->stream);
    if (e != cudaSuccess) st = cuda_fail(e, "cudaMemsetAsync", __FILE__, __LINE__);
  }
  if (st) cuda_sketch_destroy(be, out);
  return st;
}

static int cuda_sketch_sample(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t client) {
  CudaState* s = ST(be);
  CU_TRY(detcgd_k_sketch_sample(S->lay.L, S->S, seed, iter, s->capturing ? s->d_iter : NULL, client, 1, s->stream));
  return DETCGD_OK;
}

static int cuda_sketch_read(DcBackend* be, const DcSketch* S, DcSketchDraw* out) {
  int n = S->spec->layout->nblocks, st;
  if ((st = d2h(be, out->idx, S->S.idx, (size_t)S->S.cap * sizeof(int)))) return st;
  if ((st = d2h(be, out->scale, S->S.scale, (size_t)S->S.cap * sizeof(double)))) return st;
  return d2h(be, out->count, S->S.count, (size_t)n * sizeof(int));
}

static int cuda_sketch_load(DcBackend* be, DcSketch* S, const DcSketchDraw* in) {
  int n = S->spec->layout->nblocks, st;
  if ((st = h2d(be, S->S.idx, in->idx, (size_t)S->S.cap * sizeof(int)))) return st;
  if ((st = h2d(be, S->S.scale, in->scale, (size_t)S->S.cap * sizeof(double)))) return st;
  if ((st = h2d(be, S->S.count, in->count, (size_t)n * sizeof(int)))) return st;
  CU_TRY(detcgd_k_sketch_tally(S->lay.L, S->S, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_sketch_tally(DcBackend* be, const DcSketch* S, int64_t* coords, int64_t* bits) {
  unsigned long long t[2];
  int st = d2h(be, t, S->S.tally, sizeof t);
  *coords = (int64_t)t[0];
  *bits = (int64_t)t[1];
  return st;
}

static int cuda_sketch_set_tally(DcBackend* be, DcSketch* S, int64_t coords, int64_t bits) {
  unsigned long long t[2];
  t[0] = (unsigned long long)coords;
  t[1] = (unsigned long long)bits;
  return h2d(be, S->S.tally, t, sizeof t);
}

static int cuda_sketch_compress(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x, int round32, DcVec* vals) {
  CU_TRY(detcgd_k_sketch_compress(S->lay.L, dev_blocks(B), S->S, x->d, 1, round32, 0, vals->d,
                                  ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_sketch_accumulate(DcBackend* be, const DcSketch* S, const DcVec* vals, double alpha, DcVec* y) {
  CU_TRY(detcgd_k_sketch_accumulate(S->lay.L, S->S, vals->d, alpha, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_sketch_sample_rows(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t c0, int nc) {
  CudaState* s = ST(be);
  CU_TRY(detcgd_k_sketch_sample(S->lay.L, S->S, seed, iter, s->capturing ? s->d_iter : NULL, c0, nc, s->stream));
  return DETCGD_OK;
}

/* message rows scattered: row r is dim values, zero but at its kept coordinates, so that summing the rows
 * column by column (y_j + 0.0 leaves y_j as it is) gives the bits of accumulating the kept values row by row */
static int64_t cuda_message_row_len(const DcBackend* be, const DcSketchSpec* spec) {
  (void)be;
  return spec->layout->dim;
}

static int cuda_sketch_compress_rows(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* X, int nc,
                                     int round32, DcVec* M) {
  CudaState* s = ST(be);
  CU_TRY(cudaMemsetAsync(M->d, 0, (size_t)(nc * S->spec->layout->dim) * sizeof(double), s->stream));
  CU_TRY(detcgd_k_sketch_compress(S->lay.L, dev_blocks(B), S->S, X->d, nc, round32, 1, M->d, s->grid_cap, s->stream));
  return DETCGD_OK;
}

static int cuda_sketch_accumulate_rows(DcBackend* be, const DcSketch* S, const DcVec* M, int nc, double alpha, int fresh,
                                       DcVec* y) {
  CU_TRY(detcgd_k_colsum(S->spec->layout->dim, nc, M->d, alpha, fresh, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

/* ==== Problems ==== */

static void logreg_free(DcBackend* be, DevLogreg* lr) {
  int i;
  for (i = 0; i < (int)(sizeof lr->mem / sizeof lr->mem[0]); ++i) dev_free(be, lr->mem[i]);
  free(lr->h_row_off);
  free(lr->h_seg_off);
  free(lr->h_piece_off);
  free(lr->h_row_piece_off);
  memset(lr, 0, sizeof *lr);
}

/* Float rows (data-precision fp32) are kept dense when that takes fewer bytes than CSR and CSC
 * (4 per entry against 24 per nonzero, and a fixed factor for the index arrays): density >= 1/3. */
static int use_dense_rows(int n, const DcHostProblem* hosts, int64_t nrows, int64_t nnz) {
  int c;
  for (c = 0; c < n; ++c) if (!hosts[c].store32) return 0;
  return 3.0 * (double)nnz >= (double)nrows * (double)hosts[0].layout->dim;
}

/* The rows of n clients in client order as dense floats (row-major, rows x dim). */
static float* host_dense_rows(int n, const DcHostProblem* hosts, int64_t nrows) {
  int64_t d = hosts[0].layout->dim, j, q, r = 0;
  float* A = (float*)dc_calloc((size_t)nrows * (size_t)d, sizeof(float));
  int c;
  if (!A) return NULL;
  for (c = 0; c < n; ++c)
    for (j = 0; j < hosts[c].nrows; ++j, ++r)
      for (q = hosts[c].rowptr[j]; q < hosts[c].rowptr[j + 1]; ++q)
        A[r * d + hosts[c].colidx[q]] = (float)hosts[c].val[q];
  return A;
}

/* Segments and pieces of A^T w into lr (mem[12..17], P.seg_*, P.piece_off, P.partial). */
static int segments_upload(DcBackend* be, int n, int64_t d, const DcClientRows* H, DevLogreg* lr) {
  DcDevLogreg* P = &lr->P;
  DcSegments S;
  int64_t ns;
  int st = dc_segments_build(n, d, H, DC_K_PIECE, &S);
  if (st) return st;
  ns = S.nsegs;
  st = upload_new(be, &lr->mem[12], S.seg_off, (size_t)(n + 1) * sizeof(int64_t), "CSC segment offsets");
  if (!st) st = upload_new(be, &lr->mem[13], S.t, (size_t)ns * sizeof(int64_t), "CSC segment outputs");
  if (!st) st = upload_new(be, &lr->mem[14], S.lo, (size_t)ns * sizeof(int64_t), "CSC segment starts");
  if (!st) st = upload_new(be, &lr->mem[15], S.hi, (size_t)ns * sizeof(int64_t), "CSC segment ends");
  if (!st) st = upload_new(be, &lr->mem[16], S.piece_off, (size_t)(ns + 1) * sizeof(int64_t), "CSC piece offsets");
  if (!st) st = dev_alloc(be, &lr->mem[17], (size_t)S.piece_off[ns] * sizeof(double), "CSC piece sums");
  if (!st) {
    P->seg_off = (const int64_t*)lr->mem[12];
    P->seg_t = (const int64_t*)lr->mem[13];
    P->seg_lo = (const int64_t*)lr->mem[14];
    P->seg_hi = (const int64_t*)lr->mem[15];
    P->piece_off = (const int64_t*)lr->mem[16];
    P->partial = (double*)lr->mem[17];
    lr->h_seg_off = S.seg_off;
    lr->h_piece_off = S.piece_off;
    S.seg_off = S.piece_off = NULL;
  }
  dc_segments_free(&S);
  return st;
}

/* Dense rows: each client's rows in pieces of DC_K_ROW_PIECE (mem[18], P.row_piece_off) and their
 * column sums (mem[17], P.partial). */
static int row_pieces_upload(DcBackend* be, int n, int64_t d, const int64_t* row_off, DevLogreg* lr) {
  int64_t* off = (int64_t*)dc_calloc((size_t)n + 1, sizeof(int64_t));
  int c, st;
  if (!off) return DETCGD_ERR_ALLOC;
  for (c = 0; c < n; ++c) off[c + 1] = off[c] + (row_off[c + 1] - row_off[c] + DC_K_ROW_PIECE - 1) / DC_K_ROW_PIECE;
  st = upload_new(be, &lr->mem[18], off, (size_t)(n + 1) * sizeof(int64_t), "dense row piece offsets");
  if (!st) st = dev_alloc(be, &lr->mem[17], (size_t)off[n] * (size_t)d * sizeof(double), "dense row piece sums");
  if (st) { free(off); return st; }
  lr->P.row_piece_off = (const int64_t*)lr->mem[18];
  lr->P.partial = (double*)lr->mem[17];
  lr->h_row_piece_off = off;
  return DETCGD_OK;
}

/* Device copy of n clients' logreg-nc rows. */
static int logreg_upload(DcBackend* be, int n, const DcHostProblem* hosts, DevLogreg* lr) {
  int64_t d = hosts[0].layout->dim, nrows, nnz;
  DcDevLogreg* P = &lr->P;
  DcClientRows H;
  float* dense = NULL;
  int st = dc_client_rows_build(n, hosts, &H, &nrows, &nnz);
  memset(lr, 0, sizeof *lr);
  if (st) return st;
  P->nclients = n;
  P->dim = d;
  st = upload_new(be, &lr->mem[0], H.row_off, (size_t)(n + 1) * sizeof(int64_t), "client row offsets");
  if (!st) st = upload_new(be, &lr->mem[4], H.label, (size_t)nrows * sizeof(double), "labels");
  if (!st && use_dense_rows(n, hosts, nrows, nnz)) { /* dense float rows: no CSR or CSC */
    if (!(dense = host_dense_rows(n, hosts, nrows))) st = DETCGD_ERR_ALLOC;
    if (!st) st = upload_new(be, &lr->mem[11], dense, (size_t)nrows * (size_t)d * sizeof(float), "dense float rows");
    if (!st) st = row_pieces_upload(be, n, d, H.row_off, lr);
    free(dense);
  } else if (!st) {
    st = dc_client_rows_add_csc(&H);
    if (!st) st = upload_new(be, &lr->mem[1], H.rowptr, (size_t)(nrows + 1) * sizeof(int64_t), "CSR row pointers");
    if (!st) st = upload_new(be, &lr->mem[2], H.col, (size_t)nnz * sizeof(int32_t), "CSR columns");
    if (!st) st = upload_new(be, &lr->mem[3], H.val, (size_t)nnz * sizeof(double), "CSR values");
    if (!st) st = upload_new(be, &lr->mem[5], H.colptr, (size_t)(d + 1) * sizeof(int64_t), "CSC column pointers");
    if (!st) st = upload_new(be, &lr->mem[6], H.row, (size_t)nnz * sizeof(int32_t), "CSC rows");
    if (!st) st = upload_new(be, &lr->mem[7], H.cval, (size_t)nnz * sizeof(double), "CSC values");
    if (!st && nnz > 0) st = segments_upload(be, n, d, &H, lr);
  }
  if (!st) st = dev_alloc(be, &lr->mem[8], (size_t)nrows * sizeof(double), "row weights");
  if (!st) st = dev_alloc(be, &lr->mem[9], (size_t)nrows * sizeof(double), "row losses");
  if (!st) st = dev_alloc(be, &lr->mem[10], (size_t)d * sizeof(double), "regulariser terms");
  if (!st) {
    P->row_off = (const int64_t*)lr->mem[0];
    P->rowptr = (const int64_t*)lr->mem[1];
    P->col = (const int32_t*)lr->mem[2];
    P->val = (const double*)lr->mem[3];
    P->label = (const double*)lr->mem[4];
    P->colptr = (const int64_t*)lr->mem[5];
    P->row = (const int32_t*)lr->mem[6];
    P->cval = (const double*)lr->mem[7];
    P->dense = (const float*)lr->mem[11];
    P->w = (double*)lr->mem[8];
    P->loss = (double*)lr->mem[9];
    P->reg = (double*)lr->mem[10];
    lr->h_row_off = H.row_off;
    H.row_off = NULL;
  }
  dc_client_rows_free(&H);
  if (st) logreg_free(be, lr);
  return st;
}

/* G + (c - c0) dim = grad f_c(x) for clients c0..c0+nc-1 (also their row losses and reg) */
static int logreg_grads(DcBackend* be, const DevLogreg* lr, double lambda, int c0, int nc, const double* x, double* G) {
  CudaState* s = ST(be);
  int64_t s0 = 0, s1 = 0, k0 = 0, k1 = 0;
  if (lr->h_row_piece_off) { /* dense rows */
    k0 = lr->h_row_piece_off[c0];
    k1 = lr->h_row_piece_off[c0 + nc];
  } else if (lr->h_seg_off) {
    s0 = lr->h_seg_off[c0];
    s1 = lr->h_seg_off[c0 + nc];
    k0 = lr->h_piece_off[s0];
    k1 = lr->h_piece_off[s1];
  }
  CU_TRY(detcgd_k_logreg_grad(lr->P, lr->h_row_off[c0], lr->h_row_off[c0 + nc], c0, nc, s0, s1, k0, k1, x, lambda,
                              G, s->grid_cap, s->stream));
  return DETCGD_OK;
}

/* After logreg_grads: fc[c - c0] = f_c(x); sum_i reg_i (the same for every client) is summed
 * into the scratch scalar when sum_reg, else taken from there. */
static int logreg_losses(DcBackend* be, const DevLogreg* lr, double lambda, int c0, int nc, int sum_reg, double* fc) {
  CudaState* s = ST(be);
  if (sum_reg) CU_TRY(detcgd_k_dot(lr->P.dim, lr->P.reg, NULL, s->d_partials, s->d_scalars, s->grid_cap, s->stream));
  CU_TRY(detcgd_k_logreg_client_f(lr->P, c0, nc, lambda, s->d_scalars, fc, s->stream));
  return DETCGD_OK;
}

static void cuda_problem_destroy(DcBackend* be, DcProbData** P) {
  DcProbData* p;
  if (!P || !*P) return;
  p = *P;
  logreg_free(be, &p->lr);
  dev_free(be, (void*)p->A.data); dev_free(be, p->d_c); dev_free(be, p->lay.mem);
  free(p);
  *P = NULL;
}

static int cuda_problem_create(DcBackend* be, const DcHostProblem* h, DcProbData** P) {
  const DcLayout* lay = h->layout;
  int st;
  *P = (DcProbData*)dc_calloc(1, sizeof(DcProbData));
  if (!*P) return DETCGD_ERR_ALLOC;
  (*P)->kind = h->kind;
  (*P)->lambda = h->lambda;
  st = layout_create(be, lay, &(*P)->lay);
  if (!st && h->kind == DETCGD_PROBLEM_LOGREG_NC) st = logreg_upload(be, 1, h, &(*P)->lr);
  if (!st && h->kind == DETCGD_PROBLEM_QUAD_NC) {
    st = blocks_upload(be, h->A, lay->moff[lay->nblocks], DC_BLOCKS_DENSE, h->store32, &(*P)->A, "quad-nc blocks");
    if (!st) st = upload_new(be, (void**)&(*P)->d_c, h->c, (size_t)lay->dim * sizeof(double), "quad-nc centres");
  }
  if (st) cuda_problem_destroy(be, P);
  return st;
}

/* quad-nc's gradient (and q = A (x - c) unless q is NULL) */
static int cuda_quad_residual(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* q, DcVec* g, DcVec* m,
                              int fslot) {
  CudaState* s = ST(be);
  CU_TRY(detcgd_k_quad_grad(P->lay.L, P->A, P->d_c, x->d, P->lambda, q ? q->d : NULL, g->d, s->d_partials,
                            fslot >= 0 ? m->d + fslot : NULL, s->grid_cap, s->stream));
  return DETCGD_OK;
}

static int cuda_problem_grad(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* g, DcVec* m, int fslot) {
  int st;
  if (P->kind == DETCGD_PROBLEM_QUAD_NC) return cuda_quad_residual(be, P, x, NULL, g, m, fslot);
  st = logreg_grads(be, &P->lr, P->lambda, 0, 1, x->d, g->d);
  return st || fslot < 0 ? st : logreg_losses(be, &P->lr, P->lambda, 0, 1, 1, m->d + fslot);
}

static int cuda_quad_step(DcBackend* be, const DcProbData* P, const DcSketch* S, const DcVec* vals, double alpha,
                          const DcVec* x, DcVec* q, DcVec* g) {
  CudaState* s = ST(be);
  CU_TRY(detcgd_k_quad_step(P->lay.L, P->A, S->S, vals->d, alpha, x->d, P->lambda, q->d, g->d, s->grid_cap, s->stream));
  return DETCGD_OK;
}

/* ==== Clients: `chunk` clients per launch ==== */

static void cuda_clients_destroy(DcBackend* be, DcClients** C) {
  if (!C || !*C) return;
  logreg_free(be, &(*C)->lr);
  free(*C);
  *C = NULL;
}

/* A round's scratch per chunk of clients (gradients and messages, draws and membership tables, losses): at most
 * 256 MiB, and at most 65535 clients (a grid's y extent). */
static int clients_chunk(int n, int64_t dim, int64_t cap, int nblocks) {
  int64_t per = 17 * dim + 12 * cap + 4 * (int64_t)nblocks + 8, chunk = ((int64_t)256 << 20) / (per > 0 ? per : 1);
  if (chunk > n) chunk = n;
  if (chunk > 65535) chunk = 65535;
  return chunk < 1 ? 1 : (int)chunk;
}

static int cuda_clients_create(DcBackend* be, int n, const DcHostProblem* hosts, const DcSketchSpec* spec, DcClients** C) {
  const DcLayout* lay = spec->layout;
  int st;
  if (hosts[0].kind != DETCGD_PROBLEM_LOGREG_NC)
    return dc_fail(DETCGD_ERR_ARG, "clients (cuda): only logreg-nc problems are split over clients");
  *C = (DcClients*)dc_calloc(1, sizeof(DcClients));
  if (!*C) return DETCGD_ERR_ALLOC;
  (*C)->n = n;
  (*C)->lambda = hosts[0].lambda;
  (*C)->chunk = clients_chunk(n, lay->dim, spec->cap_off[lay->nblocks], lay->nblocks);
  st = logreg_upload(be, n, hosts, &(*C)->lr);
  if (st) cuda_clients_destroy(be, C);
  return st;
}

static int cuda_clients_chunk(const DcBackend* be, const DcClients* C) {
  (void)be;
  return C->chunk;
}

static int cuda_clients_grad(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, DcVec* G, DcVec* F) {
  int st = logreg_grads(be, &C->lr, C->lambda, c0, nc, x->d, G->d);
  return st || !F ? st : logreg_losses(be, &C->lr, C->lambda, c0, nc, c0 == 0, F->d);
}

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

static void cuda_ring_destroy(DcBackend* be, DcRing** R) {
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

static int cuda_ring_create(DcBackend* be, int slots, int64_t nmetrics, DcRing** R) {
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

static int cuda_ring_put(DcBackend* be, DcRing* R, int slot, const DcVec* m, const DcSketch* S) {
  cudaStream_t st = ST(be)->stream;
  unsigned long long* t = R->h_tally + 2 * slot;
  CU_TRY(cudaMemcpyAsync(R->h_m + slot * R->nm, m->d, (size_t)R->nm * sizeof(double), cudaMemcpyDeviceToHost, st));
  if (S) CU_TRY(cudaMemcpyAsync(t, S->S.tally, 2 * sizeof(unsigned long long), cudaMemcpyDeviceToHost, st));
  else t[0] = t[1] = 0; /* the slot is free: its last copy was read */
  CU_TRY(cudaEventRecord(R->ev[slot], st));
  return DETCGD_OK;
}

static int cuda_ring_get(DcBackend* be, DcRing* R, int slot, int wait, int* ready, double* m, int64_t tally[2],
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

static void cuda_replay_destroy(DcBackend* be, DcReplay** R) {
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

static int cuda_replay_create(DcBackend* be, DcIterationFn body, void* ctx, int unroll, DcReplay** R) {
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

static int cuda_replay_run(DcBackend* be, DcReplay* R, uint32_t iter, int64_t n) {
  CudaState* s = ST(be);
  int64_t j;
  if (n <= 0) return DETCGD_OK;
  CU_TRY(detcgd_k_counter(s->d_iter, iter, 0, s->stream));
  for (j = 0; j < n; ++j) CU_TRY(cudaGraphLaunch(R->exec, s->stream));
  return DETCGD_OK;
}

/* ==== Profiling ==== */

static int cuda_sync(DcBackend* be) {
  CU_TRY(cudaStreamSynchronize(ST(be)->stream));
  return DETCGD_OK;
}

static void cuda_range(DcBackend* be, const char* name) {
  (void)be;
  if (name) nvtxRangePushA(name);
  else nvtxRangePop();
}

/* ==== Monte Carlo: every layer in one launch ==== */

static int cuda_mc_moments(DcBackend* be, const DcSketchSpec* spec, const double* A, int64_t nsamples, uint64_t seed,
                           double* mean, double* std_err) {
  const DcLayout* lay = spec->layout;
  int64_t mm = lay->moff[lay->nblocks], parts = ((int64_t)1 << 27) / (mm > 0 ? mm : 1);
  int cap = 0, i, st;
  DcSketch* S = NULL;
  void *d_A = NULL, *psum = NULL, *psq = NULL, *marks = NULL, *d_mean = NULL, *d_se = NULL;
  for (i = 0; i < lay->nblocks; ++i)
    if (spec->cap_off[i + 1] - spec->cap_off[i] > cap) cap = (int)(spec->cap_off[i + 1] - spec->cap_off[i]);
  if ((size_t)cap * (sizeof(double) + sizeof(int)) > 48 * 1024)
    return dc_fail(DETCGD_ERR_ARG, "mc_moments (cuda): a layer keeps up to %d coordinates; at most 4096 fit in shared memory", cap);
  if (parts > 256) parts = 256; /* parts x mm <= 2^27 sums of each kind */
  if (parts > nsamples) parts = nsamples;
  if (parts < 1) parts = 1;
  st = cuda_sketch_create(be, spec, 1, &S);
  if (!st) st = upload_new(be, &d_A, A, (size_t)mm * sizeof(double), "Monte Carlo matrices");
  if (!st) st = dev_alloc(be, &psum, (size_t)(parts * mm) * sizeof(double), "Monte Carlo sums");
  if (!st) st = dev_alloc(be, &psq, (size_t)(parts * mm) * sizeof(double), "Monte Carlo squares");
  if (!st) st = dev_alloc(be, &marks, (size_t)(parts * lay->dim), "membership tables");
  if (!st) st = dev_alloc(be, &d_mean, (size_t)mm * sizeof(double), "mean");
  if (!st) st = dev_alloc(be, &d_se, (size_t)mm * sizeof(double), "standard errors");
  if (!st) {
    cudaError_t e = detcgd_k_mc_moments(S->lay.L, S->S, cap, (const double*)d_A, mm, nsamples, seed, (int)parts,
                                        (double*)psum, (double*)psq, (unsigned char*)marks, (double*)d_mean,
                                        (double*)d_se, ST(be)->stream);
    if (e != cudaSuccess) st = cuda_fail(e, "detcgd_k_mc_moments", __FILE__, __LINE__);
  }
  if (!st) st = d2h(be, mean, d_mean, (size_t)mm * sizeof(double));
  if (!st) st = d2h(be, std_err, d_se, (size_t)mm * sizeof(double));
  cuda_sketch_destroy(be, &S);
  dev_free(be, d_A); dev_free(be, psum); dev_free(be, psq); dev_free(be, marks); dev_free(be, d_mean); dev_free(be, d_se);
  return st;
}

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

static int cuda_stepsize_setup(DcBackend* be, const DcProbData* P, const DcSetupJob* job, DcBlocks** D, double* cert,
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

const DcBackendOps dc_backend_cuda_ops = {
  "cuda", cuda_open, cuda_close,
  cuda_vec_create, cuda_vec_destroy, cuda_vec_upload, cuda_vec_download, cuda_vec_copy,
  cuda_axpy, cuda_dot, cuda_metric_set, cuda_vec_fill, cuda_rows_sum,
  cuda_blocks_create, cuda_blocks_destroy, cuda_bd_apply, cuda_bd_apply_cols, cuda_bd_apply_rows,
  cuda_bd_quadform,
  cuda_sketch_create, cuda_sketch_destroy, cuda_sketch_sample, cuda_sketch_read, cuda_sketch_load,
  cuda_sketch_tally, cuda_sketch_set_tally, cuda_sketch_compress, cuda_sketch_accumulate,
  cuda_sketch_sample_rows, cuda_sketch_compress_rows, cuda_sketch_accumulate_rows, cuda_message_row_len,
  cuda_problem_create, cuda_problem_destroy, cuda_problem_grad, cuda_quad_residual, cuda_quad_step,
  cuda_clients_create, cuda_clients_destroy, cuda_clients_chunk, cuda_clients_grad,
  cuda_ring_create, cuda_ring_destroy, cuda_ring_put, cuda_ring_get,
  cuda_replay_create, cuda_replay_destroy, cuda_replay_run,
  cuda_sync, cuda_range,
  cuda_mc_moments,
#if DETCGD_HAVE_SYEV_BATCHED
  cuda_stepsize_setup,
#else
  NULL, /* no batched symmetric eigensolver in this cuSOLVER: the host builds D */
#endif
  cuda_device_bytes_peak
};
