/*
 * main.c -- the detcgd command-line program.
 *
 *   detcgd run        [--config FILE] [--KEY VALUE ...]   one run: trace CSV + summary JSON
 *   detcgd theory     [--config FILE] [--KEY VALUE ...] [--compare LIST]
 *   detcgd plot       --out FILE.png TRACE.csv[=LABEL] ...
 *   detcgd experiment NAME --out DIR [--KEY VALUE ...]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "config_file.h"
#include "method.h"
#include "options.h"

static int mpi_rank = 0, mpi_ranks = 1;

static const char* USAGE =
    "usage: detcgd <command> [options]\n"
    "\n"
    "commands:\n"
    "  run          run one method; writes --trace CSV and --summary JSON\n"
    "  theory       print Table-1 factors (certificate, det(D)^(-1/d), coords/iter) without running;\n"
    "               --compare \"method/sketch/stepsize[/W],...\" to choose rows, --mc N to check each\n"
    "               stepsize by Monte Carlo moments (N draws per layer) against the closed forms\n"
    "  plot         PNG of traces: plot --out F.png a.csv[=label] b.csv ... (traces with one label: one curve over\n"
    "               seeds, geometric mean and min-max band); --metric gkd,grad2,f-gap,grad1,dist2 (rows; default\n"
    "               gkd,grad2), --x iter,bits,time (columns; default iter,bits), --bits-axis log|linear (default\n"
    "               log), --title T; experiment takes the same options for its plot\n"
    "  experiment   named multi-run experiment: experiment NAME --out DIR [--seeds N]\n"
    "  sweep        a grid over settings and seeds: sweep --out DIR --grid KEY=V1|V2 [--grid ...] [--seeds A-B]\n"
    "               [--eps2 X] [--together N] [options]: runs.csv (a row per run), a trace and summary per run,\n"
    "               plot.png; a configuration's seeds run N at a time in one pass over the data (default 16;\n"
    "               1: one after another), each run's trace as it is alone\n"
    "  help         this text\n"
    "  --version    the version and the build (commit, CUDA, MPI, OpenMP)\n"
    "\n"
    "options are --key value (or --key=value), or key = value lines in an INI file given\n"
    "with --config FILE (sections are free-form: [problem], [method], ...); an option the\n"
    "command would ignore (a sketch's parameter with another sketch, ...) is refused.\n"
    "`detcgd help` lists every option with its values and default [in brackets].\n"
    "\n"
    "exit codes: 0 ok, 1 run failed, 2 bad usage or settings, 3 data or i/o error,\n"
    "            4 stepsize fails its condition, 5 stopped on NaN/Inf, 130/143 interrupted by\n"
    "            Ctrl-C/SIGTERM (after an iteration: trace, summary and --checkpoint written)\n"
    "\n";

/* Every option of the table, then the command-line-only ones, then the experiments. */
static void print_options(void) {
  printf("options (each --key VALUE, or key = VALUE in a config file; the default in [brackets]):\n");
  dc_options_help(stdout);
  printf("command line:\n"
         "  %-34s %s\n  %-34s %s\n  %-34s %s\n  %-34s %s\n",
         "--config FILE", "key = value lines (INI)", "--out PATH", "plot: the PNG; experiment: the folder",
         "--compare LIST", "theory: \"method/sketch/stepsize[/W],...\" rows",
         "--mc N", "theory: check each stepsize by N Monte Carlo draws per layer");
  printf("  %-34s %s\n  %-34s %s\n  %-34s %s\n  %-34s %s\n",
         "--metric LIST", "plot, experiment: rows of panels, of gkd, grad2, f-gap, grad1, dist2 [gkd,grad2]",
         "--x LIST", "plot, experiment: columns of panels, of iter, bits, time [iter,bits]",
         "--bits-axis log|linear", "plot, experiment: the uplink-bits axis [log]",
         "--title TEXT", "plot, experiment: the figure's title [experiment: its name and what it runs]");
  printf("  %-34s %s\n  %-34s %s\n\nexperiments:\n", "--replay SUMMARY.json",
         "run: the configuration a summary records (not its output files); later options override it",
         "--seeds N", "experiment: every run over seeds seed .. seed+N-1, plotted as the mean with its min-max band "
         "(bernq-free: 20, the others 1)");
}

