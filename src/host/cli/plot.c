/*
 * plot.c -- convergence figures through gnuplot: a grid of panels, one row per metric (G_{K,D}, ||grad f||^2,
 * f - f_min, ||grad f||_1, ||x^k - x*||^2) and one column per axis (iterations, uplink bits on a log scale, seconds).
 * A series of several traces (the seeds of one configuration) is drawn as its geometric mean with the min-max band
 * shaded. Every series has its own colour (Okabe-Ito: colour-blind safe), dash pattern and marker, so curves that
 * coincide stay apart. The data go into the script as datablocks: the .gp file beside the PNG redraws it anywhere.
 * Labels are escaped for gnuplot, and gnuplot is started without a shell.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"

typedef struct Column { const char* key; const char* column; const char* label; } Column;

static const Column METRICS[CLI_PLOT_METRICS] = {
    {"gkd", "G_KD", "G_{K,D} = mean_{j<=k} ||∇f(x^j)||^2_{D/det(D)^{1/d}}"},
    {"grad2", "grad_norm2", "||∇f(x^k)||^2 (Euclidean)"},
    {"f-gap", "f", "f(x^k) - f_{min} (f_{min}: least f plotted)"},
    {"grad1", "grad_norm1", "||∇f(x^k)||_1"},
    {"dist2", "dist2", "||x^k - x^*||^2"}};
static const Column AXES[CLI_PLOT_AXES] = {
    {"iter", "iter", "iteration k"}, {"bits", "bits_up", "uplink bits"}, {"time", "time_s", "seconds"}};
/* Okabe & Ito's palette less its yellow (unreadable on white) */
static const char* const COLOURS[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
#define NCOLOURS 7
#define MAX_POINTS 2000 /* rows per series in the figure (longer traces are thinned evenly, the last row kept) */

/* One of names (a comma-separated list) into out[*n]; 0 and a message naming the option when one is unknown. */
static int parse_list(const char* option, const char* list, const Column* table, int ntable, int* out, int* n) {
  char copy[256], *item, *save = NULL;
  int j;
  *n = 0;
  snprintf(copy, sizeof copy, "%s", list);
  for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    for (j = 0; j < ntable && strcmp(item, table[j].key); ++j) {}
    if (j == ntable || *n == ntable) {
      fprintf(stderr, "detcgd: --%s: \"%s\" is not one of", option, item);
      for (j = 0; j < ntable; ++j) fprintf(stderr, "%s %s", j ? "," : "", table[j].key);
      fprintf(stderr, " (each at most once)\n");
      return 0;
    }
    out[(*n)++] = j;
  }
  if (*n == 0) { fprintf(stderr, "detcgd: --%s: give at least one\n", option); return 0; }
  return 1;
}

int cli_plot_style(CliPlotStyle* st, const char* metrics, const char* axes, const char* bits_axis, const char* title) {
  if (!parse_list("metric", metrics ? metrics : CLI_PLOT_DEFAULT_METRICS, METRICS, CLI_PLOT_METRICS, st->metric,
                  &st->nmetric) ||
      !parse_list("x", axes ? axes : "iter,bits", AXES, CLI_PLOT_AXES, st->axis, &st->naxis))
    return EXIT_USAGE;
  if (bits_axis && strcmp(bits_axis, "log") && strcmp(bits_axis, "linear")) {
    fprintf(stderr, "detcgd: --bits-axis: \"%s\" is not log or linear\n", bits_axis);
    return EXIT_USAGE;
  }
  st->linear_bits = bits_axis && !strcmp(bits_axis, "linear");
  snprintf(st->title, sizeof st->title, "%s", title ? title : "");
  return EXIT_OK;
}

/* A gnuplot single-quoted string: ' doubled, control characters as spaces (a backslash is literal there). */
void cli_gnuplot_quote(FILE* f, const char* s) {
  fputc('\'', f);
  for (; *s; ++s) {
    if (*s == '\'') fputs("''", f);
    else fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
  }
  fputc('\'', f);
}

