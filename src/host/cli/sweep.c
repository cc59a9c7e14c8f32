/*
 * sweep.c -- `detcgd sweep`: a grid over settings and seeds, one result row per run (runs.csv), a trace and a
 * summary per run, and a plot of every configuration's seeds as its mean with a band.
 *
 *   detcgd sweep --out DIR --data a1a --grid "sketch=rand-1|rand-k" --grid "k=1|8" --seeds 1-16 --eps2 1e-3
 *
 * Each --grid KEY=V1|V2|... is one dimension (also `grid = ...` lines of a config file); the runs are their
 * product (the last dimension fastest), each over the seeds. Every configuration is checked before any run, as
 * `detcgd run` would check it. f^inf is estimated once per problem and shared by its runs.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

#define MAX_VALUES 64
#define MAX_CONFIGS 4096
#define MAX_SEEDS 1000
#define MAX_TOGETHER 64 /* the most runs of one configuration that go together (--together) */

/* One dimension: alternatives, each a few key = value assignments. */
#define MAX_ASSIGN 8
typedef struct Alternative { const char* key[MAX_ASSIGN]; const char* value[MAX_ASSIGN]; int n; const char* text; } Alternative;
typedef struct Dimension {
  Alternative alt[MAX_VALUES];
  int n;
  char text[1024];   /* the spec, cut into keys and values */
  char texts[1024];  /* the spec, cut into alternatives (their text for runs.csv) */
} Dimension;

/* "KEY=V1|V2|..." (V2 and later take KEY), or "k=v k2=v2|k=w ..." (alternatives of several assignments); 0 and a
 * message when it is malformed. */
static int parse_dimension(const char* spec, Dimension* d) {
  char *alt, *save = NULL, *alt_text, *save_text = NULL;
  const char* last_key = NULL;
  if (strlen(spec) >= sizeof d->text) { fprintf(stderr, "detcgd sweep: --grid: longer than %zu characters\n", sizeof d->text - 1); return 0; }
  snprintf(d->text, sizeof d->text, "%s", spec);
  snprintf(d->texts, sizeof d->texts, "%s", spec);
  d->n = 0;
  alt_text = strtok_r(d->texts, "|", &save_text);
  for (alt = strtok_r(d->text, "|", &save); alt; alt = strtok_r(NULL, "|", &save), alt_text = strtok_r(NULL, "|", &save_text)) {
    Alternative* a = &d->alt[d->n];
    char *tok, *save_tok = NULL;
    if (d->n == MAX_VALUES) { fprintf(stderr, "detcgd sweep: --grid \"%s\": more than %d alternatives\n", spec, MAX_VALUES); return 0; }
    a->n = 0;
    a->text = alt_text;
    for (tok = strtok_r(alt, " ", &save_tok); tok; tok = strtok_r(NULL, " ", &save_tok)) {
      char* eq = strchr(tok, '=');
      if (a->n == MAX_ASSIGN) { fprintf(stderr, "detcgd sweep: --grid \"%s\": more than %d assignments in one alternative\n", spec, MAX_ASSIGN); return 0; }
      if (eq && eq != tok) {
        *eq = '\0';
        a->key[a->n] = last_key = tok;
        a->value[a->n++] = eq + 1;
      } else if (!eq && last_key && a->n == 0 && !strtok_r(NULL, " ", &save_tok)) { /* "k=1|4": k = 4 */
        a->key[0] = last_key;
        a->value[0] = tok;
        a->n = 1;
        break;
      } else {
        fprintf(stderr, "detcgd sweep: --grid \"%s\": \"%s\" is not KEY=VALUE (give KEY=V1|V2|..., or alternatives of "
                        "KEY=VALUE assignments: \"sketch=rand-1|sketch=rand-k k=4\")\n", spec, tok);
        return 0;
      }
    }
    if (a->n > 0) ++d->n;
  }
  if (d->n == 0) { fprintf(stderr, "detcgd sweep: --grid \"%s\": no alternatives\n", spec); return 0; }
  return 1;
}

/* --seeds N (N seeds from the settings' seed), A-B, or A,B,C; the count, or 0 and a message. */
static int parse_seeds(const char* text, uint64_t base, uint64_t* out) {
  char copy[4096], *item, *save = NULL, *end;
  int n = 0;
  unsigned long long a, b;
  if (!text) { out[0] = base; return 1; }
  if (strchr(text, '-') == NULL && strchr(text, ',') == NULL) {
    a = strtoull(text, &end, 10);
    if (*end || end == text || a < 1 || a > MAX_SEEDS) goto bad;
    for (b = 0; b < a; ++b) out[n++] = base + b;
    return n;
  }
  snprintf(copy, sizeof copy, "%s", text);
  for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    a = strtoull(item, &end, 10);
    if (end == item) goto bad;
    b = a;
    if (*end == '-') {
      const char* second = end + 1;
      b = strtoull(second, &end, 10);
      if (end == second) goto bad;
    }
    if (*end || b < a || b - a >= MAX_SEEDS) goto bad;
    for (; a <= b; ++a) {
      if (n == MAX_SEEDS) goto bad;
      out[n++] = a;
    }
  }
  if (n > 0) return n;