int cli_exit_code(int st) {
  switch (st) {
    case DETCGD_OK: return EXIT_OK;
    case DETCGD_ERR_ARG: case DETCGD_ERR_NO_DEVICE: return EXIT_USAGE;
    case DETCGD_ERR_IO: case DETCGD_ERR_PARSE: return EXIT_DATA;
    case DETCGD_ERR_CERT: return EXIT_CERT;
    default: return EXIT_FAILURE_RUN;
  }
}

/* ==== Options and config files ==== */

typedef struct Options {
  CliAssignments user;    /* problem and settings options, in order */
  DetcgdProblemSpec problem; /* the defaults with the user's options (run, theory) */
  DetcgdSettings settings;
  const char* out;        /* --out (plot, experiment) */
  const char* compare;    /* --compare (theory) */
  long long mc;           /* --mc N (theory): Monte Carlo check of each stepsize */
  int seeds;              /* --seeds N (experiment): every run over N seeds (0: the experiment's own count) */
  CliPlotRequest plot;    /* --metric, --x, --bits-axis, --title (plot, experiment, sweep) */
  const char* seeds_text; /* --seeds as given (sweep: N, A-B or A,B,...) */
  const char* grid[16];   /* --grid KEY=V1|V2|... (sweep; also grid = ... in a config file) */
  int ngrid;
  double eps2;            /* --eps2 (sweep): G_KD <= eps2 for iterations- and bits-to-eps */
  int together;           /* --together N (sweep): a configuration's seeds run N at a time in one pass (0: 16) */
  const char* cli_keys[16];/* the command-line-only options given (each once), for the command check */
  int ncli_keys;
  const char* positional[64];
  int npositional;
  const char* config_path;/* the config file being read */
  char error[1200];       /* config-file handler message */
} Options;

static void note_cli_key(Options* o, const char* key);

static char* dup_text(const char* t) {
  size_t n = strlen(t) + 1;
  char* c = (char*)malloc(n);
  if (c) memcpy(c, t, n);
  return c;
}

static int remember(CliAssignments* a, const char* key, const char* value, const char* origin, int replayed) {
  CliAssignment* it;
  if (a->n == a->cap) {
    int cap = a->cap ? 2 * a->cap : 32;
    CliAssignment* grown = (CliAssignment*)realloc(a->items, (size_t)cap * sizeof *grown);
    if (!grown) return 0;
    a->items = grown;
    a->cap = cap;
  }
  it = &a->items[a->n];
  it->key = dup_text(key);
  it->value = dup_text(value);
  it->origin = dup_text(origin);
  it->replayed = replayed;
  if (!it->key || !it->value || !it->origin) return 0;
  ++a->n;
  return 1;
}

int cli_apply(const CliAssignments* a, DetcgdProblemSpec* p, DetcgdSettings* s, int command) {
  int i;
  for (i = 0; i < a->n; ++i)
    if (detcgd_set(p, s, a->items[i].key, a->items[i].value) != DETCGD_OK) {
      fprintf(stderr, "detcgd: %s: %s\n", a->items[i].origin, detcgd_last_error());
      return EXIT_USAGE;
    }
  for (i = 0; i < a->n; ++i) {
    const char* why = a->items[i].replayed ? NULL : detcgd_option_unread(p, command == DETCGD_CMD_RUN ? s : NULL, a->items[i].key, command);
    if (why) {
      fprintf(stderr, "detcgd: %s: this %s would ignore it (%s)\n", a->items[i].origin,
              command == DETCGD_CMD_RUN ? "run" : command == DETCGD_CMD_THEORY ? "theory command" : "experiment", why);
      return EXIT_USAGE;
    }
  }
  return EXIT_OK;
}

static int on_config_entry(void* user, const char* section, const char* name, const char* value) {
  Options* o = (Options*)user;
  char origin[DETCGD_PATH_MAX + 160];
  DetcgdProblemSpec p;
  DetcgdSettings s;
  (void)section;
  if (!strcmp(name, "grid")) { /* a sweep's dimension (the value is kept: the file's text lives until exit) */
    char* kept = dup_text(value);
    if (!kept || o->ngrid == 16) { snprintf(o->error, sizeof o->error, "grid: at most 16 dimensions"); return 0; }
    o->grid[o->ngrid++] = kept;
    note_cli_key(o, "grid");
    return 1;
  }
  snprintf(origin, sizeof origin, "%s: %s", o->config_path, name);
  detcgd_problem_spec_default(&p);
  detcgd_settings_default(&s);
  if (detcgd_set(&p, &s, name, value) != DETCGD_OK) { /* named with the file's line by the caller */
    snprintf(o->error, sizeof o->error, "%s", detcgd_last_error());
    return 0;
  }
  if (!remember(&o->user, name, value, origin, 0)) { snprintf(o->error, sizeof o->error, "out of memory"); return 0; }
  return 1;
}

