/*
 * client_rows.c -- CSR, CSC and CSC segments of n clients' logreg-nc rows (client_rows.h).
 */
#include <stdlib.h>
#include <string.h>
#include "client_rows.h"
#include "internal.h"

/* ==== CSR and CSC ==== */

void dc_client_rows_free(DcClientRows* h) {
  free(h->row_off); free(h->rowptr); free(h->colptr); free(h->col); free(h->row);
  free(h->val); free(h->cval); free(h->label);
}

int dc_client_rows_build(int n, const DcHostProblem* hosts, DcClientRows* H, int64_t* nrows, int64_t* nnz) {
  int64_t d = hosts[0].layout->dim, j, q, r = 0, e = 0;
  int c;
  memset(H, 0, sizeof *H);
  *nrows = *nnz = 0;
  for (c = 0; c < n; ++c) {
    *nrows += hosts[c].nrows;
    *nnz += hosts[c].rowptr[hosts[c].nrows] - hosts[c].rowptr[0];
  }
  H->dim = d;
  H->nrows = *nrows;
  H->nnz = *nnz;
  H->row_off = (int64_t*)dc_calloc((size_t)n + 1, sizeof(int64_t));
  H->rowptr = (int64_t*)dc_calloc((size_t)*nrows + 1, sizeof(int64_t));
  H->col = (int32_t*)dc_calloc((size_t)*nnz + 1, sizeof(int32_t));
  H->val = (double*)dc_calloc((size_t)*nnz + 1, sizeof(double));
  H->label = (double*)dc_calloc((size_t)*nrows + 1, sizeof(double));
  if (!H->row_off || !H->rowptr || !H->col || !H->val || !H->label) {
    dc_client_rows_free(H);
    return DETCGD_ERR_ALLOC;
  }
  for (c = 0; c < n; ++c) { /* CSR: rows of client c after those of 0..c-1 */
    const DcHostProblem* h = &hosts[c];
    for (j = 0; j < h->nrows; ++j, ++r) {
      for (q = h->rowptr[j]; q < h->rowptr[j + 1]; ++q, ++e) {
        H->col[e] = h->colidx[q];
        H->val[e] = h->val[q];
      }
      H->rowptr[r + 1] = e;
      H->label[r] = h->label[j];
    }
    H->row_off[c + 1] = r;
  }
  return DETCGD_OK;
}

int dc_client_rows_add_csc(DcClientRows* H) {
  int64_t d = H->dim, j, q, *fill = (int64_t*)dc_calloc((size_t)d + 1, sizeof(int64_t));
  H->colptr = (int64_t*)dc_calloc((size_t)d + 1, sizeof(int64_t));
  H->row = (int32_t*)dc_calloc((size_t)H->nnz + 1, sizeof(int32_t));
  H->cval = (double*)dc_calloc((size_t)H->nnz + 1, sizeof(double));
  if (!fill || !H->colptr || !H->row || !H->cval) { free(fill); return DETCGD_ERR_ALLOC; }
  for (q = 0; q < H->nnz; ++q) H->colptr[H->col[q] + 1]++;
  for (j = 0; j < d; ++j) H->colptr[j + 1] += H->colptr[j];
  for (j = 0; j < H->nrows; ++j) /* a counting sort over rows in increasing order */
    for (q = H->rowptr[j]; q < H->rowptr[j + 1]; ++q) {
      int64_t at = H->colptr[H->col[q]] + fill[H->col[q]]++;
      H->row[at] = (int32_t)j;
      H->cval[at] = H->val[q];
    }
  free(fill);
  return DETCGD_OK;
}

/* ==== Segments: O(nnz), each column (rows increasing) walked once to count, once to fill ==== */

void dc_segments_free(DcSegments* S) {
  free(S->seg_off); free(S->t); free(S->lo); free(S->hi); free(S->piece_off);
}

/* Client owning row r: row_off[c] <= r < row_off[c+1]. */
static int client_of_row(const int64_t* row_off, int n, int64_t r) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (row_off[mid] <= r) lo = mid; else hi = mid - 1;
  }
  return lo;
}

int dc_segments_build(int n, int64_t d, const DcClientRows* H, int piece, DcSegments* S) {
  int64_t i, p, q, k, *cursor = (int64_t*)dc_calloc((size_t)n + 1, sizeof(int64_t));
  int pass, c;
  memset(S, 0, sizeof *S);
  S->seg_off = (int64_t*)dc_calloc((size_t)n + 1, sizeof(int64_t));
  if (!cursor || !S->seg_off) { free(cursor); dc_segments_free(S); return DETCGD_ERR_ALLOC; }
  for (pass = 0; pass < 2; ++pass) {
    for (i = 0; i < d; ++i)
      for (p = H->colptr[i]; p < H->colptr[i + 1]; p = q) {
        c = client_of_row(H->row_off, n, H->row[p]);
        for (q = p; q < H->colptr[i + 1] && H->row[q] < H->row_off[c + 1]; ++q) {}
        if (pass == 0) { S->seg_off[c + 1]++; continue; }
        k = cursor[c]++;
        S->t[k] = (int64_t)c * d + i;
        S->lo[k] = p;
        S->hi[k] = q;
      }
    if (pass == 1) break;
    for (c = 0; c < n; ++c) S->seg_off[c + 1] += S->seg_off[c];
    memcpy(cursor, S->seg_off, (size_t)(n + 1) * sizeof(int64_t));
    S->nsegs = S->seg_off[n];
    S->t = (int64_t*)dc_calloc((size_t)S->nsegs + 1, sizeof(int64_t));
    S->lo = (int64_t*)dc_calloc((size_t)S->nsegs + 1, sizeof(int64_t));
    S->hi = (int64_t*)dc_calloc((size_t)S->nsegs + 1, sizeof(int64_t));
    S->piece_off = (int64_t*)dc_calloc((size_t)S->nsegs + 1, sizeof(int64_t));
    if (!S->t || !S->lo || !S->hi || !S->piece_off) { free(cursor); dc_segments_free(S); return DETCGD_ERR_ALLOC; }
  }
  for (k = 0; k < S->nsegs; ++k) S->piece_off[k + 1] = S->piece_off[k] + (S->hi[k] - S->lo[k] + piece - 1) / piece;
  free(cursor);
  return DETCGD_OK;
}
