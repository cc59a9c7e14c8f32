/*
 * trace.c -- CSV trace rows and the per-run JSON summary.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "internal.h"
#include "dist.h"
#include "method.h"
#include "options.h"
#include "trace.h"

#ifndef DETCGD_GIT_COMMIT
#define DETCGD_GIT_COMMIT "unknown"
#endif

static const char* TRACE_HEADER =
    "iter,f,grad_norm2,grad_norm2_D,G_KD,coords_sent,bits_up,bits_down,time_s\n";

/* Creates the trace with its header (no file when path is empty). */
int dc_trace_open(DcTrace* t, const char* path) {
  t->path = path;
  t->f = NULL;
  if (!path || !path[0]) return DETCGD_OK;
  t->f = fopen(path, "w");
  if (!t->f) return dc_fail(DETCGD_ERR_IO, "trace: cannot write %s (%s)", path, strerror(errno));
  fputs(TRACE_HEADER, t->f);
  fflush(t->f);
  return DETCGD_OK;
}

int dc_trace_open_append(DcTrace* t, const char* path) {
  long size;
  t->path = path;
  t->f = NULL;
  if (!path || !path[0]) return DETCGD_OK;
  t->f = fopen(path, "a");
  if (!t->f) return dc_fail(DETCGD_ERR_IO, "trace: cannot append to %s (%s)", path, strerror(errno));
  fseek(t->f, 0, SEEK_END);
  size = ftell(t->f);
  if (size == 0) fputs(TRACE_HEADER, t->f);
  fflush(t->f);
  return DETCGD_OK;
}

/* One row, flushed at once so that nothing is lost if the run dies. */
int dc_trace_write(DcTrace* t, const DcTraceRow* r) {
  if (!t->f) return DETCGD_OK;
  fprintf(t->f, "%lld,%.17g,%.17g,%.17g,%.17g,%lld,%lld,%lld,%.6f\n", (long long)r->iter, r->f,
          r->grad_norm2, r->grad_norm2_d, r->g_kd, (long long)r->coords, (long long)r->bits_up,
          (long long)r->bits_down, r->time);
  if (fflush(t->f) != 0) return dc_fail(DETCGD_ERR_IO, "trace: write to %s failed (%s)", t->path, strerror(errno));
  return DETCGD_OK;
}

void dc_trace_close(DcTrace* t) {
  if (t->f) fclose(t->f);
  t->f = NULL;
}

/* JSON number; NaN and Inf become null (JSON has no such numbers). */
static void json_num(FILE* f, const char* key, double v, int comma) {
  if (isfinite(v)) fprintf(f, "    \"%s\": %.17g%s\n", key, v, comma ? "," : "");
  else fprintf(f, "    \"%s\": null%s\n", key, comma ? "," : "");
}

/* JSON string with quotes, backslashes and control characters escaped. */
static void json_quoted(FILE* f, const char* v) {
  const char* p;
  fputc('"', f);
  for (p = v; *p; ++p) {
    if (*p == '"' || *p == '\\') fputc('\\', f);
    if ((unsigned char)*p < 0x20) { fprintf(f, "\\u%04x", (unsigned char)*p); continue; }
    fputc(*p, f);
  }
  fputc('"', f);
}

static void json_str(FILE* f, const char* key, const char* v, int comma) {
  fprintf(f, "    \"%s\": ", key);
  json_quoted(f, v);
  fprintf(f, "%s\n", comma ? "," : "");
}

static void json_int(FILE* f, const char* key, long long v, int comma) {
  fprintf(f, "    \"%s\": %lld%s\n", key, v, comma ? "," : "");
}

/* Every option of the table with its effective value (the keys of the command line and config files:
 * enough to repeat the run), then what the problem and the setup made of them. */
