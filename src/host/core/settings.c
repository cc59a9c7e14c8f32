/*
 * settings.c -- defaults, the one validator, and the key = value setters
 * shared by the CLI options and the config file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compressor.h"
#include "internal.h"
#include "method.h"

/* ==== Names ==== */

static const char* const STEP_NAMES[] = {"gd", "cgd", "cgd-mat", "det2-opt", "thm2", "user", "cor1", "dcgd-kr"};
static const char* const SPLIT_NAMES[] = {"contiguous", "shuffled", "label-skew"};
static const char* const MODE_NAMES[] = {"sim", "mpi"};
static const char* const WEIGHT_NAMES[] = {"identity", "diag-inv", "inv", "inv-sqrt"};
static const char* const IMP_NAMES[] = {"lii", "uniform"};
static const char* const PRECISION_NAMES[] = {"fp64", "fp32"};
static const char* const BACKEND_NAMES[] = {"auto", "cpu", "cuda"};
static const char* const PROBLEM_NAMES[] = {"logreg-nc", "quad-nc"};
static const char* const GKD_NAMES[] = {"every", "trace"};
static const char* const SETUP_NAMES[] = {"auto", "host"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char* name_of(const char* const* names, int n, int v) { return v >= 0 && v < n ? names[v] : "?"; }
const char* detcgd_method_name(int m) { return dc_method_type(m) ? dc_method_type(m)->name : "?"; }
const char* detcgd_sketch_name(int k) { return dc_compressor_type(k) ? dc_compressor_type(k)->name : "?"; }
const char* detcgd_stepsize_name(int k) { return name_of(STEP_NAMES, COUNT(STEP_NAMES), k); }
const char* detcgd_weight_name(int w) { return name_of(WEIGHT_NAMES, COUNT(WEIGHT_NAMES), w); }
const char* detcgd_precision_name(int p) { return name_of(PRECISION_NAMES, COUNT(PRECISION_NAMES), p); }
const char* detcgd_gkd_points_name(int p) { return name_of(GKD_NAMES, COUNT(GKD_NAMES), p); }
const char* detcgd_setup_place_name(int p) { return name_of(SETUP_NAMES, COUNT(SETUP_NAMES), p); }

/* ==== Value parsers (each names the option on failure) ==== */

static int parse_enum(const char* key, const char* v, const char* const* names, int n, int* out) {
  char list[256] = "";
  int i;
  for (i = 0; i < n; ++i)
    if (strcmp(v, names[i]) == 0) { *out = i; return DETCGD_OK; }
  for (i = 0; i < n; ++i) {
    strncat(list, names[i], sizeof list - strlen(list) - 1);
    if (i + 1 < n) strncat(list, ", ", sizeof list - strlen(list) - 1);
  }
  return dc_fail(DETCGD_ERR_ARG, "%s: unknown value \"%s\" (one of: %s)", key, v, list);
}

/* A method or compressor by name, from its registry; an unknown one is named with the list. */
static int parse_registered(const char* key, const char* v, int found, int id, void (*list)(char*, size_t), int* out) {
  char names[256];
  if (found) { *out = id; return DETCGD_OK; }
  list(names, sizeof names);
  return dc_fail(DETCGD_ERR_ARG, "%s: unknown value \"%s\" (one of: %s)", key, v, names);
}

static int parse_method(const char* key, const char* v, int* out) {
  const DcMethodType* m = dc_method_find(v);
  return parse_registered(key, v, m != NULL, m ? m->id : 0, dc_method_list, out);
}

static int parse_compressor(const char* key, const char* v, int* out) {
  const DcCompressorType* t = dc_compressor_find(v);
  return parse_registered(key, v, t != NULL, t ? t->kind : 0, dc_compressor_list, out);
}

static int parse_i64(const char* key, const char* v, int64_t lo, int64_t hi, int64_t* out) {
  char* end;
  long long x;
  errno = 0;
  x = strtoll(v, &end, 10);
  if (end == v || *end != '\0' || errno)
    return dc_fail(DETCGD_ERR_ARG, "%s: \"%s\" is not an integer", key, v);
  if (x < lo || x > hi) return dc_fail(DETCGD_ERR_ARG, "%s: %lld is out of range [%lld, %lld]", key, x, (long long)lo, (long long)hi);
  *out = x;
  return DETCGD_OK;
}

static int parse_int(const char* key, const char* v, int lo, int hi, int* out) {
  int64_t x;
  int st = parse_i64(key, v, lo, hi, &x);
  if (st == DETCGD_OK) *out = (int)x;
  return st;
}

static int parse_u64(const char* key, const char* v, uint64_t* out) {
  char* end;
  unsigned long long x;
  errno = 0;
  if (*v == '-') return dc_fail(DETCGD_ERR_ARG, "%s: \"%s\" must be a non-negative integer", key, v);
  x = strtoull(v, &end, 10);
  if (end == v || *end != '\0' || errno) return dc_fail(DETCGD_ERR_ARG, "%s: \"%s\" is not a non-negative integer", key, v);
  *out = x;
  return DETCGD_OK;
}

static int parse_double(const char* key, const char* v, double* out) {
  char* end;
  errno = 0;
  *out = strtod(v, &end);
  if (end == v || *end != '\0' || errno == ERANGE)
    return dc_fail(DETCGD_ERR_ARG, "%s: \"%s\" is not a number", key, v);
  return DETCGD_OK;
}

static int parse_bool(const char* key, const char* v, int* out) {
  if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) { *out = 1; return DETCGD_OK; }
  if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) { *out = 0; return DETCGD_OK; }
  return dc_fail(DETCGD_ERR_ARG, "%s: \"%s\" is not a boolean (1/0, true/false)", key, v);
}

