/*
 * trace.c -- CSV trace rows and the per-run JSON summary.
 */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "dist.h"
#include "method.h"
#include "options.h"
#include "trace.h"

#ifndef DETCGD_GIT_COMMIT
#define DETCGD_GIT_COMMIT "unknown"
#endif

static const char* const COMMON_COLUMNS[DC_TRACE_COMMON] = {
    "iter", "f", "grad_norm2", "grad_norm2_D", "G_KD", "coords_sent", "bits_up", "bits_down", "grad_norm1", "samples",
    "grad_density", "sign_advantage"};

static int count_extra(const char* const* extra) {
  int n = 0;
  while (extra && extra[n] && n < DC_TRACE_EXTRA) ++n;
  return n;
}

void dc_trace_rows_name(DcTraceRows* rows, const char* const* extra) {
  int j, nextra = count_extra(extra);
  for (j = 0; j < DC_TRACE_COMMON; ++j) rows->names[j] = COMMON_COLUMNS[j];
  for (j = 0; j < nextra; ++j) rows->names[DC_TRACE_COMMON + j] = extra[j];
  rows->names[DC_TRACE_COMMON + nextra] = "time_s";
  rows->ncols = DC_TRACE_COMMON + nextra + 1;
  rows->nrows = 0;
}

static void set_columns(DcTrace* t, const char* path, const char* const* extra, DcTraceRows* rows) {
  t->path = path;
  t->f = NULL;
  t->extra = extra;
  t->rows = rows;
  t->nextra = count_extra(extra);
  if (rows) dc_trace_rows_name(rows, extra);
}

static void put_header(DcTrace* t) {
  int i;
  for (i = 0; i < DC_TRACE_COMMON; ++i) fprintf(t->f, i ? ",%s" : "%s", COMMON_COLUMNS[i]);
  for (i = 0; i < t->nextra; ++i) fprintf(t->f, ",%s", t->extra[i]);
  fputs(",time_s\n", t->f);
}

/* Creates the trace with its header (no file when path is empty). */
int dc_trace_open(DcTrace* t, const char* path, const char* const* extra, DcTraceRows* rows) {
  set_columns(t, path, extra, rows);
  if (!path || !path[0]) return DETCGD_OK;
  t->f = fopen(path, "w");
  if (!t->f) return dc_fail(DETCGD_ERR_IO, "trace: cannot write %s (%s)", path, strerror(errno));
  put_header(t);
  fflush(t->f);
  return DETCGD_OK;
}

int dc_trace_open_append(DcTrace* t, const char* path, const char* const* extra, DcTraceRows* rows) {
  long size;
  set_columns(t, path, extra, rows);
  if (!path || !path[0]) return DETCGD_OK;
  t->f = fopen(path, "a");
  if (!t->f) return dc_fail(DETCGD_ERR_IO, "trace: cannot append to %s (%s)", path, strerror(errno));
  fseek(t->f, 0, SEEK_END);
  size = ftell(t->f);
  if (size == 0) put_header(t);
  fflush(t->f);
  return DETCGD_OK;
}

/* Row r in the columns' order, appended to the rows in memory and handed to the caller's callback. */
static int keep_row(DcTraceRows* m, const DcTraceRow* r, int nextra) {
  const double common[DC_TRACE_COMMON] = {(double)r->iter, r->f, r->grad_norm2, r->grad_norm2_d, r->g_kd,
                                          (double)r->coords, (double)r->bits_up, (double)r->bits_down, r->grad_norm1,
                                          (double)r->samples, r->grad_density, r->sign_advantage};
  double* row;
  int j;
  if (m->nrows == m->cap) {
    int64_t cap = m->cap ? 2 * m->cap : 256;
    double* grown = (double*)realloc(m->data, (size_t)(cap * m->ncols) * sizeof(double));
    if (!grown) return dc_fail(DETCGD_ERR_ALLOC, "trace: out of host memory keeping %lld rows", (long long)cap);
    m->data = grown;
    m->cap = cap;
  }
  row = m->data + m->nrows++ * m->ncols;
  memcpy(row, common, sizeof common);
  for (j = 0; j < nextra; ++j) row[DC_TRACE_COMMON + j] = r->method[j];
  row[DC_TRACE_COMMON + nextra] = r->time;
  if (m->fn) m->fn(m->user, m->ncols, m->names, row);
  return DETCGD_OK;
}

