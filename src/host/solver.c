/*
 * solver.c -- the single-node solver: setup (sketch, stepsize, certificate,
 * f^inf) and the iteration loop, written only against backend ops.
 *
 *   GD        x+ = x - D grad f(x),        D = I / lambda_max(L)
 *   det-CGD1  x+ = x - D S^k grad f(x)     (kept columns of D)
 *   det-CGD2  x+ = x - T^k D grad f(x)     (kept rows of D)
 *
 * Every iteration adds ||grad f(x^k)||^2_D to a running sum kept by the
 * backend; f, ||grad f||^2 and the tallies are read only at trace points.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend.h"
#include "problem.h"
#include "sketch.h"
#include "stepsize.h"
#include "trace.h"

/* Slots of the metrics vector. */
enum { M_F = 0, M_G2, M_GD, M_GDSUM, M_COUNT };

struct DetcgdSolver {
  DetcgdSettings settings;
  const DetcgdProblem* problem; /* borrowed: must outlive the solver */
  DcBackend be;
  int be_open;
  DcSketchSpec sketch_spec;     /* owns */
  DcStepsize step;              /* owns */
  DcBlocks* D;                  /* owns */
  DcSketch* S;                  /* owns (NULL for the identity sketch) */
  DcProbData* P;                /* owns */
  DcVec *x, *g, *metrics;       /* owns */
  DetcgdResult result;
  const char* f_inf_source;
  int64_t f_inf_gd_iters;
  double f_inf_gd_grad_norm2;
};

static const char* const TABLE_HEADER[] = {"iter", "f", "||g||^2", "G_KD", "bits_up", "time"};

/* ==== Setup ==== */

static int build_sketch(DetcgdSolver* s) {
  const DetcgdSettings* c = &s->settings;
  if (c->method == DETCGD_METHOD_GD || c->sketch.kind == DETCGD_SKETCH_IDENTITY)
    return dc_sketch_spec_identity(&s->sketch_spec, &s->problem->layout, &c->comm);
  return dc_sketch_spec_build(&s->sketch_spec, &c->sketch, &c->comm, s->problem);
}

static double expected_coords(const DcSketchSpec* sp) {
  double n = 0.0;
  int i;
  for (i = 0; i < sp->layout->nblocks; ++i) n += dc_sketch_expected_count(sp, i);
  return n;
}

/* x = x0 / sqrt(d) * ones (the paper's starting point) */
static int upload_x0(DetcgdSolver* s) {
  int64_t d = s->problem->layout.dim, j;
  double* h = (double*)dc_calloc((size_t)d, sizeof(double));
  int st;
  if (!h) return DETCGD_ERR_ALLOC;
  for (j = 0; j < d; ++j) h[j] = s->settings.x0 / sqrt((double)d);
  st = s->be.ops->vec_upload(&s->be, s->x, h);
  free(h);
  return st;
}

static double read_metric(DetcgdSolver* s, int slot) {
  double m[M_COUNT];
  if (s->be.ops->vec_download(&s->be, s->metrics, m) != DETCGD_OK) return NAN;
  return m[slot];
}

