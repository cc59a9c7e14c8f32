/*
 * backend_cpu.c -- the plain-C reference implementation of every backend op: its table, vectors, trace
 * snapshots, replays and profiling here; block-diagonal products in cpu_blocks.c, sketches and Monte Carlo
 * moments in cpu_sketches.c, problems and clients in cpu_problems.c.
 *
 * Straight loops over blocks, in a fixed order, so results are deterministic
 * and readable.  This is the oracle the CUDA backend is tested against.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend_cpu.h"

/* ==== Vectors ==== */

static int cpu_open(DcBackend* be) {
  be->state = dc_calloc(1, sizeof(DcCpuState));
  return be->state ? DETCGD_OK : DETCGD_ERR_ALLOC;
}

static void cpu_close(DcBackend* be) {
  DcCpuState* cs = (DcCpuState*)be->state;
  if (cs) {
    free(cs->runs_xg);
    free(cs->runs_pass);
    free(cs->runs_zw);
  }
  free(cs);
  be->state = NULL;
}

static int cpu_vec_create(DcBackend* be, int64_t n, DcVec** v) {
  (void)be;
  *v = (DcVec*)dc_calloc(1, sizeof(DcVec));
  if (!*v) return DETCGD_ERR_ALLOC;
  (*v)->n = n;
  (*v)->data = (double*)dc_calloc((size_t)(n > 0 ? n : 1), sizeof(double));
  if (!(*v)->data) { free(*v); *v = NULL; return DETCGD_ERR_ALLOC; }
  return DETCGD_OK;
}

static void cpu_vec_destroy(DcBackend* be, DcVec** v) {
  (void)be;
  if (!v || !*v) return;
  if (!(*v)->view) free((*v)->data);
  free(*v);
  *v = NULL;
}

static int cpu_vec_view(DcBackend* be, const DcVec* v, int64_t off, int64_t n, DcVec** view) {
  (void)be;
  int st = dc_vec_view_check(off, n, v->n);
  if (st != DETCGD_OK) return st;
  if (!*view && !(*view = (DcVec*)dc_calloc(1, sizeof(DcVec)))) return DETCGD_ERR_ALLOC;
  (*view)->n = n;
  (*view)->data = v->data + off;
  (*view)->view = 1;
  return DETCGD_OK;
}

static int cpu_vec_upload(DcBackend* be, DcVec* v, const double* h) {
  (void)be;
  memcpy(v->data, h, (size_t)v->n * sizeof(double));
  return DETCGD_OK;
}

static int cpu_vec_download(DcBackend* be, const DcVec* v, double* h) {
  (void)be;
  memcpy(h, v->data, (size_t)v->n * sizeof(double));
  return DETCGD_OK;
}

static int cpu_vec_copy(DcBackend* be, DcVec* dst, const DcVec* src) {
  (void)be;
  memcpy(dst->data, src->data, (size_t)src->n * sizeof(double));
  return DETCGD_OK;
}

/* y <- y + a x */
static int cpu_axpy(DcBackend* be, double a, const DcVec* x, DcVec* y) {
  int64_t i;
  (void)be;
  for (i = 0; i < x->n; ++i) y->data[i] += a * x->data[i];
  return DETCGD_OK;
}

/* m[slot] = sum_i x_i y_i */
static int cpu_dot(DcBackend* be, const DcVec* x, const DcVec* y, DcVec* m, int slot) {
  double s = 0.0;
  int64_t i;
  (void)be;
  for (i = 0; i < x->n; ++i) s += x->data[i] * y->data[i];
  m->data[slot] = s;
  return DETCGD_OK;
}

static int cpu_metric_set(DcBackend* be, DcVec* m, int slot, double v) {
  (void)be;
  m->data[slot] = v;
  return DETCGD_OK;
}

int cpu_vec_fill(DcBackend* be, DcVec* v, double a) {
  int64_t i;
  (void)be;
  for (i = 0; i < v->n; ++i) v->data[i] = a;
  return DETCGD_OK;
}

