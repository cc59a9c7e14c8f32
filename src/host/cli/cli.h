/*
 * cli.h -- shared pieces of the detcgd command-line program.
 */
#ifndef DETCGD_CLI_H
#define DETCGD_CLI_H

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

/* A curve: a trace, or (band) a seed band of the experiments, columns iter, G mean, G min, G max, mean bits. */
typedef struct CliSeries { const char* csv; const char* label; int band; } CliSeries;
/* What a plot shows: G_{K,D} (the running mean the theory bounds), ||grad f(x^k)||^2 or (dist2) ||x^k - x*||^2 of
 * optimum solve (a band: G_{K,D}), against iterations and against uplink bits, the bits axis linear or logarithmic. */
typedef struct CliPlotStyle { int grad_norm2; int log_bits; int dist2; } CliPlotStyle;
/* PNG with the style's metric against iterations (left) and uplink bits (right); gnuplot script beside it.  A band
 * is drawn as its mean with the min-max range shaded. */
int cli_plot(const char* png, const CliSeries* series, int n, const char* title, CliPlotStyle style);

/* Named multi-run experiments (demo, paper-rand1, ...) into out_dir: the defaults, the experiment's own
 * problem and K, then the user's options on top (each keeps the others).  seeds > 1 (0: the experiment's
 * own count) runs each over seeds seed .. seed + seeds - 1 and reports the mean with its min-max band. */
int cli_experiment(const char* name, const char* out_dir, int seeds, const CliAssignments* user);
void cli_experiment_list(void);
/* A file-system-friendly name from a label: letters, digits and '-' kept, anything else '_'. */
void cli_slug(const char* label, char* out, size_t cap);
/* The shared LIBSVM file (../shared beside the repository, from the working directory or the program's path). */
void cli_shared_data(const char* file, char* out, size_t cap);

/* Experiment sign-geometry (sign_geometry.c): GD against scaled sign GD on problems that sweep the l-inf
 * geometry; the predicted winner against the observed one. */
#define CLI_SIGN_GEOMETRY_WHAT "GD vs scaled sign GD on quadratics sweeping diagonal concentration and lambda_max/lambda_bar, and LIBSVM data: predicted vs observed winner"
int cli_sign_geometry(const char* out_dir, int seeds, const CliAssignments* user);

#endif /* DETCGD_CLI_H */
