/*
 * solver.c -- the solver: setup (sketch, stepsize, certificate, f^inf) and the
 * iteration loop, written only against rounds (round.h) and backend ops.
 *
 * An iteration is a round of the method: the clients' gradients at x^k (a
 * single node: one client, the whole problem), the metrics of x^k, its trace
 * row, then the method's messages and server step to x^{k+1}.  Every
 * iteration adds ||grad f(x^k)||^2_D to a running sum kept by the backend;
 * f, ||grad f||^2 and the tallies are read only at trace points.  Over MPI
 * (solver_dist.c) rank 0 also receives the other ranks' messages and
 * broadcasts x^{k+1}.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "solver.h"

static const char* const TABLE_HEADER[] = {"iter", "f", "||g||^2", "G_KD", "bits_up", "time"};

/* ==== Setup ==== */

static int build_sketch(DetcgdSolver* s) {
  const DetcgdSettings* c = &s->settings;
  return dc_method_sketch_spec(&s->sketch_spec, s->method, c, s->problem);
}

/* x = x0 / sqrt(d) * ones (the paper's starting point), spread when asked */
static int upload_x0(DetcgdSolver* s) {
  int64_t d = s->problem->layout.dim;
  double* h = (double*)dc_calloc((size_t)d, sizeof(double));
  int st;
  if (!h) return DETCGD_ERR_ALLOC;
  detcgd_starting_point(&s->settings, d, h);
  st = s->be.ops->vec_upload(&s->be, s->x, h);
  free(h);
  return st;
}

static double read_metric(DetcgdSolver* s, int slot) {
  double m[M_COUNT];
  if (s->be.ops->vec_download(&s->be, s->metrics, m) != DETCGD_OK) return NAN;
  return m[slot];
}

int dc_gd_estimate(DetcgdSolver* s, const DcProbData* P, double step, double* f, double* g2) {
  const DcBackendOps* o = s->be.ops;
  DcHostBlocks hgd = {0};
  DcBlocks* Dgd = NULL;
  int64_t k;
  int st = DETCGD_OK;
  DC_TRY(dc_blocks_alloc(&hgd, &s->problem->layout, DC_BLOCKS_SCALAR));
  for (k = 0; k < s->problem->layout.nblocks; ++k) hgd.data[k] = step;
  DC_TRY(o->blocks_create(&s->be, &hgd, &Dgd));
  DC_TRY(upload_x0(s));
  for (k = 0; k <= s->settings.f_inf_iters; ++k) {
    int last = k == s->settings.f_inf_iters;
    if (!P) DC_TRY(dc_round_gradient(&s->round, last ? M_F : -1));
    else DC_TRY(o->problem_grad(&s->be, P, s->x, s->g, s->metrics, last ? M_F : -1));
    if (!last) DC_TRY(o->bd_apply(&s->be, Dgd, DC_SEL_FULL, NULL, s->g, -1.0, s->x));
  }
  DC_TRY(o->dot(&s->be, s->g, s->g, s->metrics, M_G2));
  *f = read_metric(s, M_F) / (P ? 1 : s->nclients);
  if (g2) *g2 = read_metric(s, M_G2);
fail:
  o->blocks_destroy(&s->be, &Dgd);
  dc_blocks_free(&hgd);
  return st;
}

/* optimum solve: x* of f + R on the host (detcgd_optimum), then on the backend for the trace's dist2. */
static int solve_optimum(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  int64_t d = s->problem->layout.dim;
  double t0 = dc_wall_time();
  int st;
  if (!(s->x_star_host = (double*)dc_calloc((size_t)d, sizeof(double)))) return DETCGD_ERR_ALLOC;
  st = detcgd_optimum(s->problem, &s->settings, s->x_star_host, &s->optimum);
  if (st == DETCGD_OK) st = o->vec_create(&s->be, d, &s->x_star);
  if (st == DETCGD_OK) st = o->vec_create(&s->be, d, &s->x_diff);
  if (st == DETCGD_OK) st = o->vec_upload(&s->be, s->x_star, s->x_star_host);
  s->time_optimum = dc_wall_time() - t0;
  return st;
}

/* The progress line (stderr, when it is a terminal and progress is on): a setup step, or cleared. */
static int progress_shown(const DetcgdSolver* s) { return s->settings.output.progress && isatty(2); }

static void note_setup(const DetcgdSolver* s, const char* what) {
  if (!progress_shown(s)) return;
  fprintf(stderr, "\r\033[K  setup: %s ...", what);
  fflush(stderr);
}

static void clear_progress(const DetcgdSolver* s) {
  if (progress_shown(s)) fputs("\r\033[K", stderr);
}

/* f^inf: f(x*) (optimum solve), given, exact (poly-nc: f >= 0 = f(0)), or the value of GD with D = I/lambda_max(L)
 * from x0 (monotone): on f = (1/n) sum_c f_c. */
static int estimate_f_inf(DetcgdSolver* s) {
  double t0 = dc_wall_time();
  int st;
  note_setup(s, s->settings.optimum == DETCGD_OPTIMUM_SOLVE ? "x* (optimum solve)"
                : isnan(s->settings.f_inf) ? "f^inf estimate (GD)" : "f^inf");
  if (s->settings.optimum == DETCGD_OPTIMUM_SOLVE) {
    st = s->x_star ? DETCGD_OK : solve_optimum(s);
    s->result.f_inf = s->optimum.f_smooth;
    s->f_inf_source = "f(x*), x* of optimum solve (certified: theory.optimum)";
    s->result.time_finf += dc_wall_time() - t0;
    return st;
  }
  if (!isnan(s->settings.f_inf)) {
    s->result.f_inf = s->settings.f_inf;
    s->f_inf_source = "given";
    return DETCGD_OK;
  }
  if (s->problem->spec.kind == DETCGD_PROBLEM_POLY_NC) {
    s->result.f_inf = 0.0;
    s->f_inf_source = "exact (poly-nc: f >= 0 = f(0))";
    return DETCGD_OK;
  }
  st = dc_gd_estimate(s, NULL, 1.0 / s->problem->lmax, &s->result.f_inf, &s->f_inf_gd_grad_norm2);
  s->f_inf_gd_iters = s->settings.f_inf_iters;
  s->f_inf_source = "GD estimate";
  s->result.time_finf += dc_wall_time() - t0;
  return st;
}

/* x, g, the metrics, the transport and the rounds: one client in place, or the clients summed. */
static int allocate_state(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  int64_t d = s->problem->layout.dim;
  int st, sparse, gkd_every = s->settings.output.gkd_points == DETCGD_GKD_EVERY;
  if ((st = o->vec_create(&s->be, d, &s->x)) || (st = o->vec_create(&s->be, d, &s->g)) ||
      (st = o->vec_create(&s->be, d, &s->sign_g)) || (st = o->vec_create(&s->be, M_COUNT, &s->metrics)))
    return st;
  if (s->dist) {
    st = dc_dist_setup(s);
    dc_round_bind(&s->round, NULL, s->x, s->g, s->agg, s->metrics, s->settings.seed, s->settings.comm.value_bits);
    return st == DETCGD_OK ? dc_round_set_oracle(&s->round, s->settings.batch, gkd_every) : st;
  }
  if ((st = dc_transport_open(&s->tr, DETCGD_DIST_SIM, 1, 0)) != DETCGD_OK) return st;
  /* worth it when a step moves at most half the coordinates on average (else A is read in full anyway) */
  sparse = s->settings.sparse_steps && s->problem->spec.kind == DETCGD_PROBLEM_QUAD_NC &&
           (s->method->step_flags & DC_STEP_KEPT_ROWS) && 2.0 * dc_sketch_expected_coords(&s->sketch_spec) <= (double)d;
  st = dc_round_open_in_place(&s->round, &s->be, s->method, &s->phases, &s->problem->host, &s->sketch_spec, sparse);
  s->S = s->round.S;
  dc_round_bind(&s->round, NULL, s->x, s->g, NULL, s->metrics, s->settings.seed, s->settings.comm.value_bits);
  return st == DETCGD_OK ? dc_round_set_oracle(&s->round, s->settings.batch, gkd_every) : st;
}