static int copy_string(const char* key, const char* v, char* dst, size_t cap) {
  if (strlen(v) >= cap) return dc_fail(DETCGD_ERR_ARG, "%s: value longer than %zu characters", key, cap - 1);
  strcpy(dst, v);
  return DETCGD_OK;
}

#define STR(field) copy_string(key, value, field, sizeof(field))

/* ==== Problem spec ==== */

void detcgd_problem_spec_default(DetcgdProblemSpec* s) {
  memset(s, 0, sizeof *s);
  s->kind = DETCGD_PROBLEM_LOGREG_NC;
  s->lambda = 0.3;
  s->density = 1.0;
  s->spec_min = 0.01;
  s->spec_max = 1.0;
  s->diag_dominance = 0.5;
  s->center_scale = 1.0;
  s->seed = 1;
}

int detcgd_is_problem_key(const char* key) {
  static const char* const keys[] = {"problem", "data", "samples", "density", "data-precision", "features", "lambda", "layers", "nlayers",
                                     "spec-min", "spec-max", "diag-dominance", "center-scale", "data-seed",
                                     "clients", "split"};
  int i;
  for (i = 0; i < COUNT(keys); ++i)
    if (!strcmp(key, keys[i])) return 1;
  return 0;
}

int detcgd_problem_spec_set(DetcgdProblemSpec* s, const char* key, const char* value) {
  if (!s || !key || !value) return dc_fail(DETCGD_ERR_ARG, "detcgd_problem_spec_set: NULL argument");
  if (!strcmp(key, "problem")) return parse_enum(key, value, PROBLEM_NAMES, COUNT(PROBLEM_NAMES), &s->kind);
  if (!strcmp(key, "data")) return STR(s->data_path);
  if (!strcmp(key, "features")) return parse_int(key, value, 0, 1000000000, &s->features);
  if (!strcmp(key, "samples")) {
    uint64_t n = 0;
    int st = parse_u64(key, value, &n);
    if (st == DETCGD_OK && n > ((uint64_t)1 << 40)) return dc_fail(DETCGD_ERR_ARG, "samples: at most 2^40 (got %s)", value);
    s->samples = (int64_t)n;
    return st;
  }
  if (!strcmp(key, "density")) return parse_double(key, value, &s->density);
  if (!strcmp(key, "data-precision")) return parse_enum(key, value, PRECISION_NAMES, COUNT(PRECISION_NAMES), &s->data_precision);
  if (!strcmp(key, "lambda")) return parse_double(key, value, &s->lambda);
  if (!strcmp(key, "layers")) return STR(s->layers);
  if (!strcmp(key, "nlayers")) return parse_int(key, value, 0, 1000000000, &s->nlayers);
  if (!strcmp(key, "spec-min")) return parse_double(key, value, &s->spec_min);
  if (!strcmp(key, "spec-max")) return parse_double(key, value, &s->spec_max);
  if (!strcmp(key, "diag-dominance")) return parse_double(key, value, &s->diag_dominance);
  if (!strcmp(key, "center-scale")) return parse_double(key, value, &s->center_scale);
  if (!strcmp(key, "data-seed")) return parse_u64(key, value, &s->seed);
  if (!strcmp(key, "clients")) return parse_int(key, value, -1000000000, 1000000000, &s->clients);
  if (!strcmp(key, "split")) return parse_enum(key, value, SPLIT_NAMES, COUNT(SPLIT_NAMES), &s->split);
  return dc_fail(DETCGD_ERR_ARG, "unknown problem option \"%s\"", key);
}

