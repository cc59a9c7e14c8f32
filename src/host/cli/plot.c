/*
 * plot.c -- convergence plots through gnuplot: G_{K,D} (or ||grad f(x^k)||^2) against iterations
 * and against uplink bits, several runs on one figure (a run over seeds as its
 * mean with the min-max band shaded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* xbits: the panel against uplink bits (column 7 of a trace, 5 of a band), else against iterations; a trace's
 * G_{K,D} is column 5, ||grad f||^2 column 3, dist2 column 13 (methods without columns of their own). */
static void plot_panel(FILE* f, const CliSeries* s, int n, int xbits, const char* xlabel, CliPlotStyle style) {
  int i;
  fprintf(f, "%s", xbits && style.log_bits ? "set logscale x\n" : "unset logscale x\n");
  fprintf(f, "set xlabel '%s'\nset ylabel '%s'\nplot ", xlabel,
          style.dist2 ? "||x^k - x^*||^2" : style.grad_norm2 ? "||∇f(x^k)||^2" : "G_{K,D}");
  for (i = 0; i < n; ++i) { /* the 8 colours, then dashed, then dotted: every series its own line */
    int lc = i % 8 + 1, dt = i / 8 % 3 + 1;
    if (s[i].band)
      fprintf(f, "'%s' using %d:3:4 skip 1 with filledcurves lc %d fs transparent solid 0.25 notitle, \\\n     "
                 "'%s' using %d:2 skip 1 with lines lw 2 lc %d dt %d title '%s' noenhanced",
              s[i].csv, xbits ? 5 : 1, lc, s[i].csv, xbits ? 5 : 1, lc, dt, s[i].label);
    else
      fprintf(f, "'%s' using %d:%d skip 1 with lines lw 2 lc %d dt %d title '%s' noenhanced", s[i].csv, xbits ? 7 : 1,
              style.dist2 ? 13 : style.grad_norm2 ? 3 : 5, lc, dt, s[i].label);
    fputs(i + 1 < n ? ", \\\n     " : "\n", f);
  }
}

int cli_plot(const char* png, const CliSeries* series, int n, const char* title, CliPlotStyle style) {
  char script[1024], cmd[1200];
  FILE* f;
  int rc;
  if (n <= 0) { fprintf(stderr, "plot: no traces given\n"); return EXIT_USAGE; }
  snprintf(script, sizeof script, "%s.gp", png);
  f = fopen(script, "w");
  if (!f) { fprintf(stderr, "plot: cannot write %s\n", script); return EXIT_DATA; }
  fprintf(f, "# detcgd plot; regenerate with: gnuplot '%s'\n", script);
  fprintf(f, "set terminal pngcairo size 1500,560 enhanced font 'sans,11'\nset output '%s'\n", png);
  fprintf(f, "set datafile separator ','\nset logscale y\nset format y '10^{%%L}'\nset grid\nset key top right\n");
  fprintf(f, "set multiplot layout 1,2 title '%s'\n", title ? title : "");
  for (rc = 0; rc < n; ++rc) style.grad_norm2 &= !series[rc].band, style.dist2 &= !series[rc].band; /* a band: G only */
  plot_panel(f, series, n, 0, "iteration k", style);
  plot_panel(f, series, n, 1, "uplink bits", style);
  fprintf(f, "unset multiplot\n");
  fclose(f);
  snprintf(cmd, sizeof cmd, "gnuplot '%s'", script);
  rc = system(cmd);
  if (rc != 0) {
    fprintf(stderr, "plot: gnuplot failed on %s (is gnuplot installed? apt-get install gnuplot-nox)\n", script);
    return EXIT_FAILURE_RUN;
  }
  return EXIT_OK;
}
