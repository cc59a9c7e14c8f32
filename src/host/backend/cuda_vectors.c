/*
 * cuda_vectors.c -- the CUDA backend's vectors (fills, axpy, dot, ordered sums of rows) and block-diagonal
 * matrices (products with all, kept columns, kept rows; quadratic forms).
 */
#include "backend_cuda.h"

/* ==== Vectors ==== */

int cuda_vec_create(DcBackend* be, int64_t n, DcVec** v) {
  int st;
  *v = (DcVec*)dc_calloc(1, sizeof(DcVec));
  if (!*v) return DETCGD_ERR_ALLOC;
  (*v)->n = n;
  if ((st = dev_alloc(be, (void**)&(*v)->d, (size_t)n * sizeof(double), "vector"))) { free(*v); *v = NULL; return st; }
  CU_TRY(cudaMemsetAsync((*v)->d, 0, (size_t)n * sizeof(double), ST(be)->stream));
  return DETCGD_OK;
}

void cuda_vec_destroy(DcBackend* be, DcVec** v) {
  if (!v || !*v) return;
  if (!(*v)->view) dev_free(be, (*v)->d);
  free(*v);
  *v = NULL;
}

int cuda_vec_view(DcBackend* be, const DcVec* v, int64_t off, int64_t n, DcVec** view) {
  (void)be;
  int st = dc_vec_view_check(off, n, v->n);
  if (st != DETCGD_OK) return st;
  if (!*view && !(*view = (DcVec*)dc_calloc(1, sizeof(DcVec)))) return DETCGD_ERR_ALLOC;
  (*view)->n = n;
  (*view)->d = v->d + off;
  (*view)->view = 1;
  return DETCGD_OK;
}

int cuda_vec_upload(DcBackend* be, DcVec* v, const double* h) { return h2d(be, v->d, h, (size_t)v->n * sizeof(double)); }
int cuda_vec_download(DcBackend* be, const DcVec* v, double* h) { return d2h(be, h, v->d, (size_t)v->n * sizeof(double)); }

int cuda_vec_copy(DcBackend* be, DcVec* dst, const DcVec* src) {
  CU_TRY(cudaMemcpyAsync(dst->d, src->d, (size_t)src->n * sizeof(double), cudaMemcpyDeviceToDevice, ST(be)->stream));
  return DETCGD_OK;
}

int cuda_vec_fill(DcBackend* be, DcVec* v, double a) {
  CU_TRY(detcgd_k_fill(v->d, v->n, a, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

/* one value per row (a chunk's losses) summed left to right, otherwise column by column */
int cuda_rows_sum(DcBackend* be, const DcVec* R, int nr, int64_t n, double alpha, int fresh, DcVec* y,
                         int64_t yoff) {
  CudaState* s = ST(be);
  if (n == 1 && alpha == 1.0) CU_TRY(detcgd_k_sum_seq(nr, R->d, y->d + yoff, !fresh, s->stream));
  else CU_TRY(detcgd_k_colsum(n, nr, R->d, alpha, fresh, y->d + yoff, s->grid_cap, s->stream));
  return DETCGD_OK;
}

int cuda_axpy(DcBackend* be, double a, const DcVec* x, DcVec* y) {
  CU_TRY(detcgd_k_axpy(x->n, a, x->d, y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

int cuda_dot(DcBackend* be, const DcVec* x, const DcVec* y, DcVec* m, int slot) {
  CU_TRY(detcgd_k_dot(x->n, x->d, y->d, ST(be)->d_partials, m->d + slot, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

int cuda_metric_set(DcBackend* be, DcVec* m, int slot, double v) {
  CU_TRY(detcgd_k_metric_set(m->d, slot, v, ST(be)->stream));
  return DETCGD_OK;
}

static DcDevScalar dev_scalar(DcScalar s) {
  DcDevScalar d;
  d.c = s.c;
  d.v = s.m ? s.m->d + s.slot : NULL;
  d.power = s.power;
  return d;
}

int cuda_axpby(DcBackend* be, DcScalar a, const DcVec* x, DcScalar b, DcVec* y) {
  CU_TRY(detcgd_k_axpby(y->n, dev_scalar(a), x->d, dev_scalar(b), y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

int cuda_vec_map(DcBackend* be, int map, const DcVec* x, DcScalar t, DcVec* y) {
  CU_TRY(detcgd_k_map(y->n, map, x->d, dev_scalar(t), y->d, ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}

/* ==== Block-diagonal matrices ==== */

void cuda_blocks_destroy(DcBackend* be, DcBlocks** B) {
  if (!B || !*B) return;
  dev_free(be, (void*)(*B)->B.data);
  dev_free(be, (*B)->lay.mem);
  free(*B);
  *B = NULL;
}

/* Uploads n block entries of the given kind: as float when DENSE and store32 (they are floats already),
 * else as double. */
int blocks_upload(DcBackend* be, const double* h, int64_t n, int kind, int store32, DcDevBlocks* B,
                         const char* what) {
  void* d = NULL;
  int st;
  B->kind = kind;
  B->f32 = store32 && kind == DC_BLOCKS_DENSE;
  st = B->f32 ? upload_float_new(be, &d, h, n, what) : upload_new(be, &d, h, (size_t)n * sizeof(double), what);
  B->data = d;
  return st;
}

int cuda_blocks_create(DcBackend* be, const DcHostBlocks* h, DcBlocks** B) {
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
DcDevBlocks dev_blocks(const DcBlocks* B) {
  DcDevBlocks none = {0, 0, NULL};
  return B ? B->B : none;
}

int cuda_bd_apply(DcBackend* be, const DcBlocks* B, int sel, const DcSketch* S, const DcVec* x, double alpha, DcVec* y) {
  CudaState* s = ST(be);
  if (sel == DC_SEL_COLS) CU_TRY(detcgd_k_bd_apply_cols(B->lay.L, B->B, S->S, x->d, alpha, y->d, s->grid_cap, s->stream));
  else if (sel == DC_SEL_ROWS) CU_TRY(detcgd_k_bd_apply_rows(B->lay.L, B->B, S->S, x->d, alpha, y->d, s->grid_cap, s->stream));
  else CU_TRY(detcgd_k_bd_apply(B->lay.L, B->B, x->d, alpha, y->d, s->grid_cap, s->stream));
  return DETCGD_OK;
}

int cuda_bd_quadform(DcBackend* be, const DcBlocks* B, const DcVec* x, DcVec* m, int slot, int sum_slot) {
  CU_TRY(detcgd_k_bd_quadform(B->lay.L, B->B, x->d, ST(be)->d_partials, m->d + slot, sum_slot >= 0 ? m->d + sum_slot : NULL,
                              ST(be)->grid_cap, ST(be)->stream));
  return DETCGD_OK;
}