/* ==== Solver settings ==== */

void detcgd_settings_default(DetcgdSettings* s) {
  memset(s, 0, sizeof *s);
  s->method = DETCGD_METHOD_DET2;
  s->sketch.kind = DETCGD_SKETCH_RAND1;
  s->sketch.k = 1;
  s->sketch.k_ratio = 0.0;
  s->sketch.p = 0.5;
  s->sketch.q = 0.5;
  s->sketch.importance = DETCGD_IMP_LII;
  s->stepsize.kind = DETCGD_STEP_DET2_OPT;
  s->stepsize.weight = DETCGD_W_DIAG_INV;
  s->stepsize.scale = 1.0;
  s->stepsize.force = 0;
  s->term.max_iter = 1000;
  s->term.target_g = 0.0;
  s->term.time_limit = 0.0;
  s->output.trace_every = 10;
  s->output.verbose = 1;
  s->output.progress = 1;
  s->comm.value_bits = 32;
  s->comm.shared_seed = 0;
  s->backend = DETCGD_BACKEND_AUTO;
  s->graphs = 1;
  s->sparse_steps = 1;
  s->seed = 42;
  s->x0 = 1.0;
  s->f_inf = NAN;
  s->f_inf_iters = 2000;
  s->output.checkpoint_every = 1000;
  s->dist.mode = DETCGD_DIST_SIM;
  s->dist.epsilon2 = 1e-4;
}