static void write_config(FILE* f, const DcSummaryInfo* s) {
  DcOptionIter it = {0, 0};
  const DcOption* o;
  int first = 1;
  fprintf(f, "  \"config\": {\n");
  while ((o = dc_option_next(&it, NULL, NULL, NULL))) {
    char v[DETCGD_LIST_MAX + 64];
    dc_option_format(o, s->problem, s->settings, v, sizeof v);
    fprintf(f, "%s    \"%s\": ", first ? "" : ",\n", o->key);
    first = 0;
    if (o->type == DC_OPT_INT || o->type == DC_OPT_I64 || o->type == DC_OPT_U64 || o->type == DC_OPT_BOOL)
      fputs(v, f);
    else if (o->type == DC_OPT_DOUBLE) /* NaN (f-inf: estimate) as null */
      fputs(strcmp(v, "nan") ? v : "null", f);
    else
      json_quoted(f, v);
  }
  fprintf(f, "\n  },\n  \"derived\": {\n");
  json_int(f, "dim", s->pinfo->dim, 1);
  json_int(f, "nlayers", s->pinfo->nlayers, 1);
  json_int(f, "nsamples", s->pinfo->nsamples, 1);
  json_num(f, "block_bound_c", s->pinfo->block_bound_c, 1);
  json_str(f, "d_storage", s->d_storage, 1);
  json_int(f, "sparse_steps", s->sparse_steps, 0);
  fprintf(f, "  },\n");
}

/* Theorem 3 / Corollary 1 (or scalar DCGD) quantities of a distributed run. */
static void write_distributed(FILE* f, const DcSummaryInfo* s) {
  const DcDistTheory* t = s->dist;
  const char* names_cor1[] = {"DLD<=D", "lambda_D<=n/K", "lambda_D<=n eps^2 det(D)^(1/d)/(4 Delta_inf)"};
  const char* names_kr[] = {"1/L", "sqrt(n/(omega L L_max K))", "n eps^2/(4 L L_max omega Delta_inf)"};
  int kr = s->settings->stepsize.kind == DETCGD_STEP_DCGD_KR;
  fprintf(f, "  \"distributed\": {\n");
  json_int(f, "clients", s->problem->clients, 1);
  json_str(f, "split", s->problem->split == DETCGD_SPLIT_SHUFFLED ? "shuffled"
                       : s->problem->split == DETCGD_SPLIT_LABEL_SKEW ? "label-skew" : "contiguous", 1);
  json_str(f, "mode", s->settings->dist.mode == DETCGD_DIST_MPI ? "mpi" : "sim", 1);
  json_int(f, "ranks", s->nranks, 1);
  json_str(f, "algorithm", dc_method_type(s->settings->method)->algorithm, 1);
  json_num(f, "epsilon2", s->settings->dist.epsilon2, 1);
  /* named for what they hold: Corollary 1's lambda_W, lambda_D; scalar DCGD's omega L L_max and gamma^2 times it */
  json_num(f, kr ? "omega_L_Lmax" : "lambda_W", t->lambda_w, 1);
  json_num(f, kr ? "gamma2_omega_L_Lmax" : "lambda_D", t->lambda_d, 1);
  json_num(f, "omega", kr ? t->omega : NAN, 1);
  json_num(f, "gamma_bound_1", t->gamma[0], 1);
  json_num(f, "gamma_bound_2", t->gamma[1], 1);
  json_num(f, "gamma_bound_3", t->gamma[2], 1);
  json_str(f, "gamma_active", kr ? names_kr[t->active] : names_cor1[t->active], 1);
  json_num(f, "delta_inf", s->result->delta_inf, 1);
  json_str(f, "delta_inf_source", s->settings->dist.delta_inf == DETCGD_DELTA_CERTIFIED
                                      ? "certified: f^inf (every f_c >= 0)" : "estimate: f^inf - mean of GD f_c^inf", 1);
  json_num(f, "f_c_inf_mean", s->fc_inf_mean, 1);
  json_num(f, "K_lower_bound", t->k_lower_bound, 1);
  json_num(f, "theorem3_bound", s->result->theorem3_bound, 0);
  fprintf(f, "  },\n");
}

