/*
 * experiments.c -- named multi-run experiments: each writes one trace and one
 * summary per run into a folder, a comparison table, and a plot.
 *
 *   demo         generated quad-nc (8 layers of 32, lambda 0.1), rand-1 sketches
 *   paper-rand1  a1a, lambda 0.3, K 3000, rand-1: the single-node curves of the
 *                paper's public script (standard CGD, CGD-mat, det-CGD1/2 with
 *                diag^{-1}(L)/d, det-CGD1 with L^{-1} and L^{-1/2})
 *   paper-randt  a1a, lambda 0.3, K 3000, rand-t (t = 30, 60, 90): the script's
 *                standard CGD and CGD-mat, det-CGD1 at its own Theorem-2 stepsize
 *                (W = diag^{-1}(L)), det-CGD2 at (12), and det-CGD1 at Table 1's
 *                (t/d) diag^{-1}(L), labelled as violating condition (7)
 *   paper-fig1   a1a, lambda 0.1, n = 100 clients, K 2000, eps^2 = 1e-4, rand-1: standard
 *                DCGD (Khaled-Richtarik), DCGD-mat (Corollary 1, W = I), D-det-CGD1 and
 *                D-det-CGD2 (Corollary 1, W = diag^{-1}(Lbar)) -- the theory, not the
 *                public script's slips
 *   bernq-free   quad-nc, det-CGD2 at (12) without compression and with Bern-q: the same
 *                communication complexity (Table 1 rows 9 and 12)
 *   ef21         a1a, lambda 0.1, n = 20 clients, K 4000, top-1: EF21 at its theory step and at 16x it,
 *                EF14 (no theory; GD's step 1/L) and ||EF21||, against bits (Richtarik et al.'s comparison)
 *   ef21-norm    synthetic logistic rows N = 20, d = 10, one sample per client (n = 20), K 2000, top-1:
 *                ||EF21|| (gamma_0 0.1, 1) against EF21 at its theory step and at 16x it (Khirirat et al.)
 *   sign-vote    a1a, lambda 0.1, n = 20 clients, K 3000: signSGD with majority vote (full gradients) on contiguous
 *                and label-skew clients, DCGD and GD on label-skew clients (a run's split gives it its own problem);
 *                with minibatches of 8 against distributed SGD (d floats per client) on contiguous clients
 *   ef21-sgdm    a1a, lambda 0.1, n = 20 clients, one sample per client per round (batch 1), K 4000, top-1, 3 seeds:
 *                ||EF21-SGDM|| (the paper's step and gamma_0 = 1) against EF21-SGD, ||EF21-SGD|| and EF21-SGDM
 *   diana        mushrooms, l2 0.05, lambda 0, n = 20 clients, K 3000, x* solved: DCGD and DIANA with natural and
 *                QSGD (s = 4) compression at their derived steps, GD; ||x^k - x*||^2 against iterations and bits
 *   marina       a1a, lambda 0.1, n = 20 clients, K 3000: MARINA, DASHA, DIANA and DCGD with natural compression and
 *                QSGD (s = 2) at their own steps, GD; ||grad f||^2 against iterations and bits
 *   vr-diana     as diana with minibatches of 8 per client, K 6000: VR-DIANA (natural, QSGD s = 4) against DIANA-SGD and
 *                DIANA with full gradients
 *   det-marina   a1a, lambda 0.1, n = 20 clients, K 3000: det-MARINA with W = diag^-1(L) and W = I at the derived step
 *                against MARINA and D-det-CGD1 (Corollary 1), all with rand-1; MARINA and det-MARINA also with natural
 *   sega         quad-nc 8 layers of 16, lambda 0, spec-min 0.1, ball of radius 3, K 20000: SEGA (rand-1, importance-1, Gaussian)
 *                against projected coordinate descent and projected GD; ||x^k - x*||^2 against iterations and bits
 *   ef21-poly    poly-nc d = 4 (a_j in [0.1, 1]), lambda 0.1, x0_j ~ N(20, 1), K 20000, top-1: ||EF21|| at its
 *                single-node step 1 / (2 c_1) for L_1 = 1, 3, 10 and at gamma_0 / sqrt(K + 1), against EF21 at
 *                its step from L on the box |x_j| <= 30 and at 16x and 256x it (Khirirat et al.'s polynomial test)
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

/* A run of an experiment: its label and the options it sets on top of the experiment's (key=value ...). */
typedef struct RunDef {
  const char* label;
  const char* options;
} RunDef;

static const RunDef DEMO_RUNS[] = {
  {"GD", "method=gd stepsize=gd"},
  {"standard CGD", "method=det-cgd1 sketch=rand-1 stepsize=cgd"},
  {"CGD-mat", "method=det-cgd1 sketch=rand-1 stepsize=cgd-mat"},
  {"det-CGD1 diag-inv", "method=det-cgd1 sketch=rand-1 stepsize=thm2 weight=diag-inv"},
  {"det-CGD1 inv-sqrt", "method=det-cgd1 sketch=rand-1 stepsize=thm2 weight=inv-sqrt"},
  {"det-CGD2 opt", "method=det-cgd2 sketch=rand-1 stepsize=det2-opt"},
};

static const RunDef PAPER_RAND1_RUNS[] = {
  {"standard CGD", "method=det-cgd1 sketch=rand-1 stepsize=cgd"},
  {"CGD-mat", "method=det-cgd1 sketch=rand-1 stepsize=cgd-mat"},
  {"det-CGD1 diag-inv(L)/d", "method=det-cgd1 sketch=rand-1 stepsize=thm2 weight=diag-inv"},
  {"det-CGD2 diag-inv(L)/d", "method=det-cgd2 sketch=rand-1 stepsize=det2-opt"},
  {"det-CGD1 W=L^-1", "method=det-cgd1 sketch=rand-1 stepsize=thm2 weight=inv"},
  {"det-CGD1 W=L^-1/2", "method=det-cgd1 sketch=rand-1 stepsize=thm2 weight=inv-sqrt"},
};