/* The named columns of a trace CSV (its header names them): rows * ncols doubles, NaN where a cell is empty. */
static int read_columns(const char* path, const char* const* names, int ncols, double** rows, int* nrows) {
  FILE* f = fopen(path, "r");
  char *line = NULL, *cell, *save;
  size_t cap = 0;
  int where[16], j, c, cap_rows = 0;
  *rows = NULL;
  *nrows = 0;
  if (!f) { fprintf(stderr, "plot: cannot read %s (%s)\n", path, strerror(errno)); return 0; }
  if (getline(&line, &cap, f) < 0) { fprintf(stderr, "plot: %s is empty\n", path); fclose(f); free(line); return 0; }
  line[strcspn(line, "\r\n")] = '\0';
  for (j = 0; j < ncols; ++j) where[j] = -1;
  for (c = 0, cell = strtok_r(line, ",", &save); cell; cell = strtok_r(NULL, ",", &save), ++c)
    for (j = 0; j < ncols; ++j) if (!strcmp(cell, names[j])) where[j] = c;
  for (j = 0; j < ncols; ++j)
    if (where[j] < 0) {
      fprintf(stderr, "plot: %s has no column %s%s\n", path, names[j],
              !strcmp(names[j], "dist2") ? " (runs with optimum solve have it)" : "");
      fclose(f);
      free(line);
      return 0;
    }
  while (getline(&line, &cap, f) > 0) {
    char* p = line;
    if (*nrows == cap_rows) {
      double* grown = (double*)realloc(*rows, (size_t)(cap_rows = cap_rows ? 2 * cap_rows : 256) * ncols * sizeof(double));
      if (!grown) break;
      *rows = grown;
    }
    for (j = 0; j < ncols; ++j) (*rows)[(size_t)*nrows * ncols + j] = NAN;
    for (c = 0; p; ++c) {
      char* next = strchr(p, ',');
      for (j = 0; j < ncols; ++j) if (where[j] == c) (*rows)[(size_t)*nrows * ncols + j] = strtod(p, NULL);
      p = next ? next + 1 : NULL;
    }
    ++*nrows;
  }
  free(line);
  fclose(f);
  if (*nrows == 0) fprintf(stderr, "plot: %s has no rows\n", path);
  return *nrows > 0;
}

/* A series read: its traces' columns (axes, then metrics), rows up to the shortest trace. */
typedef struct SeriesData { double** rows; int ntraces, nrows, ncols; } SeriesData;

static void series_free(SeriesData* d) {
  int t;
  for (t = 0; t < d->ntraces; ++t) free(d->rows[t]);
  free(d->rows);
}