/* One row, flushed at once so that nothing is lost if the run dies. */
int dc_trace_write(DcTrace* t, const DcTraceRow* r) {
  int i, st = t->rows ? keep_row(t->rows, r, t->nextra) : DETCGD_OK;
  if (!t->f || st != DETCGD_OK) return st;
  fprintf(t->f, "%lld,%.17g,%.17g,%.17g,%.17g,%lld,%lld,%lld,%.17g,%lld,%.17g,%.17g", (long long)r->iter, r->f,
          r->grad_norm2, r->grad_norm2_d, r->g_kd, (long long)r->coords, (long long)r->bits_up,
          (long long)r->bits_down, r->grad_norm1, (long long)r->samples, r->grad_density, r->sign_advantage);
  for (i = 0; i < t->nextra; ++i) fprintf(t->f, ",%.17g", r->method[i]);
  fprintf(t->f, ",%.6f\n", r->time);
  if (fflush(t->f) != 0) return dc_fail(DETCGD_ERR_IO, "trace: write to %s failed (%s)", t->path, strerror(errno));
  return DETCGD_OK;
}

void dc_trace_close(DcTrace* t) {
  if (t->f) fclose(t->f);
  t->f = NULL;
}

/* ==== The summary (json-c: strings escaped, numbers with every digit) ==== */

/* A number; NaN and Inf become null (JSON has no such numbers). */
static void put_num(json_object* o, const char* key, double v) {
  json_object_object_add(o, key, isfinite(v) ? json_object_new_double(v) : NULL);
}

static void put_int(json_object* o, const char* key, long long v) { json_object_object_add(o, key, json_object_new_int64(v)); }

static void put_str(json_object* o, const char* key, const char* v) {
  json_object_object_add(o, key, json_object_new_string(v ? v : ""));
}

static json_object* put_obj(json_object* o, const char* key) {
  json_object* c = json_object_new_object();
  json_object_object_add(o, key, c);
  return c;
}

/* An option's value as the JSON value its text is: numbers keep the text's digits (a 64-bit seed is not
 * rounded through a double), NaN (f-inf: estimate) is null. */
static json_object* option_value(const DcOption* o, const char* v) {
  double x;
  switch (o->type) {
    case DC_OPT_INT: case DC_OPT_I64: case DC_OPT_BOOL: return json_object_new_int64(strtoll(v, NULL, 10));
    case DC_OPT_U64: return json_object_new_uint64(strtoull(v, NULL, 10));
    case DC_OPT_DOUBLE:
      x = strtod(v, NULL);
      return isfinite(x) ? json_object_new_double_s(x, v) : NULL;
    default: return json_object_new_string(v);
  }
}

/* Every option of the table with its effective value (the keys of the command line and config files:
 * enough to repeat the run), then what the problem and the setup made of them. */
static void put_config(json_object* root, const DcSummaryInfo* s) {
  DcOptionIter it = {0, 0};
  const DcOption* o;
  json_object *c = put_obj(root, "config"), *d;
  while ((o = dc_option_next(&it, NULL, NULL, NULL))) {
    char v[DETCGD_LIST_MAX + 64];
    dc_option_format(o, s->problem, s->settings, v, sizeof v);
    json_object_object_add(c, o->key, option_value(o, v));
  }
  d = put_obj(root, "derived");
  put_int(d, "dim", s->pinfo->dim);
  put_int(d, "nlayers", s->pinfo->nlayers);
  put_int(d, "nsamples", s->pinfo->nsamples);
  put_num(d, "block_bound_c", s->pinfo->block_bound_c);
  put_num(d, "L0", s->pinfo->L0);
  put_num(d, "L1", s->pinfo->L1);
  put_num(d, "mu", s->pinfo->mu);
  put_str(d, "d_storage", s->d_storage);
  put_int(d, "sparse_steps", s->sparse_steps);
}