bad:
  fprintf(stderr, "detcgd sweep: --seeds: \"%s\" is not N (1..%d), A-B or A,B,... (at most %d seeds)\n", text, MAX_SEEDS,
          MAX_SEEDS);
  return 0;
}

/* Configuration c's alternative of every dimension (the last dimension fastest). */
static void config_alternatives(const Dimension* dims, int ndims, int c, const Alternative** alt) {
  int j;
  for (j = ndims - 1; j >= 0; --j) {
    alt[j] = &dims[j].alt[c % dims[j].n];
    c /= dims[j].n;
  }
}

/* The user's options, then configuration c's; the settings for `run` (checked as it checks them) into p, s. */
static int config_settings(const CliAssignments* user, const Dimension* dims, int ndims, int c, DetcgdProblemSpec* p,
                           DetcgdSettings* s, char* label, size_t cap) {
  static CliAssignment items[256 + 16 * MAX_ASSIGN];
  static char origins[16 * MAX_ASSIGN][1100];
  const Alternative* alt[16];
  CliAssignments all;
  int i, j, n = 0, rc;
  if (user->n > 256) { fprintf(stderr, "detcgd sweep: more than 256 options\n"); return EXIT_USAGE; }
  config_alternatives(dims, ndims, c, alt);
  for (i = 0; i < user->n; ++i) items[n++] = user->items[i];
  label[0] = '\0';
  for (j = 0; j < ndims; ++j)
    for (i = 0; i < alt[j]->n; ++i) {
      snprintf(origins[n - user->n], sizeof origins[0], "--grid %s=%s", alt[j]->key[i], alt[j]->value[i]);
      items[n].key = (char*)alt[j]->key[i];
      items[n].value = (char*)alt[j]->value[i];
      items[n].origin = origins[n - user->n];
      items[n].replayed = 0;
      ++n;
      snprintf(label + strlen(label), cap - strlen(label), "%s%s=%s", label[0] ? " " : "", alt[j]->key[i], alt[j]->value[i]);
    }
  if (ndims == 0) snprintf(label, cap, "run");
  all.items = items;
  all.n = all.cap = n;
  detcgd_problem_spec_default(p);
  detcgd_settings_default(s);
  s->output.verbose = 0; /* a line per configuration instead of a table per run (verbose 1 brings them back) */
  s->output.progress = 0;
  rc = cli_apply(&all, p, s, DETCGD_CMD_RUN);
  if (rc != EXIT_OK) fprintf(stderr, "detcgd sweep: configuration %d (%s) is refused\n", c + 1, label);
  return rc;
}

/* A CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line break. */
static void put_field(FILE* f, const char* v) {
  if (!strpbrk(v, ",\"\r\n")) { fputs(v, f); return; }
  fputc('"', f);
  for (; *v; ++v) {
    if (*v == '"') fputc('"', f);
    fputc(*v, f);
  }
  fputc('"', f);
}

/* The first trace row with G_KD <= eps2: its iteration and uplink bits (-1, -1: none). */
static void first_below(const DetcgdSolver* solver, double eps2, long long* iters, long long* bits) {
  const char* const* names;
  int ncols = detcgd_trace_columns(solver, &names), ig = -1, ii = -1, ib = -1, j;
  int64_t r, nrows;
  const double* rows = detcgd_trace_rows(solver, &nrows);
  *iters = *bits = -1;
  for (j = 0; j < ncols; ++j) {
    if (!strcmp(names[j], "G_KD")) ig = j;
    if (!strcmp(names[j], "iter")) ii = j;
    if (!strcmp(names[j], "bits_up")) ib = j;
  }
  for (r = 0; rows && ig >= 0 && r < nrows; ++r)
    if (rows[r * ncols + ig] <= eps2) {
      *iters = (long long)rows[r * ncols + ii];
      *bits = (long long)rows[r * ncols + ib];
      return;
    }
}

typedef struct RunOutcome { double g_kd, grad2, f, seconds; long long bits, iters_eps, bits_eps; } RunOutcome;