static int cpu_rows_sum(DcBackend* be, const DcVec* R, int nr, int64_t n, double alpha, int fresh, DcVec* y, int64_t yoff) {
  double* out = y->data + yoff;
  int64_t j;
  int r;
  (void)be;
  if (fresh) for (j = 0; j < n; ++j) out[j] = 0.0;
  for (r = 0; r < nr; ++r) {
    const double* row = R->data + (int64_t)r * n;
    for (j = 0; j < n; ++j) out[j] += alpha * row[j];
  }
  return DETCGD_OK;
}

/* The scalar's value (cuda_vectors' kernels compute it the same way: the same bits). */
static double scalar_value(DcScalar s) {
  double v;
  if (!s.m) return s.c;
  v = s.m->data[s.slot];
  if (s.power == 1.0) return s.c * v;
  if (v == 0.0) return 0.0; /* a negative power of 0: the step of a normalised zero vector is 0 */
  if (s.power == -1.0) return s.c / v;
  return s.power == 0.5 ? s.c * sqrt(v) : s.c / sqrt(v);
}

static int cpu_axpby(DcBackend* be, DcScalar a, const DcVec* x, DcScalar b, DcVec* y) {
  double av = scalar_value(a), bv = scalar_value(b);
  int64_t j;
  (void)be;
  if (!b.m && b.c == 0.0) for (j = 0; j < y->n; ++j) y->data[j] = av * x->data[j];
  else for (j = 0; j < y->n; ++j) y->data[j] = av * x->data[j] + bv * y->data[j];
  return DETCGD_OK;
}

/* One loop per map, free of the switch and of branches the data decide (sign of random data mispredicts half
 * the time), so the compiler turns each into selects on vectors.  sign(0) = 0 and NaN stays NaN. */
static int cpu_vec_map(DcBackend* be, int map, const DcVec* x, DcScalar t, DcVec* y) {
  const double* a = x->data;
  double tv = scalar_value(t), *b = y->data;
  int64_t j, n = y->n;
  (void)be;
  switch (map) {
    case DC_MAP_SIGN:
      for (j = 0; j < n; ++j) b[j] = a[j] > 0.0 ? 1.0 : a[j] < 0.0 ? -1.0 : a[j];
      break;
    case DC_MAP_SOFT_THRESHOLD:
      for (j = 0; j < n; ++j) b[j] = a[j] > tv ? a[j] - tv : a[j] < -tv ? a[j] + tv : 0.0 * a[j];
      break;
    case DC_MAP_CLIP:
      for (j = 0; j < n; ++j) b[j] = a[j] > tv ? tv : a[j] < -tv ? -tv : a[j];
      break;
    case DC_MAP_SHRINK:
      tv = tv < 1.0 ? tv : 1.0;
      for (j = 0; j < n; ++j) b[j] = tv * a[j];
      break;
    default:
      for (j = 0; j < n; ++j) b[j] = tv * a[j];
  }
  return DETCGD_OK;
}

/* ==== Trace snapshots: copied at once, stamped with the wall clock ==== */

struct DcRing {
  int64_t nm;
  double* m;       /* owns: slots x nm */
  int64_t* tally;  /* owns: slots x 2 */
  double* time;    /* owns: slots */
};

static void cpu_ring_destroy(DcBackend* be, DcRing** R) {
  (void)be;
  if (!R || !*R) return;
  free((*R)->m); free((*R)->tally); free((*R)->time);
  free(*R);
  *R = NULL;
}

static int cpu_ring_create(DcBackend* be, int slots, int64_t nmetrics, DcRing** R) {
  *R = (DcRing*)dc_calloc(1, sizeof(DcRing));
  if (!*R) return DETCGD_ERR_ALLOC;
  (*R)->nm = nmetrics;
  (*R)->m = (double*)dc_calloc((size_t)(slots * nmetrics), sizeof(double));
  (*R)->tally = (int64_t*)dc_calloc((size_t)slots * 2, sizeof(int64_t));
  (*R)->time = (double*)dc_calloc((size_t)slots, sizeof(double));
  if ((*R)->m && (*R)->tally && (*R)->time) return DETCGD_OK;
  cpu_ring_destroy(be, R);
  return DETCGD_ERR_ALLOC;
}