/* Theorem 3 / Corollary 1 (or scalar DCGD) quantities of a distributed run. */
static void put_distributed(json_object* root, const DcSummaryInfo* s) {
  const DcDistTheory* t = s->dist;
  const char* names_cor1[] = {"DLD<=D", "lambda_D<=n/K", "lambda_D<=n eps^2 det(D)^(1/d)/(4 Delta_inf)"};
  const char* names_kr[] = {"1/L", "sqrt(n/(omega L L_max K))", "n eps^2/(4 L L_max omega Delta_inf)"};
  int kr = s->settings->stepsize.kind == DETCGD_STEP_DCGD_KR;
  json_object* o = put_obj(root, "distributed");
  put_int(o, "clients", s->problem->clients);
  put_str(o, "split", s->problem->split == DETCGD_SPLIT_SHUFFLED ? "shuffled"
                      : s->problem->split == DETCGD_SPLIT_LABEL_SKEW ? "label-skew" : "contiguous");
  put_str(o, "mode", s->settings->dist.mode == DETCGD_DIST_MPI ? "mpi" : "sim");
  put_int(o, "ranks", s->nranks);
  put_str(o, "algorithm", dc_method_type(s->settings->method)->algorithm);
  put_num(o, "epsilon2", s->settings->dist.epsilon2);
  /* named for what they hold: Corollary 1's lambda_W, lambda_D; scalar DCGD's omega L L_max and gamma^2 times it */
  put_num(o, kr ? "omega_L_Lmax" : "lambda_W", t->lambda_w);
  put_num(o, kr ? "gamma2_omega_L_Lmax" : "lambda_D", t->lambda_d);
  put_num(o, "omega", kr ? t->omega : NAN);
  put_num(o, "gamma_bound_1", t->gamma[0]);
  put_num(o, "gamma_bound_2", t->gamma[1]);
  put_num(o, "gamma_bound_3", t->gamma[2]);
  put_str(o, "gamma_active", kr ? names_kr[t->active] : names_cor1[t->active]);
  put_num(o, "delta_inf", s->result->delta_inf);
  put_str(o, "delta_inf_source", s->settings->dist.delta_inf == DETCGD_DELTA_CERTIFIED
                                     ? "certified: f^inf (every f_c >= 0)" : "estimate: f^inf - mean of GD f_c^inf");
  put_num(o, "f_c_inf_mean", s->fc_inf_mean);
  put_num(o, "K_lower_bound", t->k_lower_bound);
  put_num(o, "theorem3_bound", s->result->theorem3_bound);
}

/* Sign descent against GD on Diag(L_i): L_inf exact or bounded, the advantage d L_2 / L_inf and its bound. */
static void put_geometry(json_object* root, const DetcgdGeometry* g) {
  json_object* o = put_obj(root, "geometry");
  put_str(o, "of", "Diag(L_i), the smoothness bound the stepsizes use");
  put_num(o, "L2", g->l2);
  put_num(o, "Linf_lower", g->linf_lo);
  put_num(o, "Linf_upper", g->linf_hi);
  put_str(o, "Linf", g->linf_exact ? "exact" : "bounds");
  put_num(o, "rho", g->rho);
  put_num(o, "lambda_bar", g->lambda_bar);
  put_num(o, "d_L2_over_Linf_lower", g->advantage_lo);
  put_num(o, "d_L2_over_Linf_upper", g->advantage_hi);
  put_num(o, "rho_lambda_max_over_lambda_bar", g->advantage_bound);
}

/* The method's own numbers (its step and where it comes from). */
static void put_method(json_object* root, const DcSummaryInfo* s) {
  json_object* o = put_obj(root, "method");
  int i;
  put_str(o, "name", dc_method_type(s->settings->method)->name);
  for (i = 0; i < s->nfacts; ++i) {
    if (s->facts[i].text) put_str(o, s->facts[i].key, s->facts[i].text);
    else put_num(o, s->facts[i].key, s->facts[i].value);
  }
}

static const char* condition_name(int condition) {
  return condition == 8 ? "(8)" : condition == 7 ? "(7)" : "none (no matrix stepsize)";
}