/* f^inf: given, or the value of a GD run with D = I/lambda_max(L) from x0 (monotone). */
static int estimate_f_inf(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  DcHostBlocks hgd = {0};
  DcBlocks* Dgd = NULL;
  int64_t k;
  int st = DETCGD_OK;
  double t0 = dc_wall_time();
  if (!isnan(s->settings.f_inf)) {
    s->result.f_inf = s->settings.f_inf;
    s->f_inf_source = "given";
    return DETCGD_OK;
  }
  DC_TRY(dc_blocks_alloc(&hgd, &s->problem->layout, DC_BLOCKS_SCALAR));
  for (k = 0; k < s->problem->layout.nblocks; ++k) hgd.data[k] = 1.0 / s->problem->lmax;
  DC_TRY(o->blocks_create(&s->be, &hgd, &Dgd));
  DC_TRY(upload_x0(s));
  for (k = 0; k < s->settings.f_inf_iters; ++k) {
    DC_TRY(o->problem_grad(&s->be, s->P, s->x, s->g, s->metrics, -1));
    DC_TRY(o->bd_apply(&s->be, Dgd, s->g, -1.0, s->x));
  }
  DC_TRY(o->problem_grad(&s->be, s->P, s->x, s->g, s->metrics, M_F));
  DC_TRY(o->dot(&s->be, s->g, s->g, s->metrics, M_G2));
  s->result.f_inf = read_metric(s, M_F);
  s->f_inf_gd_grad_norm2 = read_metric(s, M_G2);
  s->f_inf_gd_iters = s->settings.f_inf_iters;
  s->f_inf_source = "GD estimate";
fail:
  o->blocks_destroy(&s->be, &Dgd);
  dc_blocks_free(&hgd);
  s->result.time_finf = dc_wall_time() - t0;
  return st;
}

static int allocate_state(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  int64_t d = s->problem->layout.dim;
  int st;
  if ((st = o->vec_create(&s->be, d, &s->x)) || (st = o->vec_create(&s->be, d, &s->g)) ||
      (st = o->vec_create(&s->be, M_COUNT, &s->metrics)))
    return st;
  if ((st = o->problem_create(&s->be, &s->problem->host, &s->P))) return st;
  if ((st = o->blocks_create(&s->be, &s->step.D, &s->D))) return st;
  if (s->sketch_spec.kind != DC_SK_IDENTITY) return o->sketch_create(&s->be, &s->sketch_spec, &s->S);
  return DETCGD_OK;
}

int detcgd_create(DetcgdSolver** out, const DetcgdProblem* p, const DetcgdSettings* set) {
  DetcgdSolver* s;
  int st;
  double t0 = dc_wall_time();
  if (!out || !p || !set) return dc_fail(DETCGD_ERR_ARG, "detcgd_create: NULL argument");
  *out = NULL;
  if ((st = detcgd_settings_validate(set)) != DETCGD_OK) return st;
  s = (DetcgdSolver*)dc_calloc(1, sizeof *s);
  if (!s) return DETCGD_ERR_ALLOC;
  *out = s;
  s->settings = *set;
  s->problem = p;
  DC_TRY(dc_backend_open(&s->be, set->backend));
  s->be_open = 1;
  s->result.backend = s->be.ops->name;
  DC_TRY(build_sketch(s));
  DC_TRY(dc_stepsize_build(&s->step, p, set, &s->sketch_spec));
  DC_TRY(allocate_state(s));
  s->result.certificate = s->step.certificate;
  s->result.log_det = s->step.log_det;
  s->result.det_factor = s->step.det_factor;
  s->result.coords_per_iter = expected_coords(&s->sketch_spec);
  s->result.time_setup = dc_wall_time() - t0;
  DC_TRY(estimate_f_inf(s));
  return DETCGD_OK;
fail:
  detcgd_destroy(out);
  return st;
}

void detcgd_destroy(DetcgdSolver** ps) {
  DetcgdSolver* s;
  if (!ps || !*ps) return;
  s = *ps;
  if (s->be_open) {
    const DcBackendOps* o = s->be.ops;
    o->vec_destroy(&s->be, &s->x);
    o->vec_destroy(&s->be, &s->g);
    o->vec_destroy(&s->be, &s->metrics);
    o->blocks_destroy(&s->be, &s->D);
    o->sketch_destroy(&s->be, &s->S);
    o->problem_destroy(&s->be, &s->P);
    dc_backend_close(&s->be);
  }
  dc_sketch_spec_free(&s->sketch_spec);
  dc_stepsize_free(&s->step);
  free(s);
  *ps = NULL;
}

/* ==== Console output ==== */

static int is_log_point(int64_t k) {
  int64_t p = 1;
  while (p * 10 <= k) p *= 10;
  return k < 10 || k % p == 0;
}