static const RunDef PAPER_FIG1_RUNS[] = {
  {"standard DCGD", "method=det-cgd1 sketch=rand-1 stepsize=dcgd-kr"},
  {"DCGD-mat", "method=det-cgd1 sketch=rand-1 stepsize=cor1 weight=identity"},
  {"D-det-CGD1", "method=det-cgd1 sketch=rand-1 stepsize=cor1 weight=diag-inv"},
  {"D-det-CGD2", "method=det-cgd2 sketch=rand-1 stepsize=cor1 weight=diag-inv"},
};

static const RunDef BERNQ_RUNS[] = {
  {"det-CGD2 no compression", "method=det-cgd2 sketch=identity stepsize=det2-opt"},
  {"det-CGD2 Bern-q 0.5", "method=det-cgd2 sketch=bern-q q=0.5 stepsize=det2-opt"},
  {"det-CGD2 Bern-q 0.25", "method=det-cgd2 sketch=bern-q q=0.25 stepsize=det2-opt"},
  {"det-CGD2 Bern-q 0.1", "method=det-cgd2 sketch=bern-q q=0.1 stepsize=det2-opt"},
};

/* the script's baselines (standard CGD, CGD-mat) at each t, det-CGD1 / det-CGD2 at their theory steps, and det-CGD1
 * at Table 1 row 8's step (t/d) diag^-1(L), the script's infeasible curve: it violates (7) for t > 1 */
static const RunDef PAPER_RANDT_RUNS[] = {
  {"standard CGD rand-30", "method=det-cgd1 sketch=rand-k k=30 stepsize=cgd"},
  {"CGD-mat rand-30", "method=det-cgd1 sketch=rand-k k=30 stepsize=cgd-mat"},
  {"det-CGD1 rand-30", "method=det-cgd1 sketch=rand-k k=30 stepsize=thm2 weight=diag-inv"},
  {"det-CGD2 rand-30", "method=det-cgd2 sketch=rand-k k=30 stepsize=det2-opt"},
  {"det-CGD1 rand-30 Table-1 step, violates (7)", "method=det-cgd1 sketch=rand-k k=30 stepsize=table1 force=1"},
  {"standard CGD rand-60", "method=det-cgd1 sketch=rand-k k=60 stepsize=cgd"},
  {"CGD-mat rand-60", "method=det-cgd1 sketch=rand-k k=60 stepsize=cgd-mat"},
  {"det-CGD1 rand-60", "method=det-cgd1 sketch=rand-k k=60 stepsize=thm2 weight=diag-inv"},
  {"det-CGD2 rand-60", "method=det-cgd2 sketch=rand-k k=60 stepsize=det2-opt"},
  {"det-CGD1 rand-60 Table-1 step, violates (7)", "method=det-cgd1 sketch=rand-k k=60 stepsize=table1 force=1"},
  {"standard CGD rand-90", "method=det-cgd1 sketch=rand-k k=90 stepsize=cgd"},
  {"CGD-mat rand-90", "method=det-cgd1 sketch=rand-k k=90 stepsize=cgd-mat"},
  {"det-CGD1 rand-90", "method=det-cgd1 sketch=rand-k k=90 stepsize=thm2 weight=diag-inv"},
  {"det-CGD2 rand-90", "method=det-cgd2 sketch=rand-k k=90 stepsize=det2-opt"},
  {"det-CGD1 rand-90 Table-1 step, violates (7)", "method=det-cgd1 sketch=rand-k k=90 stepsize=table1 force=1"},
};

static const RunDef EF21_RUNS[] = {
  {"EF21 theory step", "method=ef21 sketch=top-k k=1"},
  {"EF21 16x theory step", "method=ef21 sketch=top-k k=1 ef-step-scale=16 force=1"},
  {"EF14 step 1/L (no theory)", "method=ef14 sketch=top-k k=1"},
  {"||EF21|| gamma0 1", "method=ef21-norm sketch=top-k k=1 ef-gamma0=1"},
  {"GD (uncompressed)", "method=ef21 sketch=identity"},
};

static const RunDef EF21_NORM_RUNS[] = {
  {"EF21 theory step", "method=ef21 sketch=top-k k=1"},
  {"EF21 16x theory step", "method=ef21 sketch=top-k k=1 ef-step-scale=16 force=1"},
  {"||EF21|| gamma0 0.1", "method=ef21-norm sketch=top-k k=1 ef-gamma0=0.1"},
  {"||EF21|| gamma0 1", "method=ef21-norm sketch=top-k k=1 ef-gamma0=1"},
};

static const RunDef SIGN_VOTE_RUNS[] = {
  {"signSGD-MV, contiguous clients", "method=sign-mv"},
  {"signSGD-MV, label-skew clients", "method=sign-mv split=label-skew"},
  {"DCGD rand-1, label-skew clients", "method=det-cgd1 sketch=rand-1 stepsize=dcgd-kr split=label-skew"},
  {"GD (EF21 identity), label-skew clients", "method=ef21 sketch=identity split=label-skew"},
  {"DCGD rand-1, contiguous clients", "method=det-cgd1 sketch=rand-1 stepsize=dcgd-kr"},
  {"signSGD-MV batch 8, contiguous clients", "method=sign-mv batch=8"},
  {"distributed SGD batch 8 (EF21 identity), contiguous", "method=ef21 sketch=identity batch=8"},
};