/* --replay FILE: the configuration its summary records, as if given at this point of the command line */
static int on_replay_entry(void* user, const char* key, const char* value) {
  Options* o = (Options*)user;
  char origin[DETCGD_PATH_MAX + 160];
  snprintf(origin, sizeof origin, "%s: %s", o->config_path, key);
  return remember(&o->user, key, value, origin, 1) ? DETCGD_OK : DETCGD_ERR_ALLOC;
}

static int load_config(Options* o, const char* path) {
  int line;
  o->config_path = path;
  line = cli_config_parse_file(path, on_config_entry, o);
  if (line == -1) { fprintf(stderr, "detcgd: --config: cannot open %s\n", path); return EXIT_DATA; }
  if (line != 0) {
    fprintf(stderr, "detcgd: %s:%d: %s\n", path, line, o->error[0] ? o->error : "syntax error");
    return EXIT_USAGE;
  }
  return EXIT_OK;
}

/* The command-line-only options and the commands that read them. */
static const struct { const char* key; const char* commands; } CLI_ONLY[] = {
  {"out", "plot experiment sweep"}, {"compare", "theory"}, {"mc", "theory"}, {"replay", "run"},
  {"seeds", "experiment sweep"}, {"metric", "plot experiment sweep"}, {"x", "plot experiment sweep"},
  {"bits-axis", "plot experiment sweep"}, {"title", "plot experiment sweep"}, {"grid", "sweep"}, {"eps2", "sweep"},
  {"together", "sweep"}};

/* A command-line-only option given (CLI_ONLY's key), once in cli_keys however often it is given. */
static void note_cli_key(Options* o, const char* key) {
  int i;
  for (i = 0; i < o->ncli_keys; ++i) if (!strcmp(o->cli_keys[i], key)) return;
  if (o->ncli_keys < (int)(sizeof o->cli_keys / sizeof o->cli_keys[0])) o->cli_keys[o->ncli_keys++] = key;
}

static int cli_only_read(const char* key, const char* cmd) {
  int i;
  for (i = 0; i < (int)(sizeof CLI_ONLY / sizeof CLI_ONLY[0]); ++i)
    if (!strcmp(key, CLI_ONLY[i].key)) {
      const char* at = strstr(CLI_ONLY[i].commands, cmd);
      size_t n = strlen(cmd);
      if (!at || (at[n] != '\0' && at[n] != ' ')) {
        fprintf(stderr, "detcgd: --%s: the %s command would ignore it (read by %s)\n", key, cmd, CLI_ONLY[i].commands);
        return 0;
      }
    }
  return 1;
}

/* --key value | --key=value; positional arguments are collected; anything else is refused.  The values are
 * checked when they are applied (cli_apply); a config file's are checked here, for its line number. */
