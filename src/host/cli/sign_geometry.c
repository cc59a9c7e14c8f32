/*
 * sign_geometry.c -- experiment sign-geometry: does the l-inf geometry predict when sign descent beats GD?
 *
 * For problems that sweep the diagonal concentration rho and lambda_max / lambda_bar of their smoothness bound
 * (quadratics with the same spectrum, diagonal, partly and fully rotated, and a narrow spectrum), and the LIBSVM
 * data, GD at 1 / L_2 and scaled sign GD at 1 / L_inf, each from x^0 for K iterations.  Predicted: the ratio of
 * their per-step guarantees at x^0, ||g||_1^2 / (2 L_inf) over ||g||_2^2 / (2 L_2) = phi(g) d L_2 / L_inf.
 * Observed: (f_K - f^inf) of GD over that of scaled sign GD.  A table (stdout and summary.csv) and a plot of
 * the observed ratio against the predicted one: the winner agrees where both lie on the same side of 1.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

typedef struct GeometryCase {
  const char* label;
  const char* data;    /* a LIBSVM file of ../shared, or NULL: quad-nc */
  double diag;         /* quad-nc: diag-dominance (1: diagonal, 0: the spectrum rotated) */
  double spec_min;     /* quad-nc: the spectrum is log-spaced in [spec_min, 1] */
} GeometryCase;

static const GeometryCase CASES[] = { /* labels without commas: they are a CSV column */
  {"diagonal (spectrum 1e-3 to 1)", NULL, 1.0, 1e-3},
  {"90% diagonal", NULL, 0.9, 1e-3},
  {"half diagonal", NULL, 0.5, 1e-3},
  {"rotated (the same spectrum)", NULL, 0.0, 1e-3},
  {"diagonal (spectrum 0.5 to 1)", NULL, 1.0, 0.5},
  {"a1a", "a1a", 0, 0},
  {"mushrooms", "mushrooms", 0, 0},
  {"phishing", "phishing", 0, 0},
};
#define NCASES ((int)(sizeof CASES / sizeof CASES[0]))

typedef struct Outcome {
  DetcgdGeometry g;
  double phi0, predicted;   /* phi(g(x^0)); phi0 d L_2 / L_inf */
  double f0, f_inf, gap_gd, gap_sign, observed;
} Outcome;

/* The case's problem: quad-nc 8 layers of 32 with lambda = 0 (f^inf = 0 at the planted centres), or the file
 * with lambda 0.1; then the user's options. */
static int case_problem(const GeometryCase* c, const CliAssignments* user, DetcgdProblemSpec* p, DetcgdSettings* s) {
  detcgd_problem_spec_default(p);
  detcgd_settings_default(s);
  s->term.max_iter = 500;
  s->output.verbose = 0;
  s->output.progress = 0;
  if (c->data) {
    cli_shared_data(c->data, p->data_path, sizeof p->data_path);
    p->lambda = 0.1;
  } else {
    p->kind = DETCGD_PROBLEM_QUAD_NC;
    snprintf(p->layers, sizeof p->layers, "8x32");
    p->lambda = 0.0;
    p->diag_dominance = c->diag;
    p->spec_min = c->spec_min;
    p->spec_max = 1.0;
    s->f_inf = 0.0;
  }
  return cli_apply(user, p, s, DETCGD_CMD_EXPERIMENT);
}

/* phi(g) = ||g||_1^2 / (d ||g||_2^2) at x^0, and f(x^0). */
static int density_at_x0(const DetcgdProblem* prob, const DetcgdSettings* s, double* phi, double* f0) {
  DetcgdProblemInfo info;
  double *x, *g, l1 = 0, l2 = 0;
  int64_t j;
  int st;
  detcgd_problem_info(prob, &info);
  x = (double*)malloc((size_t)info.dim * sizeof(double));
  g = (double*)malloc((size_t)info.dim * sizeof(double));
  if (!x || !g) { free(x); free(g); return DETCGD_ERR_ALLOC; }
  detcgd_starting_point(s, info.dim, x);
  st = detcgd_problem_eval(prob, x, f0, g);
  for (j = 0; j < info.dim; ++j) { l1 += fabs(g[j]); l2 += g[j] * g[j]; }
  *phi = l1 * l1 / ((double)info.dim * l2);
  free(x);
  free(g);
  return st;
}