static int cpu_ring_put(DcBackend* be, DcRing* R, int slot, const DcVec* m, const DcSketch* S) {
  (void)be;
  memcpy(R->m + slot * R->nm, m->data, (size_t)R->nm * sizeof(double));
  R->tally[2 * slot] = S ? S->tally_coords : 0;
  R->tally[2 * slot + 1] = S ? S->tally_bits : 0;
  R->time[slot] = dc_wall_time();
  return DETCGD_OK;
}

static int cpu_ring_get(DcBackend* be, DcRing* R, int slot, int wait, int* ready, double* m, int64_t tally[2],
                        double* time) {
  (void)be;
  (void)wait;
  *ready = 1;
  memcpy(m, R->m + slot * R->nm, (size_t)R->nm * sizeof(double));
  tally[0] = R->tally[2 * slot];
  tally[1] = R->tally[2 * slot + 1];
  *time = R->time[slot];
  return DETCGD_OK;
}

/* ==== Replay: nothing to record on the CPU; a launch calls the body for each of its iterations ==== */

struct DcReplay { DcIterationFn body; void* ctx; int unroll; };

static int cpu_replay_create(DcBackend* be, DcIterationFn body, void* ctx, int unroll, DcReplay** R) {
  (void)be;
  *R = (DcReplay*)dc_calloc(1, sizeof(DcReplay));
  if (!*R) return DETCGD_ERR_ALLOC;
  (*R)->body = body;
  (*R)->ctx = ctx;
  (*R)->unroll = unroll;
  return DETCGD_OK;
}

static void cpu_replay_destroy(DcBackend* be, DcReplay** R) {
  (void)be;
  if (!R) return;
  free(*R);
  *R = NULL;
}

static int cpu_replay_run(DcBackend* be, DcReplay* R, uint32_t iter, int64_t n) {
  int64_t j, total = n * R->unroll;
  int st = DETCGD_OK;
  (void)be;
  for (j = 0; j < total && st == DETCGD_OK; ++j) st = R->body(R->ctx, iter + (uint32_t)j);
  return st;
}

/* ==== Profiling: nothing is queued on the CPU ==== */

static int cpu_sync(DcBackend* be) { (void)be; return DETCGD_OK; }
static void cpu_range(DcBackend* be, const char* name) { (void)be; (void)name; }

const DcBackendOps dc_backend_cpu_ops = {
  "cpu", cpu_open, cpu_close,
  cpu_vec_create, cpu_vec_destroy, cpu_vec_view, cpu_vec_upload, cpu_vec_download, cpu_vec_copy,
  cpu_axpy, cpu_dot, cpu_metric_set, cpu_vec_fill, cpu_rows_sum, cpu_axpby, cpu_vec_map,
  cpu_blocks_create, cpu_blocks_destroy, cpu_bd_apply,
  cpu_bd_quadform,
  cpu_sketch_create, cpu_sketch_destroy, cpu_sketch_sample, cpu_sketch_read, cpu_sketch_load,
  cpu_sketch_tally, cpu_sketch_set_tally, cpu_sketch_compress, cpu_sketch_accumulate,
  cpu_sketch_sample_rows, cpu_sketch_compress_rows, cpu_sketch_accumulate_rows, cpu_message_row_len,
  cpu_compress_values_rows,
  cpu_problem_create, cpu_problem_destroy, cpu_problem_grad, cpu_quad_residual, cpu_quad_step,
  cpu_clients_create, cpu_clients_destroy, cpu_clients_chunk, cpu_clients_grad,
  cpu_clients_grad_sampled, cpu_problem_grad_sampled,
  cpu_ring_create, cpu_ring_destroy, cpu_ring_put, cpu_ring_get,
  cpu_replay_create, cpu_replay_destroy, cpu_replay_run,
  cpu_sync, cpu_range,
  cpu_mc_moments,
  NULL, /* stepsize_setup: the host's LAPACK path of stepsize.c is the reference */
  NULL, /* device_bytes_peak: no device memory */
  cpu_problem_grad_many
};
