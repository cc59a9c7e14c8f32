/*
 * main.c -- the detcgd command-line program.
 *
 *   detcgd run        [--config FILE] [--KEY VALUE ...]   one run: trace CSV + summary JSON
 *   detcgd theory     [--config FILE] [--KEY VALUE ...] [--compare LIST]
 *   detcgd plot       --out FILE.png TRACE.csv[=LABEL] ...
 *   detcgd experiment NAME --out DIR [--KEY VALUE ...]
 */
#include <ini.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static int mpi_rank = 0, mpi_ranks = 1;

static const char* USAGE =
    "usage: detcgd <command> [options]\n"
    "\n"
    "commands:\n"
    "  run          run one method; writes --trace CSV and --summary JSON\n"
    "  theory       print Table-1 factors (certificate, det(D)^(-1/d), coords/iter) without running;\n"
    "               --compare \"method/sketch/stepsize[/W],...\" to choose rows, --mc N to check each\n"
    "               stepsize by Monte Carlo moments (N draws per layer) against the closed forms\n"
    "  plot         PNG of G_KD against iterations and bits: plot --out F.png a.csv[=label] b.csv ...\n"
    "  experiment   named multi-run experiment: experiment NAME --out DIR\n"
    "  help         this text\n"
    "\n"
    "options are --key value (or --key=value), or key = value lines in an INI file given\n"
    "with --config FILE (sections are free-form: [problem], [method], ...).\n"
    "\n"
    "problem:   --problem logreg-nc|quad-nc  --data FILE.libsvm  --features D  --lambda L\n"
    "           --layers \"64,32\"|\"16x64\"  --nlayers N (logreg-nc equal split)\n"
    "           logreg-nc without a file: --samples N --features D --density R --data-seed S\n"
    "           (rows of a planted logistic model)\n"
    "           quad-nc: --spec-min --spec-max --diag-dominance --center-scale --data-seed\n"
    "           --data-precision fp64|fp32: data rounded to float (CUDA stores quad-nc's A_i and\n"
    "           logreg rows of density >= 1/3 as floats)\n"
    "method:    --method gd|det-cgd1|det-cgd2\n"
    "sketch:    --sketch identity|rand-k|rand-1|importance-1|bernoulli|bern-q\n"
    "           --k K  --k-ratio R  --k-list \"k1,k2\"  --p P  --q Q  --q-list \"q1,q2\"  --importance lii|uniform\n"
    "stepsize:  --stepsize gd|cgd|cgd-mat|det2-opt|thm2|user  --weight identity|diag-inv|inv|inv-sqrt\n"
    "           --stepsize-file F  --stepsize-scale S  --force 0|1  --stepsize-precision fp64|fp32\n"
    "           --stepsize-setup auto|host (auto: dense D built on the GPU where the backend can)\n"
    "stopping:  --iters K  --target-g G  --time-limit SECONDS\n"
    "output:    --trace F.csv  --summary F.json  --trace-every T  --verbose 0|1|2  --progress 0|1  --label TEXT\n"
    "           --gkd every|trace (G_{K,D} over every iterate, or over the trace points: D read in full there only)\n"
    "comm:      --value-bits 32|64  --shared-seed 0|1\n"
    "other:     --backend auto|cpu|cuda  --graphs 0|1  --sparse-steps 0|1  --seed S  --x0 SCALE  --f-inf F\n"
    "           --f-inf-iters N\n"
    "restart:   --checkpoint F  --checkpoint-every N  --resume F\n"
    "profile:   --profile 1  (seconds per phase in the summary; NVTX ranges per phase on CUDA)\n"
    "clients:   --clients N  --split contiguous|shuffled|label-skew  --mode sim|mpi  --epsilon2 E\n"
    "           (with clients: --method det-cgd1 = Algorithm 1, det-cgd2 = Algorithm 2;\n"
    "            --stepsize cor1 --weight W (Corollary 1, D = gamma W) or dcgd-kr (scalar DCGD))\n"
    "           MPI: mpirun -np R detcgd run --mode mpi ...  (rank 0 is the server)\n"
    "\n"
    "exit codes: 0 ok, 1 run failed, 2 bad usage or settings, 3 data or i/o error,\n"
    "            4 stepsize fails its condition, 5 stopped on NaN/Inf\n"
    "\n"
    "experiments:\n";