static int parse_args(Options* o, int argc, char** argv) {
  int i;
  for (i = 0; i < argc; ++i) {
    char key[128], origin[160];
    const char* a = argv[i];
    const char* value;
    const char* eq;
    if (a[0] == '-' && a[1] != '-' && a[1] != '\0') {
      fprintf(stderr, "detcgd: %s: options start with two dashes (--%s)\n", a, a + 1);
      return EXIT_USAGE;
    }
    if (strncmp(a, "--", 2) != 0) {
      if (o->npositional == 64) { fprintf(stderr, "detcgd: too many arguments\n"); return EXIT_USAGE; }
      o->positional[o->npositional++] = a;
      continue;
    }
    a += 2;
    eq = strchr(a, '=');
    if (strlen(a) >= sizeof key) { fprintf(stderr, "detcgd: option too long: %s\n", argv[i]); return EXIT_USAGE; }
    if (eq) { memcpy(key, a, (size_t)(eq - a)); key[eq - a] = '\0'; value = eq + 1; }
    else {
      strcpy(key, a);
      if (!strcmp(key, "help")) { fputs(USAGE, stdout); print_options(); cli_experiment_list(); exit(EXIT_OK); }
      if (i + 1 >= argc) { fprintf(stderr, "detcgd: option --%s needs a value\n", key); return EXIT_USAGE; }
      value = argv[++i];
    }
    if (!strcmp(key, "config")) { int rc = load_config(o, value); if (rc) return rc; continue; }
    if (!strcmp(key, "replay")) {
      int st;
      o->config_path = value;
      note_cli_key(o, "replay");
      if ((st = detcgd_summary_config(value, on_replay_entry, o)) != DETCGD_OK) {
        fprintf(stderr, "detcgd: --replay: %s\n", detcgd_last_error());
        return cli_exit_code(st);
      }
      continue;
    }
    if (!strcmp(key, "out")) { o->out = value; note_cli_key(o, "out"); continue; }
    if (!strcmp(key, "compare")) { o->compare = value; note_cli_key(o, "compare"); continue; }
    if (!strcmp(key, "metric")) { o->plot.metric = value; note_cli_key(o, "metric"); continue; }
    if (!strcmp(key, "x")) { o->plot.x = value; note_cli_key(o, "x"); continue; }
    if (!strcmp(key, "bits-axis")) { o->plot.bits_axis = value; note_cli_key(o, "bits-axis"); continue; }
    if (!strcmp(key, "title")) { o->plot.title = value; note_cli_key(o, "title"); continue; }
    if (!strcmp(key, "mc")) {
      char* end;
      o->mc = strtoll(value, &end, 10);
      if (*end || o->mc < 2) { fprintf(stderr, "detcgd: --mc: \"%s\" is not a sample count >= 2\n", value); return EXIT_USAGE; }
      note_cli_key(o, "mc");
      continue;
    }
    if (!strcmp(key, "seeds")) { /* a count for experiment (checked there), a list for sweep */
      o->seeds_text = value;
      note_cli_key(o, "seeds");
      continue;
    }
    if (!strcmp(key, "grid")) {
      if (o->ngrid == 16) { fprintf(stderr, "detcgd: --grid: at most 16 dimensions\n"); return EXIT_USAGE; }
      o->grid[o->ngrid++] = value;
      note_cli_key(o, "grid");
      continue;
    }
    if (!strcmp(key, "together")) {
      char* end;
      long n = strtol(value, &end, 10);
      if (*end || end == value || n < 1 || n > 64) { fprintf(stderr, "detcgd: --together: \"%s\" is not a run count in 1..64\n", value); return EXIT_USAGE; }
      o->together = (int)n;
      note_cli_key(o, "together");
      continue;
    }
    if (!strcmp(key, "eps2")) {
      char* end;
      o->eps2 = strtod(value, &end);
      if (*end || end == value || !(o->eps2 > 0)) { fprintf(stderr, "detcgd: --eps2: \"%s\" is not a number > 0\n", value); return EXIT_USAGE; }
      note_cli_key(o, "eps2");
      continue;
    }
    snprintf(origin, sizeof origin, "--%s", key);
    if (!remember(&o->user, key, value, origin, 0)) { fprintf(stderr, "detcgd: out of memory\n"); return EXIT_USAGE; }
  }
  return EXIT_OK;
}

/* Refuses positional arguments beyond `allowed` and the command-line-only options cmd does not read. */
static int check_command(const Options* o, const char* cmd, int allowed) {
  int i;
  if (o->npositional > allowed) {
    fprintf(stderr, "detcgd %s: unexpected argument \"%s\" (options are --key value)\n", cmd, o->positional[allowed]);
    return EXIT_USAGE;
  }
  for (i = 0; i < o->ncli_keys; ++i)
    if (!cli_only_read(o->cli_keys[i], cmd)) return EXIT_USAGE;
  return EXIT_OK;
}

/* ==== Commands ==== */

/* A failed rank ends every rank: a clear message here, then MPI_Abort (or, for the
 * injected "die" fault, a plain exit that the launcher sees as a dead process). */
static void fail_everywhere(int st) {
  const char* msg = detcgd_last_error();
  if (mpi_ranks > 1) fprintf(stderr, "detcgd rank %d: %s: %s\n", mpi_rank, detcgd_status_str(st), msg);
  else fprintf(stderr, "detcgd: %s: %s\n", detcgd_status_str(st), msg);
  if (mpi_ranks > 1 && strncmp(msg, "injected fault", 14) == 0) _exit(EXIT_FAILURE_RUN);
  if (mpi_ranks > 1) detcgd_mpi_abort(cli_exit_code(st));
}

