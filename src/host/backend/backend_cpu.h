/*
 * backend_cpu.h -- the CPU backend's types and the ops its files share (private to backend/).
 */
#ifndef DETCGD_BACKEND_CPU_H
#define DETCGD_BACKEND_CPU_H

#include "backend.h"

struct DcVec { int64_t n; double* data; /* owns unless view */ int view; };
struct DcBlocks {
  DcHostBlocks h; /* owns h.data (NULL when f32 holds the dense blocks) */
  float* f32;     /* owns: DENSE blocks stored as float (store32) */
};
struct DcSketch {
  const DcSketchSpec* spec; /* borrowed */
  int rows;                 /* draws it holds; the arrays below are row after row, row 0 the current draw */
  int* idx;                 /* owns: cap_off[l] kept local indices per row */
  double* scale;            /* owns: cap_off[l] scales per row */
  int* count;               /* owns: kept per layer, l per row */
  int* index_bits;          /* owns: ceil(log2 d_i) per layer */
  unsigned char* mark;      /* owns: membership table for Floyd (max d_i) */
  double* layer;            /* owns: one layer's values for compress_values_rows (max d_i) */
  int64_t tally_coords, tally_bits;
};
struct DcProbData {
  DcHostProblem h; /* arrays borrowed from the DetcgdProblem */
  /* logreg-nc from DC_BY_COLUMNS_FROM nonzeros on (else NULL): the rows by columns, each column's entries in row
   * order (CSC), and the margins and weights of the rows (2 nrows, written by problem_grad) */
  int64_t* colptr;  /* owns: dim + 1 */
  int32_t* rowidx;  /* owns */
  double* colval;   /* owns */
  double* margins;  /* owns */
  int unit_values;  /* every value is 1 (binary features): the passes read no values */
};
/* The CPU backend's state (be->state): problem_grad_many's scratch, kept between calls. */
typedef struct DcCpuState {
  double* runs_xg; /* owns: the runs' x and gradients interleaved */
  int64_t runs_xg_cap;
  int* runs_pass;  /* owns: the passes' first runs and widths */
  int runs_pass_cap;
  double* runs_zw; /* owns: a pass's margins and weights by columns */
  int64_t runs_zw_cap;
} DcCpuState;
struct DcClients {
  int n, chunk;
  const DcHostProblem* hosts; /* borrowed: n */
};


/* ---- backend_cpu.c ---- */
int cpu_vec_fill(DcBackend* be, DcVec* v, double a);

/* ---- cpu_blocks.c ---- */
void cpu_blocks_destroy(DcBackend* be, DcBlocks** B);
int cpu_blocks_create(DcBackend* be, const DcHostBlocks* h, DcBlocks** B);
double cpu_col_dot(const DcBlocks* B, int64_t off, int m, const double* x);
double cpu_col_dot_shifted(const DcBlocks* B, int64_t off, int m, const double* x, const double* h);
double cpu_block_entry(const DcHostBlocks* B, int i, int r, int c);
int cpu_bd_apply(DcBackend* be, const DcBlocks* B, int sel, const DcSketch* S, const DcVec* x, double alpha, DcVec* y);
int cpu_bd_quadform(DcBackend* be, const DcBlocks* B, const DcVec* x, DcVec* m, int slot, int sum_slot);

/* ---- cpu_sketches.c ---- */
void cpu_sketch_destroy(DcBackend* be, DcSketch** S);
int cpu_sketch_create(DcBackend* be, const DcSketchSpec* spec, int rows, DcSketch** S);
int cpu_sketch_sample(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t client);
int cpu_sketch_sample_rows(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t c0, int nc);
int cpu_sketch_read(DcBackend* be, const DcSketch* S, DcSketchDraw* out);
int cpu_sketch_load(DcBackend* be, DcSketch* S, const DcSketchDraw* in);
int cpu_sketch_tally(DcBackend* be, const DcSketch* S, int64_t* coords, int64_t* bits);
int cpu_sketch_set_tally(DcBackend* be, DcSketch* S, int64_t coords, int64_t bits);
int cpu_sketch_compress(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x, int round32, DcVec* vals);
int cpu_sketch_accumulate(DcBackend* be, const DcSketch* S, const DcVec* vals, double alpha, DcVec* y);
int64_t cpu_message_row_len(const DcBackend* be, const DcSketchSpec* spec);
int cpu_sketch_compress_rows(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* X, const DcVec* H, int nc,
                             int round32, DcVec* M);
int cpu_sketch_accumulate_rows(DcBackend* be, const DcSketch* S, const DcVec* M, int nc, double alpha, int fresh,
                               int per_row, DcVec* y);
int cpu_compress_values_rows(DcBackend* be, DcSketch* S, const DcVec* X, const DcVec* H, int64_t hoff, int nc,
                             uint64_t seed, uint32_t iter, uint32_t c0, int round32, DcVec* Y);
int cpu_mc_moments(DcBackend* be, const DcSketchSpec* spec, const double* A, int64_t nsamples, uint64_t seed, double* mean, double* std_err);

/* ---- cpu_problems.c ---- */
int cpu_problem_create(DcBackend* be, const DcHostProblem* h, DcProbData** P);
void cpu_problem_destroy(DcBackend* be, DcProbData** P);
int cpu_problem_grad(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* g, DcVec* m, int fslot);
int cpu_problem_grad_many(DcBackend* const* be, const DcProbData* const* P, const DcVec* const* x, DcVec* const* g,
                          DcVec* const* m, const int* fslot, int R);
int cpu_quad_residual(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* q, DcVec* g, DcVec* m, int fslot);
int cpu_quad_step(DcBackend* be, const DcProbData* P, const DcSketch* S, const DcVec* vals, double alpha, const DcVec* x, DcVec* q, DcVec* g);
void cpu_clients_destroy(DcBackend* be, DcClients** C);
int cpu_clients_create(DcBackend* be, int n, const DcHostProblem* hosts, const DcSketchSpec* spec, DcClients** C);
int cpu_clients_chunk(const DcBackend* be, const DcClients* C);
int cpu_clients_grad(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, DcVec* G, DcVec* F);
int cpu_clients_grad_sampled(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, uint64_t seed,
                            uint32_t iter, int batch, DcVec* G);
int cpu_problem_grad_sampled(DcBackend* be, const DcProbData* P, const DcVec* x, uint64_t seed, uint32_t iter,
                            uint32_t client, int batch, DcVec* g);

#endif /* DETCGD_BACKEND_CPU_H */
