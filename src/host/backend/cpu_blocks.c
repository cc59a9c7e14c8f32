/*
 * cpu_blocks.c -- the CPU backend's block-diagonal matrices B = Diag(B_1..B_l): storage (scalar, diagonal,
 * dense in double or float) and the products B x, B S x (kept columns), T B x (kept rows), x^T B x.
 */
#include <stdlib.h>
#include <string.h>
#include "backend_cpu.h"

/* ==== Block-diagonal matrices ==== */

void cpu_blocks_destroy(DcBackend* be, DcBlocks** B) {
  (void)be;
  if (!B || !*B) return;
  dc_blocks_free(&(*B)->h);
  free((*B)->f32);
  free(*B);
  *B = NULL;
}

int cpu_blocks_create(DcBackend* be, const DcHostBlocks* h, DcBlocks** B) {
  *B = (DcBlocks*)dc_calloc(1, sizeof(DcBlocks));
  if (!*B) return DETCGD_ERR_ALLOC;
  (*B)->h = *h;
  (*B)->h.data = NULL;
  if (h->store32 && h->kind == DC_BLOCKS_DENSE) {
    if (!((*B)->f32 = dc_blocks_to_float(h))) goto fail;
    return DETCGD_OK;
  }
  if (dc_blocks_alloc(&(*B)->h, h->layout, h->kind) != DETCGD_OK) goto fail;
  (*B)->h.store32 = h->store32;
  memcpy((*B)->h.data, h->data, (size_t)dc_blocks_count(h) * sizeof(double));
  return DETCGD_OK;
fail:
  cpu_blocks_destroy(be, B);
  return DETCGD_ERR_ALLOC;
}

/* y[0..m) += col v for column `off` (entry offset) of a dense matrix, in its stored precision;
 * a float entry is exact in double, so both storages give the same bits for the same values. */
static void col_axpy(const DcBlocks* B, int64_t off, int m, double v, double* y) {
  int r;
  if (B->f32) {
    const float* col = B->f32 + off;
    for (r = 0; r < m; ++r) y[r] += (double)col[r] * v;
  } else {
    const double* col = B->h.data + off;
    for (r = 0; r < m; ++r) y[r] += col[r] * v;
  }
}

/* sum_r col_r x_r, in order, for column `off` of a dense matrix */
/* sum_r B[off + r] (x_r - h_r) */
double cpu_col_dot_shifted(const DcBlocks* B, int64_t off, int m, const double* x, const double* h) {
  double s = 0.0;
  int r;
  if (B->f32) {
    const float* col = B->f32 + off;
    for (r = 0; r < m; ++r) s += (double)col[r] * (x[r] - h[r]);
  } else {
    const double* col = B->h.data + off;
    for (r = 0; r < m; ++r) s += col[r] * (x[r] - h[r]);
  }
  return s;
}

double cpu_col_dot(const DcBlocks* B, int64_t off, int m, const double* x) {
  double s = 0.0;
  int r;
  if (B->f32) {
    const float* col = B->f32 + off;
    for (r = 0; r < m; ++r) s += (double)col[r] * x[r];
  } else {
    const double* col = B->h.data + off;
    for (r = 0; r < m; ++r) s += col[r] * x[r];
  }
  return s;
}

/* Entry (r, c) of block i, any storage kind. */
double cpu_block_entry(const DcHostBlocks* B, int i, int r, int c) {
  const DcLayout* lay = B->layout;
  if (B->kind == DC_BLOCKS_SCALAR) return r == c ? B->data[i] : 0.0;
  if (B->kind == DC_BLOCKS_DIAG) return r == c ? B->data[lay->voff[i] + r] : 0.0;
  return B->data[lay->moff[i] + r + (int64_t)c * lay->size[i]];
}