static const RunDef EF21_SGDM_RUNS[] = {
  {"EF21-SGD theory step", "method=ef21 sketch=top-k k=1"},
  {"EF21-SGD 16x theory step", "method=ef21 sketch=top-k k=1 ef-step-scale=16 force=1"},
  {"||EF21-SGD|| gamma0 1", "method=ef21-norm sketch=top-k k=1 ef-gamma0=1"},
  {"EF21-SGDM 16x EF21 step", "method=ef21-sgdm sketch=top-k k=1 ef-step-scale=16"},
  {"||EF21-SGDM|| paper step", "method=ef21-sgdm-norm sketch=top-k k=1"},
  {"||EF21-SGDM|| gamma0 1", "method=ef21-sgdm-norm sketch=top-k k=1 ef-sgdm-gamma0=1 force=1"},
};

/* dcgd and diana at their theory steps (derived: diana.c), natural compression (omega = 1/8, 9 bits a value) and
 * QSGD with s = 4 (omega = min(d/s^2, sqrt(d)/s) = 2.65), GD as the identity */
static const RunDef DIANA_RUNS[] = {
  {"DCGD natural", "method=dcgd sketch=natural"},
  {"DIANA natural", "method=diana sketch=natural"},
  {"DCGD QSGD s=4", "method=dcgd sketch=qsgd levels=4"},
  {"DIANA QSGD s=4", "method=diana sketch=qsgd levels=4"},
  {"GD (DCGD identity, 64-bit values)", "method=dcgd sketch=identity value-bits=64"},
};

/* the gradient-difference methods at their own steps (MARINA's and DASHA's from the authors' code, DCGD's and DIANA's
 * derived) with natural compression and QSGD s = 2, GD with 64-bit values */
static const RunDef MARINA_RUNS[] = {
  {"DCGD natural", "method=dcgd sketch=natural"},
  {"DIANA natural", "method=diana sketch=natural"},
  {"MARINA natural", "method=marina sketch=natural"},
  {"DASHA natural", "method=dasha sketch=natural"},
  {"DIANA QSGD s=2", "method=diana sketch=qsgd levels=2"},
  {"MARINA QSGD s=2", "method=marina sketch=qsgd levels=2"},
  {"DASHA QSGD s=2", "method=dasha sketch=qsgd levels=2"},
  {"GD (DCGD identity, 64-bit values)", "method=dcgd sketch=identity value-bits=64"},
};

/* SEGA's sketched oracle (one coordinate per layer, uniform or importance) against coordinate descent with the same
 * sketch and step, and projected GD (every coordinate), under a ball constraint that binds */
static const RunDef SEGA_RUNS[] = {
  {"SEGA rand-1", "method=sega sketch=rand-1"},
  {"SEGA importance-1", "method=sega sketch=importance-1"},
  {"SEGA Gaussian (one direction per layer)", "method=sega sega-sketch=gaussian"},
  {"coordinate descent rand-1 (projected)", "method=sega sketch=rand-1 sega-estimator=plain"},
  {"projected GD", "method=dcgd sketch=identity"},
};

/* minibatches of 8 per client: VR-DIANA's L-SVRG estimators against DIANA-SGD, and DIANA with full gradients */
static const RunDef VR_DIANA_RUNS[] = {
  {"DIANA-SGD natural", "method=diana sketch=natural"},
  {"VR-DIANA natural", "method=vr-diana sketch=natural"},
  {"VR-DIANA QSGD s=4", "method=vr-diana sketch=qsgd levels=4"},
  {"VR-DIANA SAGA natural, batch 1", "method=vr-diana vr-estimator=saga sketch=natural batch=1"},
  {"DIANA natural, full gradients", "method=diana sketch=natural batch=0"},
};

/* det-MARINA's D = gamma W at its derived step against MARINA and D-det-CGD1, all with rand-1 (and natural
 * compression for MARINA and det-MARINA) */
static const RunDef DET_MARINA_RUNS[] = {
  {"MARINA rand-1", "method=marina sketch=rand-1"},
  {"det-MARINA rand-1, W = diag^-1(L)", "method=det-marina sketch=rand-1"},
  {"det-MARINA rand-1, W = I", "method=det-marina sketch=rand-1 marina-weight=identity"},
  {"D-det-CGD1 rand-1 (Corollary 1)", "method=det-cgd1 sketch=rand-1 stepsize=cor1 weight=diag-inv"},
  {"MARINA natural", "method=marina sketch=natural"},
  {"det-MARINA natural, W = diag^-1(L)", "method=det-marina sketch=natural"},
};

static const RunDef EF21_POLY_RUNS[] = {
  {"EF21 box-L step", "method=ef21 sketch=top-k k=1"},
  {"EF21 16x box-L step", "method=ef21 sketch=top-k k=1 ef-step-scale=16 force=1"},
  {"EF21 256x box-L step", "method=ef21 sketch=top-k k=1 ef-step-scale=256 force=1"},
  {"||EF21|| 1/(2 c1), L1 = 1", "method=ef21-norm sketch=top-k k=1 ef-norm-rule=single-node poly-l1=1"},
  {"||EF21|| 1/(2 c1), L1 = 3", "method=ef21-norm sketch=top-k k=1 ef-norm-rule=single-node poly-l1=3"},
  {"||EF21|| 1/(2 c1), L1 = 10", "method=ef21-norm sketch=top-k k=1 ef-norm-rule=single-node poly-l1=10"},
  {"||EF21|| gamma0 1", "method=ef21-norm sketch=top-k k=1 ef-gamma0=1"},
};

typedef struct ExperimentDef {
  const char* name;
  const char* what;
  const RunDef* runs;
  int nruns;
  int seeds; /* each run over this many seeds (--seeds overrides): the mean and its min-max band */
  const char* metrics; /* the plot's rows (--metric; NULL: G_{K,D} and ||grad f||^2) */
} ExperimentDef;