/* f(x0) for the distributed bounds (on the backend). */
static int f_at_x0(DetcgdSolver* s, double* f0) {
  int st = upload_x0(s);
  if (st == DETCGD_OK) st = dc_round_gradient(&s->round, M_F);
  *f0 = read_metric(s, M_F) / s->nclients;
  return st;
}

/* Distributed stepsize: needs f^inf, the clients' f_c^inf and f(x0) first. */
static int build_dist_stepsize(DetcgdSolver* s) {
  DcDistInputs in;
  double f0;
  int st = estimate_f_inf(s);
  if (st == DETCGD_OK) st = f_at_x0(s, &f0);
  if (st != DETCGD_OK) return st;
  in.f0_gap = f0 - s->result.f_inf;
  if (s->settings.dist.delta_inf == DETCGD_DELTA_CERTIFIED) {
    in.delta_inf = s->result.f_inf; /* f_c >= 0 for logreg-nc: f_c^inf >= 0, so Delta^inf <= f^inf */
  } else {
    in.delta_inf = s->result.f_inf - s->fc_inf_mean;
    if (in.delta_inf < 0) in.delta_inf = 0; /* Delta^inf >= 0 in theory; estimates can cross */
  }
  s->result.delta_inf = in.delta_inf;
  return dc_dist_stepsize(&s->step, &s->dtheory, s->problem, &s->settings, &s->sketch_spec, &in);
}

/* The problem's l-inf geometry, taken once per solver (an eigen-decomposition per layer). */
static int take_geometry(DetcgdSolver* s) {
  int st = s->geometry_taken ? DETCGD_OK : detcgd_geometry(s->problem, -1, &s->geometry);
  s->geometry_taken = st == DETCGD_OK;
  return st;
}

/* Does this run report the l-inf geometry (summary, the trace's sign_advantage)?  on, or auto and d <= 10^5. */
static int geometry_reported(const DetcgdSolver* s) {
  int report = s->settings.output.geometry;
  return report == DETCGD_GEOMETRY_ON || (report == DETCGD_GEOMETRY_AUTO && s->problem->layout.dim <= 100000);
}

/* The method's state, once f(x^0) - f^inf is known. */
static int create_method(DetcgdSolver* s) {
  DcMethodSetup m;
  double f0;
  int st = f_at_x0(s, &f0);
  if (st == DETCGD_OK) st = take_geometry(s);
  m.problem = s->problem;
  m.geometry = &s->geometry;
  m.settings = &s->settings;
  m.spec = &s->sketch_spec;
  m.f0_gap = f0 - s->result.f_inf;
  m.x_star = s->x_star_host;
  return st == DETCGD_OK ? s->method->create(&s->round, &m) : st;
}

/* A method with a matrix step of its own (det-marina, det-dasha: DC_STEP_NO_MATRIX, D theirs) reports its
 * det(D)^{-1/d} and its condition (the certificate) among its facts: the run's and the theory's figures. */
static void own_matrix_step(const DcRound* r, const DcMethodType* m, double* certificate, double* det_factor,
                            double* log_det) {
  DcMethodFact f[DC_SUMMARY_FACTS];
  int n = m->facts ? m->facts(r, f, DC_SUMMARY_FACTS) : 0, i;
  for (i = 0; i < n; ++i) {
    if (!strcmp(f[i].key, "condition")) *certificate = f[i].value;
    if (!strcmp(f[i].key, "det_factor")) {
      *det_factor = f[i].value;
      *log_det = -(double)r->dim * log(f[i].value);
    }
  }
}

static int check_dist_settings(const DetcgdSettings* c) {
  const DcMethodType* m = dc_method_type(c->method);
  if (!m->algorithm) return dc_fail(DETCGD_ERR_ARG, "method: %s has no distributed form (clients > 0)", m->name);
  if (m->step_flags & DC_STEP_NO_MATRIX) return DETCGD_OK; /* the stepsize options are not read */
  if (c->stepsize.kind != DETCGD_STEP_COR1 && c->stepsize.kind != DETCGD_STEP_DCGD_KR)
    return dc_fail(DETCGD_ERR_ARG, "stepsize: distributed runs use cor1 (Corollary 1) or dcgd-kr (scalar DCGD), not %s",
                   detcgd_stepsize_name(c->stepsize.kind));
  return DETCGD_OK;
}

/* Peak device (the backend's) and host memory so far. */
static void note_memory(DetcgdSolver* s) {
  s->result.device_bytes_peak = s->be.ops->device_bytes_peak ? s->be.ops->device_bytes_peak(&s->be) : 0;
  s->result.host_bytes_peak = dc_host_bytes_peak();
}