/* One datablock row: each axis (mean over the traces), then each metric's geometric mean, min and max. */
static void put_row(FILE* f, const SeriesData* d, int r, const CliPlotStyle* st, double f_least) {
  int j, t;
  for (j = 0; j < st->naxis; ++j) {
    double sum = 0;
    for (t = 0; t < d->ntraces; ++t) sum += d->rows[t][(size_t)r * d->ncols + j];
    if (st->axis[j] == CLI_AXIS_BITS && !st->linear_bits && !(sum > 0)) fputs("NaN ", f); /* 0 bits: off a log axis */
    else fprintf(f, "%.10g ", sum / d->ntraces);
  }
  for (j = 0; j < st->nmetric; ++j) {
    double logsum = 0, lo = INFINITY, hi = -INFINITY;
    int npos = 0;
    for (t = 0; t < d->ntraces; ++t) {
      double v = d->rows[t][(size_t)r * d->ncols + st->naxis + j];
      if (st->metric[j] == CLI_METRIC_F_GAP) v -= f_least;
      if (!(v > 0) || !isfinite(v)) continue; /* (a log axis shows positive values only) */
      logsum += log(v);
      ++npos;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    if (npos) fprintf(f, "%.10g %.10g %.10g ", exp(logsum / npos), lo, hi);
    else fputs("NaN NaN NaN ", f);
  }
  fputc('\n', f);
}

/* Has the panel of metric m against axis a a point to draw (x finite, positive on a log axis; y finite and > 0)? */
static int panel_has_points(const SeriesData* data, int n, const CliPlotStyle* st, int m, int a, double f_least) {
  int i, t, r, logx = st->axis[a] == CLI_AXIS_BITS && !st->linear_bits;
  for (i = 0; i < n; ++i)
    for (t = 0; t < data[i].ntraces; ++t)
      for (r = 0; r < data[i].nrows; ++r) {
        double x = data[i].rows[t][(size_t)r * data[i].ncols + a];
        double y = data[i].rows[t][(size_t)r * data[i].ncols + st->naxis + m];
        if (st->metric[m] == CLI_METRIC_F_GAP) y -= f_least;
        if (isfinite(x) && (!logx || x > 0) && isfinite(y) && y > 0) return 1;
      }
  return 0;
}

/* The panel of metric m against axis a; the key in the first panel only.  A panel with nothing to draw (a run of
 * one iteration has sent no bits yet) says so instead of failing gnuplot's autoscale. */
static void put_panel(FILE* f, const CliSeries* series, const SeriesData* data, int n, const CliPlotStyle* st, int m,
                      int a, double f_least) {
  int i, xcol = a + 1, ycol = st->naxis + 3 * m + 1;
  int logx = st->axis[a] == CLI_AXIS_BITS && !st->linear_bits;
  fprintf(f, logx ? "set logscale x\nset format x '10^{%%L}'\n" : "unset logscale x\nset format x '%%g'\n");
  char xlabel[64];
  snprintf(xlabel, sizeof xlabel, "%s%s", AXES[st->axis[a]].label, logx ? " (log scale)" : "");
  fputs("set xlabel ", f);
  cli_gnuplot_quote(f, xlabel);
  fputs("\nset ylabel ", f);
  cli_gnuplot_quote(f, METRICS[st->metric[m]].label);
  if (!panel_has_points(data, n, st, m, a, f_least)) {
    fputs("\nset xrange [1:10]\nset yrange [1:10]\nunset key\nset label 1 'no points to show' at graph 0.5,0.5 center\n"
          "plot NaN notitle\nunset label 1\nset autoscale\n", f);
    return;
  }
  fputs(m == 0 && a == 0 ? "\nset key top right opaque box noenhanced\nplot " : "\nunset key\nplot ", f);
  for (i = 0; i < n; ++i) {
    const char* colour = COLOURS[i % NCOLOURS];
    int every = data[i].nrows > MAX_POINTS ? MAX_POINTS / 10 : (data[i].nrows + 9) / 10;
    if (data[i].ntraces > 1)
      fprintf(f, "$s%d using %d:%d:%d with filledcurves lc rgb '%s' fs transparent solid 0.18 notitle, \\\n     ", i,
              xcol, ycol + 1, ycol + 2, colour);
    fprintf(f, "$s%d using %d:%d with linespoints lw 2 lc rgb '%s' dt %d pt %d pi %d ps 1.1 title ", i, xcol, ycol,
            colour, i % 5 + 1, i % 12 + 1, every > 0 ? every : 1);
    if (data[i].ntraces > 1) {
      char label[CLI_PLOT_LABEL + 64];
      snprintf(label, sizeof label, "%s (%d seeds)", series[i].label, data[i].ntraces);
      cli_gnuplot_quote(f, label);
    } else {
      cli_gnuplot_quote(f, series[i].label);
    }
    fputs(i + 1 < n ? ", \\\n     " : "\n", f);
  }
}

int cli_gnuplot_run(const char* script) {
  int status;
  pid_t pid = fork();
  if (pid < 0) { fprintf(stderr, "plot: cannot start gnuplot (%s)\n", strerror(errno)); return EXIT_FAILURE_RUN; }
  if (pid == 0) {
    execlp("gnuplot", "gnuplot", script, (char*)NULL);
    _exit(127);
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return EXIT_FAILURE_RUN;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    fprintf(stderr, "plot: gnuplot not found (apt-get install gnuplot-nox); the script is %s\n", script);
    return EXIT_FAILURE_RUN;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "plot: gnuplot failed on %s\n", script);
    return EXIT_FAILURE_RUN;
  }
  return EXIT_OK;
}

