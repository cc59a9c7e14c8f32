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
/* Routes key = value to the problem spec or the settings; returns a DetcgdStatus. */
int cli_set(DetcgdProblemSpec* p, DetcgdSettings* s, const char* key, const char* value);

typedef struct CliSeries { const char* csv; const char* label; } CliSeries;
/* PNG with G_{K,D} against iterations (left) and uplink bits (right); gnuplot script beside it. */
int cli_plot(const char* png, const CliSeries* series, int n, const char* title);

/* Named multi-run experiments (demo, paper-rand1, paper-randt) into out_dir; the experiment's
 * problem and K apply unless the user gave problem options (user_problem) or iters (user_iters). */
int cli_experiment(const char* name, const char* out_dir, DetcgdProblemSpec* p, DetcgdSettings* s,
                   int user_problem, int user_iters);
void cli_experiment_list(void);

#endif /* DETCGD_CLI_H */
