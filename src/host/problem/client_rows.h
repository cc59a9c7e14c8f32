/*
 * client_rows.h -- logreg-nc rows of n clients laid out for a device: concatenated in
 * client order as CSR and as CSC (rows increasing within a column), and the CSC's
 * (client, column) segments cut into pieces.  Host code of the CUDA backend, kept
 * apart so that the CPU tests check it.
 */
#ifndef DETCGD_CLIENT_ROWS_H
#define DETCGD_CLIENT_ROWS_H

#include "backend.h"

typedef struct DcClientRows {
  int64_t dim, nrows, nnz;
  int64_t *row_off;            /* n + 1: client c owns rows [row_off[c], row_off[c+1]) */
  int64_t *rowptr, *colptr;    /* CSR (nrows + 1), CSC (dim + 1; NULL until dc_client_rows_add_csc) */
  int32_t *col, *row;          /* CSR columns, CSC rows */
  double *val, *cval, *label;  /* CSR and CSC values, labels */
} DcClientRows;

/* The CSR of n clients' rows; the CSC only with dc_client_rows_add_csc. */
int dc_client_rows_build(int n, const DcHostProblem* hosts, DcClientRows* H, int64_t* nrows, int64_t* nnz);
int dc_client_rows_add_csc(DcClientRows* H);
void dc_client_rows_free(DcClientRows* H);

/* The nonempty (client c, column i) segments of the CSC, client-major and columns increasing:
 * client c's are [seg_off[c], seg_off[c+1]); segment s is output t[s] = c dim + i and CSC entries
 * [lo[s], hi[s]), cut into ceil((hi - lo) / piece) pieces [piece_off[s], piece_off[s+1]). */
typedef struct DcSegments { int64_t nsegs, *seg_off, *t, *lo, *hi, *piece_off; } DcSegments;

int dc_segments_build(int n, int64_t dim, const DcClientRows* H, int piece, DcSegments* S);
void dc_segments_free(DcSegments* S);

#endif /* DETCGD_CLIENT_ROWS_H */
