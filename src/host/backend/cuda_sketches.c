/*
 * cuda_sketches.c -- the CUDA backend's sketches: draws on the device (one or a chunk of rows), tallies,
 * messages, and the Monte Carlo second moments of every layer in one launch.
 */
#include <stdlib.h>
#include "backend_cuda.h"

/* ==== Sketches ==== */

void cuda_sketch_destroy(DcBackend* be, DcSketch** S) {
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
int cuda_sketch_create(DcBackend* be, const DcSketchSpec* sp, int rows, DcSketch** out) {
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

int cuda_sketch_sample(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t client) {
  CudaState* s = ST(be);
  CU_TRY(detcgd_k_sketch_sample(S->lay.L, S->S, seed, iter, s->capturing ? s->d_iter : NULL, client, 1, s->stream));
  return DETCGD_OK;
}

int cuda_sketch_read(DcBackend* be, const DcSketch* S, DcSketchDraw* out) {
  int n = S->spec->layout->nblocks, st;
  if ((st = d2h(be, out->idx, S->S.idx, (size_t)S->S.cap * sizeof(int)))) return st;
  if ((st = d2h(be, out->scale, S->S.scale, (size_t)S->S.cap * sizeof(double)))) return st;
  return d2h(be, out->count, S->S.count, (size_t)n * sizeof(int));
}

int cuda_sketch_load(DcBackend* be, DcSketch* S, const DcSketchDraw* in) {
  int n = S->spec->layout->nblocks, st;
  if ((st = h2d(be, S->S.idx, in->idx, (size_t)S->S.cap * sizeof(int)))) return st;
  if ((st = h2d(be, S->S.scale, in->scale, (size_t)S->S.cap * sizeof(double)))) return st;
  if ((st = h2d(be, S->S.count, in->count, (size_t)n * sizeof(int)))) return st;
  CU_TRY(detcgd_k_sketch_tally(S->lay.L, S->S, ST(be)->stream));
  return DETCGD_OK;
}

int cuda_sketch_tally(DcBackend* be, const DcSketch* S, int64_t* coords, int64_t* bits) {
  unsigned long long t[2];
  int st = d2h(be, t, S->S.tally, sizeof t);
  *coords = (int64_t)t[0];
  *bits = (int64_t)t[1];
  return st;
}

int cuda_sketch_set_tally(DcBackend* be, DcSketch* S, int64_t coords, int64_t bits) {
  unsigned long long t[2];
  t[0] = (unsigned long long)coords;
  t[1] = (unsigned long long)bits;
  return h2d(be, S->S.tally, t, sizeof t);
}

int cuda_sketch_compress(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x, int round32, DcVec* vals) {
  CU_TRY(detcgd_k_sketch_compress(S->lay.L, dev_blocks(B), S->S, x->d, NULL, 1, round32, 0, vals->d,
                                  ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

int cuda_sketch_accumulate(DcBackend* be, const DcSketch* S, const DcVec* vals, double alpha, DcVec* y) {
  CU_TRY(detcgd_k_sketch_accumulate(S->lay.L, S->S, vals->d, alpha, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

int cuda_sketch_sample_rows(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t c0, int nc) {
  CudaState* s = ST(be);
  CU_TRY(detcgd_k_sketch_sample(S->lay.L, S->S, seed, iter, s->capturing ? s->d_iter : NULL, c0, nc, s->stream));
  return DETCGD_OK;
}

/* message rows scattered: row r is dim values, zero but at its kept coordinates, so that summing the rows
 * column by column (y_j + 0.0 leaves y_j as it is) gives the bits of accumulating the kept values row by row */
int64_t cuda_message_row_len(const DcBackend* be, const DcSketchSpec* spec) {
  (void)be;
  return spec->layout->dim;
}

int cuda_sketch_compress_rows(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* X, const DcVec* H,
                              int nc, int round32, DcVec* M) {
  CudaState* s = ST(be);
  CU_TRY(cudaMemsetAsync(M->d, 0, (size_t)(nc * S->spec->layout->dim) * sizeof(double), s->stream));
  CU_TRY(detcgd_k_sketch_compress(S->lay.L, dev_blocks(B), S->S, X->d, H ? H->d : NULL, nc, round32, 1, M->d,
                                  s->grid_cap, s->stream));
  return DETCGD_OK;
}

/* summed: column sums of the scattered rows; per row: the rows themselves added (a fill first when fresh) */
int cuda_sketch_accumulate_rows(DcBackend* be, const DcSketch* S, const DcVec* M, int nc, double alpha, int fresh,
                                int per_row, DcVec* y) {
  CudaState* s = ST(be);
  int64_t n = nc * S->spec->layout->dim;
  if (!per_row) {
    CU_TRY(detcgd_k_colsum(S->spec->layout->dim, nc, M->d, alpha, fresh, y->d, s->grid_cap, s->stream));
    return DETCGD_OK;
  }
  if (fresh) CU_TRY(detcgd_k_fill(y->d, n, 0.0, s->grid_cap, s->stream));
  CU_TRY(detcgd_k_axpy(n, alpha, M->d, y->d, s->grid_cap, s->stream));
  return DETCGD_OK;
}

/* ==== Compressors of the values: one block per layer and client row ==== */

int cuda_compress_values_rows(DcBackend* be, DcSketch* S, const DcVec* X, const DcVec* H, int64_t hoff, int nc,
                              uint64_t seed, uint32_t iter, uint32_t c0, int round32, DcVec* Y) {
  CudaState* s = ST(be);
  CU_TRY(detcgd_k_compress_values(S->lay.L, S->S, X->d, H ? H->d + hoff : NULL, nc, seed, iter,
                                  s->capturing ? s->d_iter : NULL, c0, round32, Y->d, s->stream));
  return DETCGD_OK;
}

/* ==== Monte Carlo: every layer in one launch ==== */

int cuda_mc_moments(DcBackend* be, const DcSketchSpec* spec, const double* A, int64_t nsamples, uint64_t seed,
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
