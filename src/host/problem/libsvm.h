/*
 * libsvm.h -- LIBSVM/SVMlight reader: "label idx:val idx:val ..." per line,
 * 1-based increasing indices.  Takes CRLF, "+1", labels {0,1}/{1,2}/{-1,+1}
 * (the larger label maps to +1), rows with no features, trailing blanks,
 * blank lines, "# comments" and a missing final newline.  Anything else is
 * rejected with "file:line: what is wrong".
 */
#ifndef DETCGD_LIBSVM_H
#define DETCGD_LIBSVM_H

#include <stddef.h>
#include <stdint.h>
#include "detcgd.h"

typedef struct DcLibsvm {
  int64_t nrows;
  int64_t nnz;
  int max_index;      /* largest 1-based feature index seen (0 if none) */
  int64_t* rowptr;    /* owns: nrows + 1 */
  int32_t* colidx;    /* owns: 0-based column of each entry */
  double* val;        /* owns */
  double* label;      /* owns: mapped to -1 / +1 */
  double raw_label[2];/* the file's labels mapped to -1 and +1 */
} DcLibsvm;

int dc_libsvm_parse(const char* buf, size_t len, const char* name, DcLibsvm* out);
int dc_libsvm_read(const char* path, DcLibsvm* out);
void dc_libsvm_free(DcLibsvm* d);
/* The caller's rows (detcgd.h's DetcgdData: CSR or dense row-major), copied and checked like a file's: columns in
 * range and increasing within a row, finite values, at most two labels (the larger maps to +1); a dense row keeps its
 * nonzeros only. Messages name the row and column (0-based). */
int dc_libsvm_from_arrays(const DetcgdData* a, DcLibsvm* out);

/* N rows of d columns from a planted logistic model, each entry kept with probability rho
 * (synthetic.c); labels -1 / +1. */
int dc_synthetic_logistic(int64_t N, int64_t d, double rho, uint64_t seed, DcLibsvm* out);
/* Coordinate k of the planted model x* ~ N(0, I / (rho d)) of those rows. */
double dc_synthetic_plant(uint64_t seed, int64_t d, double rho, int64_t k);

#endif /* DETCGD_LIBSVM_H */
