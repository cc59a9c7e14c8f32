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
#include <nvtx3/nvToolsExt.h>
#include "backend.h"
#include "kernels.h"

typedef struct CudaState {
  cudaStream_t stream;
  int grid_cap;        /* 32 blocks per SM */
  double* d_partials;  /* owns: DC_K_RED_MAX partial sums */
  double* d_scalars;   /* owns: 4 scratch scalars */
} CudaState;

/* Layout arrays on the device (size, voff, moff, tile_off). */
typedef struct DevLayoutMem { DcDevLayout L; void* mem; /* owns */ } DevLayoutMem;

struct DcVec { int64_t n; double* d; /* owns */ };
struct DcBlocks { int kind; DevLayoutMem lay; double* d; double* d_partials; /* owns both */ };
struct DcSketch {
  const DcSketchSpec* spec; /* borrowed */
  DevLayoutMem lay;
  DcDevSketch S;            /* its device arrays are owned */
};
struct DcProbData {
  int kind;
  double lambda;
  DevLayoutMem lay;
  int64_t nrows;
  /* logreg-nc: CSR, CSC, row weights, losses, regulariser terms */
  int64_t *d_rowptr, *d_colptr;
  int32_t *d_col, *d_row;
  double *d_val, *d_cval, *d_label, *d_w, *d_loss, *d_reg;
  /* quad-nc */
  double *d_A, *d_c, *d_partials;
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

/* cudaMalloc that names the bytes needed and free when the device is full. */
static int dev_alloc(void** p, size_t bytes, const char* what) {
  cudaError_t e = cudaMalloc(p, bytes ? bytes : 8);
  if (e != cudaSuccess) {
    size_t free_b = 0, total_b = 0;
    cudaGetLastError();
    cudaMemGetInfo(&free_b, &total_b);
    *p = NULL;
    return dc_fail(DETCGD_ERR_ALLOC, "CUDA: cannot allocate %s: %zu bytes needed, %zu bytes free of %zu",
                   what, bytes, free_b, total_b);
  }
  return DETCGD_OK;
}

static void dev_free(void* p) { if (p) cudaFree(p); }

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
  int st = dev_alloc(d, bytes, what);
  return st ? st : h2d(be, *d, h, bytes);
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
  dev_free(s->d_partials);
  dev_free(s->d_scalars);
  if (s->stream) cudaStreamDestroy(s->stream);
  free(s);
  be->state = NULL;
}