int cli_plot(const char* png, const CliSeries* series, int n, const CliPlotStyle* st) {
  const char* names[CLI_PLOT_AXES + CLI_PLOT_METRICS];
  char script[DETCGD_PATH_MAX + 8];
  SeriesData* data;
  double f_least = INFINITY;
  FILE* f;
  int i, t, r, j, rc = EXIT_OK, ncols = st->naxis + st->nmetric;
  if (n <= 0) { fprintf(stderr, "plot: no traces given\n"); return EXIT_USAGE; }
  for (j = 0; j < st->naxis; ++j) names[j] = AXES[st->axis[j]].column;
  for (j = 0; j < st->nmetric; ++j) names[st->naxis + j] = METRICS[st->metric[j]].column;
  if (!(data = (SeriesData*)calloc((size_t)n, sizeof *data))) return EXIT_FAILURE_RUN;
  for (i = 0; i < n && rc == EXIT_OK; ++i) {
    data[i].ncols = ncols;
    data[i].rows = (double**)calloc((size_t)series[i].ncsv, sizeof(double*));
    if (!data[i].rows) { rc = EXIT_FAILURE_RUN; break; }
    for (t = 0; t < series[i].ncsv && rc == EXIT_OK; ++t, ++data[i].ntraces) {
      int nrows;
      if (!read_columns(series[i].csv[t], names, ncols, &data[i].rows[t], &nrows)) rc = EXIT_DATA;
      data[i].nrows = t == 0 || nrows < data[i].nrows ? nrows : data[i].nrows;
    }
  }
  for (j = 0; j < st->nmetric && rc == EXIT_OK; ++j) /* f_min = the least f of the figure */
    if (st->metric[j] == CLI_METRIC_F_GAP)
      for (i = 0; i < n; ++i)
        for (t = 0; t < data[i].ntraces; ++t)
          for (r = 0; r < data[i].nrows; ++r) {
            double v = data[i].rows[t][(size_t)r * ncols + st->naxis + j];
            f_least = v < f_least ? v : f_least;
          }
  snprintf(script, sizeof script, "%s.gp", png);
  f = rc == EXIT_OK ? fopen(script, "w") : NULL;
  if (rc == EXIT_OK && !f) { fprintf(stderr, "plot: cannot write %s (%s)\n", script, strerror(errno)); rc = EXIT_DATA; }
  if (f) {
    fputs("# detcgd plot (the data are in the script): gnuplot THIS_FILE\n", f);
    fprintf(f, "set terminal pngcairo size %d,%d enhanced font 'sans,11'\nset output ", 720 * st->naxis,
            440 * st->nmetric + 40);
    cli_gnuplot_quote(f, png);
    fputs("\nset logscale y\nset format y '10^{%L}'\nset grid\n", f);
    for (i = 0; i < n; ++i) {
      int every = data[i].nrows > MAX_POINTS ? (data[i].nrows + MAX_POINTS - 1) / MAX_POINTS : 1;
      fprintf(f, "$s%d << EOD\n", i);
      for (r = 0; r < data[i].nrows; ++r)
        if (r % every == 0 || r == data[i].nrows - 1) put_row(f, &data[i], r, st, f_least);
      fputs("EOD\n", f);
    }
    {
      char title[sizeof st->title + 64];
      int bands = 0;
      for (i = 0; i < n; ++i) bands |= data[i].ntraces > 1;
      snprintf(title, sizeof title, "%s%s", st->title, bands ? " (over seeds: geometric mean, min-max band)" : "");
      fprintf(f, "set multiplot layout %d,%d title ", st->nmetric, st->naxis);
      cli_gnuplot_quote(f, title);
    }
    fputs(" noenhanced\n", f);
    for (j = 0; j < st->nmetric; ++j)
      for (t = 0; t < st->naxis; ++t) put_panel(f, series, data, n, st, j, t, f_least);
    fputs("unset multiplot\n", f);
    if (fclose(f) != 0) { fprintf(stderr, "plot: write to %s failed\n", script); rc = EXIT_DATA; }
  }
  for (i = 0; i < n; ++i) series_free(&data[i]);
  free(data);
  return rc == EXIT_OK ? cli_gnuplot_run(script) : rc;
}