/* Is the file at a (when it exists) the file at b? */
static int same_file(const char* a, const char* b) {
  struct stat sa, sb;
  if (!a[0] || !b[0]) return 0;
  if (!strcmp(a, b)) return 1;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* No output may overwrite an input (the data, a stepsize file, the checkpoint resumed from) or another output. */
static int check_outputs(const DetcgdProblem* p, const DetcgdSettings* c) {
  const char* outs[3][2] = {{"trace", c->output.trace_path}, {"summary", c->output.summary_path},
                            {"checkpoint", c->output.checkpoint_path}};
  const char* ins[3][2] = {{"data", p->spec.data_path}, {"stepsize-file", c->stepsize.file}, {"resume", c->output.resume_path}};
  int i, j;
  for (i = 0; i < 3; ++i) {
    for (j = 0; j < 3; ++j)
      if (same_file(outs[i][1], ins[j][1]) && !(i == 2 && j == 2)) /* a run may checkpoint where it resumed from */
        return dc_fail(DETCGD_ERR_ARG, "%s: %s is the %s file; writing it would overwrite an input", outs[i][0],
                       outs[i][1], ins[j][0]);
    for (j = 0; j < i; ++j)
      if (same_file(outs[i][1], outs[j][1]))
        return dc_fail(DETCGD_ERR_ARG, "%s: %s is also the %s file", outs[i][0], outs[i][1], outs[j][0]);
  }
  return DETCGD_OK;
}

static const char* const* trace_columns(DetcgdSolver* s);

int detcgd_create(DetcgdSolver** out, const DetcgdProblem* p, const DetcgdSettings* set) {
  DetcgdSolver* s;
  int st;
  const char* why;
  double t0 = dc_wall_time();
  if (!out || !p || !set) return dc_fail(DETCGD_ERR_ARG, "detcgd_create: NULL argument");
  *out = NULL;
  if ((st = detcgd_settings_validate(set)) != DETCGD_OK) return st;
  if ((st = check_outputs(p, set)) != DETCGD_OK) return st;
  if (p->nclients > 0 && (st = check_dist_settings(set)) != DETCGD_OK) return st;
  if (set->batch > 0 && (why = detcgd_option_unread(&p->spec, set, "batch", DETCGD_CMD_RUN)))
    return dc_fail(DETCGD_ERR_ARG, "batch: %s, not by %s on %s", why, detcgd_method_name(set->method),
                   detcgd_problem_kind_name(p->spec.kind));
  if (p->nclients == 0 && (set->stepsize.kind == DETCGD_STEP_COR1 || set->stepsize.kind == DETCGD_STEP_DCGD_KR))
    return dc_fail(DETCGD_ERR_ARG, "clients: stepsize %s is for distributed runs; set clients >= 1", detcgd_stepsize_name(set->stepsize.kind));
  s = (DetcgdSolver*)dc_calloc(1, sizeof *s);
  if (!s) return DETCGD_ERR_ALLOC;
  *out = s;
  s->settings = *set;
  s->problem = p;
  s->method = dc_method_type(set->method);
  s->dist = p->nclients > 0;
  s->nclients = s->dist ? p->nclients : 1;
  s->result.lambda_d = s->result.delta_inf = s->result.k_lower_bound = s->result.theorem3_bound = NAN;
  DC_TRY(dc_backend_open(&s->be, set->backend));
  s->be_open = 1;
  s->phases.be = &s->be;
  s->phases.profile = set->output.profile;
  s->result.backend = s->be.ops->name;
  note_setup(s, "sketch and state");
  DC_TRY(build_sketch(s));
  DC_TRY(allocate_state(s));
  note_setup(s, "stepsize and its certificate");
  if (s->method->step_flags & DC_STEP_NO_MATRIX) DC_TRY(dc_stepsize_identity(&s->step, p));
  else if (s->dist) DC_TRY(build_dist_stepsize(s));
  else DC_TRY(dc_stepsize_build(&s->step, p, set, &s->sketch_spec, &s->be, s->round.P, &s->D));
  if (!s->D) DC_TRY(s->be.ops->blocks_create(&s->be, &s->step.D, &s->D));
  s->round.D = s->D;
  dc_blocks_free(&s->step.D); /* the backend holds D now; its kind stays for the summary */
  s->result.stepsize_setup = s->step.built_on ? s->step.built_on : "host";
  s->result.certificate = s->step.certificate;
  s->result.log_det = s->step.log_det;
  s->result.det_factor = s->step.det_factor;
  s->result.coords_per_iter = dc_sketch_expected_coords(&s->sketch_spec) * s->nclients;
  if (s->dist && !(s->method->step_flags & DC_STEP_NO_MATRIX)) { /* build_dist_stepsize estimated f^inf */
    s->result.lambda_d = s->dtheory.lambda_d;
    s->result.k_lower_bound = s->dtheory.k_lower_bound;
  } else {
    DC_TRY(estimate_f_inf(s));
  }
  if (s->method->create) DC_TRY(create_method(s));
  own_matrix_step(&s->round, s->method, &s->result.certificate, &s->result.det_factor, &s->result.log_det);
  note_setup(s, "l-inf geometry");
  if (geometry_reported(s)) DC_TRY(take_geometry(s)); /* the trace's sign_advantage: rows are kept in memory always */
  clear_progress(s);
  dc_trace_rows_name(&s->trace_rows, trace_columns(s));
  s->result.time_setup = dc_wall_time() - t0 - s->result.time_finf;
  note_memory(s);
  return DETCGD_OK;
fail:
  clear_progress(s);
  detcgd_destroy(out);
  return st;
}

void detcgd_destroy(DetcgdSolver** ps) {
  DetcgdSolver* s;
  if (!ps || !*ps) return;
  s = *ps;
  if (s->be_open) {
    const DcBackendOps* o = s->be.ops;
    dc_dist_free(s);
    dc_round_close(&s->round);
    dc_transport_close(&s->tr);
    o->vec_destroy(&s->be, &s->x);
    o->vec_destroy(&s->be, &s->g);
    o->vec_destroy(&s->be, &s->metrics);
    o->vec_destroy(&s->be, &s->sign_g);
    o->vec_destroy(&s->be, &s->x_star);
    o->vec_destroy(&s->be, &s->x_diff);
    o->blocks_destroy(&s->be, &s->D);
    dc_backend_close(&s->be);
  }
  dc_sketch_spec_free(&s->sketch_spec);
  dc_stepsize_free(&s->step);
  free(s->x_star_host);
  free(s->trace_rows.data);
  free(s->summary_json);
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
  dc_log(DETCGD_LOG_INFO, "detcgd %s | backend %s | d = %lld, %d layers%s | %s, sketch %s, stepsize %s%s%s\n",
         DETCGD_VERSION, s->be.ops->name, (long long)lay->dim, lay->nblocks, s->dist ? " | distributed" : "",
         detcgd_method_name(c->method),
         s->sketch_spec.kind == DC_SK_IDENTITY ? "identity" : detcgd_sketch_name(c->sketch.kind),
         detcgd_stepsize_name(c->stepsize.kind),
         c->stepsize.kind == DETCGD_STEP_THM2 || c->stepsize.kind == DETCGD_STEP_COR1 ? " W=" : "",
         c->stepsize.kind == DETCGD_STEP_THM2 || c->stepsize.kind == DETCGD_STEP_COR1 ? detcgd_weight_name(c->stepsize.weight) : "");
  if (s->dist)
    dc_log(DETCGD_LOG_INFO, "clients %d on %d rank(s) | lambda_D %.6g | Delta_inf %.6g | K >= %.6g for eps^2 = %g\n",
           s->nclients, s->tr.nranks, s->result.lambda_d, s->result.delta_inf, s->result.k_lower_bound,
           c->dist.epsilon2);
  dc_log(DETCGD_LOG_INFO, "certificate %.6g | det(D)^(-1/d) %.6g | coords/iter %.6g | f_inf %.10g (%s)\n",
         s->result.certificate, s->result.det_factor, s->result.coords_per_iter, s->result.f_inf, s->f_inf_source);
  dc_log(DETCGD_LOG_INFO, "%8s %14s %12s %12s %14s %9s\n", TABLE_HEADER[0], TABLE_HEADER[1], TABLE_HEADER[2],
         TABLE_HEADER[3], TABLE_HEADER[4], TABLE_HEADER[5]);
}

/* "1m05s" */
static void put_duration(char* out, size_t cap, double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) snprintf(out, cap, "?");
  else if (seconds < 60) snprintf(out, cap, "%.0fs", seconds);
  else if (seconds < 3600) snprintf(out, cap, "%dm%02ds", (int)(seconds / 60), (int)seconds % 60);
  else snprintf(out, cap, "%dh%02dm", (int)(seconds / 3600), (int)(seconds / 60) % 60);
}

/* The progress line: iteration, share done, rate, time left (to K or the time limit), G_KD. */
static void print_progress(const DetcgdSolver* s, const DcTraceRow* r, double* last) {
  int64_t K = s->settings.term.max_iter, done = r->iter + 1;
  double rate, left;
  char eta[32];
  if (!progress_shown(s) || r->time - *last < 0.2) return;
  *last = r->time;
  rate = r->time > 0 ? (double)done / r->time : 0.0;
  left = rate > 0 ? (double)(K - done) / rate : NAN;
  if (s->settings.term.time_limit > 0 && s->settings.term.time_limit - r->time < left)
    left = s->settings.term.time_limit - r->time;
  put_duration(eta, sizeof eta, left);
  fprintf(stderr, "\r\033[K  iter %lld / %lld (%.0f%%)  %.3g it/s  %s left  G_KD %.4e", (long long)r->iter,
          (long long)K, 100.0 * (double)done / (double)K, rate, eta, r->g_kd);
  fflush(stderr);
}

/* ==== The loop ==== */

