/*
 * trace.h -- the CSV trace (flushed row by row) and the JSON summary.
 */
#ifndef DETCGD_TRACE_H
#define DETCGD_TRACE_H

#include <stdio.h>
#include "detcgd.h"
#include "method.h"

#define DC_TRACE_EXTRA (DC_METHOD_METRICS + 1) /* the columns after the common ones: the method's, then dist2 */

typedef struct DcTraceRow {
  int64_t iter;          /* k */
  double f;              /* f(x^k) */
  double grad_norm2;     /* ||grad f(x^k)||^2 */
  double grad_norm2_d;   /* ||grad f(x^k)||^2_{D / det(D)^{1/d}} */
  double g_kd;           /* (1/(k+1)) sum_{j<=k} ||grad f(x^j)||^2_{D/det(D)^{1/d}} */
  double grad_norm1;     /* ||grad f(x^k)||_1 */
  int64_t coords;        /* coordinates sent to reach x^k */
  int64_t bits_up;
  int64_t bits_down;
  int64_t samples;       /* sample gradients the messages read to reach x^k (DetcgdResult.samples) */
  double grad_density;   /* phi(g) = ||g||_1^2 / (d ||g||_2^2) of g = grad f(x^k) (NaN at g = 0) */
  double sign_advantage; /* phi(g) d L_2 / L_inf: sign descent's per-step guarantee over GD's (NaN: no geometry) */
  double method[DC_TRACE_EXTRA]; /* the extra columns: the method's own (DcMethodType.trace_columns), then (optimum
                                  * solve) dist2 = ||x^k - x*||^2 */
  double time;           /* seconds since the loop started */
} DcTraceRow;

#define DC_TRACE_COMMON 12 /* iter .. sign_advantage */
#define DC_TRACE_COLUMNS (DC_TRACE_COMMON + DC_TRACE_EXTRA + 1)

/* The rows of a run in memory (the public detcgd_trace_rows) and the caller's per-row callback. */
typedef struct DcTraceRows {
  const char* names[DC_TRACE_COLUMNS]; /* borrowed: static names and the method's */
  int ncols;
  double* data;                        /* owns: nrows * ncols, row-major */
  int64_t nrows, cap;
  DetcgdTraceFn fn;
  void* user;
} DcTraceRows;

/* The columns (the common ones, extra, time_s) with no rows yet. */
void dc_trace_rows_name(DcTraceRows* rows, const char* const* extra);

typedef struct DcTrace {
  FILE* f;                      /* owns */
  const char* path;             /* borrowed */
  const char* const* extra;     /* borrowed: the method's column names (NULL: none) */
  int nextra;
  DcTraceRows* rows;            /* borrowed: where the rows are kept (NULL: nowhere) */
} DcTrace;

/* Creates the trace with its header: the common columns, the method's own (extra, NULL-terminated; NULL: none),
 * time_s; rows (if not NULL) starts empty and keeps every row written. */
int dc_trace_open(DcTrace* t, const char* path, const char* const* extra, DcTraceRows* rows);
/* Opens for appending (a resumed run); writes the header if the file is new. */
int dc_trace_open_append(DcTrace* t, const char* path, const char* const* extra, DcTraceRows* rows);
int dc_trace_write(DcTrace* t, const DcTraceRow* r);
void dc_trace_close(DcTrace* t);

#define DC_SUMMARY_FACTS 16

/* Context of a run for the summary. */
typedef struct DcSummaryInfo {
  const DetcgdSettings* settings;
  const DetcgdProblemSpec* problem;
  const DetcgdProblemInfo* pinfo;
  const DetcgdResult* result;
  const char* f_inf_source;   /* "given", "GD estimate" */
  const DetcgdOptimumInfo* optimum; /* optimum solve (NULL: none) */
  double time_optimum;
  int64_t f_inf_gd_iters;
  double f_inf_gd_grad_norm2;
  double certified_bound;     /* Theorem 1 with the certified lower bound f^inf >= 0 */
  const char* d_storage;      /* scalar / diagonal / dense */
  int sparse_steps;           /* 1 when the gradient followed the steps (settings sparse_steps and a run that allows it) */
  const DetcgdGeometry* geometry; /* the problem's l-inf geometry (NULL: not taken) */
  struct DcMethodFact facts[DC_SUMMARY_FACTS]; /* what the method reports of itself (its step, ...) */
  int nfacts;
  /* distributed runs (dist == NULL otherwise) */
  const struct DcDistTheory* dist;
  int nranks;
  double fc_inf_mean;
} DcSummaryInfo;

/* The summary JSON (malloc'ed, ends in a newline; NULL: out of memory), and that text written to path ("" = none). */
char* dc_summary_text(const DcSummaryInfo* s);
int dc_summary_write(const char* path, const char* text);

#endif /* DETCGD_TRACE_H */