#define NRUNS(a) ((int)(sizeof(a) / sizeof((a)[0])))
static const ExperimentDef EXPERIMENTS[] = {
  {"demo", "generated quad-nc (8 layers of 32, lambda 0.1), GD / CGD / det-CGD with rand-1", DEMO_RUNS, NRUNS(DEMO_RUNS), 1, NULL},
  {"paper-rand1", "a1a, lambda 0.3, K 3000, rand-1 curves of the paper's single-node script", PAPER_RAND1_RUNS, NRUNS(PAPER_RAND1_RUNS), 1, NULL},
  {"paper-randt", "a1a, lambda 0.3, K 3000, rand-t (t = 30, 60, 90): standard CGD, CGD-mat, det-CGD1 (Thm 2), det-CGD2 (12), det-CGD1 at Table 1's step (violates (7))", PAPER_RANDT_RUNS, NRUNS(PAPER_RANDT_RUNS), 1, NULL},
  {"paper-fig1", "a1a, lambda 0.1, n = 100 clients, K 2000, eps^2 1e-4, rand-1: DCGD, DCGD-mat, D-det-CGD1/2 (Corollary 1)", PAPER_FIG1_RUNS, NRUNS(PAPER_FIG1_RUNS), 1, NULL},
  {"bernq-free", "quad-nc 16 layers of 32, det-CGD2 at (12): no compression vs Bern-q (Table 1 rows 9 and 12), 20 seeds", BERNQ_RUNS, NRUNS(BERNQ_RUNS), 20, NULL},
  {"ef21", "a1a, lambda 0.1, n = 20 clients, K 4000, top-1: EF21 (theory step, 16x), EF14 (step 1/L), ||EF21||, GD", EF21_RUNS, NRUNS(EF21_RUNS), 1, "grad2,gkd"},
  {"ef21-norm", "synthetic logistic N = 20, d = 10, one sample per client, K 2000, top-1: ||EF21|| against EF21", EF21_NORM_RUNS, NRUNS(EF21_NORM_RUNS), 1, "grad2,gkd"},
  {"sign-vote", "a1a, lambda 0.1, n = 20 clients, K 3000: signSGD with majority vote on contiguous and label-skew clients, DCGD, GD; minibatches of 8 against SGD", SIGN_VOTE_RUNS, NRUNS(SIGN_VOTE_RUNS), 1, "grad2,gkd"},
  {"ef21-sgdm", "a1a, lambda 0.1, n = 20 clients, batch 1, K 4000, top-1, 3 seeds: ||EF21-SGDM|| against EF21-SGD and ||EF21-SGD||", EF21_SGDM_RUNS, NRUNS(EF21_SGDM_RUNS), 3, "grad2,gkd"},
  {"diana", "mushrooms, l2 0.05 (lambda 0), n = 20 clients, K 3000, optimum solve: DIANA against DCGD (natural, QSGD s=4), GD; ||x^k - x*||^2", DIANA_RUNS, NRUNS(DIANA_RUNS), 1, "dist2,grad2"},
  {"marina", "a1a, lambda 0.1 (non-convex), n = 20 clients, K 3000: MARINA and DASHA against DIANA and DCGD (natural, QSGD s=2), GD; ||grad f||^2 against bits", MARINA_RUNS, NRUNS(MARINA_RUNS), 1, "grad2,gkd"},
  {"sega", "quad-nc 8 layers of 16 (lambda 0, spec-min 0.1), ball ||x|| <= 3, K 20000, 64-bit values: SEGA against coordinate descent and projected GD; ||x^k - x*||^2", SEGA_RUNS, NRUNS(SEGA_RUNS), 1, "dist2,grad2"},
  {"vr-diana", "mushrooms, l2 0.05 (lambda 0), n = 20 clients, batch 8, K 6000, optimum solve: VR-DIANA against DIANA-SGD and DIANA; ||x^k - x*||^2", VR_DIANA_RUNS, NRUNS(VR_DIANA_RUNS), 1, "dist2,grad2"},
  {"det-marina", "a1a, lambda 0.1, n = 20 clients, K 3000: det-MARINA (W = diag^-1(L), I; derived step) against MARINA and D-det-CGD1, rand-1 (and natural)", DET_MARINA_RUNS, NRUNS(DET_MARINA_RUNS), 1, "grad2,gkd"},
  {"ef21-poly", "poly-nc d = 4, lambda 0.1, x0 ~ N(20, 1), K 20000, top-1: ||EF21|| (1/(2 c1) for L1 = 1, 3, 10; gamma0 1) against EF21 (box-L step, 16x, 256x)", EF21_POLY_RUNS, NRUNS(EF21_POLY_RUNS), 1, "grad2,gkd"},
};

void cli_experiment_list(void) {
  int i;
  for (i = 0; i < NRUNS(EXPERIMENTS); ++i) printf("  %-14s %s\n", EXPERIMENTS[i].name, EXPERIMENTS[i].what);
  printf("  %-14s %s\n", "sign-geometry", CLI_SIGN_GEOMETRY_WHAT);
}

