/*
 * backend.h -- the internal backend interface.
 *
 * The methods and the solver loop are written only against these ops; the
 * plain-C backend (backend_cpu.c) is the reference and the test oracle, the
 * CUDA backend implements the same ops on the device.  Vectors, block
 * matrices, sketches and problem data are opaque: each backend defines their
 * layout.  Scalars produced by reductions are written into a "metrics" vector
 * (slot indices), so that they can stay on the device until a trace point.
 */
#ifndef DETCGD_BACKEND_H
#define DETCGD_BACKEND_H

#include <stdint.h>
#include "internal.h"
#include "sketch_draw.h"

typedef struct DcBackend DcBackend;
typedef struct DcVec DcVec;           /* n doubles in backend memory */
typedef struct DcBlocks DcBlocks;     /* block-diagonal matrix in backend memory */
typedef struct DcSketch DcSketch;     /* the current draw of a sketch and its tally */
typedef struct DcProbData DcProbData; /* problem data in backend memory */
typedef struct DcClients DcClients;   /* n clients' data and scratch, simulated in one process */
typedef struct DcRing DcRing;         /* host copies of trace scalars, written by the backend in order */
typedef struct DcReplay DcReplay;     /* a recorded run of iterations, launched as one (CUDA graph) */

/* The ops of one iteration, its sketch drawn for iteration `iter`. */
typedef int (*DcIterationFn)(void* ctx, uint32_t iter);

/* Sketch of every layer plus its communication cost model. */
typedef struct DcSketchSpec {
  int kind;                /* DC_SK_* (same for all layers) */
  const DcLayout* layout;  /* borrowed */
  DcSketchLayer* layers;   /* owns: l entries */
  double* aux;             /* owns: importance probabilities and CDFs (may be NULL) */
  int64_t aux_len;
  int64_t* cap_off;        /* owns: draw slots of layer i at [cap_off[i], cap_off[i+1]) */
  int value_bits;          /* bits per sent value */
  int send_indices;        /* 1: each kept coordinate also costs ceil(log2 d_i) bits */
  int layer_flag_bits;     /* bits per layer per draw (Bern-q: 1) */
} DcSketchSpec;

/* One draw, copied to the host (tests, checkpoints). */
typedef struct DcSketchDraw {
  int* idx;       /* caller-allocated, cap_off[l] entries: local indices */
  double* scale;  /* caller-allocated, cap_off[l] entries */
  int* count;     /* caller-allocated, l entries */
} DcSketchDraw;

/* Problem data as the host holds it; each backend copies what it needs. */
typedef struct DcHostProblem {
  int kind;               /* DetcgdProblemKind */
  const DcLayout* layout; /* borrowed */
  double lambda;          /* weight of lam sum x^2/(1+x^2) */
  double l2;              /* logreg-nc: mu of (mu/2) ||x||^2 */
  /* logreg-nc: CSR rows a_j with labels b_j in {-1,+1} */
  int64_t nrows;
  const int64_t* rowptr;  /* borrowed: nrows+1 */
  const int32_t* colidx;  /* borrowed */
  const double* val;      /* borrowed */
  const double* label;    /* borrowed: nrows */
  int store32;            /* 1: every value is a float (data-precision fp32); backends may store them so */
  /* quad-nc: dense A_i at layout->moff[i], centres c */
  const double* A;        /* borrowed */
  const double* c;        /* borrowed: d */
  /* poly-nc: coefficients a_j of sum a_j x_j^4 */
  const double* coef;     /* borrowed: d */
} DcHostProblem;

/* A dense stepsize built on the backend (stepsize_setup), block by block as stepsize.c builds it on the host. */
typedef enum DcSetupFormula {
  DC_SETUP_DET2_OPT = 0, /* D_i = E[T_i L_i T_i]^{-1}                                          (12) */
  DC_SETUP_THM2_INV,     /* Theorem 2 with W_i = L_i^{-1}:    D_i = W_i / lambda_max(W_i^{-1} E[S W_i L_i W_i S]) */
  DC_SETUP_THM2_INV_SQRT /* Theorem 2 with W_i = L_i^{-1/2} */
} DcSetupFormula;

