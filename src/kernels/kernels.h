/*
 * kernels.h -- the C boundary of the CUDA kernels: extern "C" launch wrappers
 * that take a stream and return cudaGetLastError().  No __global__ here.
 *
 * Deterministic by construction: reductions are two-pass (per-block partials,
 * then one block summing them in a fixed order); no floating-point atomics.
 */
#ifndef DETCGD_KERNELS_H
#define DETCGD_KERNELS_H

#include <cuda_runtime.h>
#include <stdint.h>
#include "sketch_draw.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DC_K_THREADS 256  /* threads per block of the elementwise and reduction kernels */
#define DC_K_RED_MAX 1024 /* most partial sums of a reduction (the first pass's grid) */
#define DC_K_PIECE 256    /* CSC entries per warp in logreg-nc's A^T w */
#define DC_K_ROW_PIECE 256 /* dense rows per thread in logreg-nc's A^T w */

/* Device copy of a layer layout: row j of the whole is row j - voff_i of layer i. */
typedef struct DcDevLayout {
  int nblocks;
  int width;               /* the common d_i when all are equal (row j is then in layer j / width), else 0 */
  int64_t dim;
  const int* size;         /* d_i */
  const int64_t* voff;     /* nblocks + 1 */
  const int64_t* moff;     /* nblocks + 1 */
} DcDevLayout;

/* Device block-diagonal matrix: kind 0 scalar (l doubles), 1 diagonal (d doubles), 2 dense (every block
 * column-major at moff[i], in float when f32, else double).  Dense kernels accumulate in double. */
typedef struct DcDevBlocks {
  int kind;
  int f32;
  const void* data;
} DcDevBlocks;

/* Device copy of a sketch draw. */
typedef struct DcDevSketch {
  const DcSketchLayer* layers;
  const double* aux;
  const int64_t* cap_off;  /* nblocks + 1 */
  int64_t cap;             /* cap_off[nblocks] */
  int cap_width;           /* the common cap_off[i+1] - cap_off[i] when all are equal, else 0 */
  int* idx;
  double* scale;
  int* count;
  const int* index_bits;
  unsigned char* mark;     /* dim bytes, zero: Floyd membership per layer at voff[i] */
  unsigned long long* tally; /* [coords, bits] */
  int value_bits, send_indices, layer_flag_bits;
} DcDevSketch;

/* logreg-nc data of one or more clients: their rows concatenated in client order (client c
 * owns rows [row_off[c], row_off[c+1])), either as CSR plus the CSC of the whole with rows
 * increasing in a column, or (dense != NULL) as dense float rows, row-major; and per-row and
 * per-coordinate scratch. */
typedef struct DcDevLogreg {
  int nclients;
  int64_t dim;
  const int64_t* row_off;  /* nclients + 1 */
  const int64_t* rowptr;   /* CSR */
  const int32_t* col;
  const double* val;
  const double* label;
  const int64_t* colptr;   /* CSC */
  const int32_t* row;
  const double* cval;
  const float* dense;      /* rows x dim, or NULL (CSR/CSC) */
  /* A^T w (CSR/CSC): the nonempty (client, column) segments of the CSC in client order, columns
   * increasing -- client c's are [seg_off[c], seg_off[c+1]); segment s is output t = c dim + i and
   * CSC entries [seg_lo[s], seg_hi[s]), cut into pieces of DC_K_PIECE entries [piece_off[s],
   * piece_off[s+1]); partial holds one sum per piece */
  const int64_t *seg_off, *seg_t, *seg_lo, *seg_hi, *piece_off;
  /* A^T w (dense): client c's rows cut into pieces of DC_K_ROW_PIECE rows, [row_piece_off[c],
   * row_piece_off[c+1]); partial holds dim sums per piece (piece k, column i at k dim + i) */
  const int64_t* row_piece_off;
  double* partial;
  double* w;               /* rows: -b_j / (N_c (1 + e^{z_j})) */
  double* loss;            /* rows: log(1 + e^{-z_j}) */
  double* reg;             /* dim: x_i^2 / (1 + x_i^2) */
  double mu;               /* l2: (mu/2) ||x||^2 on every f_c */
} DcDevLogreg;