static int run(const DetcgdProblem* prob, const DetcgdSettings* base, const char* method, const char* dir,
               const char* name, DetcgdResult* r) {
  DetcgdSettings s = *base;
  DetcgdSolver* solver = NULL;
  int st = detcgd_settings_set(&s, "method", method);
  if (st == DETCGD_OK && !strcmp(method, "gd")) st = detcgd_settings_set(&s, "stepsize", "gd");
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s/%s_%s.csv", dir, name, method);
  snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s/%s_%s.json", dir, name, method);
  snprintf(s.output.label, sizeof s.output.label, "%s: %s", name, method);
  if (st == DETCGD_OK) st = detcgd_create(&solver, prob, &s);
  if (st == DETCGD_OK) st = detcgd_run(solver);
  if (st == DETCGD_OK) st = detcgd_get_result(solver, r);
  detcgd_destroy(&solver);
  return st;
}

/* One case: the geometry, the prediction, both runs.  A missing LIBSVM file skips the case (*ran = 0). */
static int run_case(const GeometryCase* c, const CliAssignments* user, const char* dir, Outcome* o, int* ran) {
  DetcgdProblemSpec p;
  DetcgdSettings s;
  DetcgdProblem* prob = NULL;
  DetcgdResult gd, sign;
  char name[96];
  double floor;
  int st = case_problem(c, user, &p, &s);
  *ran = 0;
  if (st != EXIT_OK) return st;
  if (c->data && fopen(p.data_path, "r") == NULL) return EXIT_OK;
  cli_slug(c->label, name, sizeof name);
  if ((st = detcgd_problem_create(&prob, &p)) == DETCGD_OK && (st = detcgd_geometry(prob, -1, &o->g)) == DETCGD_OK &&
      (st = density_at_x0(prob, &s, &o->phi0, &o->f0)) == DETCGD_OK && (st = run(prob, &s, "gd", dir, name, &gd)) == DETCGD_OK) {
    s.f_inf = gd.f_inf; /* one f^inf for both */
    st = run(prob, &s, "scaled-sign-gd", dir, name, &sign);
  }
  detcgd_problem_destroy(&prob);
  if (st != DETCGD_OK) {
    fprintf(stderr, "experiment sign-geometry: %s: %s\n", c->label, detcgd_last_error());
    return cli_exit_code(st);
  }
  o->predicted = o->phi0 * (double)o->g.dim * o->g.l2 / o->g.linf_hi;
  o->f_inf = gd.f_inf;
  floor = 1e-12 * fabs(o->f0 - o->f_inf); /* gaps below this count as reached */
  o->gap_gd = fmax(gd.f_final - o->f_inf, floor);
  o->gap_sign = fmax(sign.f_final - o->f_inf, floor);
  o->observed = o->gap_gd / o->gap_sign;
  *ran = 1;
  return EXIT_OK;
}