/* m[M_G1] = ||g||_1 = sign(g) . g (two ops, at trace points and at the end only). */
static int norm1(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  DcScalar none = {0.0, NULL, 0, 1.0};
  int st = o->vec_map(&s->be, DC_MAP_SIGN, s->g, none, s->sign_g);
  return st == DETCGD_OK ? o->dot(&s->be, s->sign_g, s->g, s->metrics, M_G1) : st;
}

/* Bits of one round's messages without a sketch: the method's, or d values of value-bits. */
static int64_t bits_per_round(const DetcgdSolver* s) {
  int64_t d = s->problem->layout.dim;
  int vb = s->settings.comm.value_bits;
  return s->method->message_bits ? s->method->message_bits(&s->problem->layout, &s->settings) : d * vb;
}

/* Bits of the server's broadcast to one client per round: the method's, or x in double. */
static int64_t downlink_bits(const DetcgdSolver* s) {
  int64_t d = s->problem->layout.dim;
  return s->method->downlink_bits ? s->method->downlink_bits(d) : 64 * d;
}

/* Sample gradients the clients' messages read per round: each client's rows (1 for quad-nc) or its minibatch. */
static int64_t samples_per_round(const DetcgdSolver* s) {
  const DetcgdProblem* p = s->problem;
  int64_t n = 0;
  int c;
  if (!s->dist) return s->settings.batch ? s->settings.batch : p->host.nrows ? p->host.nrows : 1;
  for (c = 0; c < s->nclients; ++c)
    n += s->settings.batch ? s->settings.batch : p->client_host[c].nrows ? p->client_host[c].nrows : 1;
  return n;
}

/* The host keeps the uplink tally (summed rounds: the messages received too; the identity in place), or the
 * sketch on the backend does. */
static int tally_on_host(const DetcgdSolver* s) { return s->round.delivery == DC_DELIVER_SUMMED || !s->S; }

/* Terms summed in G_{K,D} at the row of iterate k: every k' <= k, or (gkd = trace) the trace points up to
 * k: the grid 0, t, 2t, ... and k itself when it is off the grid (the last row, or a timed-out one). */
static double gkd_terms(const DetcgdSolver* s, int64_t k) {
  int64_t t = s->settings.output.trace_every;
  return s->settings.output.gkd_points == DETCGD_GKD_EVERY ? (double)(k + 1) : (double)(k / t + 1 + (k % t != 0));
}

/* Trace row of a queued iterate k from its copied metrics, tally and time. */
static void fill_row(const DetcgdSolver* s, const DcLoop* L, const DcPendingRow* p, const double* m,
                     const int64_t* tally, double time, DcTraceRow* r) {
  int64_t k = p->iter;
  int i;
  r->iter = k;
  r->f = m[M_F] / s->nclients;
  r->grad_norm2 = m[M_G2];
  r->grad_norm1 = m[M_G1];
  r->grad_norm2_d = m[M_GD] * s->step.det_factor;
  r->g_kd = m[M_GDSUM] / gkd_terms(s, k) * s->step.det_factor;
  r->coords = tally_on_host(s) ? p->coords : tally[0];
  r->bits_up = tally_on_host(s) ? p->bits : tally[1];
  r->bits_down = s->dist ? k * s->nclients * downlink_bits(s) : 0;
  r->samples = k * samples_per_round(s);
  r->grad_density = r->grad_norm2 > 0 ? r->grad_norm1 * r->grad_norm1 / ((double)s->problem->layout.dim * r->grad_norm2) : NAN;
  r->sign_advantage = s->geometry_taken ? r->grad_density * s->geometry.advantage_lo : NAN;
  for (i = 0; i < DC_METHOD_METRICS; ++i) r->method[i] = m[M_METHOD + i];
  for (i = 0; s->method->trace_columns && s->method->trace_columns[i] && i < DC_METHOD_METRICS; ++i) {}
  r->method[i] = m[M_DIST2]; /* after the method's columns: written only with x* */
  r->time = time - L->t0;
}

int dc_gradient_metrics(DetcgdSolver* s, int is_trace) {
  const DcBackendOps* o = s->be.ops;
  int st;
  if (!is_trace && s->settings.output.gkd_points == DETCGD_GKD_TRACE) return DETCGD_OK;
  dc_phase_begin(&s->phases, PH_METRICS);
  st = o->bd_quadform(&s->be, s->D, s->g, s->metrics, M_GD, M_GDSUM);
  return st == DETCGD_OK ? dc_phase_end(&s->phases, PH_METRICS) : st;
}

/* Iteration k without a trace row at rank 0: the round up to the server, the metrics of x^k, the other ranks'
 * messages, x^{k+1}, and x^{k+1} and the stop flag to every rank. */
static int untraced_iteration(DetcgdSolver* s, int64_t k, int finish_as, int* stop) {
  int st = dc_round_run(&s->round, (uint32_t)k, -1, s->tr.last_client);
  if (st == DETCGD_OK) st = dc_gradient_metrics(s, 0);
  if (st == DETCGD_OK) st = dc_dist_receive(s, k);
  if (st == DETCGD_OK) st = dc_round_serve(&s->round);
  if (finish_as) { s->result.termination = finish_as; *stop = 1; }
  return st == DETCGD_OK ? dc_dist_broadcast_x(s, stop) : st;
}

/* The body of a replay on one rank (sketches drawn for `iter`; backend ops only). */
static int plain_iteration(void* ctx, uint32_t iter) {
  int stop = 0;
  return untraced_iteration((DetcgdSolver*)ctx, iter, 0, &stop);
}

/* Writes and prints row r; *row_stop when the run ends there (non-finite values, target G reached). */
static int write_row(DetcgdSolver* s, DcLoop* L, const DcTraceRow* r, int* row_stop) {
  int st = dc_trace_write(&L->trace, r);
  if (st != DETCGD_OK) return st;
  if (s->settings.output.verbose >= 1 && (is_log_point(r->iter) || r->iter == s->settings.term.max_iter - 1)) {
    if (L->last_progress >= 0) { /* the table row replaces the progress line, which returns under it */
      clear_progress(s);
      L->last_progress = -1.0;
    }
    dc_log(DETCGD_LOG_INFO, "%8lld %14.7e %12.5e %12.5e %14lld %8.3fs\n", (long long)r->iter, r->f, r->grad_norm2,
           r->g_kd, (long long)r->bits_up, r->time);
  }
  print_progress(s, r, &L->last_progress);
  if (r->iter == 0) s->result.f_initial = r->f;
  s->result.g_kd = r->g_kd;
  if (!(r->grad_norm2 >= s->result.grad_norm2_min)) s->result.grad_norm2_min = r->grad_norm2; /* NaN: the first row */
  if (!(r->grad_norm1 >= s->result.grad_norm1_min)) s->result.grad_norm1_min = r->grad_norm1;
  s->l1_sum += r->grad_norm1;
  s->result.grad_norm1_mean = s->l1_sum / (double)++s->l1_rows;
  if (!isfinite(r->f) || !isfinite(r->grad_norm2) || !isfinite(r->g_kd)) {
    s->result.termination = DETCGD_TERM_NONFINITE;
    dc_log(DETCGD_LOG_ERROR, "detcgd: non-finite value at iteration %lld (f = %g, ||g||^2 = %g, G = %g); stopping, trace kept\n",
           (long long)r->iter, r->f, r->grad_norm2, r->g_kd);
    *row_stop = 1;
  } else if (s->settings.term.target_g > 0 && r->g_kd <= s->settings.term.target_g) {
    s->result.termination = DETCGD_TERM_TARGET_G;
    *row_stop = 1;
  }
  if (*row_stop) s->result.iterations = r->iter + 1; /* iterates 0..k seen at the stopping row */
  return DETCGD_OK;
}