/* ---- vectors and reductions (vector.cu) ---- */
/* a scalar: c, or c v[0]^power (power 1, -1, 0.5, -0.5) read on the device (the backend's DcScalar) */
typedef struct DcDevScalar {
  double c;
  const double* v;
  double power;
} DcDevScalar;
/* y = a x + b y (b constant 0: y = a x) */
cudaError_t detcgd_k_axpby(int64_t n, DcDevScalar a, const double* x, DcDevScalar b, double* y, int grid_cap,
                           cudaStream_t s);
/* y = map(x) with the scalar t: map 0 sign, 1 soft-threshold, 2 clip, 3 scale, 4 shrink (the backend's DcMap) */
cudaError_t detcgd_k_map(int64_t n, int map, const double* x, DcDevScalar t, double* y, int grid_cap, cudaStream_t s);
cudaError_t detcgd_k_fill(double* v, int64_t n, double a, int grid_cap, cudaStream_t s);
/* y += a x */
cudaError_t detcgd_k_axpy(int64_t n, double a, const double* x, double* y, int grid_cap, cudaStream_t s);
/* out[0] = sum_i x_i y_i (y may be NULL: sum_i x_i); partials holds DC_K_RED_MAX doubles.  Reductions whose
 * first pass has one thread block write out from it (no second launch: small problems are launch-bound). */
cudaError_t detcgd_k_dot(int64_t n, const double* x, const double* y, double* partials, double* out,
                         int grid_cap, cudaStream_t s);
/* y_j = (fresh ? 0 : y_j) + alpha X[0 n + j] + ... + alpha X[(nc-1) n + j] in order: the same bits as filling y
 * with zeros (fresh) and nc calls of axpy */
cudaError_t detcgd_k_colsum(int64_t n, int nc, const double* X, double alpha, int fresh, double* y, int grid_cap,
                            cudaStream_t s);
/* out[0] = (add ? out[0] : 0) + v_0 + ... + v_{n-1}, left to right */
cudaError_t detcgd_k_sum_seq(int n, const double* v, double* out, int add, cudaStream_t s);
/* out[0] = sum of n partials in a fixed order, and acc[0] += out[0] unless acc is NULL */
cudaError_t detcgd_k_sum(int64_t n, const double* partials, double* out, double* acc, cudaStream_t s);
/* m[slot] = v */
cudaError_t detcgd_k_metric_set(double* m, int slot, double v, cudaStream_t s);
/* c[0] = (add ? c[0] : 0) + v: the iteration counter of a replayed graph */
cudaError_t detcgd_k_counter(uint32_t* c, uint32_t v, int add, cudaStream_t s);

/* ---- block-diagonal products (blockdiag.cu) ---- */
cudaError_t detcgd_k_bd_apply(DcDevLayout L, DcDevBlocks B, const double* x, double alpha, double* y, int grid_cap,
                              cudaStream_t s);
cudaError_t detcgd_k_bd_apply_cols(DcDevLayout L, DcDevBlocks B, DcDevSketch S, const double* x, double alpha,
                                   double* y, int grid_cap, cudaStream_t s);
cudaError_t detcgd_k_bd_apply_rows(DcDevLayout L, DcDevBlocks B, DcDevSketch S, const double* x, double alpha,
                                   double* y, int grid_cap, cudaStream_t s);
/* out[0] = x^T B x, and acc[0] += out[0] unless acc is NULL; partials holds DC_K_RED_MAX doubles */
cudaError_t detcgd_k_bd_quadform(DcDevLayout L, DcDevBlocks B, const double* x, double* partials, double* out,
                                 double* acc, int grid_cap, cudaStream_t s);

/* ---- sketches (sketch.cu) ----
 * Batched over nc clients c0..c0+nc-1: client slice cc of the draw arrays is idx, scale + cc cap,
 * count + cc nblocks, mark + cc dim (nc = 1: the plain draw). */
/* draws for iteration iter, or iter + *iter_base when iter_base is not NULL (a counter on the device) */
cudaError_t detcgd_k_sketch_sample(DcDevLayout L, DcDevSketch S, uint64_t seed, uint32_t iter,
                                   const uint32_t* iter_base, uint32_t c0, int nc, cudaStream_t s);