int detcgd_settings_set(DetcgdSettings* s, const char* key, const char* value) {
  if (!s || !key || !value) return dc_fail(DETCGD_ERR_ARG, "detcgd_settings_set: NULL argument");
  if (!strcmp(key, "method")) return parse_method(key, value, &s->method);
  if (!strcmp(key, "sketch")) return parse_compressor(key, value, &s->sketch.kind);
  if (!strcmp(key, "k")) return parse_int(key, value, 0, 1000000000, &s->sketch.k);
  if (!strcmp(key, "k-ratio")) return parse_double(key, value, &s->sketch.k_ratio);
  if (!strcmp(key, "k-list")) return STR(s->sketch.k_list);
  if (!strcmp(key, "p")) return parse_double(key, value, &s->sketch.p);
  if (!strcmp(key, "q")) return parse_double(key, value, &s->sketch.q);
  if (!strcmp(key, "q-list")) return STR(s->sketch.q_list);
  if (!strcmp(key, "importance")) return parse_enum(key, value, IMP_NAMES, COUNT(IMP_NAMES), &s->sketch.importance);
  if (!strcmp(key, "stepsize")) return parse_enum(key, value, STEP_NAMES, COUNT(STEP_NAMES), &s->stepsize.kind);
  if (!strcmp(key, "weight")) return parse_enum(key, value, WEIGHT_NAMES, COUNT(WEIGHT_NAMES), &s->stepsize.weight);
  if (!strcmp(key, "stepsize-file")) return STR(s->stepsize.file);
  if (!strcmp(key, "stepsize-scale")) return parse_double(key, value, &s->stepsize.scale);
  if (!strcmp(key, "force")) return parse_bool(key, value, &s->stepsize.force);
  if (!strcmp(key, "stepsize-setup")) return parse_enum(key, value, SETUP_NAMES, COUNT(SETUP_NAMES), &s->stepsize.setup);
  if (!strcmp(key, "stepsize-precision"))
    return parse_enum(key, value, PRECISION_NAMES, COUNT(PRECISION_NAMES), &s->stepsize.precision);
  if (!strcmp(key, "iters")) return parse_i64(key, value, 0, INT32_MAX, &s->term.max_iter);
  if (!strcmp(key, "target-g")) return parse_double(key, value, &s->term.target_g);
  if (!strcmp(key, "time-limit")) return parse_double(key, value, &s->term.time_limit);
  if (!strcmp(key, "trace")) return STR(s->output.trace_path);
  if (!strcmp(key, "summary")) return STR(s->output.summary_path);
  if (!strcmp(key, "trace-every")) return parse_i64(key, value, 1, INT64_MAX, &s->output.trace_every);
  if (!strcmp(key, "verbose")) return parse_int(key, value, 0, 2, &s->output.verbose);
  if (!strcmp(key, "progress")) return parse_bool(key, value, &s->output.progress);
  if (!strcmp(key, "label")) return STR(s->output.label);
  if (!strcmp(key, "value-bits")) return parse_int(key, value, 0, 1024, &s->comm.value_bits);
  if (!strcmp(key, "shared-seed")) return parse_bool(key, value, &s->comm.shared_seed);
  if (!strcmp(key, "backend")) return parse_enum(key, value, BACKEND_NAMES, COUNT(BACKEND_NAMES), &s->backend);
  if (!strcmp(key, "graphs")) return parse_bool(key, value, &s->graphs);
  if (!strcmp(key, "sparse-steps")) return parse_bool(key, value, &s->sparse_steps);
  if (!strcmp(key, "seed")) return parse_u64(key, value, &s->seed);
  if (!strcmp(key, "x0")) return parse_double(key, value, &s->x0);
  if (!strcmp(key, "f-inf")) return parse_double(key, value, &s->f_inf);
  if (!strcmp(key, "f-inf-iters")) return parse_i64(key, value, 0, INT32_MAX, &s->f_inf_iters);
  if (!strcmp(key, "checkpoint")) return STR(s->output.checkpoint_path);
  if (!strcmp(key, "checkpoint-every")) return parse_i64(key, value, 1, INT64_MAX, &s->output.checkpoint_every);
  if (!strcmp(key, "resume")) return STR(s->output.resume_path);
  if (!strcmp(key, "profile")) return parse_bool(key, value, &s->output.profile);
  if (!strcmp(key, "gkd")) return parse_enum(key, value, GKD_NAMES, COUNT(GKD_NAMES), &s->output.gkd_points);
  if (!strcmp(key, "mode")) return parse_enum(key, value, MODE_NAMES, COUNT(MODE_NAMES), &s->dist.mode);
  if (!strcmp(key, "epsilon2")) return parse_double(key, value, &s->dist.epsilon2);
  if (!strcmp(key, "fault")) return STR(s->dist.fault);
  return dc_fail(DETCGD_ERR_ARG, "unknown option \"%s\"", key);
}