/* The summary JSON: versions, config, theory (certificate, det factor, bounds), result, seconds per phase. */
int dc_summary_write(const char* path, const DcSummaryInfo* s) {
  const DetcgdResult* r = s->result;
  FILE* f;
  if (!path || !path[0]) return DETCGD_OK;
  f = fopen(path, "w");
  if (!f) return dc_fail(DETCGD_ERR_IO, "summary: cannot write %s (%s)", path, strerror(errno));
  fprintf(f, "{\n  \"detcgd_version\": \"%s\",\n  \"git_commit\": \"%s\",\n  \"backend\": \"%s\",\n",
          DETCGD_VERSION, DETCGD_GIT_COMMIT, r->backend ? r->backend : "");
  fprintf(f, "  \"label\": ");
  json_quoted(f, s->settings->output.label);
  fprintf(f, ",\n");
  write_config(f, s);
  fprintf(f, "  \"theory\": {\n");
  json_num(f, "certificate", r->certificate, 1);
  json_str(f, "certificate_condition", dc_method_type(s->settings->method)->condition == 8 ? "(8)" : "(7)", 1);
  json_num(f, "log_det_D", r->log_det, 1);
  json_str(f, "stepsize_built_on", r->stepsize_setup ? r->stepsize_setup : "", 1);
  json_num(f, "det_factor", r->det_factor, 1);
  json_num(f, "coords_per_iter", r->coords_per_iter, 1);
  json_num(f, "comm_factor", r->det_factor * r->coords_per_iter, 1);
  json_num(f, "f_inf", r->f_inf, 1);
  json_str(f, "f_inf_source", s->f_inf_source, 1);
  json_int(f, "f_inf_gd_iters", s->f_inf_gd_iters, 1);
  json_num(f, "f_inf_gd_grad_norm2", s->f_inf_gd_grad_norm2, 1);
  json_num(f, "theorem1_bound", r->theorem1_bound, 1);
  json_num(f, "theorem1_bound_certified", s->certified_bound, 0);
  fprintf(f, "  },\n");
  if (s->dist) write_distributed(f, s);
  fprintf(f, "  \"result\": {\n");
  json_str(f, "termination", detcgd_termination_str(r->termination), 1);
  json_int(f, "iterations", r->iterations, 1);
  /* f_final and grad_norm2_final are of x^K, after the last step; the trace's last row is of x^{K-1} */
  json_int(f, "final_iterate", r->iterations, 1);
  json_num(f, "f_initial", r->f_initial, 1);
  json_num(f, "f_final", r->f_final, 1);
  json_num(f, "grad_norm2_final", r->grad_norm2_final, 1);
  json_num(f, "G_KD", r->g_kd, 1);
  json_int(f, "coords_sent", r->coords_sent, 1);
  json_int(f, "bits_up", r->bits_up, 1);
  json_int(f, "bits_down", r->bits_down, 1);
  json_int(f, "replay_launches", r->replay_launches, 1);
  json_int(f, "device_bytes_peak", r->device_bytes_peak, 1);
  json_int(f, "host_bytes_peak", r->host_bytes_peak, 0);
  fprintf(f, "  },\n  \"time_s\": {\n");
  json_num(f, "setup", r->time_setup, 1);
  json_num(f, "f_inf", r->time_finf, 1);
  json_num(f, "iterate", r->time_iterate, 1);
  json_num(f, "gradient", r->time_grad, 1);
  json_num(f, "metrics", r->time_metrics, 1);
  json_num(f, "sketch", r->time_sketch, 1);
  json_num(f, "apply", r->time_apply, 1);
  json_num(f, "communication", r->time_comm, 1);
  json_num(f, "trace", r->time_trace, 1);
  json_num(f, "per_iter", r->iterations > 0 ? r->time_iterate / (double)r->iterations : 0.0, 0);
  fprintf(f, "  }\n}\n");
  if (fclose(f) != 0) return dc_fail(DETCGD_ERR_IO, "summary: write to %s failed", path);
  return DETCGD_OK;
}