/* Ctrl-C or SIGTERM (outside MPI): the run stops after its current iteration and writes its summary (and a
 * checkpoint when asked); a second signal ends the process at once. */
static volatile sig_atomic_t stop_signal = 0;

static void on_stop_signal(int sig) {
  static const char msg[] = "\ndetcgd: stopping after this iteration (again to quit at once)\n";
  ssize_t n;
  if (stop_signal) _exit(128 + sig);
  stop_signal = sig;
  detcgd_request_stop();
  n = write(2, msg, sizeof msg - 1);
  (void)n;
}

/* Under MPI, the launcher's SIGTERM: Open MPI's mpirun turns a Ctrl-C into SIGTERM to every rank, as it does when
 * a rank fails, and kills the ranks still there a second later (odls_base_sigkill_timeout 1).  Every rank says
 * so; rank 0 stops the run after its current iteration and tells the others with x, so that when every rank
 * is alive (a Ctrl-C) the trace, the summary and the checkpoint are written in that second; a second signal
 * ends the rank at once. */
static char terminate_msg[200]; /* written before the handler is installed: it names the rank */

static void on_terminate(int sig) {
  ssize_t n;
  if (stop_signal) _exit(128 + sig);
  stop_signal = sig;
  detcgd_request_stop();
  n = write(2, terminate_msg, strlen(terminate_msg));
  (void)n;
}

/* The problem, with a setup note on the progress line while it is made (reading data, smoothness constants). */
static int create_problem(const Options* o, DetcgdProblem** p) {
  int shown = o->settings.output.progress && isatty(2), st;
  if (shown) {
    fprintf(stderr, "\r\033[K  setup: problem %s (%s) ...", detcgd_problem_kind_name(o->problem.kind),
            o->problem.data_path[0] ? o->problem.data_path : "generated");
    fflush(stderr);
  }
  st = detcgd_problem_create(p, &o->problem);
  if (shown) fputs("\r\033[K", stderr);
  return st;
}

static int cmd_run(Options* o) {
  DetcgdProblem* p = NULL;
  DetcgdSolver* s = NULL;
  DetcgdResult r;
  int st = create_problem(o, &p);
  if (st == DETCGD_OK) st = detcgd_create(&s, p, &o->settings);
  if (st == DETCGD_OK) st = detcgd_run(s);
  if (st == DETCGD_OK) st = detcgd_get_result(s, &r);
  if (st != DETCGD_OK) fail_everywhere(st);
  detcgd_destroy(&s);
  detcgd_problem_destroy(&p);
  if (st != DETCGD_OK) return cli_exit_code(st);
  if (r.termination == DETCGD_TERM_INTERRUPTED) {
    if (mpi_ranks > 1 && mpi_rank != 0)
      fprintf(stderr, "detcgd rank %d: interrupted after %lld iterations (rank 0 writes the summary)\n", mpi_rank,
              (long long)r.iterations);
    else
      fprintf(stderr, "detcgd: interrupted after %lld iterations%s%s%s%s\n", (long long)r.iterations,
              o->settings.output.trace_path[0] || o->settings.output.summary_path[0] || o->settings.output.checkpoint_path[0]
                  ? "; written:" : "",
              o->settings.output.trace_path[0] ? " the trace" : "", o->settings.output.summary_path[0] ? " the summary" : "",
              o->settings.output.checkpoint_path[0] ? " the checkpoint (--resume it to go on)" : "");
    return 128 + (stop_signal ? stop_signal : SIGINT);
  }
  return r.termination == DETCGD_TERM_NONFINITE ? EXIT_NONFINITE : EXIT_OK;
}

/* The l-inf geometry of Diag(L_i), per layer and for the whole problem: sign descent's per-step guarantee
 * ||g||_1^2 / (2 L_inf) against GD's ||g||_2^2 / (2 L_2) is better by phi(g) d L_2 / L_inf, phi(g) =
 * ||g||_1^2 / (d ||g||_2^2) <= 1. */