int detcgd_settings_validate(const DetcgdSettings* s) {
  int st;
  if (!s) return dc_fail(DETCGD_ERR_ARG, "settings: NULL");
  if (!dc_method_type(s->method)) return dc_fail(DETCGD_ERR_ARG, "method: unknown value %d", s->method);
  if ((st = dc_compressor_validate(&s->sketch)) != DETCGD_OK) return st;
  if (!(dc_method_type(s->method)->step_flags & DC_STEP_NO_SKETCH) &&
      (st = dc_method_check_compressor(dc_method_type(s->method), dc_compressor_type(s->sketch.kind))) != DETCGD_OK)
    return st;
  if (!(s->sketch.k_ratio >= 0.0 && s->sketch.k_ratio <= 1.0)) return dc_fail(DETCGD_ERR_ARG, "k-ratio: must be in [0, 1] (got %g)", s->sketch.k_ratio);
  if (s->sketch.importance < 0 || s->sketch.importance >= COUNT(IMP_NAMES)) return dc_fail(DETCGD_ERR_ARG, "importance: unknown value %d", s->sketch.importance);
  if (s->stepsize.kind < 0 || s->stepsize.kind >= COUNT(STEP_NAMES)) return dc_fail(DETCGD_ERR_ARG, "stepsize: unknown value %d", s->stepsize.kind);
  if (s->stepsize.weight < 0 || s->stepsize.weight >= COUNT(WEIGHT_NAMES)) return dc_fail(DETCGD_ERR_ARG, "weight: unknown value %d", s->stepsize.weight);
  if (s->stepsize.kind == DETCGD_STEP_USER && s->stepsize.file[0] == '\0') return dc_fail(DETCGD_ERR_ARG, "stepsize-file: required with stepsize = user");
  if (!(s->stepsize.scale > 0.0) || !isfinite(s->stepsize.scale)) return dc_fail(DETCGD_ERR_ARG, "stepsize-scale: must be > 0 (got %g)", s->stepsize.scale);
  if (s->stepsize.precision < 0 || s->stepsize.precision >= COUNT(PRECISION_NAMES))
    return dc_fail(DETCGD_ERR_ARG, "stepsize-precision: unknown value %d", s->stepsize.precision);
  if (s->term.max_iter < 0 || s->term.max_iter > INT32_MAX) return dc_fail(DETCGD_ERR_ARG, "iters: must be in [0, 2^31) (got %lld)", (long long)s->term.max_iter);
  if (!(s->term.target_g >= 0.0)) return dc_fail(DETCGD_ERR_ARG, "target-g: must be >= 0 (got %g)", s->term.target_g);
  if (!(s->term.time_limit >= 0.0)) return dc_fail(DETCGD_ERR_ARG, "time-limit: must be >= 0 (got %g)", s->term.time_limit);
  if (s->output.trace_every < 1) return dc_fail(DETCGD_ERR_ARG, "trace-every: must be >= 1 (got %lld)", (long long)s->output.trace_every);
  if (s->stepsize.setup < 0 || s->stepsize.setup >= COUNT(SETUP_NAMES))
    return dc_fail(DETCGD_ERR_ARG, "stepsize-setup: unknown value %d", s->stepsize.setup);
  if (s->output.gkd_points < 0 || s->output.gkd_points >= COUNT(GKD_NAMES))
    return dc_fail(DETCGD_ERR_ARG, "gkd: unknown value %d (every or trace)", s->output.gkd_points);
  if (s->comm.value_bits != 32 && s->comm.value_bits != 64) return dc_fail(DETCGD_ERR_ARG, "value-bits: must be 32 or 64 (got %d)", s->comm.value_bits);
  if (s->backend < 0 || s->backend >= COUNT(BACKEND_NAMES)) return dc_fail(DETCGD_ERR_ARG, "backend: unknown value %d", s->backend);
  if (!isfinite(s->x0)) return dc_fail(DETCGD_ERR_ARG, "x0: must be finite");
  if (isinf(s->f_inf)) return dc_fail(DETCGD_ERR_ARG, "f-inf: must be finite (or NaN to estimate)");
  if (s->f_inf_iters < 0) return dc_fail(DETCGD_ERR_ARG, "f-inf-iters: must be >= 0");
  if (s->output.checkpoint_every < 1) return dc_fail(DETCGD_ERR_ARG, "checkpoint-every: must be >= 1");
  if (s->dist.mode < 0 || s->dist.mode >= COUNT(MODE_NAMES)) return dc_fail(DETCGD_ERR_ARG, "mode: unknown value %d", s->dist.mode);
  if (!(s->dist.epsilon2 > 0) || !isfinite(s->dist.epsilon2)) return dc_fail(DETCGD_ERR_ARG, "epsilon2: must be > 0 (got %g)", s->dist.epsilon2);
  return DETCGD_OK;
}