int dc_trace_drain(DetcgdSolver* s, DcLoop* L, int wait, int* stop) {
  double m[M_COUNT], t;
  int64_t tally[2];
  int st = DETCGD_OK, ready, row_stop = 0;
  while (L->count > 0 && !row_stop) {
    DcTraceRow r;
    st = s->be.ops->ring_get(&s->be, L->ring, L->head, wait || L->count == DC_RING_SLOTS, &ready, m, tally, &t);
    if (st != DETCGD_OK || !ready) break;
    fill_row(s, L, &L->pending[L->head], m, tally, t, &r);
    st = write_row(s, L, &r, &row_stop);
    if (st != DETCGD_OK) break;
    L->head = (L->head + 1) % DC_RING_SLOTS;
    --L->count;
  }
  if (row_stop) {
    *stop = 1;
    L->count = 0; /* the rows queued after the stopping one are not written */
  }
  return st;
}

/* m[M_DIST2] = ||x - x*||^2 */
static int distance_to_optimum(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  DcScalar one = {1.0, NULL, 0, 1.0}, zero = {0.0, NULL, 0, 1.0};
  int st = o->axpby(&s->be, one, s->x, zero, s->x_diff);
  if (st == DETCGD_OK) st = o->axpy(&s->be, -1.0, s->x_star, s->x_diff);
  return st == DETCGD_OK ? o->dot(&s->be, s->x_diff, s->x_diff, s->metrics, M_DIST2) : st;
}

int dc_trace_point(DetcgdSolver* s, DcLoop* L, int64_t k, int* stop) {
  int slot = (L->head + L->count) % DC_RING_SLOTS, st;
  DcPendingRow* p = &L->pending[slot];
  dc_phase_begin(&s->phases, PH_TRACE);
  p->iter = k;
  if (s->S && tally_on_host(s)) {
    p->coords = s->row_coords;
    p->bits = s->row_bits;
  } else if (!s->S) { /* identity in place: every coordinate, values only (or the method's message) */
    p->coords = k * s->problem->layout.dim;
    p->bits = k * bits_per_round(s);
  }
  st = s->be.ops->dot(&s->be, s->g, s->g, s->metrics, M_G2);
  if (st == DETCGD_OK) st = norm1(s);
  if (st == DETCGD_OK && s->method->trace_metrics) st = s->method->trace_metrics(&s->round, s->metrics, M_METHOD);
  if (st == DETCGD_OK && s->x_star) st = distance_to_optimum(s);
  if (st == DETCGD_OK) st = s->be.ops->ring_put(&s->be, L->ring, slot, s->metrics, tally_on_host(s) ? NULL : s->S);
  if (st == DETCGD_OK) {
    ++L->count;
    st = dc_trace_drain(s, L, s->dist || s->settings.term.target_g > 0, stop);
  }
  return st == DETCGD_OK ? dc_phase_end(&s->phases, PH_TRACE) : st;
}

int dc_fault_here(const DetcgdSolver* s, int64_t k, const char* kind) {
  int rank;
  long long iter;
  char what[16];
  if (!s->settings.dist.fault[0] || sscanf(s->settings.dist.fault, "%d:%lld:%15s", &rank, &iter, what) != 3) return 0;
  return rank == s->tr.rank && iter == k && strcmp(what, kind) == 0;
}

/* Iteration k with a trace row at rank 0: the round up to the server, the metrics of x^k and its row, the other
 * ranks' messages, then (unless the row stopped the run) x^{k+1}, and x^{k+1} and the stop flag to every rank. */
static int traced_iteration(DetcgdSolver* s, DcLoop* L, int64_t k, int finish_as, int* stop) {
  const DcBackendOps* o = s->be.ops;
  int st = DETCGD_OK;
  if (s->S && tally_on_host(s)) st = o->sketch_tally(&s->be, s->S, &s->row_coords, &s->row_bits);
  if (st == DETCGD_OK) st = dc_round_run(&s->round, (uint32_t)k, M_F, s->tr.last_client);
  if (st == DETCGD_OK) st = dc_gradient_metrics(s, 1);
  if (st == DETCGD_OK) st = dc_trace_point(s, L, k, stop);
  if (st == DETCGD_OK) st = dc_dist_receive(s, k);
  if (st == DETCGD_OK && !*stop) {
    st = dc_round_serve(&s->round);
    if (finish_as) { s->result.termination = finish_as; *stop = 1; }
  }
  return st == DETCGD_OK ? dc_dist_broadcast_x(s, stop) : st;
}

static int iteration(DetcgdSolver* s, DcLoop* L, int64_t k, int is_trace, int finish_as, int* stop) {
  if (s->tr.rank != 0) return dc_dist_client_rank_iteration(s, k, stop);
  return is_trace ? traced_iteration(s, L, k, finish_as, stop) : untraced_iteration(s, k, finish_as, stop);
}

/* ---- Replays: the iterations between trace points as recorded launches (CUDA graphs) ---- */

#define DC_REPLAY_UNROLL 32 /* most iterations in one recorded launch */

static void free_replays(DetcgdSolver* s) {
  s->be.ops->replay_destroy(&s->be, &s->replay);
  s->be.ops->replay_destroy(&s->be, &s->replay1);
}

/* Records plain iterations, `unroll` and (for shorter runs) 1 at a time: single node or every client on
 * one rank, graphs on, no per-phase timing (it waits after every phase), no injected faults (checked
 * every iteration), a method whose round does not branch on the host (op_by_op).  When recording fails the run goes on op by op, with a warning. */
static void record_replays(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  int64_t gap = s->settings.output.trace_every - 1;
  int st;
  if (s->tr.nranks > 1 || !s->settings.graphs || s->settings.output.profile || s->settings.dist.fault[0] || gap < 1 ||
      s->method->op_by_op)
    return;
  s->replay_unroll = gap < DC_REPLAY_UNROLL ? (int)gap : DC_REPLAY_UNROLL;
  st = o->replay_create(&s->be, plain_iteration, s, s->replay_unroll, &s->replay);
  if (st == DETCGD_OK && s->replay_unroll > 1) st = o->replay_create(&s->be, plain_iteration, s, 1, &s->replay1);
  if (st != DETCGD_OK) { /* replay_launches = 0 in the summary says so too */
    dc_log(DETCGD_LOG_WARN, "detcgd: recording the iterations failed (%s); running op by op\n", detcgd_last_error());
    free_replays(s);
  }
}

/* Plain iterations from k (not a trace point) up to the next trace or checkpoint iteration, at most one launch:
 * the clock and stop requests are read at least every DC_REPLAY_UNROLL iterations. */
static int64_t plain_run_length(const DetcgdSolver* s, int64_t k) {
  const DetcgdOutputSettings* out = &s->settings.output;
  int64_t end = s->settings.term.max_iter - 1, next = (k / out->trace_every + 1) * out->trace_every;
  if (next < end) end = next;
  if (out->checkpoint_path[0]) {
    next = (k / out->checkpoint_every + 1) * out->checkpoint_every;
    if (next < end) end = next;
  }
  if (end - k > s->replay_unroll) end = k + s->replay_unroll;
  return end - k;
}

