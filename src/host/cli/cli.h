/*
 * cli.h -- shared pieces of the detcgd command-line program.
 */
#ifndef DETCGD_CLI_H
#define DETCGD_CLI_H

#include <stdio.h>
#include "detcgd.h"

/* Exit codes of the program. */
enum { EXIT_OK = 0, EXIT_FAILURE_RUN = 1, EXIT_USAGE = 2, EXIT_DATA = 3, EXIT_CERT = 4, EXIT_NONFINITE = 5 };

/* Maps a DetcgdStatus to an exit code. */
int cli_exit_code(int status);

/* The options the user gave, in order: --key value, or key = value of a config file. */
typedef struct CliAssignment {
  char* key;
  char* value;
  char* origin; /* "--key" or "FILE: key" for messages */
  int replayed; /* from a summary's whole configuration (--replay): not checked for options left unread */
} CliAssignment;
typedef struct CliAssignments {
  CliAssignment* items;
  int n, cap;
} CliAssignments;
/* Applies every assignment to (p, s), then refuses any that `command` (DETCGD_CMD_*) would not read: for
 * run the configuration decides (a sketch's parameters with another sketch, ...), for commands that run
 * several configurations the command alone.  Messages name the option; returns an exit code. */
int cli_apply(const CliAssignments* a, DetcgdProblemSpec* p, DetcgdSettings* s, int command);

/* A curve: one trace, or the traces of several seeds of one configuration (drawn as their mean and band). */
#define CLI_PLOT_LABEL 128
typedef struct CliSeries { const char* label; const char* const* csv; int ncsv; } CliSeries;
/* What a figure shows: rows of metrics against columns of axes (indices into plot.c's tables). */
enum { CLI_METRIC_GKD = 0, CLI_METRIC_GRAD2, CLI_METRIC_F_GAP, CLI_METRIC_GRAD1, CLI_METRIC_DIST2, CLI_PLOT_METRICS };
enum { CLI_AXIS_ITER = 0, CLI_AXIS_BITS, CLI_AXIS_TIME, CLI_PLOT_AXES };
#define CLI_PLOT_DEFAULT_METRICS "gkd,grad2" /* G_{K,D} with the Euclidean ||grad f||^2 beside it */
typedef struct CliPlotStyle {
  int metric[CLI_PLOT_METRICS], nmetric;
  int axis[CLI_PLOT_AXES], naxis;
  int linear_bits; /* the bits axis linear (default logarithmic) */
  char title[256];
} CliPlotStyle;
/* The style from --metric (gkd, grad2, f-gap, grad1, dist2; NULL: the default), --x (iter, bits, time; NULL:
 * iter,bits), --bits-axis (log, linear) and a title; an exit code (a message names the option). */
int cli_plot_style(CliPlotStyle* st, const char* metrics, const char* axes, const char* bits_axis, const char* title);
/* A gnuplot single-quoted string of s: ' doubled, control characters as spaces (a backslash is literal there). */
void cli_gnuplot_quote(FILE* f, const char* s);
/* gnuplot on a script, started directly (no shell between the paths and the program); an exit code. */
int cli_gnuplot_run(const char* script);
/* The PNG, and its gnuplot script (data inside) beside it as PNG.gp; an exit code. */
int cli_plot(const char* png, const CliSeries* series, int n, const CliPlotStyle* st);

/* Named multi-run experiments (demo, paper-rand1, ...) into out_dir: the defaults, the experiment's own
 * problem and K, then the user's options on top (each keeps the others).  seeds > 1 (0: the experiment's
 * own count) runs each over seeds seed .. seed + seeds - 1 and reports the mean with its min-max band. */
/* The plot options of the command line (NULL: the defaults; an experiment's own metrics and title). */
typedef struct CliPlotRequest { const char *metric, *x, *bits_axis, *title; } CliPlotRequest;
int cli_experiment(const char* name, const char* out_dir, int seeds, const CliAssignments* user,
                   const CliPlotRequest* plot);
void cli_experiment_list(void);
/* detcgd sweep (sweep.c): the product of the grid's dimensions ("KEY=V1|V2|...") over the seeds ("N", "A-B",
 * "A,B,..."; NULL: the settings' seed); eps2 the G_KD level for iterations- and bits-to-eps; a configuration's
 * seeds run `together` at a time (detcgd_run_many). An exit code. */
int cli_sweep(const char* out_dir, const char* const* grid, int ngrid, const char* seeds, double eps2, int together,
              const CliAssignments* user, const CliPlotRequest* plot);
/* A file-system-friendly name from a label: letters, digits and '-' kept, anything else '_'. */
void cli_slug(const char* label, char* out, size_t cap);
/* The shared LIBSVM file (../shared beside the repository, from the working directory or the program's path). */
void cli_shared_data(const char* file, char* out, size_t cap);

/* Experiment sign-geometry (sign_geometry.c): GD against scaled sign GD on problems that sweep the l-inf
 * geometry; the predicted winner against the observed one. */
#define CLI_SIGN_GEOMETRY_WHAT "GD vs scaled sign GD on quadratics sweeping diagonal concentration and lambda_max/lambda_bar, and LIBSVM data: predicted vs observed winner"
int cli_sign_geometry(const char* out_dir, int seeds, const CliAssignments* user);

#endif /* DETCGD_CLI_H */