int cli_exit_code(int st) {
  switch (st) {
    case DETCGD_OK: return EXIT_OK;
    case DETCGD_ERR_ARG: case DETCGD_ERR_NO_DEVICE: return EXIT_USAGE;
    case DETCGD_ERR_IO: case DETCGD_ERR_PARSE: return EXIT_DATA;
    case DETCGD_ERR_CERT: return EXIT_CERT;
    default: return EXIT_FAILURE_RUN;
  }
}

int cli_set(DetcgdProblemSpec* p, DetcgdSettings* s, const char* key, const char* value) {
  return detcgd_is_problem_key(key) ? detcgd_problem_spec_set(p, key, value) : detcgd_settings_set(s, key, value);
}

/* ==== Options and config files ==== */

typedef struct Options {
  DetcgdProblemSpec problem;
  DetcgdSettings settings;
  const char* out;        /* --out */
  const char* compare;    /* --compare */
  long long mc;           /* --mc N: Monte Carlo check of each stepsize */
  const char* positional[64];
  int npositional;
  int user_problem, user_iters;
  char error[1200];       /* config-file handler message */
} Options;

static int apply(Options* o, const char* key, const char* value) {
  if (detcgd_is_problem_key(key)) o->user_problem = 1;
  if (!strcmp(key, "iters")) o->user_iters = 1;
  return cli_set(&o->problem, &o->settings, key, value);
}

static int on_config_entry(void* user, const char* section, const char* name, const char* value) {
  Options* o = (Options*)user;
  (void)section;
  if (apply(o, name, value) != DETCGD_OK) {
    snprintf(o->error, sizeof o->error, "%s", detcgd_last_error());
    return 0;
  }
  return 1;
}

static int load_config(Options* o, const char* path) {
  int line = ini_parse(path, on_config_entry, o);
  if (line == -1) { fprintf(stderr, "detcgd: --config: cannot open %s\n", path); return EXIT_DATA; }
  if (line != 0) {
    fprintf(stderr, "detcgd: %s:%d: %s\n", path, line, o->error[0] ? o->error : "syntax error");
    return EXIT_USAGE;
  }
  return EXIT_OK;
}

/* --key value | --key=value; positional arguments are collected. */
static int parse_args(Options* o, int argc, char** argv) {
  int i;
  for (i = 0; i < argc; ++i) {
    char key[128];
    const char* a = argv[i];
    const char* value;
    const char* eq;
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
      if (!strcmp(key, "help")) { fputs(USAGE, stdout); cli_experiment_list(); exit(EXIT_OK); }
      if (i + 1 >= argc) { fprintf(stderr, "detcgd: option --%s needs a value\n", key); return EXIT_USAGE; }
      value = argv[++i];
    }
    if (!strcmp(key, "config")) { int rc = load_config(o, value); if (rc) return rc; continue; }
    if (!strcmp(key, "out")) { o->out = value; continue; }
    if (!strcmp(key, "compare")) { o->compare = value; continue; }
    if (!strcmp(key, "mc")) {
      char* end;
      o->mc = strtoll(value, &end, 10);
      if (*end || o->mc < 2) { fprintf(stderr, "detcgd: --mc: \"%s\" is not a sample count >= 2\n", value); return EXIT_USAGE; }
      continue;
    }
    if (apply(o, key, value) != DETCGD_OK) {
      fprintf(stderr, "detcgd: --%s: %s\n", key, detcgd_last_error());
      return EXIT_USAGE;
    }
  }
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

/* Ranks killed by the launcher after another rank failed say so. */
static void on_terminate(int sig) {
  static const char msg[] = "detcgd: this rank was stopped because another rank failed (see its message)\n";
  ssize_t n = write(2, msg, sizeof msg - 1);
  (void)n;
  _exit(128 + sig);
}

static int cmd_run(Options* o) {
  DetcgdProblem* p = NULL;
  DetcgdSolver* s = NULL;
  DetcgdResult r;
  int st = detcgd_problem_create(&p, &o->problem);
  if (st == DETCGD_OK) st = detcgd_create(&s, p, &o->settings);
  if (st == DETCGD_OK) st = detcgd_run(s);
  if (st == DETCGD_OK) st = detcgd_get_result(s, &r);
  if (st != DETCGD_OK) fail_everywhere(st);
  detcgd_destroy(&s);
  detcgd_problem_destroy(&p);
  if (st != DETCGD_OK) return cli_exit_code(st);
  return r.termination == DETCGD_TERM_NONFINITE ? EXIT_NONFINITE : EXIT_OK;
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
  return i >= 3 ? DETCGD_OK : DETCGD_ERR_ARG;
}