static void print_banner(const DetcgdSolver* s) {
  const DetcgdSettings* c = &s->settings;
  const DcLayout* lay = &s->problem->layout;
  dc_log(DETCGD_LOG_INFO, "detcgd %s | backend %s | d = %lld, %d layers | %s, sketch %s, stepsize %s%s%s\n",
         DETCGD_VERSION, s->be.ops->name, (long long)lay->dim, lay->nblocks, detcgd_method_name(c->method),
         s->sketch_spec.kind == DC_SK_IDENTITY ? "identity" : detcgd_sketch_name(c->sketch.kind),
         detcgd_stepsize_name(c->stepsize.kind), c->stepsize.kind == DETCGD_STEP_THM2 ? " W=" : "",
         c->stepsize.kind == DETCGD_STEP_THM2 ? detcgd_weight_name(c->stepsize.weight) : "");
  dc_log(DETCGD_LOG_INFO, "certificate %.6g | det(D)^(-1/d) %.6g | coords/iter %.6g | f_inf %.10g (%s)\n",
         s->result.certificate, s->result.det_factor, s->result.coords_per_iter, s->result.f_inf, s->f_inf_source);
  dc_log(DETCGD_LOG_INFO, "%8s %14s %12s %12s %14s %9s\n", TABLE_HEADER[0], TABLE_HEADER[1], TABLE_HEADER[2],
         TABLE_HEADER[3], TABLE_HEADER[4], TABLE_HEADER[5]);
}

static void print_progress(const DetcgdSolver* s, const DcTraceRow* r, double* last) {
  if (!s->settings.output.progress || !isatty(2) || r->time - *last < 0.2) return;
  *last = r->time;
  fprintf(stderr, "\r  iter %lld / %lld  G_KD %.4e  %.1fs ", (long long)r->iter,
          (long long)s->settings.term.max_iter, r->g_kd, r->time);
  fflush(stderr);
}

/* ==== The loop ==== */

/* Reads metrics and tallies into one trace row for iterate k (k+1 terms summed so far). */
static int make_row(DetcgdSolver* s, int64_t k, double t0, DcTraceRow* r) {
  double m[M_COUNT];
  int64_t coords = 0, bits = 0;
  int st = s->be.ops->vec_download(&s->be, s->metrics, m);
  if (st != DETCGD_OK) return st;
  if (s->S) st = s->be.ops->sketch_tally(&s->be, s->S, &coords, &bits);
  else {
    coords = k * s->problem->layout.dim; /* identity: every coordinate, values only */
    bits = coords * s->settings.comm.value_bits;
  }
  r->iter = k;
  r->f = m[M_F];
  r->grad_norm2 = m[M_G2];
  r->grad_norm2_d = m[M_GD] * s->step.det_factor;
  r->g_kd = m[M_GDSUM] / (double)(k + 1) * s->step.det_factor;
  r->coords = coords;
  r->bits_up = bits;
  r->bits_down = 0; /* single node: no broadcast */
  r->time = dc_wall_time() - t0;
  return st;
}

/* One update x <- x - D S g (det-CGD1), x - T D g (det-CGD2) or x - D g (S = I). */
static int update(DetcgdSolver* s, int64_t k) {
  const DcBackendOps* o = s->be.ops;
  int st;
  if (!s->S) return o->bd_apply(&s->be, s->D, s->g, -1.0, s->x);
  st = o->sketch_sample(&s->be, s->S, s->settings.seed, (uint32_t)k, 0);
  if (st != DETCGD_OK) return st;
  if (s->settings.method == DETCGD_METHOD_DET1) return o->bd_apply_cols(&s->be, s->D, s->S, s->g, -1.0, s->x);
  return o->bd_apply_rows(&s->be, s->D, s->S, s->g, -1.0, s->x);
}