/* adds the current counts to the tally (after a host load) */
cudaError_t detcgd_k_sketch_tally(DcDevLayout L, DcDevSketch S, cudaStream_t s);
/* message values of slice cc from x = X + cc dim less h = H + cc dim (H NULL: none): s_t (B (x - h))_{j_t}
 * (B.data != NULL) or s_t (x - h)_{j_t}, float-rounded when round32; at out + cc cap + t, or scattered to
 * out + cc dim + voff_i + j_t (out zero elsewhere) */
cudaError_t detcgd_k_sketch_compress(DcDevLayout L, DcDevBlocks B, DcDevSketch S, const double* X, const double* H,
                                     int nc, int round32, int scatter, double* out, int grid_cap, cudaStream_t s);
/* The compressors of the values (value_ops.h; the backend op compress_values_rows): one block per layer of a client
 * row cc < nc, Y + cc dim = C(X + cc dim - (H + cc dim)) dense; draws (seed, iter (+ *iter_base), c0 + cc); every
 * message adds its values and bits to S.tally. */
cudaError_t detcgd_k_compress_values(DcDevLayout L, DcDevSketch S, const double* X, const double* H, int nc,
                                     uint64_t seed, uint32_t iter, const uint32_t* iter_base, uint32_t c0, int round32,
                                     double* Y, cudaStream_t s);
cudaError_t detcgd_k_sketch_accumulate(DcDevLayout L, DcDevSketch S, const double* vals, double alpha, double* y,
                                       int grid_cap, cudaStream_t s);
/* Monte Carlo E[S_i A_i S_i] of every layer in one launch (S: the layers, aux; cap_max: most kept coordinates
 * of a layer): nparts blocks per layer, partial sums in psum/psq (nparts x mm_total each), membership tables
 * in marks (nparts x dim bytes); then mean and std_err (mm_total, at moff[i] like A). */
cudaError_t detcgd_k_mc_moments(DcDevLayout L, DcDevSketch S, int cap_max, const double* A, int64_t mm_total,
                                int64_t nsamples, uint64_t seed, int nparts, double* psum, double* psq,
                                unsigned char* marks, double* mean, double* std_err, cudaStream_t s);

/* ---- problems (problem.cu) ---- */
/* logreg-nc, clients c0..c0+nc-1 (rows [r0, r1), segments [s0, s1) and pieces [k0, k1) are theirs; dense rows:
 * no segments, row pieces [k0, k1)):
 * G + (c - c0) dim = grad f_c(x); also w, loss of those rows and reg */
cudaError_t detcgd_k_logreg_grad(DcDevLogreg P, int64_t r0, int64_t r1, int c0, int nc, int64_t s0, int64_t s1,
                                 int64_t k0, int64_t k1, const double* x, double lambda, double* G, int grid_cap,
                                 cudaStream_t s);
/* after detcgd_k_logreg_grad: fc[c - c0] = f_c(x) = (1/N_c) sum loss_j + lam reg_sum[0] (+ (mu/2) reg_sum[1] when
 * P.mu != 0; reg_sum = {sum_i reg_i, ||x||^2}) */
cudaError_t detcgd_k_logreg_client_f(DcDevLogreg P, int c0, int nc, double lambda, const double* reg_sum, double* fc,
                                     cudaStream_t s);
/* R runs (1, 2, 4, 8 or DC_K_MANY) of logreg-nc on one data set of one client (P), in one pass over its rows:
 * each run's g[r] = grad f(x_r) with the bits of detcgd_k_logreg_grad alone (every run's sums in that kernel's
 * order); after it, loss + r rows and reg + r dim hold run r's row losses and x_i^2/(1+x_i^2) for
 * detcgd_k_logreg_client_f.  X, w, partial: scratch, interleaved (entry e of run r at e R + r). */
#define DC_K_MANY 16
typedef struct DcDevRuns {
  int R;
  const double* x[DC_K_MANY]; /* the runs' points */
  double* g[DC_K_MANY];       /* their gradients */
  double lambda[DC_K_MANY], mu[DC_K_MANY];
  double* X;                  /* dim x R: the points interleaved */
  double* w;                  /* rows x R */
  double* partial;            /* pieces x R (dense rows: pieces x dim x R) */
  double* loss;               /* R x rows */
  double* reg;                /* R x dim */
} DcDevRuns;
/* P's nrows rows, its nsegs CSC segments (nsegs = 0: dense rows) and npieces pieces */
cudaError_t detcgd_k_logreg_grad_many(DcDevLogreg P, DcDevRuns U, int64_t nrows, int64_t nsegs, int64_t npieces,
                                      int grid_cap, cudaStream_t s);