static int cmd_theory(Options* o) {
  DetcgdProblem* p = NULL;
  DetcgdProblemInfo info;
  char list[4096], *save = NULL, *item;
  int row = 0, st = detcgd_problem_create(&p, &o->problem);
  if (st != DETCGD_OK) { fprintf(stderr, "detcgd: %s\n", detcgd_last_error()); return cli_exit_code(st); }
  detcgd_problem_info(p, &info);
  snprintf(list, sizeof list, "%s", o->compare ? o->compare : o->problem.clients > 0 ? FIGURE1 : TABLE1);
  printf("d = %lld, %d layers, lambda_max(L) = %.6g, block bound c = %.6g\n", (long long)info.dim, info.nlayers,
         info.lmax, info.block_bound_c);
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
    st = detcgd_theory(p, &s, &t);
    if (st != DETCGD_OK) { printf("%3d %-42s  (%s)\n", ++row, name, detcgd_last_error()); continue; }
    printf("%3d %-42s %12.6f %14.6g %12.6g %14.6g %12.6g", ++row, name, t.certificate, t.det_factor,
           t.coords_per_iter, t.comm_factor, t.bits_per_iter);
    if (o->mc > 0 && o->problem.clients == 0) {
      DetcgdMcCheck mc;
      if (detcgd_theory_mc(p, &s, o->mc, s.seed, &mc) == DETCGD_OK) printf("  MC: certificate %.6f, max |z| %.2f", mc.certificate_mc, mc.max_z);
      else printf("  MC: %s", detcgd_last_error());
    }
    printf("\n");
  }
  detcgd_problem_destroy(&p);
  return EXIT_OK;
}

static int cmd_plot(Options* o) {
  CliSeries series[64];
  int i;
  if (!o->out || o->npositional == 0) { fprintf(stderr, "detcgd plot: usage: plot --out FILE.png TRACE.csv[=LABEL] ...\n"); return EXIT_USAGE; }
  for (i = 0; i < o->npositional; ++i) {
    char* eq = strchr((char*)o->positional[i], '=');
    series[i].csv = o->positional[i];
    series[i].label = o->positional[i];
    if (eq) { *eq = '\0'; series[i].label = eq + 1; }
  }
  return cli_plot(o->out, series, o->npositional, "");
}

static int cmd_experiment(Options* o) {
  if (o->npositional != 1 || !o->out) {
    fprintf(stderr, "detcgd experiment: usage: experiment NAME --out DIR; names:\n");
    cli_experiment_list();
    return EXIT_USAGE;
  }
  return cli_experiment(o->positional[0], o->out, &o->problem, &o->settings, o->user_problem, o->user_iters);
}

int main(int argc, char** argv) {
  static Options o;
  const char* cmd;
  int rc;
  if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    cli_experiment_list();
    return argc < 2 ? EXIT_USAGE : EXIT_OK;
  }
  cmd = argv[1];
  detcgd_problem_spec_default(&o.problem);
  detcgd_settings_default(&o.settings);
  rc = parse_args(&o, argc - 2, argv + 2);
  if (rc != EXIT_OK) return rc;
  if (o.settings.dist.mode == DETCGD_DIST_MPI) {
    if (!detcgd_mpi_available()) { fprintf(stderr, "detcgd: --mode mpi: this build has no MPI\n"); return EXIT_USAGE; }
    if (detcgd_mpi_rank(&mpi_rank, &mpi_ranks) != DETCGD_OK) { fprintf(stderr, "detcgd: %s\n", detcgd_last_error()); return EXIT_FAILURE_RUN; }
    signal(SIGTERM, on_terminate);
    if (mpi_rank != 0) o.settings.output.progress = 0;
  }
  if (!strcmp(cmd, "run")) { rc = cmd_run(&o); detcgd_mpi_finalize(); return rc; }
  if (!strcmp(cmd, "theory")) return cmd_theory(&o);
  if (!strcmp(cmd, "plot")) return cmd_plot(&o);
  if (!strcmp(cmd, "experiment")) return cmd_experiment(&o);
  fprintf(stderr, "detcgd: unknown command \"%s\" (run, theory, plot, experiment, help)\n", cmd);
  return EXIT_USAGE;
}