typedef struct DcSetupJob {
  int formula;               /* DcSetupFormula */
  int det2;                  /* certificates of (8) (1) or of (7) (0) */
  double scale;              /* stepsize-scale: D_i times this */
  int round32;               /* stepsize-precision fp32: D_i rounded to float keeping the block's condition */
  const DcSketchSpec* spec;  /* borrowed: E[S A S]_rc = w_rc A_rc (dc_sketch_moment_weight) */
} DcSetupJob;

/* A scalar of the vector ops: c, or c times a value the backend holds, m[slot]^power (power 1, -1, 0.5 or -0.5;
 * a negative power of 0 gives 0), read where it is (no copy to the host: a normalised step x - gamma g / ||g||
 * stays on the device, and is 0 when g = 0). */
typedef struct DcScalar {
  double c;
  const DcVec* m; /* NULL: the scalar is c */
  int slot;
  double power;
} DcScalar;

/* Elementwise maps of vec_map, with its scalar t: */
typedef enum DcMap {
  DC_MAP_SIGN = 0,       /* sign(x): 1, -1, or 0 at 0 */
  DC_MAP_SOFT_THRESHOLD, /* sign(x) max(|x| - t, 0)  (the prox of t ||.||_1) */
  DC_MAP_CLIP,           /* max(-t, min(t, x)) */
  DC_MAP_SCALE,          /* t x */
  DC_MAP_SHRINK          /* min(1, t) x  (the projection onto a ball: t = r / ||x||) */
} DcMap;

/* The part of a block-diagonal matrix a product reads. */
typedef enum DcSelect { DC_SEL_FULL = 0, DC_SEL_COLS, DC_SEL_ROWS } DcSelect;