/* Handles trace point k: writes the row, prints, decides whether to stop. */
static int trace_point(DetcgdSolver* s, DcTrace* tr, int64_t k, double t0, double* last_progress, int* stop) {
  DcTraceRow r;
  int st = s->be.ops->dot(&s->be, s->g, s->g, s->metrics, M_G2);
  if (st == DETCGD_OK) st = make_row(s, k, t0, &r);
  if (st == DETCGD_OK) st = dc_trace_write(tr, &r);
  if (st != DETCGD_OK) return st;
  if (s->settings.output.verbose >= 1 && (is_log_point(k) || k == s->settings.term.max_iter - 1))
    dc_log(DETCGD_LOG_INFO, "%8lld %14.7e %12.5e %12.5e %14lld %8.3fs\n", (long long)k, r.f, r.grad_norm2, r.g_kd,
           (long long)r.bits_up, r.time);
  print_progress(s, &r, last_progress);
  s->result.g_kd = r.g_kd;
  s->result.coords_sent = r.coords;
  s->result.bits_up = r.bits_up;
  if (!isfinite(r.f) || !isfinite(r.grad_norm2) || !isfinite(r.g_kd)) {
    s->result.termination = DETCGD_TERM_NONFINITE;
    dc_log(DETCGD_LOG_ERROR, "detcgd: non-finite value at iteration %lld (f = %g, ||g||^2 = %g, G = %g); stopping, trace kept\n",
           (long long)k, r.f, r.grad_norm2, r.g_kd);
    *stop = 1;
  } else if (s->settings.term.target_g > 0 && r.g_kd <= s->settings.term.target_g) {
    s->result.termination = DETCGD_TERM_TARGET_G;
    *stop = 1;
  }
  return DETCGD_OK;
}

/* f(x^K), ||grad f(x^K)||^2 and the bits of the last draws. */
static int finish(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  int st = o->problem_grad(&s->be, s->P, s->x, s->g, s->metrics, M_F);
  if (st == DETCGD_OK) st = o->dot(&s->be, s->g, s->g, s->metrics, M_G2);
  if (st != DETCGD_OK) return st;
  s->result.f_final = read_metric(s, M_F);
  s->result.grad_norm2_final = read_metric(s, M_G2);
  if (s->S) return o->sketch_tally(&s->be, s->S, &s->result.coords_sent, &s->result.bits_up);
  s->result.coords_sent = s->result.iterations * s->problem->layout.dim;
  s->result.bits_up = s->result.coords_sent * s->settings.comm.value_bits;
  return DETCGD_OK;
}

static int write_summary(const DetcgdSolver* s) {
  DcSummaryInfo info;
  DetcgdProblemInfo pinfo;
  const char* kinds[] = {"scalar", "diagonal", "dense"};
  detcgd_problem_info(s->problem, &pinfo);
  info.settings = &s->settings;
  info.problem = &s->problem->spec;
  info.pinfo = &pinfo;
  info.result = &s->result;
  info.f_inf_source = s->f_inf_source;
  info.f_inf_gd_iters = s->f_inf_gd_iters;
  info.f_inf_gd_grad_norm2 = s->f_inf_gd_iters ? s->f_inf_gd_grad_norm2 : NAN;
  info.certified_bound = s->result.iterations > 0
      ? 2.0 * s->result.f_initial * s->result.det_factor / (double)s->result.iterations : NAN;
  info.d_storage = kinds[s->step.D.kind];
  return dc_summary_write(s->settings.output.summary_path, &info);
}