static int print_geometry(const DetcgdProblem* p) {
  DetcgdProblemInfo info;
  int i;
  detcgd_problem_info(p, &info);
  printf("\ngeometry of Diag(L_i), the smoothness bound the stepsizes use (sign descent against GD):\n");
  printf("%6s %8s %12s %25s %7s %8s %12s %21s %14s\n", "layer", "d", "L_2", "L_inf", "", "rho", "lmax/lbar",
         "d L_2/L_inf", "rho lmax/lbar");
  for (i = -1; i < info.nlayers; ++i) {
    DetcgdGeometry g;
    char linf[64], adv[64], name[16];
    if (detcgd_geometry(p, i, &g) != DETCGD_OK) { fprintf(stderr, "detcgd: %s\n", detcgd_last_error()); return EXIT_FAILURE_RUN; }
    if (g.linf_exact) snprintf(linf, sizeof linf, "%.6g", g.linf_lo);
    else snprintf(linf, sizeof linf, "[%.6g, %.6g]", g.linf_lo, g.linf_hi);
    if (g.linf_exact) snprintf(adv, sizeof adv, "%.4g", g.advantage_lo);
    else snprintf(adv, sizeof adv, "[%.4g, %.4g]", g.advantage_lo, g.advantage_hi);
    snprintf(name, sizeof name, "%d", i);
    printf("%6s %8lld %12.6g %25s %7s %8.4f %12.4g %21s %14.4g\n", i < 0 ? "all" : name, (long long)g.dim, g.l2, linf,
           g.linf_exact ? "exact" : "bounds", g.rho, g.l2 / g.lambda_bar, adv, g.advantage_bound);
    if (i < 0 && info.nlayers > 16) { printf("  (%d layers: per-layer rows left out)\n", info.nlayers); break; }
  }
  printf("sign descent's step gains phi(g) d L_2 / L_inf over GD's, phi(g) = ||g||_1^2 / (d ||g||_2^2) <= 1\n");
  return EXIT_OK;
}

/* Table 1 rows that apply to any problem; rand-k uses --k, Bern-q uses --q. */
static const char* const TABLE1 =
    "det-cgd1/identity/thm2/inv,det-cgd1/identity/thm2/diag-inv,det-cgd1/identity/thm2/identity,"
    "det-cgd1/rand-1/thm2/identity,det-cgd1/rand-1/thm2/inv,det-cgd1/rand-1/thm2/inv-sqrt,"
    "det-cgd1/rand-1/thm2/diag-inv,det-cgd1/rand-k/thm2/diag-inv,det-cgd2/identity/det2-opt,"
    "det-cgd2/rand-1/det2-opt,det-cgd2/rand-k/det2-opt,det-cgd2/bern-q/det2-opt,gd/identity/gd";

/* The distributed methods of the paper's Figure 1 (problems with clients). */
static const char* const FIGURE1 =
    "det-cgd1/rand-1/dcgd-kr,det-cgd1/rand-1/cor1/identity,det-cgd1/rand-1/cor1/diag-inv,det-cgd2/rand-1/cor1/diag-inv";

/* One "method/sketch/stepsize[/weight]" item into s. */
static int apply_choice(DetcgdSettings* s, char* item) {
  const char* keys[] = {"method", "sketch", "stepsize", "weight"};
  char* save = NULL;
  char* tok = strtok_r(item, "/", &save);
  int i;
  for (i = 0; tok && i < 4; ++i, tok = strtok_r(NULL, "/", &save))
    if (detcgd_settings_set(s, keys[i], tok) != DETCGD_OK) return DETCGD_ERR_ARG;
  if (i == 2 && (dc_method_type(s->method)->step_flags & DC_STEP_NO_MATRIX)) return DETCGD_OK; /* method/sketch */
  return i >= 3 ? DETCGD_OK : DETCGD_ERR_ARG;
}