typedef struct DcBackendOps {
  const char* name;
  int (*open)(DcBackend* be);
  void (*close)(DcBackend* be);

  /* ---- vectors ---- */
  int (*vec_create)(DcBackend* be, int64_t n, DcVec** v);           /* v = 0 */
  void (*vec_destroy)(DcBackend* be, DcVec** v);
  /* *view = v[off .. off + n) in place (a row view: the ops read and write v there); a new handle when *view is
   * NULL, else *view re-pointed (no allocation); vec_destroy frees the handle only */
  int (*vec_view)(DcBackend* be, const DcVec* v, int64_t off, int64_t n, DcVec** view);
  int (*vec_upload)(DcBackend* be, DcVec* v, const double* h);      /* v <- h */
  int (*vec_download)(DcBackend* be, const DcVec* v, double* h);    /* h <- v */
  int (*vec_copy)(DcBackend* be, DcVec* dst, const DcVec* src);     /* dst <- src */
  int (*axpy)(DcBackend* be, double a, const DcVec* x, DcVec* y);   /* y <- y + a x */
  int (*dot)(DcBackend* be, const DcVec* x, const DcVec* y, DcVec* m, int slot); /* m[slot] = x.y */
  int (*metric_set)(DcBackend* be, DcVec* m, int slot, double v);   /* m[slot] = v */
  int (*vec_fill)(DcBackend* be, DcVec* v, double a);               /* v = a */
  /* R holds nr rows of n values (row r at r n): y[yoff .. yoff + n) = (fresh ? 0 : y) + alpha R_0 + ... +
   * alpha R_{nr-1}, row after row (the bits of filling with zeros and nr axpys) */
  int (*rows_sum)(DcBackend* be, const DcVec* R, int nr, int64_t n, double alpha, int fresh, DcVec* y, int64_t yoff);
  /* y = a x + b y (b = 0 as a constant: y = a x, whatever y held) */
  int (*axpby)(DcBackend* be, DcScalar a, const DcVec* x, DcScalar b, DcVec* y);
  /* y = map(x) elementwise (DcMap; y may be x) */
  int (*vec_map)(DcBackend* be, int map, const DcVec* x, DcScalar t, DcVec* y);

  /* ---- block-diagonal matrices B = Diag(B_1..B_l) ---- */
  int (*blocks_create)(DcBackend* be, const DcHostBlocks* h, DcBlocks** B);
  void (*blocks_destroy)(DcBackend* be, DcBlocks** B);
  /* y_i <- y_i + alpha P_i x_i for every block i, with P_i (DcSelect) B_i, B_i S_i reading only the kept
   * columns of B_i, or T_i B_i computing only its kept rows; S is the sketch's current draw (NULL with FULL) */
  int (*bd_apply)(DcBackend* be, const DcBlocks* B, int sel, const DcSketch* S, const DcVec* x, double alpha,
                  DcVec* y);
  /* m[slot] = x^T B x = sum_i x_i^T B_i x_i, and m[sum_slot] += m[slot] when sum_slot >= 0 (a running sum such
   * as G_{K,D}'s in the same op: on the GPU no launch of its own) */
  int (*bd_quadform)(DcBackend* be, const DcBlocks* B, const DcVec* x, DcVec* m, int slot, int sum_slot);

  /* ---- sketches: room for `rows` draws (a chunk of clients); the single-draw ops use row 0 ---- */
  int (*sketch_create)(DcBackend* be, const DcSketchSpec* spec, int rows, DcSketch** S);
  void (*sketch_destroy)(DcBackend* be, DcSketch** S);
  /* Draws S^k for (seed, iter, client) and adds its coordinates and bits to the tally. */
  int (*sketch_sample)(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t client);
  int (*sketch_read)(DcBackend* be, const DcSketch* S, DcSketchDraw* out);
  /* Sets the current draw from the host (a received message) and adds it to the tally. */
  int (*sketch_load)(DcBackend* be, DcSketch* S, const DcSketchDraw* in);
  int (*sketch_tally)(DcBackend* be, const DcSketch* S, int64_t* coords, int64_t* bits);
  int (*sketch_set_tally)(DcBackend* be, DcSketch* S, int64_t coords, int64_t bits);
  /* Message values, packed by layer at cap_off[i]: v_t = s_t (B x)_{j_t} (B != NULL, kept rows
   * only) or s_t x_{j_t}; rounded to float when round32 (what travels as 32-bit values). */
  int (*sketch_compress)(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* x,
                         int round32, DcVec* vals);
  /* y_{j_t} += alpha v_t for every kept coordinate, in slot order */
  int (*sketch_accumulate)(DcBackend* be, const DcSketch* S, const DcVec* vals, double alpha, DcVec* y);
  /* A chunk of nc clients c0..c0+nc-1 at once, row r for client c0 + r, with the bits of the single-draw ops
   * run client after client:
   *   sample_rows    row r drawn for (seed, iter, c0 + r), every draw counted in S's tally;
   *   compress_rows  message row r of M from X_r - H_r (dim values each; H NULL: X_r), C_r = S_r B (X_r - H_r)
   *                  (B NULL: S_r (X_r - H_r)) as sketch_compress writes it, stored as this backend lays
   *                  messages out (message_row_len values per row);
   *   accumulate_rows  y = (fresh ? 0 : y) + alpha sum_r C_r, the kept coordinates of row after row; or, per_row,
   *                  y's row r (dim values) = (fresh ? 0 : y_r) + alpha C_r. */
  int (*sketch_sample_rows)(DcBackend* be, DcSketch* S, uint64_t seed, uint32_t iter, uint32_t c0, int nc);
  int (*sketch_compress_rows)(DcBackend* be, const DcBlocks* B, const DcSketch* S, const DcVec* X, const DcVec* H,
                              int nc, int round32, DcVec* M);
  int (*sketch_accumulate_rows)(DcBackend* be, const DcSketch* S, const DcVec* M, int nc, double alpha, int fresh,
                                int per_row, DcVec* y);
  int64_t (*message_row_len)(const DcBackend* be, const DcSketchSpec* spec);
  /* The compressors of the values (value_ops.h) and the identity: Y's row r (dim values) = C(X_r - H_r) layer by
   * layer for client c0 + r at iteration iter (H NULL: C(X_r)), H's row r at hoff + r dim; dense, 0 where a message
   * leaves a coordinate out, what travels rounded to float when round32 (values; QSGD's and scaled sign's norms).
   * S (sketch_create of the compressor, rows >= nc) keeps rand-k-c's draws, and its tally counts every message's
   * values and exact bits. */
  int (*compress_values_rows)(DcBackend* be, DcSketch* S, const DcVec* X, const DcVec* H, int64_t hoff, int nc,
                              uint64_t seed, uint32_t iter, uint32_t c0, int round32, DcVec* Y);

  /* ---- problems ---- */
  int (*problem_create)(DcBackend* be, const DcHostProblem* h, DcProbData** P);
  void (*problem_destroy)(DcBackend* be, DcProbData** P);
  /* g = grad f(x); if fslot >= 0 also m[fslot] = f(x) */
  int (*problem_grad)(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* g, DcVec* m,
                      int fslot);
  /* quad-nc with sparse steps (det-CGD2 moves x in the kept coordinates only), keeping q = A (x - c):
   * quad_residual: q = A (x - c), g = q + reg'(x) (the bits of problem_grad), m[fslot] = f(x) if fslot >= 0;
   * quad_step, after x_{j_t} += alpha v_t (v packed as sketch_compress writes it): q_i += alpha A_i[:, kept] v_i,
   * reading A's kept columns only, and g = q + reg'(x). */
  int (*quad_residual)(DcBackend* be, const DcProbData* P, const DcVec* x, DcVec* q, DcVec* g, DcVec* m,
                       int fslot);
  int (*quad_step)(DcBackend* be, const DcProbData* P, const DcSketch* S, const DcVec* vals, double alpha,
                   const DcVec* x, DcVec* q, DcVec* g);

  /* ---- n clients' data, simulated in one process, evaluated a chunk at a time ---- */
  int (*clients_create)(DcBackend* be, int n, const DcHostProblem* hosts, const DcSketchSpec* spec, DcClients** C);
  void (*clients_destroy)(DcBackend* be, DcClients** C);
  /* the most clients one clients_grad takes (what the backend's scratch per chunk allows) */
  int (*clients_chunk)(const DcBackend* be, const DcClients* C);
  /* G's row r = grad f_{c0+r}(x) (dim values), and F[r] = f_{c0+r}(x) unless F is NULL; with F the chunk of
   * c0 = 0 comes first for each x (the regulariser's sum, the same for every client, is taken there). */
  int (*clients_grad)(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, DcVec* G, DcVec* F);
  /* Minibatch gradients (logreg-nc): G's row r = (1/b) sum_{t<b} grad phi_{j_t}(x) + reg'(x) for client c0 + r,
   * phi_j = log(1 + exp(-b_j a_j.x)) its rows' losses, j_t = dc_minibatch_row(seed, iter, c0 + r, t, N_c): b = batch
   * samples with replacement, summed in t order; problem_grad_sampled: g for the problem P as client `client`. */
  int (*clients_grad_sampled)(DcBackend* be, const DcClients* C, int c0, int nc, const DcVec* x, uint64_t seed,
                              uint32_t iter, int batch, DcVec* G);
  int (*problem_grad_sampled)(DcBackend* be, const DcProbData* P, const DcVec* x, uint64_t seed, uint32_t iter,
                              uint32_t client, int batch, DcVec* g);

  /* ---- trace snapshots: a ring of `slots` host copies of the metrics and a sketch tally ---- */
  int (*ring_create)(DcBackend* be, int slots, int64_t nmetrics, DcRing** R);
  void (*ring_destroy)(DcBackend* be, DcRing** R);
  /* Queues copies of m and of S's tally (zeros for S NULL) into slot, stamped when the backend gets
   * there, and returns without waiting (CUDA: pinned host buffers and one event per slot). */
  int (*ring_put)(DcBackend* be, DcRing* R, int slot, const DcVec* m, const DcSketch* S);
  /* Slot's copies; when they are not there yet: waits if `wait`, else *ready = 0.
   * time: dc_wall_time() at which the backend reached the put. */
  int (*ring_get)(DcBackend* be, DcRing* R, int slot, int wait, int* ready, double* m, int64_t tally[2],
                  double* time);

  /* ---- replay: `unroll` iterations recorded once and launched as one ----
   * replay_run(R, iter, n) runs iterations iter .. iter + n unroll - 1 with the bits of body(ctx, j) called
   * for each.  CUDA: replay_create calls body(ctx, u), u < unroll, while capturing a graph (sketch_sample's
   * iter is then an offset from a device counter, which the graph advances by unroll); replay_run sets the
   * counter and launches the graph n times.  CPU: replay_run calls the body for each iteration. */
  int (*replay_create)(DcBackend* be, DcIterationFn body, void* ctx, int unroll, DcReplay** R);
  void (*replay_destroy)(DcBackend* be, DcReplay** R);
  int (*replay_run)(DcBackend* be, DcReplay* R, uint32_t iter, int64_t n);

  /* ---- profiling ---- */
  int (*sync)(DcBackend* be);                   /* wait for all queued work */
  void (*range)(DcBackend* be, const char* name); /* NVTX range: push name, or pop when NULL */

  /* ---- Monte Carlo second moments of every layer, in one pass ----
   * For each layer i: mean_i = (1/N) sum_s S_s A_i S_s and the standard error of each entry, with draws
   * (seed, iter = s, client = 0, layer i).  A, mean and std_err hold the m_i x m_i blocks column-major
   * at the layout's moff[i]. */
  int (*mc_moments)(DcBackend* be, const DcSketchSpec* spec, const double* A, int64_t nsamples, uint64_t seed,
                    double* mean, double* std_err);

  /* ---- stepsize setup on the backend (NULL: the host builds D, stepsize.c) ----
   * For quad-nc data P (L_i = A_i + 2 lam I): a new dense *D holding job's D_i, times job->scale, rounded to float
   * block by block when job->round32 exactly as stepsize.c rounds (a block whose condition rounding breaks is
   * scaled down alone); cert[i] = block i's certificate, logdet[i] = log det D_i of the D stored. */
  int (*stepsize_setup)(DcBackend* be, const DcProbData* P, const DcSetupJob* job, DcBlocks** D, double* cert,
                        double* logdet);

  /* ---- memory (NULL: host memory only) ---- bytes of device memory held at the peak since open */
  int64_t (*device_bytes_peak)(const DcBackend* be);

  /* ---- R runs at once (NULL: one problem_grad per run) ----
   * problem_grad of each run r (its backend be[r] of this kind, P[r], x[r] into g[r], m[r][fslot[r]]), with the
   * bits of those calls; runs on one data set (dc_host_problem_same_rows) are evaluated together on be[0], the
   * data read once for all of them (logreg-nc), each run's later work on be[r] ordered after it. */
  int (*problem_grad_many)(DcBackend* const* be, const DcProbData* const* P, const DcVec* const* x, DcVec* const* g,
                           DcVec* const* m, const int* fslot, int R);
} DcBackendOps;

struct DcBackend {
  const DcBackendOps* ops;
  void* state; /* owns: backend-specific (handles, streams, scratch) */
};

/* Opens the backend chosen by `kind` (DetcgdBackendKind); AUTO = CUDA iff compiled and present. */
int dc_backend_open(DcBackend* be, int kind);
void dc_backend_close(DcBackend* be);

extern const DcBackendOps dc_backend_cpu_ops;
/* vec_view's range check, for every backend: [off, off + n) inside a vector of len (else the error names it). */
int dc_vec_view_check(int64_t off, int64_t n, int64_t len);
/* Do two problems hold the same logreg-nc rows (the same host arrays, stored alike)? */
int dc_host_problem_same_rows(const DcHostProblem* a, const DcHostProblem* b);
/* Reference f(x) and g = grad f(x) on host arrays (the CPU backend's own loop). */
double dc_host_problem_grad(const DcHostProblem* h, const double* x, double* g);

#endif /* DETCGD_BACKEND_H */