static int write_outputs(const char* dir, const Outcome* o, const int* ran) {
  char path[DETCGD_PATH_MAX + 32], png[DETCGD_PATH_MAX + 32], csv[DETCGD_PATH_MAX + 32];
  FILE* f;
  int i, rc;
  snprintf(path, sizeof path, "%s/summary.csv", dir);
  if (!(f = fopen(path, "w"))) { fprintf(stderr, "experiment sign-geometry: cannot write %s\n", path); return EXIT_DATA; }
  fprintf(f, "problem,d,L2,Linf_lower,Linf_upper,rho,lambda_max_over_lambda_bar,d_L2_over_Linf,phi0,predicted,"
             "f_inf,gap_gd,gap_scaled_sign,observed,predicted_winner,observed_winner\n");
  for (i = 0; i < NCASES; ++i)
    if (ran[i])
      fprintf(f, "%s,%lld,%.10g,%.10g,%.10g,%.6g,%.6g,%.6g,%.6g,%.6g,%.12g,%.6g,%.6g,%.6g,%s,%s\n", CASES[i].label,
              (long long)o[i].g.dim, o[i].g.l2, o[i].g.linf_lo, o[i].g.linf_hi, o[i].g.rho,
              o[i].g.l2 / o[i].g.lambda_bar, o[i].g.advantage_lo, o[i].phi0, o[i].predicted, o[i].f_inf, o[i].gap_gd,
              o[i].gap_sign, o[i].observed, o[i].predicted > 1 ? "sign" : "gd", o[i].observed > 1 ? "sign" : "gd");
  fclose(f);
  snprintf(path, sizeof path, "%s/plot.gp", dir);
  if (!(f = fopen(path, "w"))) return EXIT_DATA;
  fputs("# detcgd experiment sign-geometry; regenerate with: gnuplot THIS_FILE\n"
        "set terminal pngcairo size 900,700 enhanced font 'sans,11'\nset output ", f);
  snprintf(png, sizeof png, "%s/plot.png", dir);
  cli_gnuplot_quote(f, png);
  fputs("\nset datafile separator ','\nset logscale xy\nset format y '10^{%L}'\nset grid\nset key off\n"
        "set title 'scaled sign GD against GD: the predicted per-step gain and the observed one'\n"
        "set xlabel 'predicted: {/Symbol f}(g_0) d L_2 / L_{/Symbol \\245} (sign wins > 1)'\n"
        "set ylabel 'observed: (f_K - f^{inf}) of GD / of scaled sign GD (sign wins > 1)'\n"
        "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2\n"
        "set arrow from first 1, graph 0 to first 1, graph 1 nohead dt 2\n"
        "plot ", f);
  snprintf(csv, sizeof csv, "%s/summary.csv", dir);
  cli_gnuplot_quote(f, csv);
  fputs(" skip 1 using 10:14 with points pt 7 ps 1.5 lc 1, \\\n"
        "     '' skip 1 using 10:14:1 with labels offset 1,0.8 left font 'sans,9' noenhanced\n", f);
  fclose(f);
  if ((rc = cli_gnuplot_run(path)) != EXIT_OK) return rc;
  printf("plot: %s/plot.png\n", dir);
  return EXIT_OK;
}

int cli_sign_geometry(const char* out_dir, int seeds, const CliAssignments* user) {
  Outcome o[NCASES];
  int ran[NCASES], i, agree = 0, n = 0, st;
  if (seeds > 1) { fprintf(stderr, "experiment sign-geometry: --seeds: its runs draw nothing at random\n"); return EXIT_USAGE; }
  if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "experiment: cannot create %s (%s)\n", out_dir, strerror(errno));
    return EXIT_DATA;
  }
  printf("experiment sign-geometry: %s -> %s\n", CLI_SIGN_GEOMETRY_WHAT, out_dir);
  printf("GD at D = I / L_2 against scaled sign GD at 1 / L_inf (L_inf: exact, or its certified upper bound), K = "
         "500 unless --iters\n\n%-30s %6s %8s %10s %8s %10s %8s %10s %11s %11s %8s  %s\n", "problem", "d", "rho",
         "lmax/lbar", "dL2/Linf", "phi(g0)", "predict", "observed", "gap GD", "gap sign", "winner", "agree");
  for (i = 0; i < NCASES; ++i) {
    if ((st = run_case(&CASES[i], user, out_dir, &o[i], &ran[i])) != EXIT_OK) return st;
    if (!ran[i]) { printf("%-30s (data not found: skipped)\n", CASES[i].label); continue; }
    ++n;
    agree += (o[i].predicted > 1) == (o[i].observed > 1);
    printf("%-30s %6lld %8.4f %10.4g %8.4g %10.4g %8.4g %10.4g %11.4g %11.4g %8s  %s\n", CASES[i].label,
           (long long)o[i].g.dim, o[i].g.rho, o[i].g.l2 / o[i].g.lambda_bar, o[i].g.advantage_lo, o[i].phi0,
           o[i].predicted, o[i].observed, o[i].gap_gd, o[i].gap_sign, o[i].observed > 1 ? "sign" : "GD",
           (o[i].predicted > 1) == (o[i].observed > 1) ? "yes" : "no");
  }
  printf("\nthe predicted winner is the observed one on %d of %d problems\n", agree, n);
  return n > 0 ? write_outputs(out_dir, o, ran) : EXIT_OK;
}