static int cuda_open(DcBackend* be) {
  CudaState* s = (CudaState*)dc_calloc(1, sizeof(CudaState));
  int sms = 0, st;
  if (!s) return DETCGD_ERR_ALLOC;
  be->state = s;
  CU_TRY(cudaSetDevice(0));
  CU_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  s->grid_cap = 32 * (sms > 0 ? sms : 1);
  CU_TRY(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
  if ((st = dev_alloc((void**)&s->d_partials, DC_K_RED_MAX * sizeof(double), "reduction scratch"))) return st;
  return dev_alloc((void**)&s->d_scalars, 4 * sizeof(double), "scalars");
}

/* ==== Layouts ==== */

/* size, voff, moff and tile_off of lay in one device allocation */
static int layout_create(DcBackend* be, const DcLayout* lay, DevLayoutMem* out) {
  int n = lay->nblocks, i, st;
  size_t i64 = (size_t)(n + 1) * sizeof(int64_t), bytes = 3 * i64 + (size_t)n * sizeof(int);
  unsigned char* h = (unsigned char*)dc_calloc(bytes, 1);
  int64_t *tile, *voff, *moff;
  if (!h) return DETCGD_ERR_ALLOC;
  voff = (int64_t*)h;
  moff = voff + n + 1;
  tile = moff + n + 1;
  memcpy(voff, lay->voff, i64);
  memcpy(moff, lay->moff, i64);
  for (i = 0; i < n; ++i) tile[i + 1] = tile[i] + (lay->size[i] + DC_K_TILE - 1) / DC_K_TILE;
  memcpy(tile + n + 1, lay->size, (size_t)n * sizeof(int));
  st = upload_new(be, &out->mem, h, bytes, "layer layout");
  if (st == DETCGD_OK) {
    unsigned char* d = (unsigned char*)out->mem;
    out->L.nblocks = n;
    out->L.dim = lay->dim;
    out->L.voff = (const int64_t*)d;
    out->L.moff = (const int64_t*)(d + i64);
    out->L.tile_off = (const int64_t*)(d + 2 * i64);
    out->L.size = (const int*)(d + 3 * i64);
    out->L.ntiles = tile[n];
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
  if ((st = dev_alloc((void**)&(*v)->d, (size_t)n * sizeof(double), "vector"))) { free(*v); *v = NULL; return st; }
  CU_TRY(cudaMemsetAsync((*v)->d, 0, (size_t)n * sizeof(double), ST(be)->stream));
  return DETCGD_OK;
}

static void cuda_vec_destroy(DcBackend* be, DcVec** v) {
  (void)be;
  if (!v || !*v) return;
  dev_free((*v)->d);
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

static int cuda_axpy(DcBackend* be, double a, const DcVec* x, DcVec* y) {
  CU_TRY(detcgd_k_axpy(x->n, a, x->d, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_dot(DcBackend* be, const DcVec* x, const DcVec* y, DcVec* m, int slot) {
  CU_TRY(detcgd_k_dot(x->n, x->d, y->d, ST(be)->d_partials, m->d + slot, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_metric_add(DcBackend* be, DcVec* m, int dst, int src) {
  CU_TRY(detcgd_k_metric(m->d, dst, src, 0.0, 1, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_metric_set(DcBackend* be, DcVec* m, int slot, double v) {
  CU_TRY(detcgd_k_metric(m->d, slot, -1, v, 0, ST(be)->stream));
  return DETCGD_OK;
}

/* ==== Block-diagonal matrices ==== */

static void cuda_blocks_destroy(DcBackend* be, DcBlocks** B) {
  (void)be;
  if (!B || !*B) return;
  dev_free((*B)->d);
  dev_free((*B)->d_partials);
  dev_free((*B)->lay.mem);
  free(*B);
  *B = NULL;
}

static int cuda_blocks_create(DcBackend* be, const DcHostBlocks* h, DcBlocks** B) {
  const DcLayout* lay = h->layout;
  int64_t n = h->kind == DC_BLOCKS_SCALAR ? lay->nblocks : h->kind == DC_BLOCKS_DIAG ? lay->dim : lay->moff[lay->nblocks];
  int st;
  *B = (DcBlocks*)dc_calloc(1, sizeof(DcBlocks));
  if (!*B) return DETCGD_ERR_ALLOC;
  (*B)->kind = h->kind;
  st = layout_create(be, lay, &(*B)->lay);
  if (st == DETCGD_OK) st = upload_new(be, (void**)&(*B)->d, h->data, (size_t)n * sizeof(double), "block-diagonal matrix");
  if (st == DETCGD_OK) {
    int64_t np = (*B)->lay.L.ntiles > DC_K_RED_MAX ? (*B)->lay.L.ntiles : DC_K_RED_MAX;
    st = dev_alloc((void**)&(*B)->d_partials, (size_t)np * sizeof(double), "quadratic-form partials");
  }
  if (st != DETCGD_OK) cuda_blocks_destroy(be, B);
  return st;
}

static int cuda_bd_apply(DcBackend* be, const DcBlocks* B, const DcVec* x, double alpha, DcVec* y) {
  CU_TRY(detcgd_k_bd_apply(B->lay.L, B->kind, B->d, x->d, alpha, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_bd_apply_cols(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x, double alpha, DcVec* y) {
  CU_TRY(detcgd_k_bd_apply_cols(B->lay.L, B->kind, B->d, S->S, x->d, alpha, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_bd_apply_rows(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x, double alpha, DcVec* y) {
  CU_TRY(detcgd_k_bd_apply_rows(B->lay.L, B->kind, B->d, S->S, x->d, alpha, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_bd_quadform(DcBackend* be, const DcBlocks* B, const DcVec* x, DcVec* m, int slot) {
  CU_TRY(detcgd_k_bd_quadform(B->lay.L, B->kind, B->d, x->d, B->d_partials, m->d + slot, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

/* ==== Sketches ==== */

static void cuda_sketch_destroy(DcBackend* be, DcSketch** S) {
  DcDevSketch* d;
  (void)be;
  if (!S || !*S) return;
  d = &(*S)->S;
  dev_free((void*)d->layers); dev_free((void*)d->aux); dev_free((void*)d->cap_off); dev_free(d->idx);
  dev_free(d->scale); dev_free(d->count); dev_free((void*)d->index_bits); dev_free(d->mark); dev_free(d->tally);
  dev_free((*S)->lay.mem);
  free(*S);
  *S = NULL;
}

static int cuda_sketch_create(DcBackend* be, const DcSketchSpec* sp, DcSketch** out) {
  const DcLayout* lay = sp->layout;
  int n = lay->nblocks, i, st;
  int64_t cap = sp->cap_off[n];
  int* bits = (int*)dc_calloc((size_t)n, sizeof(int));
  DcDevSketch* d;
  *out = (DcSketch*)dc_calloc(1, sizeof(DcSketch));
  if (!*out || !bits) { free(bits); free(*out); *out = NULL; return DETCGD_ERR_ALLOC; }
  (*out)->spec = sp;
  d = &(*out)->S;
  for (i = 0; i < n; ++i) bits[i] = dc_index_bits(lay->size[i]);
  d->cap = cap;
  d->value_bits = sp->value_bits;
  d->send_indices = sp->send_indices;
  d->layer_flag_bits = sp->layer_flag_bits;
  st = layout_create(be, lay, &(*out)->lay);
  if (!st) st = upload_new(be, (void**)&d->layers, sp->layers, (size_t)n * sizeof(DcSketchLayer), "sketch layers");
  if (!st && sp->aux) st = upload_new(be, (void**)&d->aux, sp->aux, (size_t)sp->aux_len * sizeof(double), "sketch probabilities");
  if (!st) st = upload_new(be, (void**)&d->cap_off, sp->cap_off, (size_t)(n + 1) * sizeof(int64_t), "sketch offsets");
  if (!st) st = upload_new(be, (void**)&d->index_bits, bits, (size_t)n * sizeof(int), "index bits");
  if (!st) st = dev_alloc((void**)&d->idx, (size_t)cap * sizeof(int), "sketch indices");
  if (!st) st = dev_alloc((void**)&d->scale, (size_t)cap * sizeof(double), "sketch scales");
  if (!st) st = dev_alloc((void**)&d->count, (size_t)n * sizeof(int), "sketch counts");
  if (!st) st = dev_alloc((void**)&d->mark, (size_t)lay->dim, "sketch membership table");
  if (!st) st = dev_alloc((void**)&d->tally, 2 * sizeof(unsigned long long), "sketch tally");
  free(bits);
  if (!st) {
    cudaError_t e = cudaMemsetAsync(d->mark, 0, (size_t)lay->dim, ST(be)->stream);
    if (e == cudaSuccess) e = cudaMemsetAsync(d->tally, 0, 2 * sizeof(unsigned long long), ST(be)->stream);
    if (e == cudaSuccess) e = cudaMemsetAsync(d->count, 0, (size_t)n * sizeof(int), ST(be)->stream);
    if (e != cudaSuccess) st = cuda_fail(e, "cudaMemsetAsync", __FILE__, __LINE__);
  }
  if (st) cuda_sketch_destroy(be, out);
  return st;
}

static int cuda_sketch_sample(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t client) {
  CU_TRY(detcgd_k_sketch_sample(S->lay.L, S->S, seed, iter, client, ST(be)->stream));
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
  CU_TRY(detcgd_k_sketch_compress(S->lay.L, B ? B->kind : 0, B ? B->d : NULL, S->S, x->d, round32, vals->d,
                                  ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

static int cuda_sketch_accumulate(DcBackend* be, const DcSketch* S, const DcVec* vals, double alpha, DcVec* y) {
  CU_TRY(detcgd_k_sketch_accumulate(S->lay.L, S->S, vals->d, alpha, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

/* ==== Problems ==== */

static void cuda_problem_destroy(DcBackend* be, DcProbData** P) {
  DcProbData* p;
  (void)be;
  if (!P || !*P) return;
  p = *P;
  dev_free(p->d_rowptr); dev_free(p->d_colptr); dev_free(p->d_col); dev_free(p->d_row); dev_free(p->d_val);
  dev_free(p->d_cval); dev_free(p->d_label); dev_free(p->d_w); dev_free(p->d_loss); dev_free(p->d_reg);
  dev_free(p->d_A); dev_free(p->d_c); dev_free(p->d_partials); dev_free(p->lay.mem);
  free(p);
  *P = NULL;
}

/* CSR rows [rowptr[0], rowptr[n]) of h, rebased, and their CSC (rows increasing within a column). */
static int logreg_upload(DcBackend* be, const DcHostProblem* h, DcProbData* p) {
  int64_t n = h->nrows, d = h->layout->dim, base = h->rowptr[0], nnz = h->rowptr[n] - base, j, q;
  int64_t *rowptr = (int64_t*)dc_calloc((size_t)n + 1, sizeof(int64_t)), *colptr = (int64_t*)dc_calloc((size_t)d + 1, sizeof(int64_t));
  int32_t* row = (int32_t*)dc_calloc((size_t)nnz, sizeof(int32_t));
  double* cval = (double*)dc_calloc((size_t)nnz, sizeof(double));
  int64_t* fill = (int64_t*)dc_calloc((size_t)d, sizeof(int64_t));
  int st = (rowptr && colptr && row && cval && fill) ? DETCGD_OK : DETCGD_ERR_ALLOC;
  for (j = 0; st == DETCGD_OK && j <= n; ++j) rowptr[j] = h->rowptr[j] - base;
  for (q = base; st == DETCGD_OK && q < base + nnz; ++q) colptr[h->colidx[q] + 1]++;
  for (j = 0; st == DETCGD_OK && j < d; ++j) colptr[j + 1] += colptr[j];
  for (j = 0; st == DETCGD_OK && j < n; ++j)
    for (q = h->rowptr[j]; q < h->rowptr[j + 1]; ++q) {
      int64_t at = colptr[h->colidx[q]] + fill[h->colidx[q]]++;
      row[at] = (int32_t)j;
      cval[at] = h->val[q];
    }
  if (!st) st = upload_new(be, (void**)&p->d_rowptr, rowptr, (size_t)(n + 1) * sizeof(int64_t), "CSR row pointers");
  if (!st) st = upload_new(be, (void**)&p->d_col, h->colidx + base, (size_t)nnz * sizeof(int32_t), "CSR columns");
  if (!st) st = upload_new(be, (void**)&p->d_val, h->val + base, (size_t)nnz * sizeof(double), "CSR values");
  if (!st) st = upload_new(be, (void**)&p->d_label, h->label, (size_t)n * sizeof(double), "labels");
  if (!st) st = upload_new(be, (void**)&p->d_colptr, colptr, (size_t)(d + 1) * sizeof(int64_t), "CSC column pointers");
  if (!st) st = upload_new(be, (void**)&p->d_row, row, (size_t)nnz * sizeof(int32_t), "CSC rows");
  if (!st) st = upload_new(be, (void**)&p->d_cval, cval, (size_t)nnz * sizeof(double), "CSC values");
  if (!st) st = dev_alloc((void**)&p->d_w, (size_t)n * sizeof(double), "row weights");
  if (!st) st = dev_alloc((void**)&p->d_loss, (size_t)n * sizeof(double), "row losses");
  if (!st) st = dev_alloc((void**)&p->d_reg, (size_t)d * sizeof(double), "regulariser terms");
  free(rowptr); free(colptr); free(row); free(cval); free(fill);
  return st;
}

static int cuda_problem_create(DcBackend* be, const DcHostProblem* h, DcProbData** P) {
  const DcLayout* lay = h->layout;
  int st;
  *P = (DcProbData*)dc_calloc(1, sizeof(DcProbData));
  if (!*P) return DETCGD_ERR_ALLOC;
  (*P)->kind = h->kind;
  (*P)->lambda = h->lambda;
  (*P)->nrows = h->nrows;
  st = layout_create(be, lay, &(*P)->lay);
  if (!st && h->kind == DETCGD_PROBLEM_LOGREG_NC) st = logreg_upload(be, h, *P);
  if (!st && h->kind == DETCGD_PROBLEM_QUAD_NC) {
    st = upload_new(be, (void**)&(*P)->d_A, h->A, (size_t)lay->moff[lay->nblocks] * sizeof(double), "quad-nc blocks");
    if (!st) st = upload_new(be, (void**)&(*P)->d_c, h->c, (size_t)lay->dim * sizeof(double), "quad-nc centres");
    if (!st) st = dev_alloc((void**)&(*P)->d_partials, (size_t)(*P)->lay.L.ntiles * sizeof(double), "quad-nc partials");
  }
  if (st) cuda_problem_destroy(be, P);
  return st;
}

static int cuda_problem_grad(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* g, DcVec* m, int fslot) {
  CudaState* s = ST(be);
  if (P->kind == DETCGD_PROBLEM_QUAD_NC) {
    CU_TRY(detcgd_k_quad_grad(P->lay.L, P->d_A, P->d_c, x->d, P->lambda, g->d, P->d_partials, s->stream));
    if (fslot >= 0) CU_TRY(detcgd_k_sum(P->lay.L.ntiles, P->d_partials, m->d + fslot, s->stream));
    return DETCGD_OK;
  }
  CU_TRY(detcgd_k_logreg_rows(P->nrows, P->d_rowptr, P->d_col, P->d_val, P->d_label, x->d, P->d_w, P->d_loss, s->stream));
  CU_TRY(detcgd_k_logreg_cols(P->lay.L.dim, P->d_colptr, P->d_row, P->d_cval, P->d_w, x->d, P->lambda, g->d, P->d_reg,
                              s->grid_cap, s->stream));
  if (fslot < 0) return DETCGD_OK;
  /* f = (1/N) sum_j loss_j + lam sum_c reg_c */
  CU_TRY(detcgd_k_dot(P->nrows, P->d_loss, NULL, s->d_partials, s->d_scalars, s->grid_cap, s->stream));
  CU_TRY(detcgd_k_dot(P->lay.L.dim, P->d_reg, NULL, s->d_partials, s->d_scalars + 1, s->grid_cap, s->stream));
  CU_TRY(detcgd_k_combine(m->d + fslot, 1.0 / (double)P->nrows, s->d_scalars, P->lambda, s->d_scalars + 1, s->stream));
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

/* ==== Monte Carlo ==== */

static int cuda_mc_moment(DcBackend* be, const DcSketchSpec* spec, int layer, const double* A, int64_t nsamples,
                          uint64_t seed, double* mean, double* std_err) {
  const DcSketchLayer* L = &spec->layers[layer];
  int m = spec->layout->size[layer], cap = dc_sketch_layer_capacity(L), st;
  int64_t mm = (int64_t)m * m, parts = (int64_t)1 << 27;
  void *d_layer = NULL, *d_aux = NULL, *d_A = NULL, *psum = NULL, *psq = NULL, *marks = NULL, *d_mean = NULL, *d_se = NULL;
  if ((size_t)cap * (sizeof(double) + sizeof(int)) > 48 * 1024)
    return dc_fail(DETCGD_ERR_ARG, "mc_moment (cuda): a layer of width %d keeps up to %d coordinates; at most 4096 fit in shared memory", m, cap);
  parts /= (mm > 0 ? mm : 1);
  if (parts > 256) parts = 256;
  if (parts > nsamples) parts = nsamples;
  if (parts < 1) parts = 1;
  st = upload_new(be, &d_layer, L, sizeof *L, "sketch layer");
  if (!st && spec->aux) st = upload_new(be, &d_aux, spec->aux, (size_t)spec->aux_len * sizeof(double), "sketch probabilities");
  if (!st) st = upload_new(be, &d_A, A, (size_t)mm * sizeof(double), "matrix");
  if (!st) st = dev_alloc(&psum, (size_t)(parts * mm) * sizeof(double), "Monte Carlo sums");
  if (!st) st = dev_alloc(&psq, (size_t)(parts * mm) * sizeof(double), "Monte Carlo squares");
  if (!st) st = dev_alloc(&marks, (size_t)(parts * m), "membership tables");
  if (!st) st = dev_alloc(&d_mean, (size_t)mm * sizeof(double), "mean");
  if (!st) st = dev_alloc(&d_se, (size_t)mm * sizeof(double), "standard errors");
  if (!st) {
    cudaError_t e = cudaMemsetAsync(marks, 0, (size_t)(parts * m), ST(be)->stream);
    if (e == cudaSuccess)
      e = detcgd_k_mc_moment((const DcSketchLayer*)d_layer, (const double*)d_aux, (uint32_t)layer, m, cap, (const double*)d_A,
                             nsamples, seed, (int)parts, (double*)psum, (double*)psq, (unsigned char*)marks,
                             (double*)d_mean, (double*)d_se, ST(be)->stream);
    if (e != cudaSuccess) st = cuda_fail(e, "detcgd_k_mc_moment", __FILE__, __LINE__);
  }
  if (!st) st = d2h(be, mean, d_mean, (size_t)mm * sizeof(double));
  if (!st) st = d2h(be, std_err, d_se, (size_t)mm * sizeof(double));
  dev_free(d_layer); dev_free(d_aux); dev_free(d_A); dev_free(psum); dev_free(psq); dev_free(marks);
  dev_free(d_mean); dev_free(d_se);
  return st;
}

const DcBackendOps dc_backend_cuda_ops = {
  "cuda", cuda_open, cuda_close,
  cuda_vec_create, cuda_vec_destroy, cuda_vec_upload, cuda_vec_download, cuda_vec_copy,
  cuda_axpy, cuda_dot, cuda_metric_add, cuda_metric_set, cuda_vec_fill,
  cuda_blocks_create, cuda_blocks_destroy, cuda_bd_apply, cuda_bd_apply_cols, cuda_bd_apply_rows,
  cuda_bd_quadform,
  cuda_sketch_create, cuda_sketch_destroy, cuda_sketch_sample, cuda_sketch_read, cuda_sketch_load,
  cuda_sketch_tally, cuda_sketch_set_tally, cuda_sketch_compress, cuda_sketch_accumulate,
  cuda_problem_create, cuda_problem_destroy, cuda_problem_grad,
  cuda_sync, cuda_range,
  cuda_mc_moment
};