/* logreg-nc minibatch gradients (backend.h's clients_grad_sampled) of the data's clients c0..c0+nc-1 into
 * G + (c - c0) dim, their samples drawn as clients client0 + (c - c0); the iteration is iter + *iter_base when
 * iter_base is not NULL (a replayed graph) */
cudaError_t detcgd_k_logreg_sampled_grad(DcDevLogreg P, int c0, int nc, uint32_t client0, uint64_t seed, uint32_t iter,
                                         const uint32_t* iter_base, int batch, const double* x, double lambda,
                                         double* G, cudaStream_t s);
/* quad-nc: q_i = A_i (x_i - c_i) into q unless q is NULL, g = q + reg' (A dense, double or float); f(x) into
 * f[0] unless f is NULL (partials: DC_K_RED_MAX doubles) */
cudaError_t detcgd_k_quad_grad(DcDevLayout L, DcDevBlocks A, const double* c, const double* x, double lambda,
                               double* q, double* g, double* partials, double* f, int grid_cap, cudaStream_t s);
/* poly-nc: g_j = 4 a_j x_j^3 + reg'(x_j); f(x) into f[0] unless f is NULL (partials: DC_K_RED_MAX doubles) */
cudaError_t detcgd_k_poly_grad(int64_t dim, const double* a, const double* x, double lambda, double* g,
                               double* partials, double* f, int grid_cap, cudaStream_t s);
/* quad-nc after a sparse step x_{j_t} += alpha v_t: q_i += alpha A_i[:, kept] v_i, g = q + reg'(x) */
cudaError_t detcgd_k_quad_step(DcDevLayout L, DcDevBlocks A, DcDevSketch S, const double* vals, double alpha,
                               const double* x, double lambda, double* q, double* g, int grid_cap, cudaStream_t s);

/* ---- stepsize setup (setup.cu): a chunk of nb m x m blocks, column-major, block t at t m^2 ---- */
/* X_t = A_t + 2 lam I for A's blocks from entry first_entry on (A double or float) */
cudaError_t detcgd_k_setup_L(DcDevBlocks A, int64_t first_entry, int nb, int m, double lambda, double* X, int grid_cap,
                             cudaStream_t s);
/* Y_t = E[S X_t S]: Y_rc = (r == c ? diag[t m + r] : off[t]) X_rc */
cudaError_t detcgd_k_setup_moment(const double* X, int nb, int m, const double* off, const double* diag, double* Y,
                                  int grid_cap, cudaStream_t s);
/* Y_t = ((X_t / div[t]) a) mul[t] (div, mul NULL: 1), rounded to float when round32; Y may be X */
cudaError_t detcgd_k_setup_scale(const double* X, int nb, int m, const double* div, double a, const double* mul,
                                 int round32, double* Y, int grid_cap, cudaStream_t s);
/* the strictly upper triangle of every X_t: the lower's mirror (mirror = 1) or zero */
cudaError_t detcgd_k_setup_upper(double* X, int nb, int m, int mirror, int grid_cap, cudaStream_t s);
cudaError_t detcgd_k_setup_identity(double* X, int nb, int m, int grid_cap, cudaStream_t s);
/* Y_t = V_t Diag(w_t)^p; bad[t] = 1 when some w_tc <= 0 */
cudaError_t detcgd_k_setup_scale_cols(const double* V, const double* w, int nb, int m, double p, double* Y, int* bad,
                                      int grid_cap, cudaStream_t s);
/* out[t] = log det of C_t C_t^T = 2 sum_j log C_t(j, j) */
cudaError_t detcgd_k_setup_logdet(const double* C, int nb, int m, double* out, cudaStream_t s);
/* ptr[t] = base + t stride */
cudaError_t detcgd_k_setup_ptrs(double* base, int nb, int64_t stride, double** ptr, cudaStream_t s);
/* n entries of X into dst, as float (f32) or double */
cudaError_t detcgd_k_setup_store(const double* X, int64_t n, int f32, void* dst, int grid_cap, cudaStream_t s);

#ifdef __cplusplus
}
#endif
#endif /* DETCGD_KERNELS_H */
