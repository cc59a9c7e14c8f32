/*
 * consumer.c -- a program built against the installed detcgd (find_package or pkg-config): det-CGD1 with rand-1
 * on a logistic problem held in memory as CSR arrays, the trace read back without files.
 */
#include <detcgd.h>
#include <math.h>
#include <stdio.h>

static void print_row(void* user, int ncols, const char* const* names, const double* row) {
  int* rows = (int*)user;
  if ((*rows)++ == 0) printf("columns: %d (%s ... %s)\n", ncols, names[0], names[ncols - 1]);
}

int main(void) {
  /* 4 samples, 3 features: rows [1 0 2], [0 1 0], [3 0 0], [0 2 1]; labels 1 / 0 */
  const int64_t indptr[] = {0, 2, 3, 4, 6};
  const int32_t indices[] = {0, 2, 1, 0, 1, 2};
  const double values[] = {1, 2, 1, 3, 2, 1}, labels[] = {1, 0, 1, 0};
  DetcgdData data = {4, 3, indptr, indices, values, labels};
  DetcgdProblemSpec spec;
  DetcgdSettings set;
  DetcgdProblem* problem = NULL;
  DetcgdSolver* solver = NULL;
  DetcgdResult result;
  int64_t nrows = 0;
  int rows_seen = 0;
  detcgd_problem_spec_default(&spec);
  detcgd_settings_default(&set);
  if (detcgd_settings_set(&set, "method", "det-cgd1") || detcgd_settings_set(&set, "sketch", "rand-1") ||
      detcgd_settings_set(&set, "stepsize", "thm2") || detcgd_settings_set(&set, "iters", "500") ||
      detcgd_settings_set(&set, "verbose", "0") || detcgd_settings_set(&set, "backend", "cpu")) {
    fprintf(stderr, "settings: %s\n", detcgd_last_error());
    return 1;
  }
  if (detcgd_problem_from_data(&problem, &spec, &data) != DETCGD_OK || detcgd_create(&solver, problem, &set) != DETCGD_OK) {
    fprintf(stderr, "detcgd: %s\n", detcgd_last_error());
    return 1;
  }
  detcgd_set_trace_callback(solver, print_row, &rows_seen);
  if (detcgd_run(solver) != DETCGD_OK) { fprintf(stderr, "run: %s\n", detcgd_last_error()); return 1; }
  detcgd_get_result(solver, &result);
  detcgd_trace_rows(solver, &nrows);
  printf("detcgd %s: %s after %lld iterations, f %.6f -> %.6f, G_KD %.3e, %lld trace rows\n", detcgd_version(),
         detcgd_termination_str(result.termination), (long long)result.iterations, result.f_initial, result.f_final,
         result.g_kd, (long long)nrows);
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&problem);
  return result.termination == DETCGD_TERM_MAX_ITER && nrows == rows_seen && nrows > 0 &&
                 result.f_final < result.f_initial && isfinite(result.g_kd) ? 0 : 1;
}