static int cmd_theory(Options* o) {
  DetcgdProblem* p = NULL;
  DetcgdProblemInfo info;
  char list[4096], *save = NULL, *item;
  int row = 0, exact_thm2 = 0, st = create_problem(o, &p);
  if (st != DETCGD_OK) { fprintf(stderr, "detcgd: %s\n", detcgd_last_error()); return cli_exit_code(st); }
  detcgd_problem_info(p, &info);
  snprintf(list, sizeof list, "%s", o->compare ? o->compare : o->problem.clients > 0 ? FIGURE1 : TABLE1);
  printf("d = %lld, %d layers, lambda_max(L) = %.6g, block bound c = %.6g, (L0, L1) = (%.6g, %.6g), mu = %.6g\n",
         (long long)info.dim, info.nlayers, info.lmax, info.block_bound_c, info.L0, info.L1, info.mu);
  printf("%3s %-42s %12s %14s %12s %14s %12s\n", "#", "method/sketch/stepsize[/W]", "certificate", "det(D)^(-1/d)",
         "coords/iter", "comm factor", "bits/iter");
  for (item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    DetcgdSettings s = o->settings;
    DetcgdTheory t;
    char name[256];
    snprintf(name, sizeof name, "%s", item);
    if (apply_choice(&s, item) != DETCGD_OK) {
      fprintf(stderr, "detcgd: --compare: cannot read \"%s\": %s\n", name, detcgd_last_error());
      detcgd_problem_destroy(&p);
      return EXIT_USAGE;
    }
    exact_thm2 |= s.sketch.kind == DETCGD_SKETCH_RANDK && s.stepsize.kind == DETCGD_STEP_THM2 &&
                  (s.sketch.k > 1 || s.sketch.k_ratio > 0 || s.sketch.k_list[0]);
    st = detcgd_theory(p, &s, &t);
    if (st != DETCGD_OK) { printf("%3d %-42s  (%s)\n", ++row, name, detcgd_last_error()); continue; }
    printf("%3d %-42s %12.6f %14.6g %12.6g %14.6g %12.6g", ++row, name, t.certificate, t.det_factor,
           t.coords_per_iter, t.comm_factor, t.bits_per_iter);
    if (t.step_source) printf("  step %.6g: %s", t.step, t.step_source);
    if (o->mc > 0 && o->problem.clients == 0) {
      DetcgdMcCheck mc;
      if (detcgd_theory_mc(p, &s, o->mc, s.seed, &mc) == DETCGD_OK) printf("  MC: certificate %.6f, max |z| %.2f", mc.certificate_mc, mc.max_z);
      else printf("  MC: %s", detcgd_last_error());
    }
    printf("\n");
  }
  if (exact_thm2)
    printf("note: rand-k rows with thm2 show Theorem 2's exact factor; Table 1 of the paper states d/k for them,\n"
           "      which equals it only for k = 1\n");
  st = o->settings.output.geometry == DETCGD_GEOMETRY_ON ? print_geometry(p) : EXIT_OK;
  detcgd_problem_destroy(&p);
  return st;
}

/* plot --out F.png a.csv[=LABEL] ...: traces given the same label are the seeds of one configuration (one curve:
 * their mean and band). */
static int cmd_plot(Options* o) {
  CliSeries series[64];
  const char *csv[64], *label[64];
  CliPlotStyle style;
  int i, j, n = 0, at = 0, rc;
  if (!o->out || o->npositional == 0) { fprintf(stderr, "detcgd plot: usage: plot --out FILE.png TRACE.csv[=LABEL] ...\n"); return EXIT_USAGE; }
  if ((rc = cli_plot_style(&style, o->plot.metric, o->plot.x, o->plot.bits_axis, o->plot.title)) != EXIT_OK) return rc;
  for (i = 0; i < o->npositional; ++i) {
    char* eq = strchr((char*)o->positional[i], '=');
    label[i] = eq ? eq + 1 : o->positional[i];
    if (eq) *eq = '\0';
  }
  for (i = 0; i < o->npositional; ++i) { /* the curves in the order their labels first appear */
    for (j = 0; j < n && strcmp(series[j].label, label[i]); ++j) {}
    if (j < n) continue;
    series[n].label = label[i];
    series[n].csv = csv + at;
    series[n].ncsv = 0;
    for (j = i; j < o->npositional; ++j)
      if (!strcmp(label[j], label[i])) csv[at + series[n].ncsv++] = o->positional[j];
    at += series[n++].ncsv;
  }
  return cli_plot(o->out, series, n, &style);
}

static int cmd_experiment(Options* o) {
  int seeds = 0;
  if (o->npositional != 1 || !o->out) {
    fprintf(stderr, "detcgd experiment: usage: experiment NAME --out DIR; names:\n");
    cli_experiment_list();
    return EXIT_USAGE;
  }
  if (o->seeds_text) {
    char* end;
    long n = strtol(o->seeds_text, &end, 10);
    if (*end || end == o->seeds_text || n < 1 || n > 1000) {
      fprintf(stderr, "detcgd: --seeds: \"%s\" is not a seed count in 1..1000\n", o->seeds_text);
      return EXIT_USAGE;
    }
    seeds = (int)n;
  }
  return cli_experiment(o->positional[0], o->out, seeds, &o->user, &o->plot);
}