void cli_shared_data(const char* file, char* out, size_t cap) {
  char rel[256], exe[DETCGD_PATH_MAX];
  ssize_t n;
  snprintf(rel, sizeof rel, "../shared/data/libsvm/%s", file);
  snprintf(out, cap, "%s", rel);
  if (access(rel, R_OK) == 0 || (n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0) return;
  exe[n] = '\0';
  if (strrchr(exe, '/')) *strrchr(exe, '/') = '\0';  /* .../repo/build */
  if (strrchr(exe, '/')) *strrchr(exe, '/') = '\0';  /* .../repo */
  {
    char path[2 * DETCGD_PATH_MAX];
    size_t len = (size_t)snprintf(path, sizeof path, "%s/%s", exe, rel);
    if (len < cap && access(path, R_OK) == 0) memcpy(out, path, len + 1); /* else the error names the usual path */
  }
}

/* Problem and iteration defaults of each experiment (the user's options are applied on top). */
static void experiment_defaults(const char* name, DetcgdProblemSpec* p, DetcgdSettings* s) {
  int quad = !strcmp(name, "demo") || !strcmp(name, "bernq-free"), fig1 = !strcmp(name, "paper-fig1");
  if (!strcmp(name, "ef21-norm")) { /* the paper's synthetic logistic problem: one sample per client */
    p->kind = DETCGD_PROBLEM_LOGREG_NC;
    p->samples = 20;
    p->features = 10;
    p->clients = 20;
    p->lambda = 0.1;
    s->term.max_iter = 2000;
    return;
  }
  if (!strcmp(name, "ef21-poly")) { /* Khirirat et al.'s polynomial: d = 4, x0_j ~ N(20, 1) */
    p->kind = DETCGD_PROBLEM_POLY_NC;
    strcpy(p->layers, "4");
    p->spec_min = 0.1;
    p->spec_max = 1.0;
    p->lambda = 0.1;
    s->x0 = 40.0; /* x0 / sqrt(d) = 20 */
    s->x0_spread = 1.0;
    s->term.max_iter = 20000;
    return;
  }
  if (!strcmp(name, "sega")) { /* a small strongly convex quadratic whose minimiser lies outside the ball */
    p->kind = DETCGD_PROBLEM_QUAD_NC;
    strcpy(p->layers, "8x16");
    p->lambda = 0.0;
    p->spec_min = 0.1;
    s->prox = DETCGD_PROX_BALL;
    s->prox_radius = 3.0;
    s->optimum = DETCGD_OPTIMUM_SOLVE;
    s->comm.value_bits = 64;
    s->term.max_iter = 20000;
    s->output.trace_every = 100;
    return;
  }
  if (!strcmp(name, "diana") || !strcmp(name, "vr-diana")) { /* strongly convex l2-logistic regression, 20 clients */
    p->kind = DETCGD_PROBLEM_LOGREG_NC;
    p->lambda = 0.0;
    p->l2 = 0.05;
    p->clients = 20;
    s->optimum = DETCGD_OPTIMUM_SOLVE;
    s->term.max_iter = 3000;
    if (!strcmp(name, "vr-diana")) { /* minibatches of 8, the full gradient at the trace rows only */
      s->batch = 8;
      s->term.max_iter = 6000;
      s->output.gkd_points = DETCGD_GKD_TRACE;
      s->output.trace_every = 20;
    }
    cli_shared_data("mushrooms", p->data_path, sizeof p->data_path);
    return;
  }
  if (!strcmp(name, "ef21") || !strcmp(name, "sign-vote") || !strcmp(name, "ef21-sgdm") || !strcmp(name, "marina") ||
      !strcmp(name, "det-marina")) {
    p->kind = DETCGD_PROBLEM_LOGREG_NC;
    p->lambda = 0.1;
    p->clients = 20;
    s->term.max_iter = strcmp(name, "sign-vote") && strcmp(name, "marina") && strcmp(name, "det-marina") ? 4000 : 3000;
    if (!strcmp(name, "ef21-sgdm")) s->batch = 1;
    cli_shared_data("a1a", p->data_path, sizeof p->data_path);
    return;
  }
  s->term.max_iter = quad || fig1 ? 2000 : 3000;
  if (quad) {
    p->kind = DETCGD_PROBLEM_QUAD_NC;
    strcpy(p->layers, strcmp(name, "demo") ? "16x32" : "8x32");
    p->lambda = 0.1;
    return;
  }
  p->kind = DETCGD_PROBLEM_LOGREG_NC;
  p->lambda = fig1 ? 0.1 : 0.3;
  p->clients = fig1 ? 100 : 0;
  cli_shared_data("a1a", p->data_path, sizeof p->data_path);
}

void cli_slug(const char* label, char* out, size_t cap) {
  size_t i, n = 0;
  for (i = 0; label[i] && n + 1 < cap; ++i) {
    char c = label[i];
    out[n++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') ? c : '_';
  }
  out[n] = '\0';
}

/* The run's own options on top of the experiment's problem p and settings s (a problem key, such as split, gives
 * the run a problem of its own). */
static int apply_run_options(DetcgdProblemSpec* p, DetcgdSettings* s, const RunDef* r) {
  char text[256], *save = NULL, *kv;
  int st = DETCGD_OK;
  snprintf(text, sizeof text, "%s", r->options);
  for (kv = strtok_r(text, " ", &save); kv && st == DETCGD_OK; kv = strtok_r(NULL, " ", &save)) {
    char* eq = strchr(kv, '=');
    if (eq) *eq = '\0';
    st = detcgd_set(p, s, kv, eq ? eq + 1 : ""); /* a key without a value: its setter says what is wrong */
  }
  return st;
}

/* Run r's solver on top of base; seed >= 0: with that seed, its files named _seedN; its trace's path in csv. */
static int open_run(const DetcgdProblem* prob, const DetcgdSettings* base, const RunDef* r, const char* dir, int seed,
                    char* csv, size_t cap, DetcgdSolver** solver) {
  DetcgdSettings s = *base;
  char name[160];
  int st;
  DetcgdProblemSpec unused; /* the run's problem keys were applied when its problem was made */
  detcgd_problem_spec_default(&unused);
  cli_slug(r->label, name, sizeof name);
  if (seed >= 0) snprintf(name + strlen(name), sizeof name - strlen(name), "_seed%d", seed);
  if ((st = apply_run_options(&unused, &s, r)) != DETCGD_OK) {
    fprintf(stderr, "experiment: run \"%s\": %s\n", r->label, detcgd_last_error());
    return st;
  }
  if (seed >= 0) s.seed = base->seed + (uint64_t)seed;
  snprintf(s.output.label, sizeof s.output.label, "%s", r->label);
  snprintf(csv, cap, "%s/%s.csv", dir, name);
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", csv);
  snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s/%s.json", dir, name);
  if ((st = detcgd_create(solver, prob, &s)) != DETCGD_OK)
    fprintf(stderr, "experiment: run \"%s\": %s\n", r->label, detcgd_last_error());
  return st;
}

#define GROUP_PASS 64 /* the most runs that go together */

/* The runs at slots slot[0 .. m) of e (slot = run i's seed j at i seeds + j) on one problem, together
 * (detcgd_run_many, GROUP_PASS at a time): each one's trace path in csv[slot] and result in res[slot]; *ran of them
 * ran (fewer when interrupted).  The first run estimates f^inf unless base has it, and the rest share it (base->f_inf
 * then holds it). */
static int run_group(const DetcgdProblem* prob, DetcgdSettings* base, const ExperimentDef* e, const int* slot, int m,
                     int seeds, const char* dir, char (*csv)[DETCGD_PATH_MAX], DetcgdResult* res, int* ran) {
  DetcgdSolver* solver[GROUP_PASS];
  DetcgdSettings quiet;
  int k0, k, n, st = DETCGD_OK;
  *ran = 0;
  for (k0 = 0; k0 < m && st == DETCGD_OK && !detcgd_stop_requested(); k0 += n) {
    n = m - k0 < GROUP_PASS ? m - k0 : GROUP_PASS;
    memset(solver, 0, sizeof solver);
    if (n > 1) printf("%d runs together (their gradients from one pass over the data; no per-run tables)\n", n);
    for (k = 0; k < n && st == DETCGD_OK; ++k) {
      int at = slot[k0 + k];
      quiet = *base; /* runs together: their tables would interleave (each trace has every row) */
      if (n > 1) quiet.output.verbose = quiet.output.progress = 0;
      st = open_run(prob, &quiet, &e->runs[at / seeds], dir, seeds > 1 ? at % seeds : -1, csv[at], sizeof csv[at],
                    &solver[k]);
      if (st == DETCGD_OK && isnan(base->f_inf))
        base->f_inf = detcgd_f_inf(solver[k]); /* estimated once, shared by every run on this problem */
    }
    if (st == DETCGD_OK) st = n == 1 ? detcgd_run(solver[0]) : detcgd_run_many(solver, n);
    if (st != DETCGD_OK) fprintf(stderr, "experiment: %d run(s) together: %s\n", n, detcgd_last_error());
    for (k = 0; k < n; ++k) {
      if (st == DETCGD_OK) st = detcgd_get_result(solver[k], &res[slot[k0 + k]]);
      detcgd_destroy(&solver[k]);
    }
    if (st == DETCGD_OK) *ran += n;
  }
  return st;
}

/* A trace's (iter, G_KD, bits_up) rows, appended to *rows (3 doubles each, *n rows). */
static int read_trace(const char* path, double** rows, int* n) {
  FILE* f = fopen(path, "r");
  char line[512];
  int cap = 0;
  *rows = NULL;
  *n = 0;
  if (!f) return 0;
  if (!fgets(line, sizeof line, f)) { fclose(f); return 0; } /* the header */
  while (fgets(line, sizeof line, f)) {
    long long it, coords, bits;
    double fv, g2, g2d, gkd;
    if (sscanf(line, "%lld,%lf,%lf,%lf,%lf,%lld,%lld", &it, &fv, &g2, &g2d, &gkd, &coords, &bits) != 7) break;
    if (*n == cap) {
      double* nr = (double*)realloc(*rows, (size_t)(cap = cap ? 2 * cap : 256) * 3 * sizeof(double));
      if (!nr) break;
      *rows = nr;
    }
    (*rows)[3 * *n] = (double)it;
    (*rows)[3 * *n + 1] = gkd;
    (*rows)[3 * *n + 2] = (double)bits;
    ++*n;
  }
  fclose(f);
  return 1;
}

/* The band of run r's seeds into dir/<label>.csv (band: iter, G mean, min, max, mean bits, at each row every seed
 * has); its path in csv.  0 when a trace cannot be read or written. */
static int write_band(const char* dir, const RunDef* r, char (*seed_csv)[DETCGD_PATH_MAX], int seeds, char* csv,
                      size_t cap) {
  double* rows[1000];
  int nrows[1000], j, t, n = -1, ok = 1;
  char name[128];
  FILE* f;
  for (j = 0; j < seeds; ++j) {
    ok = read_trace(seed_csv[j], &rows[j], &nrows[j]) && ok;
    if (n < 0 || nrows[j] < n) n = nrows[j];
  }
  cli_slug(r->label, name, sizeof name);
  snprintf(csv, cap, "%s/%s.csv", dir, name);
  f = ok ? fopen(csv, "w") : NULL;
  if (f) {
    fprintf(f, "iter,G_KD_mean,G_KD_min,G_KD_max,bits_up_mean\n");
    for (t = 0; t < n; ++t) {
      double g = 0, lo = rows[0][3 * t + 1], hi = lo, bits = 0;
      for (j = 0; j < seeds; ++j) {
        double v = rows[j][3 * t + 1];
        g += v / seeds;
        bits += rows[j][3 * t + 2] / seeds;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
      fprintf(f, "%.0f,%.17g,%.17g,%.17g,%.17g\n", rows[0][3 * t], g, lo, hi, bits);
    }
    ok = fclose(f) == 0;
  }
  for (j = 0; j < seeds; ++j) free(rows[j]);
  return f && ok;
}

/* Run r's seeds' results one[0 .. seeds): res holds their mean G_KD, ||g(x^K)||^2, f(x^K) and bits, and g_range
 * their least and largest G_KD; csv names the band (one seed: the run's trace, seed_csv[0]). */
static int seed_summary(const char* dir, const RunDef* r, const DetcgdResult* one, int seeds,
                        char (*seed_csv)[DETCGD_PATH_MAX], char* csv, size_t cap, DetcgdResult* res, double g_range[2]) {
  double g = 0, g2 = 0, f = 0, bits = 0;
  int j;
  *res = one[0];
  g_range[0] = g_range[1] = one[0].g_kd;
  if (seeds == 1) {
    snprintf(csv, cap, "%s", seed_csv[0]);
    return DETCGD_OK;
  }
  for (j = 0; j < seeds; ++j) {
    g += one[j].g_kd;
    g2 += one[j].grad_norm2_final;
    f += one[j].f_final;
    bits += (double)one[j].bits_up;
    g_range[0] = one[j].g_kd < g_range[0] ? one[j].g_kd : g_range[0];
    g_range[1] = one[j].g_kd > g_range[1] ? one[j].g_kd : g_range[1];
  }
  res->g_kd = g / seeds;
  res->grad_norm2_final = g2 / seeds;
  res->f_final = f / seeds;
  res->bits_up = (int64_t)(bits / seeds + 0.5);
  if (!write_band(dir, r, seed_csv, seeds, csv, cap)) {
    fprintf(stderr, "experiment: run \"%s\": cannot write the band of its %d seeds\n", r->label, seeds);
    return DETCGD_ERR_IO;
  }
  return DETCGD_OK;
}

/* The comparison table of the first n runs as out_dir/summary.csv. */
static void write_table(const char* out_dir, const ExperimentDef* e, const DetcgdResult* res, double (*g_range)[2],
                        int n, int seeds) {
  char path[DETCGD_PATH_MAX];
  FILE* f;
  int i;
  snprintf(path, sizeof path, "%s/summary.csv", out_dir);
  if (!(f = fopen(path, "w"))) { fprintf(stderr, "experiment: cannot write %s\n", path); return; }
  fprintf(f, "run,certificate,det_factor,coords_per_iter,G_KD,f_final,bits_up,iterations,seconds,grad_norm2_final,"
             "K_lower_bound,seeds,G_KD_min,G_KD_max\n");
  for (i = 0; i < n; ++i)
    fprintf(f, "%s,%.10g,%.10g,%.10g,%.10g,%.12g,%lld,%lld,%.6f,%.10g,%.6g,%d,%.10g,%.10g\n", e->runs[i].label,
            res[i].certificate, res[i].det_factor, res[i].coords_per_iter, res[i].g_kd, res[i].f_final,
            (long long)res[i].bits_up, (long long)res[i].iterations, res[i].time_iterate, res[i].grad_norm2_final,
            res[i].k_lower_bound, seeds, g_range[i][0], g_range[i][1]);
  fclose(f);
}

int cli_experiment(const char* name, const char* out_dir, int seeds, const CliAssignments* user,
                   const CliPlotRequest* plot) {
  static DetcgdProblemSpec problem;
  static DetcgdSettings settings;
  DetcgdProblemSpec* p = &problem;
  DetcgdSettings* s = &settings;
  static char config[16384];
  const ExperimentDef* e = NULL;
  DetcgdProblem* prob = NULL;
  CliSeries series[16];
  char csv[16][DETCGD_PATH_MAX], png[DETCGD_PATH_MAX];
  DetcgdResult res[16];
  double g_range[16][2], user_f_inf;
  char(*traces)[DETCGD_PATH_MAX] = NULL; /* run i's seeds at traces[i * seeds ..] */
  const char** trace_list = NULL;
  CliPlotStyle style;
  static DetcgdProblemSpec own[16]; /* each run's problem: the experiment's, or its own */
  DetcgdResult* one = NULL;          /* run i's seed j at i seeds + j */
  int* slots = NULL;
  int i, j, m, n, w, ran = 0, st = DETCGD_OK, done[16];
  if (!strcmp(name, "sign-geometry")) return cli_sign_geometry(out_dir, seeds, user);
  for (i = 0; i < NRUNS(EXPERIMENTS); ++i)
    if (!strcmp(name, EXPERIMENTS[i].name)) e = &EXPERIMENTS[i];
  if (!e) { fprintf(stderr, "experiment: unknown name \"%s\"; known:\n", name); cli_experiment_list(); return EXIT_USAGE; }
  if (seeds == 0) seeds = e->seeds;
  {
    char title[300];
    snprintf(title, sizeof title, "%s: %s", e->name, e->what);
    if ((st = cli_plot_style(&style, plot->metric ? plot->metric : e->metrics, plot->x, plot->bits_axis,
                             plot->title ? plot->title : title)) != EXIT_OK)
      return st;
  }
  if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) { fprintf(stderr, "experiment: cannot create %s (%s)\n", out_dir, strerror(errno)); return EXIT_DATA; }
  detcgd_problem_spec_default(p);
  detcgd_settings_default(s);
  experiment_defaults(name, p, s);
  if ((st = cli_apply(user, p, s, DETCGD_CMD_EXPERIMENT)) != EXIT_OK) return st;
  user_f_inf = s->f_inf;
  st = detcgd_problem_create(&prob, p);
  if (st != DETCGD_OK) { fprintf(stderr, "experiment: %s\n", detcgd_last_error()); return cli_exit_code(st); }
  traces = (char(*)[DETCGD_PATH_MAX])calloc((size_t)e->nruns * seeds, DETCGD_PATH_MAX);
  trace_list = (const char**)calloc((size_t)e->nruns * seeds, sizeof *trace_list);
  one = (DetcgdResult*)calloc((size_t)e->nruns * seeds, sizeof *one);
  slots = (int*)calloc((size_t)e->nruns * seeds, sizeof *slots);
  if (!traces || !trace_list || !one || !slots) {
    free(traces);
    free(trace_list);
    free(one);
    free(slots);
    detcgd_problem_destroy(&prob);
    fprintf(stderr, "experiment: out of memory for %d x %d trace names\n", e->nruns, seeds);
    return EXIT_FAILURE_RUN;
  }
  detcgd_config_format(p, s, 1, config, sizeof config);
  printf("experiment %s: %s -> %s\nconfiguration (each run then sets its method, sketch, stepsize, weight%s):\n%s",
         e->name, e->what, out_dir, seeds > 1 ? "; seeds seed, seed + 1, ..." : "", config);
  if (seeds > 1) printf("seeds = %d per run: the table's G_KD, ||g(x^K)||^2 and bits are means over them\n", seeds);
  /* every run on the experiment's problem, every seed, together; then each run with a problem of its own (another
   * split: another f, its own f^inf), its seeds together */
  for (i = 0, m = 0; i < e->nruns && st == DETCGD_OK; ++i) {
    DetcgdSettings scratch = *s;
    own[i] = *p;
    if ((st = apply_run_options(&own[i], &scratch, &e->runs[i])) != DETCGD_OK) {
      fprintf(stderr, "experiment: run \"%s\": %s\n", e->runs[i].label, detcgd_last_error());
      break;
    }
    done[i] = 0;
    for (j = 0; j < seeds && memcmp(&own[i], p, sizeof *p) == 0; ++j) slots[m++] = i * seeds + j;
  }
  if (st == DETCGD_OK && m > 0 && (st = run_group(prob, s, e, slots, m, seeds, out_dir, traces, one, &ran)) == DETCGD_OK)
    for (j = 0; j < ran; ++j) done[slots[j] / seeds] += 1;
  for (i = 0; i < e->nruns && st == DETCGD_OK && !detcgd_stop_requested(); ++i) {
    DetcgdSettings scratch = *s;
    DetcgdProblem* run_prob = NULL;
    if (memcmp(&own[i], p, sizeof *p) == 0) continue;
    scratch.f_inf = user_f_inf;
    if ((st = detcgd_problem_create(&run_prob, &own[i])) != DETCGD_OK) {
      fprintf(stderr, "experiment: run \"%s\": %s\n", e->runs[i].label, detcgd_last_error());
      break;
    }
    for (j = 0; j < seeds; ++j) slots[j] = i * seeds + j;
    st = run_group(run_prob, &scratch, e, slots, seeds, seeds, out_dir, traces, one, &done[i]);
    detcgd_problem_destroy(&run_prob);
  }
  for (i = 0; i < e->nruns && st == DETCGD_OK && done[i] == seeds; ++i) {
    st = seed_summary(out_dir, &e->runs[i], one + (size_t)i * seeds, seeds, traces + (size_t)i * seeds, csv[i],
                      sizeof csv[i], &res[i], g_range[i]);
    for (j = 0; j < seeds; ++j) trace_list[(size_t)i * seeds + j] = traces[(size_t)i * seeds + j];
    series[i].csv = trace_list + (size_t)i * seeds;
    series[i].ncsv = seeds;
    series[i].label = e->runs[i].label;
  }
  detcgd_problem_destroy(&prob);
  free(one);
  free(slots);
  if (st != DETCGD_OK) {
    free(traces);
    free(trace_list);
    return cli_exit_code(st);
  }
  n = i; /* fewer than e->nruns when interrupted: the table and the plot of the runs that ran */
  if (n < e->nruns) printf("\nexperiment interrupted: %d of %d runs (the last one stopped early)\n", n, e->nruns);
  for (i = 0, w = 26; i < n; ++i) w = (int)strlen(e->runs[i].label) > w ? (int)strlen(e->runs[i].label) : w;
  printf("\n%-*s %12s %14s %12s %14s %14s %14s\n", w, "run", "certificate", "det(D)^(-1/d)", "coords/it", "G_KD",
         "||g(x^K)||^2", "bits_up");
  for (i = 0; i < n; ++i)
    printf("%-*s %12.6f %14.6g %12.4g %14.6e %14.6e %14lld\n", w, e->runs[i].label, res[i].certificate,
           res[i].det_factor, res[i].coords_per_iter, res[i].g_kd, res[i].grad_norm2_final, (long long)res[i].bits_up);
  for (i = 0; i < n && seeds > 1; ++i)
    printf("%s: G_KD over %d seeds %.6e .. %.6e\n", e->runs[i].label, seeds, g_range[i][0], g_range[i][1]);
  for (i = 0; i < n; ++i) /* Corollary 1's K against the K run (distributed runs) */
    if (res[i].k_lower_bound == res[i].k_lower_bound && (double)res[i].iterations < res[i].k_lower_bound)
      printf("note: %s ran K = %lld iterations; its theory guarantees eps^2 = %g only from K >= %.3g\n",
             e->runs[i].label, (long long)res[i].iterations, s->dist.epsilon2, res[i].k_lower_bound);
  write_table(out_dir, e, res, g_range, n, seeds);
  snprintf(png, sizeof png, "%s/plot.png", out_dir);
  st = n > 0 ? cli_plot(png, series, n, &style) : EXIT_OK;
  if (st == EXIT_OK && n > 0) printf("plot: %s\n", png);
  free(traces);
  free(trace_list);
  return st == EXIT_OK && detcgd_stop_requested() ? 128 + SIGINT : st;
}