/* Iterations k .. k+n-1: launches of `unroll` recorded iterations, then single ones. */
static int replay_iterations(DetcgdSolver* s, int64_t k, int64_t n) {
  const DcBackendOps* o = s->be.ops;
  int64_t full = n / s->replay_unroll, rest = n % s->replay_unroll;
  int st = o->replay_run(&s->be, s->replay, (uint32_t)k, full);
  if (st == DETCGD_OK && rest > 0) st = o->replay_run(&s->be, s->replay1, (uint32_t)(k + full * s->replay_unroll), rest);
  s->result.replay_launches += full + rest;
  return st;
}

/* f(x^K), ||grad f(x^K)||^2, the bits of the last draws and the memory peaks. */
static int finish(DetcgdSolver* s) {
  const DcBackendOps* o = s->be.ops;
  int st = dc_round_gradient(&s->round, M_F);
  if (st == DETCGD_OK) st = o->dot(&s->be, s->g, s->g, s->metrics, M_G2);
  if (st == DETCGD_OK) st = norm1(s);
  if (st != DETCGD_OK) return st;
  s->result.f_final = read_metric(s, M_F) / s->nclients;
  s->result.grad_norm2_final = read_metric(s, M_G2);
  s->result.grad_norm1_final = read_metric(s, M_G1);
  s->result.bits_down = s->dist ? s->result.iterations * s->nclients * downlink_bits(s) : 0;
  s->result.samples = s->result.iterations * samples_per_round(s);
  note_memory(s);
  if (s->S) return o->sketch_tally(&s->be, s->S, &s->result.coords_sent, &s->result.bits_up);
  s->result.coords_sent = s->result.iterations * s->problem->layout.dim;
  s->result.bits_up = s->result.iterations * bits_per_round(s);
  return DETCGD_OK;
}

static int write_summary(DetcgdSolver* s) {
  DcSummaryInfo info;
  DetcgdProblemInfo pinfo;
  int st;
  const char* kinds[] = {"scalar", "diagonal", "dense"};
  detcgd_problem_info(s->problem, &pinfo);
  memset(&info, 0, sizeof info);
  info.settings = &s->settings;
  info.problem = &s->problem->spec;
  info.pinfo = &pinfo;
  info.result = &s->result;
  info.f_inf_source = s->f_inf_source;
  info.optimum = s->x_star ? &s->optimum : NULL;
  info.time_optimum = s->time_optimum;
  info.f_inf_gd_iters = s->f_inf_gd_iters;
  info.f_inf_gd_grad_norm2 = s->f_inf_gd_iters ? s->f_inf_gd_grad_norm2 : NAN;
  info.certified_bound = s->result.iterations > 0 && !(s->method->step_flags & DC_STEP_NO_MATRIX)
      ? 2.0 * s->result.f_initial * s->result.det_factor / (double)s->result.iterations : NAN;
  info.d_storage = kinds[s->step.D.kind];
  info.sparse_steps = s->round.sparse;
  info.nfacts = s->method->facts ? s->method->facts(&s->round, info.facts, DC_SUMMARY_FACTS) : 0;
  if (geometry_reported(s)) {
    if ((st = take_geometry(s)) != DETCGD_OK) return st;
    info.geometry = &s->geometry;
  }
  if (s->dist) {
    info.dist = s->method->step_flags & DC_STEP_NO_MATRIX ? NULL : &s->dtheory;
    info.nranks = s->tr.nranks;
    info.fc_inf_mean = s->fc_inf_mean;
  }
  free(s->summary_json);
  if (!(s->summary_json = dc_summary_text(&info))) return dc_fail(DETCGD_ERR_ALLOC, "summary: out of host memory");
  return dc_summary_write(s->settings.output.summary_path, s->summary_json);
}

/* The trace's extra columns: the method's, then dist2 with x*. */
static const char* const* trace_columns(DetcgdSolver* s) {
  int n = 0;
  while (s->method->trace_columns && s->method->trace_columns[n] && n < DC_METHOD_METRICS) {
    s->trace_columns[n] = s->method->trace_columns[n];
    ++n;
  }
  if (s->x_star) s->trace_columns[n++] = "dist2";
  s->trace_columns[n] = NULL;
  return s->trace_columns;
}

/* Opens the trace (rewriting rows from a resumed iteration on) and sets x, metrics, clocks. */
static int start_loop(DetcgdSolver* s, DcLoop* L, int64_t* k0) {
  const char* path = s->tr.rank == 0 ? s->settings.output.trace_path : "";
  double before = 0.0;
  int st;
  memset(L, 0, sizeof *L);
  L->last_progress = -1.0;
  *k0 = 0;
  if (s->tr.rank == 0 && (st = s->be.ops->ring_create(&s->be, DC_RING_SLOTS, M_COUNT, &L->ring)) != DETCGD_OK) return st;
  if (s->settings.output.resume_path[0]) {
    st = dc_checkpoint_read(s, k0, &before);
    if (st == DETCGD_OK && path[0]) st = dc_trace_truncate(path, *k0);
    if (st == DETCGD_OK) st = dc_trace_open_append(&L->trace, path, trace_columns(s), &s->trace_rows);
  } else {
    st = upload_x0(s);
    if (st == DETCGD_OK) st = s->be.ops->vec_fill(&s->be, s->metrics, 0.0);
    if (st == DETCGD_OK) st = dc_trace_open(&L->trace, path, trace_columns(s), &s->trace_rows);
  }
  /* sparse steps carry g and q from one iteration to the next: start them at x0 (a checkpoint holds them) */
  if (st == DETCGD_OK && s->round.sparse && !s->settings.output.resume_path[0])
    st = s->be.ops->quad_residual(&s->be, s->round.P, s->x, s->round.q, s->g, s->metrics, -1);
  L->t0 = dc_wall_time() - before;
  return st;
}

/* A run between its start and its end: detcgd_run steps one, detcgd_run_many several in turn. */
typedef struct DcRunState {
  DcLoop L;
  int64_t k0, k, K;       /* the first iteration (a resumed run's), the next one, the last + 1 */
  int root, writes_checkpoints, stop;
  int is_trace, finish_as; /* iteration k's plan (run_plan) */
} DcRunState;

static int run_going(const DcRunState* R) { return R->k < R->K && !R->stop; }

/* Opens the run (trace, x^0 or the checkpoint's state); replays recorded unless the run goes with others
 * (together: iteration by iteration, so that their gradients can be evaluated at once). */
static int run_begin(DetcgdSolver* s, DcRunState* R, int together) {
  int st;
  memset(R, 0, sizeof *R);
  R->K = s->settings.term.max_iter;
  R->root = s->tr.rank == 0;
  /* rank 0, and every rank of a method whose clients keep state (checkpoint.c) */
  R->writes_checkpoints = s->settings.output.checkpoint_path[0] && (R->root || s->method->client_state);
  if ((st = start_loop(s, &R->L, &R->k0)) != DETCGD_OK) return st;
  R->k = R->k0;
  if (R->root && s->settings.output.verbose >= 1) print_banner(s);
  s->result.termination = DETCGD_TERM_MAX_ITER;
  s->result.iterations = R->k0;
  s->result.grad_norm2_min = s->result.grad_norm1_min = s->result.grad_norm1_mean = NAN; /* over the rows this run writes */
  s->l1_sum = 0.0;
  s->l1_rows = 0;
  s->result.replay_launches = 0;
  if (!together) record_replays(s);
  return DETCGD_OK;
}

/* Iteration k's plan (a trace row?  the time limit or an interrupt ending the run there?) and what comes before
 * it: a checkpoint (which may find the run stopped by a row) and injected faults. */