static int cmd_sweep(Options* o) {
  if (!o->out) { fprintf(stderr, "detcgd sweep: usage: sweep --out DIR [--grid KEY=V1|V2 ...] [--seeds A-B] [options]\n"); return EXIT_USAGE; }
  return cli_sweep(o->out, o->grid, o->ngrid, o->seeds_text, o->eps2 > 0 ? o->eps2 : 1e-4,
                   o->together > 0 ? o->together : 16, &o->user, &o->plot);
}

/* Command names and what each takes: DETCGD_CMD_* (0: none of the problem's or run's options), positional
 * arguments allowed. */
static const struct { const char* name; int command, positional; } COMMANDS[] = {
  {"run", DETCGD_CMD_RUN, 0}, {"theory", DETCGD_CMD_THEORY, 0}, {"plot", 0, 64}, {"experiment", DETCGD_CMD_EXPERIMENT, 1},
  {"sweep", DETCGD_CMD_EXPERIMENT, 0}};

int main(int argc, char** argv) {
  static Options o;
  const char* cmd;
  int rc, c = -1, i;
  if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    if (argc >= 2) print_options();
    else fputs("experiments:\n", stderr);
    cli_experiment_list();
    return argc < 2 ? EXIT_USAGE : EXIT_OK;
  }
  cmd = argv[1];
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
    printf("detcgd %s (%s)\n", detcgd_version(), detcgd_build_info());
    return EXIT_OK;
  }
  for (i = 0; i < (int)(sizeof COMMANDS / sizeof COMMANDS[0]); ++i)
    if (!strcmp(cmd, COMMANDS[i].name)) c = i;
  if (c < 0) {
    fprintf(stderr, "detcgd: unknown command \"%s\" (run, theory, plot, experiment, sweep, help)\n", cmd);
    return EXIT_USAGE;
  }
  detcgd_problem_spec_default(&o.problem);
  detcgd_settings_default(&o.settings);
  if ((rc = parse_args(&o, argc - 2, argv + 2)) != EXIT_OK) return rc;
  if ((rc = check_command(&o, cmd, COMMANDS[c].positional)) != EXIT_OK) return rc;
  if (COMMANDS[c].command == 0 && o.user.n > 0) {
    fprintf(stderr, "detcgd %s: %s: the %s command reads no problem or run options\n", cmd, o.user.items[0].origin, cmd);
    return EXIT_USAGE;
  }
  if ((COMMANDS[c].command == DETCGD_CMD_RUN || COMMANDS[c].command == DETCGD_CMD_THEORY) &&
      (rc = cli_apply(&o.user, &o.problem, &o.settings, COMMANDS[c].command)) != EXIT_OK)
    return rc;
  signal(SIGINT, on_stop_signal);
  if (o.settings.dist.mode == DETCGD_DIST_MPI) {
    if (!detcgd_mpi_available()) { fprintf(stderr, "detcgd: --mode mpi: this build has no MPI\n"); return EXIT_USAGE; }
    if (detcgd_mpi_rank(&mpi_rank, &mpi_ranks) != DETCGD_OK) { fprintf(stderr, "detcgd: %s\n", detcgd_last_error()); return EXIT_FAILURE_RUN; }
    snprintf(terminate_msg, sizeof terminate_msg, "detcgd rank %d: SIGTERM from the MPI launcher (Ctrl-C, or another "
             "rank failed: see its message); stopping after this iteration\n", mpi_rank);
    signal(SIGTERM, on_terminate); /* the launcher's SIGTERM: a Ctrl-C or another rank's failure */
    if (mpi_rank != 0) o.settings.output.progress = 0;
  } else {
    signal(SIGTERM, on_stop_signal);
  }
  if (!strcmp(cmd, "run")) { rc = cmd_run(&o); detcgd_mpi_finalize(); return rc; }
  if (!strcmp(cmd, "theory")) return cmd_theory(&o);
  if (!strcmp(cmd, "plot")) return cmd_plot(&o);
  if (!strcmp(cmd, "sweep")) return cmd_sweep(&o);
  return cmd_experiment(&o);
}