int detcgd_run(DetcgdSolver* s) {
  const DcBackendOps* o;
  DcTrace tr;
  int64_t k, K;
  int st, stop = 0;
  double t0, last_progress = -1.0;
  if (!s) return dc_fail(DETCGD_ERR_ARG, "detcgd_run: NULL solver");
  o = s->be.ops;
  K = s->settings.term.max_iter;
  if ((st = dc_trace_open(&tr, s->settings.output.trace_path)) != DETCGD_OK) return st;
  DC_TRY(upload_x0(s));
  DC_TRY(o->vec_upload(&s->be, s->metrics, (const double[M_COUNT]){0, 0, 0, 0}));
  if (s->settings.output.verbose >= 1) print_banner(s);
  t0 = dc_wall_time();
  s->result.termination = DETCGD_TERM_MAX_ITER;
  for (k = 0; k < K && !stop; ++k) {
    int timed_out = s->settings.term.time_limit > 0 && dc_wall_time() - t0 >= s->settings.term.time_limit;
    int is_trace = k % s->settings.output.trace_every == 0 || k == K - 1 || timed_out;
    DC_TRY(o->problem_grad(&s->be, s->P, s->x, s->g, s->metrics, is_trace ? M_F : -1));
    if (k == 0) s->result.f_initial = read_metric(s, M_F);
    DC_TRY(o->bd_quadform(&s->be, s->D, s->g, s->metrics, M_GD));
    DC_TRY(o->metric_add(&s->be, s->metrics, M_GDSUM, M_GD));
    s->result.iterations = k + 1; /* gradient terms in G_{K,D} */
    if (is_trace) DC_TRY(trace_point(s, &tr, k, t0, &last_progress, &stop));
    if (stop) break;
    DC_TRY(update(s, k));
    if (timed_out) { s->result.termination = DETCGD_TERM_TIME; stop = 1; }
  }
  s->result.time_iterate = dc_wall_time() - t0;
  DC_TRY(finish(s));
  if (s->result.iterations == 0) s->result.f_initial = s->result.f_final;
  s->result.theorem1_bound = s->result.iterations > 0
      ? 2.0 * (s->result.f_initial - s->result.f_inf) * s->result.det_factor / (double)s->result.iterations : NAN;
  if (s->settings.output.progress && isatty(2)) fputs("\r\033[K", stderr);
  if (s->settings.output.verbose >= 1)
    dc_log(DETCGD_LOG_INFO, "Summary: %s after %lld iterations | f %.10g | G_KD %.6e | Theorem 1 bound %.6e | %.3f s\n",
           detcgd_termination_str(s->result.termination), (long long)s->result.iterations, s->result.f_final,
           s->result.g_kd, s->result.theorem1_bound, s->result.time_iterate);
  st = write_summary(s);
fail:
  dc_trace_close(&tr);
  return st;
}

int detcgd_get_result(const DetcgdSolver* s, DetcgdResult* r) {
  if (!s || !r) return dc_fail(DETCGD_ERR_ARG, "detcgd_get_result: NULL argument");
  *r = s->result;
  return DETCGD_OK;
}

int detcgd_get_x(const DetcgdSolver* s, double* x) {
  if (!s || !x) return dc_fail(DETCGD_ERR_ARG, "detcgd_get_x: NULL argument");
  return s->be.ops->vec_download((DcBackend*)&s->be, s->x, x);
}

/* ==== Theory ==== */

int detcgd_theory(const DetcgdProblem* p, const DetcgdSettings* set, DetcgdTheory* t) {
  DcSketchSpec sp;
  DcStepsize step;
  DetcgdSettings c;
  int st;
  if (!p || !set || !t) return dc_fail(DETCGD_ERR_ARG, "detcgd_theory: NULL argument");
  if ((st = detcgd_settings_validate(set)) != DETCGD_OK) return st;
  c = *set;
  c.stepsize.force = 1; /* report the certificate even when it exceeds 1 */
  st = (c.method == DETCGD_METHOD_GD || c.sketch.kind == DETCGD_SKETCH_IDENTITY)
           ? dc_sketch_spec_identity(&sp, &p->layout, &c.comm)
           : dc_sketch_spec_build(&sp, &c.sketch, &c.comm, p);
  if (st != DETCGD_OK) return st;
  st = dc_stepsize_build(&step, p, &c, &sp);
  if (st == DETCGD_OK) {
    t->certificate = step.certificate;
    t->log_det = step.log_det;
    t->det_factor = step.det_factor;
    t->coords_per_iter = expected_coords(&sp);
    t->comm_factor = t->det_factor * t->coords_per_iter;
    dc_stepsize_free(&step);
  }
  dc_sketch_spec_free(&sp);
  return st;
}