static int run_plan(DetcgdSolver* s, DcRunState* R) {
  int64_t k = R->k;
  int timed_out = R->root && s->settings.term.time_limit > 0 && dc_wall_time() - R->L.t0 >= s->settings.term.time_limit;
  int interrupted = R->root && detcgd_stop_requested(), st = DETCGD_OK;
  R->is_trace = k % s->settings.output.trace_every == 0 || k == R->K - 1 || timed_out;
  R->finish_as = timed_out ? DETCGD_TERM_TIME : interrupted ? DETCGD_TERM_INTERRUPTED : 0;
  if (R->writes_checkpoints && k > R->k0 && k % s->settings.output.checkpoint_every == 0) {
    dc_phase_begin(&s->phases, PH_TRACE);
    st = R->root ? dc_trace_drain(s, &R->L, 1, &R->stop) : DETCGD_OK; /* the trace holds every row before k */
    if (st == DETCGD_OK && !R->stop) st = dc_checkpoint_write(s, k, dc_wall_time() - R->L.t0);
    if (st == DETCGD_OK) st = dc_phase_end(&s->phases, PH_TRACE);
    if (st != DETCGD_OK || R->stop) return st;
  }
  if (dc_fault_here(s, k, "ctrl-c")) { /* SIGINT to the launcher (this rank's parent), as from a terminal; its */
    int wait;                          /* SIGTERM comes back within 10 s (the run stops at the next iteration) */
    kill(getppid(), SIGINT);
    for (wait = 0; wait < 1000 && !detcgd_stop_requested(); ++wait) dc_sleep(0.01);
  }
  if (dc_fault_here(s, k, "die"))
    return dc_fail(DETCGD_ERR_INTERNAL, "injected fault: rank %d dies at iteration %lld", s->tr.rank, (long long)k);
  return DETCGD_OK;
}

/* Iteration k as planned, or the plain iterations from k as recorded launches; k moves past them. */
static int run_iterate(DetcgdSolver* s, DcRunState* R) {
  int st;
  if (s->replay && !R->is_trace && !R->finish_as) {
    int64_t n = plain_run_length(s, R->k);
    st = replay_iterations(s, R->k, n);
    R->k += n;
    s->result.iterations = R->k;
    return st;
  }
  s->result.iterations = R->k + 1; /* iterates 0..k seen */
  st = iteration(s, &R->L, R->k, R->is_trace, R->finish_as, &R->stop);
  ++R->k;
  return st;
}

/* The run's end after status st: the rows still queued, the final metrics and the summary (when st is OK), and
 * what the run held. */
static int run_end(DetcgdSolver* s, DcRunState* R, int st) {
  DcLoop* L = &R->L;
  if (st != DETCGD_OK) goto fail;
  DC_TRY(dc_trace_drain(s, L, 1, &R->stop));
  /* interrupted after iteration k: the state at k + 1, as the checkpoint of iteration k + 1 would hold it */
  if (R->writes_checkpoints && s->result.termination == DETCGD_TERM_INTERRUPTED)
    DC_TRY(dc_checkpoint_write(s, s->result.iterations, dc_wall_time() - L->t0));
  s->result.time_iterate = dc_wall_time() - L->t0;
  s->result.time_grad = s->phases.time[PH_GRAD];
  s->result.time_metrics = s->phases.time[PH_METRICS];
  s->result.time_sketch = s->phases.time[PH_SKETCH];
  s->result.time_apply = s->phases.time[PH_APPLY];
  s->result.time_comm = s->phases.time[PH_COMM];
  s->result.time_trace = s->phases.time[PH_TRACE];
  if (!R->root) goto fail; /* clients only: no metrics, no summary */
  DC_TRY(finish(s));
  if (s->result.iterations == 0) s->result.f_initial = s->result.f_final;
  s->result.theorem1_bound = s->result.iterations > 0 && !(s->method->step_flags & DC_STEP_NO_MATRIX) /* det-CGD's */
      ? 2.0 * (s->result.f_initial - s->result.f_inf) * s->result.det_factor / (double)s->result.iterations : NAN;
  if (s->dist && !(s->method->step_flags & DC_STEP_NO_MATRIX))
    s->result.theorem3_bound = dc_theorem3_bound(&s->dtheory, s->result.det_factor, s->nclients, s->result.iterations,
                                                 s->result.f_initial - s->result.f_inf, s->result.delta_inf);
  if (s->settings.output.progress && isatty(2)) fputs("\r\033[K", stderr);
  if (s->settings.output.verbose >= 1) {
    double bound = s->dist ? s->result.theorem3_bound : s->result.theorem1_bound;
    char theorem[64] = "";
    if (!isnan(bound)) snprintf(theorem, sizeof theorem, " | Theorem %s bound %.6e", s->dist ? "3" : "1", bound);
    dc_log(DETCGD_LOG_INFO, "Summary: %s after %lld iterations | f %.10g | G_KD %.6e%s | %.3f s\n",
           detcgd_termination_str(s->result.termination), (long long)s->result.iterations, s->result.f_final,
           s->result.g_kd, theorem, s->result.time_iterate);
    dc_log(DETCGD_LOG_INFO, "Memory peak: host %.3g GB, device %.3g GB\n", 1e-9 * (double)s->result.host_bytes_peak,
           1e-9 * (double)s->result.device_bytes_peak);
  }
  st = write_summary(s);
fail:
  if (st != DETCGD_OK && st != DETCGD_ERR_CUDA && L->count > 0) dc_trace_drain(s, L, 1, &R->stop); /* keep what arrived */
  s->be.ops->ring_destroy(&s->be, &L->ring);
  free_replays(s);
  dc_trace_close(&L->trace);
  return st;
}

int detcgd_run(DetcgdSolver* s) {
  DcRunState R;
  int st;
  if (!s) return dc_fail(DETCGD_ERR_ARG, "detcgd_run: NULL solver");
  st = run_begin(s, &R, 0);
  while (st == DETCGD_OK && run_going(&R)) {
    st = run_plan(s, &R);
    if (st == DETCGD_OK && !R.stop) st = run_iterate(s, &R);
  }
  return run_end(s, &R, st);
}

/* The runs going into iteration k's gradient together: rounds[] and their f slots; how many. */
static int runs_sharing_gradients(DetcgdSolver* const* runs, const DcRunState* R, const int* status, int n,
                                  DcRound** rounds, int* fslot) {
  int i, m = 0;
  for (i = 0; i < n; ++i)
    if (status[i] == DETCGD_OK && run_going(&R[i]) && dc_round_shares_gradient(&runs[i]->round) &&
        runs[i]->be.ops == runs[0]->be.ops) {
      rounds[m] = &runs[i]->round;
      fslot[m++] = R[i].is_trace ? M_F : -1;
    }
  return m;
}