/* A finished run's outcome. */
static int run_outcome(const DetcgdSolver* solver, double eps2, RunOutcome* out) {
  DetcgdResult r;
  int st = detcgd_get_result(solver, &r);
  if (st != DETCGD_OK) return st;
  out->g_kd = r.g_kd;
  out->grad2 = r.grad_norm2_final;
  out->f = r.f_final;
  out->bits = (long long)r.bits_up;
  out->seconds = r.time_iterate;
  first_below(solver, eps2, &out->iters_eps, &out->bits_eps);
  return DETCGD_OK;
}

int cli_sweep(const char* out_dir, const char* const* grid, int ngrid, const char* seeds_text, double eps2,
              int together, const CliAssignments* user, const CliPlotRequest* plot) {
  static Dimension dims[16];
  static uint64_t seeds[MAX_SEEDS];
  static char labels[MAX_CONFIGS][CLI_PLOT_LABEL];
  static CliSeries series[MAX_CONFIGS];
  DetcgdProblemSpec p, prev;
  DetcgdSettings s;
  DetcgdProblem* prob = NULL;
  CliPlotStyle style;
  char path[DETCGD_PATH_MAX], name[CLI_PLOT_LABEL];
  char(*traces)[DETCGD_PATH_MAX] = NULL;
  const char** trace_list = NULL;
  double f_inf_given = NAN; /* the current problem's f^inf, once its first run has it */
  int nconfigs = 1, nseeds, c, k, j, st = DETCGD_OK, rc, ran = 0;
  FILE* rows;
  if (ngrid > 16) { fprintf(stderr, "detcgd sweep: more than 16 --grid dimensions\n"); return EXIT_USAGE; }
  if (together < 1 || together > MAX_TOGETHER) {
    fprintf(stderr, "detcgd sweep: --together %d: not in 1..%d\n", together, MAX_TOGETHER);
    return EXIT_USAGE;
  }
  for (j = 0; j < ngrid; ++j) {
    if (!parse_dimension(grid[j], &dims[j])) return EXIT_USAGE;
    if ((nconfigs *= dims[j].n) > MAX_CONFIGS) { fprintf(stderr, "detcgd sweep: more than %d configurations\n", MAX_CONFIGS); return EXIT_USAGE; }
  }
  {
    char title[256] = "sweep";
    for (j = 0; j < ngrid; ++j) snprintf(title + strlen(title), sizeof title - strlen(title), "%s%s", j ? " x " : ": ", grid[j]);
    if ((rc = cli_plot_style(&style, plot->metric, plot->x, plot->bits_axis, plot->title ? plot->title : title)) != EXIT_OK)
      return rc;
  }
  for (c = 0; c < nconfigs; ++c) /* every configuration checked before anything runs */
    if ((rc = config_settings(user, dims, ngrid, c, &p, &s, labels[c], sizeof labels[c])) != EXIT_OK) return rc;
  if (!(nseeds = parse_seeds(seeds_text, s.seed, seeds))) return EXIT_USAGE;
  if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) { fprintf(stderr, "detcgd sweep: cannot create %s (%s)\n", out_dir, strerror(errno)); return EXIT_DATA; }
  snprintf(path, sizeof path, "%s/runs.csv", out_dir);
  if (!(rows = fopen(path, "w"))) { fprintf(stderr, "detcgd sweep: cannot write %s (%s)\n", path, strerror(errno)); return EXIT_DATA; }
  traces = (char(*)[DETCGD_PATH_MAX])calloc((size_t)nconfigs * nseeds, DETCGD_PATH_MAX);
  trace_list = (const char**)calloc((size_t)nconfigs * nseeds, sizeof *trace_list);
  if (!traces || !trace_list) { fprintf(stderr, "detcgd sweep: out of memory\n"); st = DETCGD_ERR_ALLOC; }
  fputs("run,config", rows);
  for (j = 0; j < ngrid; ++j) fprintf(rows, ",grid%d", j + 1);
  fputs(",seed,G_KD,grad_norm2_final,f_final,bits_up,iters_to_eps,bits_to_eps,eps2,seconds,trace\n", rows);
  printf("sweep: %d configuration(s) x %d seed(s) -> %s (G_KD <= eps2 = %g for iterations- and bits-to-eps)\n",
         nconfigs, nseeds, out_dir, eps2);
  memset(&prev, 0, sizeof prev);
  for (c = 0; c < nconfigs && st == DETCGD_OK && !detcgd_stop_requested(); ++c) {
    const Alternative* alt[16];
    double gsum = 0, glo = INFINITY, ghi = -INFINITY;
    config_settings(user, dims, ngrid, c, &p, &s, labels[c], sizeof labels[c]);
    config_alternatives(dims, ngrid, c, alt);
    if (!prob || memcmp(&p, &prev, sizeof p) != 0) { /* a problem of its own, and its own f^inf */
      detcgd_problem_destroy(&prob);
      if ((st = detcgd_problem_create(&prob, &p)) != DETCGD_OK) { fprintf(stderr, "detcgd sweep: %s: %s\n", labels[c], detcgd_last_error()); break; }
      prev = p;
      f_inf_given = s.f_inf;
    } else {
      s.f_inf = f_inf_given;
    }
    cli_slug(labels[c], name, sizeof name);
    series[c].label = labels[c];
    series[c].csv = trace_list + (size_t)c * nseeds;
    series[c].ncsv = 0;
    for (k = 0; k < nseeds && st == DETCGD_OK && (k == 0 || !detcgd_stop_requested()); k += together) {
      DetcgdSolver* group[MAX_TOGETHER] = {NULL};
      DetcgdSettings quiet;
      int n = nseeds - k < together ? nseeds - k : together, r;
      for (r = 0; r < n && st == DETCGD_OK; ++r) { /* the group's runs; the first one's f^inf shared by the rest */
        char* csv = traces[(size_t)c * nseeds + k + r];
        s.seed = seeds[k + r];
        snprintf(s.output.label, sizeof s.output.label, "%.127s", labels[c]);
        snprintf(csv, DETCGD_PATH_MAX, "%s/%s_seed%llu.csv", out_dir, name, (unsigned long long)seeds[k + r]);
        snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", csv);
        snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s/%s_seed%llu.json", out_dir, name,
                 (unsigned long long)seeds[k + r]);
        quiet = s; /* runs together: their tables would interleave (each trace has every row) */
        if (n > 1) quiet.output.verbose = quiet.output.progress = 0;
        if ((st = detcgd_create(&group[r], prob, &quiet)) == DETCGD_OK && isnan(s.f_inf))
          s.f_inf = f_inf_given = detcgd_f_inf(group[r]); /* the problem's f^inf, shared by the runs that follow */
      }
      if (st == DETCGD_OK) st = n == 1 ? detcgd_run(group[0]) : detcgd_run_many(group, n);
      if (st != DETCGD_OK)
        fprintf(stderr, "detcgd sweep: %s, seeds %llu .. %llu (%d together): %s\n", labels[c],
                (unsigned long long)seeds[k], (unsigned long long)seeds[k + n - 1], n, detcgd_last_error());
      for (r = 0; r < n && st == DETCGD_OK; ++r) {
        const char* csv = traces[(size_t)c * nseeds + k + r];
        RunOutcome o;
        if ((st = run_outcome(group[r], eps2, &o)) != DETCGD_OK) break;
        trace_list[(size_t)c * nseeds + series[c].ncsv++] = csv;
        fprintf(rows, "%d,%d", ++ran, c + 1);
        for (j = 0; j < ngrid; ++j) {
          fputc(',', rows);
          put_field(rows, alt[j]->text);
        }
        fprintf(rows, ",%llu,%.10g,%.10g,%.12g,%lld,", (unsigned long long)seeds[k + r], o.g_kd, o.grad2, o.f, o.bits);
        if (o.iters_eps >= 0) fprintf(rows, "%lld,%lld", o.iters_eps, o.bits_eps);
        else fputs(",", rows);
        fprintf(rows, ",%g,%.6f,", eps2, o.seconds);
        put_field(rows, csv);
        fputc('\n', rows);
        fflush(rows);
        gsum += o.g_kd;
        glo = o.g_kd < glo ? o.g_kd : glo;
        ghi = o.g_kd > ghi ? o.g_kd : ghi;
      }
      for (r = 0; r < n; ++r) detcgd_destroy(&group[r]);
    }
    if (series[c].ncsv > 0)
      printf("%4d  %-48s G_KD mean %.6e  [%.6e, %.6e] over %d seed(s)\n", c + 1, labels[c], gsum / series[c].ncsv,
             glo, ghi, series[c].ncsv);
  }
  detcgd_problem_destroy(&prob);
  fclose(rows);
  for (k = 0, j = 0; k < c; ++k) j += series[k].ncsv > 0;
  rc = st == DETCGD_OK || detcgd_stop_requested() ? EXIT_OK : cli_exit_code(st);
  if (j > 0 && (rc == EXIT_OK)) {
    int n = 0;
    for (k = 0; k < c; ++k) if (series[k].ncsv > 0) series[n++] = series[k];
    snprintf(path, sizeof path, "%s/plot.png", out_dir);
    if ((rc = cli_plot(path, series, n, &style)) == EXIT_OK) printf("runs: %s/runs.csv\nplot: %s\n", out_dir, path);
  }
  free(traces);
  free(trace_list);
  if (rc == EXIT_OK && detcgd_stop_requested()) {
    printf("sweep interrupted: %d run(s) recorded in %s/runs.csv\n", ran, out_dir);
    return 128 + SIGINT;
  }
  return rc;
}