static void put_theory(json_object* root, const DcSummaryInfo* s) {
  const DetcgdResult* r = s->result;
  json_object* o = put_obj(root, "theory");
  put_num(o, "certificate", r->certificate);
  put_str(o, "certificate_condition", condition_name(dc_method_type(s->settings->method)->condition));
  put_num(o, "log_det_D", r->log_det);
  put_str(o, "stepsize_built_on", r->stepsize_setup);
  put_num(o, "det_factor", r->det_factor);
  put_num(o, "coords_per_iter", r->coords_per_iter);
  put_num(o, "comm_factor", r->det_factor * r->coords_per_iter);
  put_num(o, "f_inf", r->f_inf);
  put_str(o, "f_inf_source", s->f_inf_source);
  put_int(o, "f_inf_gd_iters", s->f_inf_gd_iters);
  put_num(o, "f_inf_gd_grad_norm2", s->f_inf_gd_grad_norm2);
  if (s->optimum) {
    json_object* x = put_obj(o, "optimum");
    put_num(x, "f_star", s->optimum->f_star);
    put_num(x, "f_smooth", s->optimum->f_smooth);
    put_num(x, "dist_bound", s->optimum->dist_bound);
    put_num(x, "gap_bound", s->optimum->gap_bound);
    put_num(x, "L", s->optimum->L);
    put_num(x, "mu", s->optimum->mu);
    put_int(x, "gradients", s->optimum->iterations);
    put_num(x, "seconds", s->time_optimum);
    put_str(x, "method", "accelerated proximal gradient on the host, certified by one proximal gradient step "
                         "(T is a (1 - mu/L)-contraction): detcgd_optimum");
  }
  put_num(o, "theorem1_bound", r->theorem1_bound);
  put_num(o, "theorem1_bound_certified", s->certified_bound);
}

static void put_result(json_object* root, const DetcgdResult* r) {
  json_object *o = put_obj(root, "result"), *t;
  put_str(o, "termination", detcgd_termination_str(r->termination));
  put_int(o, "iterations", r->iterations);
  /* f_final and grad_norm2_final are of x^K, after the last step; the trace's last row is of x^{K-1} */
  put_int(o, "final_iterate", r->iterations);
  put_num(o, "f_initial", r->f_initial);
  put_num(o, "f_final", r->f_final);
  put_num(o, "grad_norm2_final", r->grad_norm2_final);
  put_num(o, "grad_norm1_final", r->grad_norm1_final);
  put_num(o, "grad_norm2_min", r->grad_norm2_min);
  put_num(o, "grad_norm1_min", r->grad_norm1_min);
  put_num(o, "grad_norm1_mean", r->grad_norm1_mean);
  put_num(o, "G_KD", r->g_kd);
  put_int(o, "coords_sent", r->coords_sent);
  put_int(o, "bits_up", r->bits_up);
  put_int(o, "samples", r->samples);
  put_int(o, "bits_down", r->bits_down);
  put_int(o, "replay_launches", r->replay_launches);
  put_int(o, "device_bytes_peak", r->device_bytes_peak);
  put_int(o, "host_bytes_peak", r->host_bytes_peak);
  t = put_obj(root, "time_s");
  put_num(t, "setup", r->time_setup);
  put_num(t, "f_inf", r->time_finf);
  put_num(t, "iterate", r->time_iterate);
  put_num(t, "gradient", r->time_grad);
  put_num(t, "metrics", r->time_metrics);
  put_num(t, "sketch", r->time_sketch);
  put_num(t, "apply", r->time_apply);
  put_num(t, "communication", r->time_comm);
  put_num(t, "trace", r->time_trace);
  put_num(t, "per_iter", r->iterations > 0 ? r->time_iterate / (double)r->iterations : 0.0);
}

/* The summary JSON: versions, config, theory (certificate, det factor, bounds), result, seconds per phase. */
char* dc_summary_text(const DcSummaryInfo* s) {
  json_object* root = json_object_new_object();
  const char* text;
  char* copy = NULL;
  if (!root) return NULL;
  put_str(root, "detcgd_version", DETCGD_VERSION);
  put_str(root, "git_commit", DETCGD_GIT_COMMIT);
  put_str(root, "backend", s->result->backend);
  put_str(root, "label", s->settings->output.label);
  put_config(root, s);
  put_theory(root, s);
  if (s->nfacts > 0) put_method(root, s);
  if (s->geometry) put_geometry(root, s->geometry);
  if (s->dist) put_distributed(root, s);
  put_result(root, s->result);
  text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
  if (text && (copy = (char*)malloc(strlen(text) + 2))) {
    strcpy(copy, text);
    strcat(copy, "\n");
  }
  json_object_put(root);
  return copy;
}

int dc_summary_write(const char* path, const char* text) {
  FILE* f;
  int ok;
  if (!path || !path[0]) return DETCGD_OK;
  if (!(f = fopen(path, "w"))) return dc_fail(DETCGD_ERR_IO, "summary: cannot write %s (%s)", path, strerror(errno));
  ok = fputs(text, f) >= 0;
  if (fclose(f) != 0 || !ok) return dc_fail(DETCGD_ERR_IO, "summary: write to %s failed", path);
  return DETCGD_OK;
}