int detcgd_run_many(DetcgdSolver* const* runs, int n) {
  DcRunState* R;
  DcRound** rounds;
  int *fslot, *status, i, j, going = 1, st = DETCGD_OK;
  if (!runs || n < 1) return dc_fail(DETCGD_ERR_ARG, "detcgd_run_many: no runs (n = %d)", n);
  for (i = 0; i < n; ++i) {
    if (!runs[i]) return dc_fail(DETCGD_ERR_ARG, "detcgd_run_many: run %d is NULL", i);
    if (runs[i]->tr.nranks > 1) return dc_fail(DETCGD_ERR_ARG, "detcgd_run_many: run %d is distributed over MPI (runs go together in one process only)", i);
    for (j = 0; j < i; ++j)
      if (runs[j] == runs[i]) return dc_fail(DETCGD_ERR_ARG, "detcgd_run_many: runs %d and %d are one solver", j, i);
  }
  R = (DcRunState*)dc_calloc((size_t)n, sizeof *R);
  rounds = (DcRound**)dc_calloc((size_t)n, sizeof *rounds);
  fslot = (int*)dc_calloc((size_t)n, sizeof *fslot);
  status = (int*)dc_calloc((size_t)n, sizeof *status);
  if (!R || !rounds || !fslot || !status) {
    st = DETCGD_ERR_ALLOC;
    n = 0;
  }
  for (i = 0; i < n; ++i) status[i] = run_begin(runs[i], &R[i], 1);
  while (going) {
    int m;
    going = 0;
    for (i = 0; i < n; ++i)
      if (status[i] == DETCGD_OK && run_going(&R[i])) status[i] = run_plan(runs[i], &R[i]);
    if ((m = runs_sharing_gradients(runs, R, status, n, rounds, fslot)) > 1 &&
        (st = dc_round_gradients_together(rounds, m, fslot)) != DETCGD_OK)
      for (i = 0; i < n; ++i)
        if (status[i] == DETCGD_OK && run_going(&R[i])) status[i] = st;
    for (i = 0; i < n; ++i)
      if (status[i] == DETCGD_OK && run_going(&R[i])) {
        status[i] = run_iterate(runs[i], &R[i]);
        going = 1;
      }
  }
  for (i = 0; i < n; ++i) {
    status[i] = run_end(runs[i], &R[i], status[i]);
    if (st == DETCGD_OK) st = status[i];
  }
  free(R);
  free(rounds);
  free(fslot);
  free(status);
  return st;
}

int detcgd_set_trace_callback(DetcgdSolver* s, DetcgdTraceFn fn, void* user) {
  if (!s) return dc_fail(DETCGD_ERR_ARG, "detcgd_set_trace_callback: NULL solver");
  s->trace_rows.fn = fn;
  s->trace_rows.user = user;
  return DETCGD_OK;
}

int detcgd_trace_columns(const DetcgdSolver* s, const char* const** names) {
  if (!s) return 0;
  if (names) *names = s->trace_rows.names;
  return s->trace_rows.ncols;
}

const double* detcgd_trace_rows(const DetcgdSolver* s, int64_t* nrows) {
  if (nrows) *nrows = s ? s->trace_rows.nrows : 0;
  return s ? s->trace_rows.data : NULL;
}

const char* detcgd_summary_json(const DetcgdSolver* s) { return s ? s->summary_json : NULL; }

int detcgd_get_result(const DetcgdSolver* s, DetcgdResult* r) {
  if (!s || !r) return dc_fail(DETCGD_ERR_ARG, "detcgd_get_result: NULL argument");
  *r = s->result;
  return DETCGD_OK;
}

double detcgd_f_inf(const DetcgdSolver* s) { return s ? s->result.f_inf : NAN; }

int detcgd_get_x(const DetcgdSolver* s, double* x) {
  if (!s || !x) return dc_fail(DETCGD_ERR_ARG, "detcgd_get_x: NULL argument");
  return s->be.ops->vec_download((DcBackend*)&s->be, s->x, x);
}

/* ==== Theory ==== */

/* Distributed stepsizes need the f^inf estimates: set up a solver, read its numbers. */
static int dist_theory(const DetcgdProblem* p, const DetcgdSettings* set, DetcgdTheory* t) {
  DetcgdSettings c = *set;
  DetcgdSolver* s = NULL;
  int st;
  c.stepsize.force = 1;
  c.output.verbose = 0;
  c.dist.mode = DETCGD_DIST_SIM;
  st = detcgd_create(&s, p, &c);
  if (st == DETCGD_OK) {
    t->certificate = s->result.certificate;
    t->log_det = s->result.log_det;
    t->det_factor = s->result.det_factor;
    t->coords_per_iter = s->result.coords_per_iter;
    t->comm_factor = t->det_factor * t->coords_per_iter;
    t->bits_per_iter = dc_sketch_expected_bits(&s->sketch_spec) * s->nclients;
    t->step = NAN;
    t->step_source = NULL;
  }
  detcgd_destroy(&s);
  return st;
}

/* A method without a matrix stepsize: its step, as its create op sets it (a solver set up, f^inf estimated). */
static int method_step(const DetcgdProblem* p, const DetcgdSettings* set, DetcgdTheory* t) {
  DetcgdSettings c = *set;
  DetcgdSolver* s = NULL;
  DcMethodFact f[DC_SUMMARY_FACTS];
  int st, n, i;
  c.output.verbose = 0;
  c.output.trace_path[0] = c.output.summary_path[0] = c.output.checkpoint_path[0] = c.output.resume_path[0] = '\0';
  c.dist.mode = DETCGD_DIST_SIM;
  st = detcgd_create(&s, p, &c);
  if (st == DETCGD_OK && s->method->facts) {
    n = s->method->facts(&s->round, f, DC_SUMMARY_FACTS);
    for (i = 0; i < n; ++i) {
      if (!strcmp(f[i].key, "step")) t->step = f[i].value;
      if (!strcmp(f[i].key, "step_source")) t->step_source = f[i].text;
    }
    own_matrix_step(&s->round, s->method, &t->certificate, &t->det_factor, &t->log_det);
  }
  detcgd_destroy(&s);
  return st;
}

int detcgd_theory(const DetcgdProblem* p, const DetcgdSettings* set, DetcgdTheory* t) {
  DcSketchSpec sp;
  DcStepsize step;
  DetcgdSettings c;
  int st;
  if (!p || !set || !t) return dc_fail(DETCGD_ERR_ARG, "detcgd_theory: NULL argument");
  if ((st = detcgd_settings_validate(set)) != DETCGD_OK) return st;
  t->step = NAN;
  t->step_source = NULL;
  if (set->stepsize.kind == DETCGD_STEP_COR1 || set->stepsize.kind == DETCGD_STEP_DCGD_KR) return dist_theory(p, set, t);
  c = *set;
  c.stepsize.force = 1; /* report the certificate even when it exceeds 1 */
  st = dc_method_sketch_spec(&sp, dc_method_type(c.method), &c, p);
  if (st != DETCGD_OK) return st;
  st = dc_method_type(c.method)->step_flags & DC_STEP_NO_MATRIX ? dc_stepsize_identity(&step, p)
                                                                 : dc_stepsize_build(&step, p, &c, &sp, NULL, NULL, NULL);
  if (st == DETCGD_OK) {
    t->certificate = step.certificate;
    t->log_det = step.log_det;
    t->det_factor = step.det_factor;
    t->coords_per_iter = dc_sketch_expected_coords(&sp);
    t->comm_factor = t->det_factor * t->coords_per_iter;
    t->bits_per_iter = dc_method_type(c.method)->message_bits
                           ? (double)dc_method_type(c.method)->message_bits(&p->layout, &c)
                           : dc_sketch_expected_bits(&sp);
    if (p->nclients > 0) { /* a method without a matrix stepsize over clients: every client sends */
      t->coords_per_iter *= p->nclients;
      t->bits_per_iter *= p->nclients;
      t->comm_factor = t->det_factor * t->coords_per_iter;
    }
    dc_stepsize_free(&step);
  }
  dc_sketch_spec_free(&sp);
  if (st == DETCGD_OK && (dc_method_type(set->method)->step_flags & DC_STEP_NO_MATRIX)) {
    st = method_step(p, set, t);
    t->comm_factor = t->det_factor * t->coords_per_iter;
  }
  return st;
}