/* y_i += alpha B_i x_i (column by column) */
static int apply_full(const DcBlocks* B, const DcVec* x, double alpha, DcVec* y) {
  const DcLayout* lay = B->h.layout;
  int i, r, c;
  for (i = 0; i < lay->nblocks; ++i) {
    const double* xi = x->data + lay->voff[i];
    double* yi = y->data + lay->voff[i];
    int m = lay->size[i];
    if (B->h.kind != DC_BLOCKS_DENSE) {
      for (r = 0; r < m; ++r) yi[r] += alpha * cpu_block_entry(&B->h, i, r, r) * xi[r];
      continue;
    }
    for (c = 0; c < m; ++c) col_axpy(B, lay->moff[i] + (int64_t)c * m, m, alpha * xi[c], yi);
  }
  return DETCGD_OK;
}

/* y_i += alpha B_i S_i x_i: only the kept columns c of B_i, scaled by s_c x_c */
static int apply_cols(const DcBlocks* B, const DcSketch* S, const DcVec* x, double alpha, DcVec* y) {
  const DcLayout* lay = B->h.layout;
  int i, t;
  for (i = 0; i < lay->nblocks; ++i) {
    const int* idx = S->idx + S->spec->cap_off[i];
    const double* sc = S->scale + S->spec->cap_off[i];
    const double* xi = x->data + lay->voff[i];
    double* yi = y->data + lay->voff[i];
    int m = lay->size[i];
    for (t = 0; t < S->count[i]; ++t) {
      int c = idx[t];
      double v = alpha * sc[t] * xi[c];
      if (B->h.kind != DC_BLOCKS_DENSE) {
        yi[c] += cpu_block_entry(&B->h, i, c, c) * v;
        continue;
      }
      col_axpy(B, lay->moff[i] + (int64_t)c * m, m, v, yi);
    }
  }
  return DETCGD_OK;
}

/* y_i += alpha T_i B_i x_i: only the kept rows r; row r of a symmetric B_i is its column r */
static int apply_rows(const DcBlocks* B, const DcSketch* T, const DcVec* x, double alpha, DcVec* y) {
  const DcLayout* lay = B->h.layout;
  int i, t;
  for (i = 0; i < lay->nblocks; ++i) {
    const int* idx = T->idx + T->spec->cap_off[i];
    const double* sc = T->scale + T->spec->cap_off[i];
    const double* xi = x->data + lay->voff[i];
    double* yi = y->data + lay->voff[i];
    int m = lay->size[i];
    for (t = 0; t < T->count[i]; ++t) {
      int r = idx[t];
      double s = B->h.kind != DC_BLOCKS_DENSE ? cpu_block_entry(&B->h, i, r, r) * xi[r]
                                              : cpu_col_dot(B, lay->moff[i] + (int64_t)r * m, m, xi);
      yi[r] += alpha * sc[t] * s;
    }
  }
  return DETCGD_OK;
}

/* m[slot] = sum_i x_i^T B_i x_i */
int cpu_bd_apply(DcBackend* be, const DcBlocks* B, int sel, const DcSketch* S, const DcVec* x, double alpha, DcVec* y) {
  (void)be;
  if (sel == DC_SEL_COLS) return apply_cols(B, S, x, alpha, y);
  return sel == DC_SEL_ROWS ? apply_rows(B, S, x, alpha, y) : apply_full(B, x, alpha, y);
}

int cpu_bd_quadform(DcBackend* be, const DcBlocks* B, const DcVec* x, DcVec* m, int slot, int sum_slot) {
  const DcLayout* lay = B->h.layout;
  double total = 0.0;
  int i, r, c;
  (void)be;
  for (i = 0; i < lay->nblocks; ++i) {
    const double* xi = x->data + lay->voff[i];
    int w = lay->size[i];
    if (B->h.kind != DC_BLOCKS_DENSE) {
      for (r = 0; r < w; ++r) total += cpu_block_entry(&B->h, i, r, r) * xi[r] * xi[r];
      continue;
    }
    for (c = 0; c < w; ++c) total += xi[c] * cpu_col_dot(B, lay->moff[i] + (int64_t)c * w, w, xi);
  }
  m->data[slot] = total;
  if (sum_slot >= 0) m->data[sum_slot] += total;
  return DETCGD_OK;
}
