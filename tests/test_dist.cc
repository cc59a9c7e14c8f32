// Distributed runs: client splits, exact bits, Corollary 1 and the DCGD
// stepsize, convergence against Theorem 3, bad client counts, and
// checkpoint/resume.  (MPI against simulation: tests/mpi_check.sh.)
#include <algorithm>
#include <cmath>
#include <cstring>
#include "dense_oracle.h"
#include "test_util.h"
extern "C" {
#include "linalg.h"
#include "problem.h"
}

extern "C" void dpotrf_(const char*, const int*, double*, const int*, int*);

namespace {

DetcgdProblem* make_clients(int n, int split = DETCGD_SPLIT_CONTIGUOUS, double lambda = 0.1) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_SHARED_DATA "/a1a");
  ps.lambda = lambda;
  ps.clients = n;
  ps.split = split;
  DetcgdProblem* p = nullptr;
  int st = detcgd_problem_create(&p, &ps);
  if (st != DETCGD_OK) return nullptr;
  return p;
}

DetcgdSettings dist_settings(int method, int stepsize, int weight = DETCGD_W_DIAG_INV) {
  DetcgdSettings s = quiet_settings();
  s.method = method;
  s.sketch.kind = DETCGD_SKETCH_RAND1;
  s.stepsize.kind = stepsize;
  s.stepsize.weight = weight;
  s.f_inf = NAN;
  s.f_inf_iters = 200;
  s.term.max_iter = 200;
  return s;
}

struct Out { int status; DetcgdResult r; };

Out run(DetcgdProblem* p, const DetcgdSettings& s) {
  Out o{};
  DetcgdSolver* solver = nullptr;
  o.status = detcgd_create(&solver, p, &s);
  if (o.status == DETCGD_OK) o.status = detcgd_run(solver);
  if (o.status == DETCGD_OK) detcgd_get_result(solver, &o.r);
  detcgd_destroy(&solver);
  return o;
}

// s run uninterrupted (trace `full`), then with a checkpoint every `every` iterations and a "crash" at
// `die` (trace `part`), then resumed from the last checkpoint; s is left set to resume.
struct Resumed { Out a, b; std::string full, part; };

Resumed run_and_resume(DetcgdProblem* p, DetcgdSettings& s, const std::string& tag, int64_t every, int64_t die) {
  Resumed o;
  const std::string ck = temp_path(tag + "ck.bin");
  o.full = temp_path(tag + "full.csv");
  o.part = temp_path(tag + "part.csv");
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", o.full.c_str());
  o.a = run(p, s);
  std::remove(o.part.c_str());
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", o.part.c_str());
  snprintf(s.output.checkpoint_path, sizeof s.output.checkpoint_path, "%s", ck.c_str());
  s.output.checkpoint_every = every;
  snprintf(s.dist.fault, sizeof s.dist.fault, "0:%lld:die", (long long)die);
  EXPECT_EQ(run(p, s).status, DETCGD_ERR_INTERNAL);
  s.dist.fault[0] = 0;
  s.output.checkpoint_path[0] = 0;
  snprintf(s.output.resume_path, sizeof s.output.resume_path, "%s", ck.c_str());
  o.b = run(p, s);
  return o;
}

}  // namespace

class Dist : public testing::Test {
 protected:
  void SetUp() override {
    p = make_clients(20);
    if (!p) GTEST_SKIP() << "../shared/data/libsvm/a1a not present";
  }
  void TearDown() override { detcgd_problem_destroy(&p); }
  DetcgdProblem* p = nullptr;
};

TEST_F(Dist, SplitsCoverEveryRowOnce) {
  EXPECT_EQ(p->nclients, 20);
  EXPECT_EQ(p->client_row[20], 1605);
  for (int c = 0; c < 20; ++c) EXPECT_NEAR(double(p->client_host[c].nrows), 1605.0 / 20, 1.0);
  DetcgdProblem* skew = make_clients(4, DETCGD_SPLIT_LABEL_SKEW);
  ASSERT_NE(skew, nullptr);
  // the 1210 rows of -1 come first: clients 0-2 hold only -1, client 3 rows 1204.. = 6 of -1, then 395 of +1
  for (int c = 0; c < 3; ++c)
    for (int j = 0; j < skew->client_host[c].nrows; ++j) EXPECT_EQ(skew->client_host[c].label[j], -1.0);
  int plus = 0;
  for (int j = 0; j < skew->client_host[3].nrows; ++j) plus += skew->client_host[3].label[j] > 0;
  EXPECT_EQ(plus, 395);
  detcgd_problem_destroy(&skew);
  DetcgdProblem* sh = make_clients(4, DETCGD_SPLIT_SHUFFLED);
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->data.nnz, 22249);  // a permutation of the rows
  detcgd_problem_destroy(&sh);
}

TEST_F(Dist, BitsAreExactForEverySketch) {
  const int64_t K = 37, n = 20, d = 119;
  struct Case { int sketch, k, shared, vbits; };
  const Case cases[] = {{DETCGD_SKETCH_RANDK, 5, 0, 32}, {DETCGD_SKETCH_RANDK, 5, 1, 32}, {DETCGD_SKETCH_RAND1, 1, 0, 64},
                        {DETCGD_SKETCH_IDENTITY, 0, 0, 32}, {DETCGD_SKETCH_BERNQ, 0, 0, 32},
                        {DETCGD_SKETCH_BERNOULLI, 0, 0, 64}, {DETCGD_SKETCH_IMPORTANCE1, 0, 1, 32}};
  for (const Case& c : cases) {
    DetcgdSettings s = dist_settings(DETCGD_METHOD_DET1, DETCGD_STEP_COR1);
    s.sketch.kind = c.sketch;
    s.sketch.k = c.k;
    s.sketch.q = 0.3;
    s.sketch.p = 0.2;
    s.comm.shared_seed = c.shared;
    s.comm.value_bits = c.vbits;
    s.term.max_iter = K;
    s.f_inf = 0.5;
    Out o = run(p, s);
    ASSERT_EQ(o.status, DETCGD_OK) << detcgd_last_error();
    const int64_t ib = 7;  // ceil(log2 119)
    int64_t want;
    switch (c.sketch) {
      case DETCGD_SKETCH_RANDK: want = K * n * c.k * (c.vbits + (c.shared ? 0 : ib)); break;
      case DETCGD_SKETCH_RAND1: want = K * n * (c.vbits + ib); break;
      case DETCGD_SKETCH_IDENTITY: want = K * n * d * c.vbits; break;
      case DETCGD_SKETCH_IMPORTANCE1: want = K * n * c.vbits; break;
      case DETCGD_SKETCH_BERNQ: want = o.r.coords_sent * c.vbits + K * n; break;  // one flag bit per layer
      default: want = o.r.coords_sent * (c.vbits + ib);
    }
    EXPECT_EQ(o.r.bits_up, want) << detcgd_sketch_name(c.sketch);
    EXPECT_EQ(o.r.bits_down, K * n * d * 64);
    if (c.sketch == DETCGD_SKETCH_BERNQ) EXPECT_EQ(o.r.coords_sent % d, 0);
  }
}

TEST_F(Dist, Corollary1StepsizeMeetsEveryCondition) {
  for (int method : {DETCGD_METHOD_DET1, DETCGD_METHOD_DET2})
    for (int w : {DETCGD_W_IDENTITY, DETCGD_W_DIAG_INV, DETCGD_W_INV_SQRT}) {
      DetcgdSettings s = dist_settings(method, DETCGD_STEP_COR1, w);
      s.dist.epsilon2 = 1e-2;
      Out o = run(p, s);
      ASSERT_EQ(o.status, DETCGD_OK) << detcgd_last_error();
      const double n = 20, K = 200;
      EXPECT_LE(o.r.certificate, 1 + 1e-9);                                   // DLD <= D
      EXPECT_LE(o.r.lambda_d, n / K * (1 + 1e-9));                              // lambda_D <= n/K
      if (o.r.delta_inf > 0)
        EXPECT_LE(o.r.lambda_d, n * 1e-2 / (o.r.det_factor * 4 * o.r.delta_inf) * (1 + 1e-9));
      EXPECT_NEAR(o.r.k_lower_bound, 12 * (o.r.f_initial - o.r.f_inf) * o.r.det_factor / 1e-2,
                  1e-6 * o.r.k_lower_bound);
      EXPECT_LT(o.r.f_final, o.r.f_initial);
    }
}

// fp32 stepsizes keep every condition of Corollary 1 (and of scalar DCGD) exactly, with lambda_D
// recomputed for the rounded D, within float rounding of the double stepsize.
TEST_F(Dist, Fp32StepsizeKeepsEveryCondition) {
  struct Case { int method, stepsize; };
  for (Case c : {Case{DETCGD_METHOD_DET1, DETCGD_STEP_COR1}, Case{DETCGD_METHOD_DET2, DETCGD_STEP_COR1},
                 Case{DETCGD_METHOD_DET1, DETCGD_STEP_DCGD_KR}})
    for (double eps2 : {1e-2, 1e-4}) {
      DetcgdSettings s = dist_settings(c.method, c.stepsize);
      s.dist.epsilon2 = eps2;
      Out o64 = run(p, s);
      s.stepsize.precision = DETCGD_PREC_FP32;
      Out o = run(p, s);
      ASSERT_EQ(o.status, DETCGD_OK) << detcgd_last_error();
      ASSERT_EQ(o64.status, DETCGD_OK);
      const double n = 20, K = 200;
      EXPECT_LE(o.r.certificate, 1.0);
      EXPECT_LE(o.r.lambda_d, n / K);
      if (o.r.delta_inf > 0) EXPECT_LE(o.r.lambda_d, n * eps2 / (o.r.det_factor * 4 * o.r.delta_inf));
      EXPECT_NEAR(o.r.lambda_d, o64.r.lambda_d, 1e-5 * o64.r.lambda_d);
      EXPECT_NEAR(o.r.det_factor, o64.r.det_factor, 1e-5 * o64.r.det_factor);
      EXPECT_NEAR(o.r.f_final, o64.r.f_final, 1e-5 * std::fabs(o64.r.f_final));
    }
}

TEST_F(Dist, LambdaWMatchesAnIndependentComputation) {
  // rand-1 on one layer of m = 119, W = diag^{-1}(Lbar): Var(A) = m diag(A) - A with A = W Lbar W,
  // lambda_W = max_c lambda_max(R_c^T Var R_c) with L_c = R_c R_c^T (Cholesky here, not the square root).
  const int m = 119;
  std::vector<double> Lbar(m * m, 0.0);
  std::vector<std::vector<double>> Lc;
  for (int c = 0; c < 20; ++c) {
    Lc.push_back(dense_smoothness(p->client_host[c], m));
    for (int e = 0; e < m * m; ++e) Lbar[e] += Lc.back()[e] / 20;
  }
  std::vector<double> A(m * m), V(m * m);
  for (int c = 0; c < m; ++c)
    for (int r = 0; r < m; ++r) A[r + c * m] = Lbar[r + c * m] / (Lbar[r + r * m] * Lbar[c + c * m]);
  for (int e = 0; e < m * m; ++e) V[e] = -A[e];
  for (int j = 0; j < m; ++j) V[j + j * m] += m * A[j + j * m];
  double lw = 0;
  for (auto& L : Lc) {  // R^T V R, R lower Cholesky factor of L
    std::vector<double> R(L);
    int info = 0, mm = m;
    dpotrf_("L", &mm, R.data(), &mm, &info);
    ASSERT_EQ(info, 0);
    for (int c = 0; c < m; ++c)
      for (int r = 0; r < c; ++r) R[r + c * m] = 0;
    std::vector<double> T(m * m), M(m * m), Rt(m * m);
    for (int c = 0; c < m; ++c)
      for (int r = 0; r < m; ++r) Rt[r + c * m] = R[c + r * m];
    dc_matmul(V.data(), R.data(), m, T.data());
    dc_matmul(Rt.data(), T.data(), m, M.data());
    double l;
    ASSERT_EQ(dc_lambda_max(M.data(), m, &l), DETCGD_OK);
    lw = std::max(lw, l);
  }
  DetcgdSettings s = dist_settings(DETCGD_METHOD_DET1, DETCGD_STEP_COR1);
  std::string path = temp_path("dist_summary.json");
  snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", path.c_str());
  s.term.max_iter = 1;
  ASSERT_EQ(run(p, s).status, DETCGD_OK);
  std::string j = read_file(path);
  size_t at = j.find("\"lambda_W\": ");
  ASSERT_NE(at, std::string::npos);
  double got = std::atof(j.c_str() + at + 12);
  EXPECT_NEAR(got, lw, 1e-8 * lw);
}

// delta-inf certified: Delta^inf is f^inf (every logistic f_c >= 0, so f_c^inf >= 0 and Delta^inf <= f^inf), no
// f_c^inf is estimated, and the step is no larger than with the estimate (gamma's third bound shrinks).
TEST_F(Dist, CertifiedDeltaInfIsFInfAndGivesNoLargerStep) {
  for (int stepsize : {DETCGD_STEP_COR1, DETCGD_STEP_DCGD_KR}) {
    DetcgdSettings s = dist_settings(DETCGD_METHOD_DET1, stepsize);
    s.term.max_iter = 5;
    Out est = run(p, s);
    s.dist.delta_inf = DETCGD_DELTA_CERTIFIED;
    std::string path = temp_path("certified.json");
    snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", path.c_str());
    Out cert = run(p, s);
    ASSERT_EQ(est.status, DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(cert.status, DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(cert.r.delta_inf, cert.r.f_inf);
    EXPECT_GE(cert.r.delta_inf, est.r.delta_inf);
    EXPECT_GE(cert.r.det_factor, est.r.det_factor * (1 - 1e-12));  // det(D)^(-1/d): a smaller or equal gamma
    const std::string j = read_file(path);
    EXPECT_NE(j.find("\"delta_inf_source\": \"certified"), std::string::npos);
    EXPECT_NE(j.find("\"f_c_inf_mean\": null"), std::string::npos);
  }
}

TEST_F(Dist, DcgdStepsizeIsTheKhaledRichtarikMinimum) {
  DetcgdSettings s = dist_settings(DETCGD_METHOD_DET1, DETCGD_STEP_DCGD_KR);
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 10;
  std::string path = temp_path("kr.json");
  snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", path.c_str());
  Out o = run(p, s);
  ASSERT_EQ(o.status, DETCGD_OK) << detcgd_last_error();
  std::string j = read_file(path);
  auto num = [&](const char* key) { return std::atof(j.c_str() + j.find(key) + strlen(key) + 2); };
  const double gamma = 1.0 / o.r.det_factor;  // D = gamma I
  EXPECT_NEAR(num("\"omega\""), 119.0 / 10 - 1, 1e-12);
  const double g1 = num("\"gamma_bound_1\""), g2 = num("\"gamma_bound_2\""), g3 = num("\"gamma_bound_3\"");
  EXPECT_NEAR(gamma, std::min(g1, std::min(g2, g3)), 1e-12 * gamma);
  EXPECT_LE(o.r.certificate, 1 + 1e-12);  // gamma <= 1/L
  // g2^2 omega L L_max K = n  and  g3 4 L L_max omega Delta = n eps^2
  const double LLmaxOmega = 20.0 / (g2 * g2 * 200);
  if (o.r.delta_inf > 0) EXPECT_NEAR(g3 * 4 * LLmaxOmega * o.r.delta_inf, 20 * 1e-4, 1e-9);
  // the summary names the scalar quantities for what they are (not Corollary 1's lambda_W, lambda_D)
  EXPECT_NEAR(num("\"omega_L_Lmax\""), LLmaxOmega, 1e-9 * LLmaxOmega);
  EXPECT_NEAR(num("\"gamma2_omega_L_Lmax\""), gamma * gamma * LLmaxOmega, 1e-9 * gamma * gamma * LLmaxOmega);
  EXPECT_EQ(j.find("\"lambda_W\""), std::string::npos);
  EXPECT_EQ(o.r.coords_per_iter, 20 * 10);
}

TEST_F(Dist, Theorem3HoldsOnAverageOverSeeds) {
  DetcgdSettings s = dist_settings(DETCGD_METHOD_DET1, DETCGD_STEP_COR1);
  s.dist.epsilon2 = 1e-2;
  s.term.max_iter = 100;
  s.output.trace_every = 1;
  double mean_min = 0, bound = 0;
  for (int seed = 0; seed < 5; ++seed) {
    s.seed = 500 + seed;
    std::string path = temp_path("t3.csv");
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", path.c_str());
    Out o = run(p, s);
    ASSERT_EQ(o.status, DETCGD_OK);
    bound = o.r.theorem3_bound;
    std::stringstream ss(read_file(path));
    std::string line;
    std::getline(ss, line);
    double mn = INFINITY;
    while (std::getline(ss, line)) {
      std::stringstream ls(line);
      std::string cell;
      for (int col = 0; col < 4; ++col) std::getline(ls, cell, ',');
      mn = std::min(mn, std::atof(cell.c_str()));  // ||grad f(x^k)||^2_{D/det(D)^{1/d}}
    }
    mean_min += mn / 5;
  }
  EXPECT_GT(bound, 0);
  EXPECT_LE(mean_min, bound);
}

TEST_F(Dist, Algorithms1And2CoincideForDiagonalStepAndSketch) {
  Out a = run(p, dist_settings(DETCGD_METHOD_DET1, DETCGD_STEP_COR1));
  Out b = run(p, dist_settings(DETCGD_METHOD_DET2, DETCGD_STEP_COR1));
  ASSERT_EQ(a.status, DETCGD_OK);
  ASSERT_EQ(b.status, DETCGD_OK);
  EXPECT_NEAR(a.r.g_kd, b.r.g_kd, 1e-8 * a.r.g_kd);  // the same method, up to rounding over 200 iterations
  // W Lbar W's variance and W times Lbar's variance are equal up to rounding, so lambda_W and D agree to it
  EXPECT_NEAR(a.r.det_factor, b.r.det_factor, 1e-12 * a.r.det_factor);
}

TEST_F(Dist, BadClientCountsAndSettingsGiveClearErrors) {
  EXPECT_EQ(make_clients(1606), nullptr);
  EXPECT_NE(std::string(detcgd_last_error()).find("1606 clients for 1605 samples"), std::string::npos);
  EXPECT_EQ(make_clients(-2), nullptr);
  EXPECT_NE(std::string(detcgd_last_error()).find("clients"), std::string::npos);
  DetcgdProblem* single = make_quad("4");
  DetcgdSettings s = dist_settings(DETCGD_METHOD_DET1, DETCGD_STEP_COR1);
  EXPECT_EQ(run(single, s).status, DETCGD_ERR_ARG);  // n = 0: cor1 needs clients
  EXPECT_NE(std::string(detcgd_last_error()).find("clients >= 1"), std::string::npos);
  detcgd_problem_destroy(&single);
  s.stepsize.kind = DETCGD_STEP_THM2;
  EXPECT_EQ(run(p, s).status, DETCGD_ERR_ARG);
  s.stepsize.kind = DETCGD_STEP_COR1;
  s.method = DETCGD_METHOD_GD;
  EXPECT_EQ(run(p, s).status, DETCGD_ERR_ARG);
  s.method = DETCGD_METHOD_DET1;
  s.dist.mode = DETCGD_DIST_MPI;
  if (!detcgd_mpi_available()) EXPECT_EQ(run(p, s).status, DETCGD_ERR_ARG);
}

TEST_F(Dist, ResumedRunEqualsUninterruptedRun) {
  for (int gkd : {DETCGD_GKD_EVERY, DETCGD_GKD_TRACE}) {
    SCOPED_TRACE(detcgd_gkd_points_name(gkd));
    DetcgdSettings s = dist_settings(DETCGD_METHOD_DET2, DETCGD_STEP_COR1);
    s.sketch.kind = DETCGD_SKETCH_RANDK;
    s.sketch.k = 4;
    s.f_inf = 0.4;
    s.output.trace_every = 7;
    s.output.gkd_points = gkd;
    Resumed o = run_and_resume(p, s, "d", 50, 130);  // "crash" at 130; last checkpoint at 100
    const Out &a = o.a, &b = o.b;
    const std::string& full = o.full;
    ASSERT_EQ(a.status, DETCGD_OK);
    ASSERT_EQ(b.status, DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(trace_without_time(full), trace_without_time(o.part));
    EXPECT_EQ(a.r.g_kd, b.r.g_kd);
    EXPECT_EQ(a.r.bits_up, b.r.bits_up);
    EXPECT_EQ(a.r.f_final, b.r.f_final);
    if (gkd == DETCGD_GKD_TRACE) {  // G over the rows: the mean of their ||grad f||^2_D
      auto rows = trace_numbers(full);
      double sum = 0;
      for (const auto& r : rows) sum += r[3];
      EXPECT_NEAR(rows.back()[4], sum / (double)rows.size(), 1e-12 * sum);
    }
    // a checkpoint of another run is refused, naming the option
    s.seed += 1;
    EXPECT_EQ(run(p, s).status, DETCGD_ERR_ARG);
    EXPECT_NE(std::string(detcgd_last_error()).find("was written with seed = 42; this run has seed = 43"), std::string::npos)
        << detcgd_last_error();
  }
}

// Simulated clients on one rank: the iterations between trace rows as recorded launches give the bits of the
// ops called one by one (Algorithms 1 and 2).
TEST_F(Dist, RecordedIterationsGiveTheBitsOfOpByOpRuns) {
  for (int method : {DETCGD_METHOD_DET1, DETCGD_METHOD_DET2}) {
    DetcgdSettings s = dist_settings(method, DETCGD_STEP_COR1);
    s.f_inf = 0.4;
    s.term.max_iter = 120;
    s.output.trace_every = 40;
    std::string a = temp_path("dreplayed.csv"), b = temp_path("ddirect.csv");
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", a.c_str());
    Out replayed = run(p, s);
    s.graphs = 0;
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", b.c_str());
    Out direct = run(p, s);
    ASSERT_EQ(replayed.status, DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(direct.status, DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(replayed.r.replay_launches, 3 * (1 + 7) - 1);  // runs 1-39, 41-79: 32 + 7 x 1; 81-118: 32 + 6 x 1
    EXPECT_EQ(direct.r.replay_launches, 0);
    EXPECT_EQ(trace_without_time(a), trace_without_time(b));
    EXPECT_EQ(replayed.r.bits_up, direct.r.bits_up);
    EXPECT_EQ(replayed.r.f_final, direct.r.f_final);
  }
}

// Resuming accepts only the run that wrote the checkpoint: any option the iterates depend on, other data
// under the same file name and a damaged file are refused with a message naming the key or the damage;
// options that do not change the iterates (iters, outputs) may differ.
TEST(Resume, AnotherRunOtherDataOrADamagedFileIsRefused) {
  const std::string data = temp_path("resume_rows.svm"), ck = temp_path("refuse_ck.bin");
  write_file(data, "1 1:0.5 3:1\n-1 2:1 4:-0.5\n1 1:1 2:0.25\n-1 3:0.75 4:1\n");
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", data.c_str());
  snprintf(ps.layers, sizeof ps.layers, "2,2");
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET1;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.stepsize.kind = DETCGD_STEP_THM2;
  s.term.max_iter = 40;
  s.f_inf = 0.1;
  snprintf(s.output.checkpoint_path, sizeof s.output.checkpoint_path, "%s", ck.c_str());
  s.output.checkpoint_every = 20;
  ASSERT_EQ(run(p, s).status, DETCGD_OK) << detcgd_last_error();
  DetcgdSettings r = s;
  r.output.checkpoint_path[0] = 0;
  snprintf(r.output.resume_path, sizeof r.output.resume_path, "%s", ck.c_str());
  r.term.max_iter = 60;  // longer: allowed
  EXPECT_EQ(run(p, r).status, DETCGD_OK) << detcgd_last_error();
  struct Change { const char* key; const char* value; const char* says; };
  const Change changes[] = {{"k", "2", "with k = 1; this run has k = 2"},
                            {"weight", "inv", "with weight = diag-inv; this run has weight = inv"},
                            {"stepsize-scale", "0.5", "with stepsize-scale = 1; this run has stepsize-scale = 0.5"},
                            {"sketch", "bernoulli", "with sketch = rand-k; this run has sketch = bernoulli"},
                            {"value-bits", "64", "with value-bits = 32; this run has value-bits = 64"}};
  for (const Change& c : changes) {
    DetcgdSettings t = r;
    ASSERT_EQ(detcgd_settings_set(&t, c.key, c.value), DETCGD_OK);
    EXPECT_EQ(run(p, t).status, DETCGD_ERR_ARG) << c.key;
    EXPECT_NE(std::string(detcgd_last_error()).find(c.says), std::string::npos) << detcgd_last_error();
  }
  {  // lambda is the problem's
    DetcgdProblemSpec ps2 = ps;
    ps2.lambda = 0.25;
    DetcgdProblem* p2 = nullptr;
    ASSERT_EQ(detcgd_problem_create(&p2, &ps2), DETCGD_OK);
    EXPECT_EQ(run(p2, r).status, DETCGD_ERR_ARG);
    EXPECT_NE(std::string(detcgd_last_error()).find("with lambda = 0.29999999999999999; this run has lambda = 0.25"),
              std::string::npos) << detcgd_last_error();
    detcgd_problem_destroy(&p2);
  }
  {  // the same file name and size, other values
    write_file(data, "1 1:0.5 3:1\n-1 2:1 4:-0.5\n1 1:1 2:0.75\n-1 3:0.75 4:1\n");
    DetcgdProblem* p2 = nullptr;
    ASSERT_EQ(detcgd_problem_create(&p2, &ps), DETCGD_OK);
    EXPECT_EQ(run(p2, r).status, DETCGD_ERR_ARG);
    EXPECT_NE(std::string(detcgd_last_error()).find("written for other data"), std::string::npos) << detcgd_last_error();
    detcgd_problem_destroy(&p2);
  }
  const std::string good = read_file(ck);
  for (size_t at : {size_t(12), good.size() / 2, good.size() - 20, good.size() - 1}) {  // one flipped bit
    std::string bad = good;
    bad[at] ^= 4;
    write_file(ck, bad);
    EXPECT_EQ(run(p, r).status, DETCGD_ERR_PARSE) << at;
    EXPECT_NE(std::string(detcgd_last_error()).find("is damaged (CRC-32"), std::string::npos) << detcgd_last_error();
  }
  write_file(ck, good.substr(0, good.size() - 9));
  EXPECT_EQ(run(p, r).status, DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("is damaged"), std::string::npos) << detcgd_last_error();
  write_file(ck, "DCGDCKP3" + good.substr(8));
  EXPECT_EQ(run(p, r).status, DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("another format (3)"), std::string::npos) << detcgd_last_error();
  write_file(ck, good);
  EXPECT_EQ(run(p, r).status, DETCGD_OK) << detcgd_last_error();
  detcgd_problem_destroy(&p);
}

// Corollary 1's and DCGD's gamma depend on K (gamma <= sqrt(n / (K lambda_W))): a resume with other iters would
// step with another D, so it is refused naming iters; with the same iters it resumes.
TEST(Resume, WithAStepsizeThatDependsOnKItersMustStay) {
  DetcgdProblem* p = make_clients(4);
  if (!p) GTEST_SKIP() << "a1a not present";
  const std::string ck = temp_path("cor1_ck.bin");
  for (int stepsize : {DETCGD_STEP_COR1, DETCGD_STEP_DCGD_KR}) {
    DetcgdSettings s = dist_settings(DETCGD_METHOD_DET1, stepsize);
    s.f_inf_iters = 20;
    s.term.max_iter = 40;
    snprintf(s.output.checkpoint_path, sizeof s.output.checkpoint_path, "%s", ck.c_str());
    s.output.checkpoint_every = 20;
    ASSERT_EQ(run(p, s).status, DETCGD_OK) << detcgd_last_error();
    DetcgdSettings r = s;
    r.output.checkpoint_path[0] = 0;
    snprintf(r.output.resume_path, sizeof r.output.resume_path, "%s", ck.c_str());
    r.term.max_iter = 60;
    EXPECT_EQ(run(p, r).status, DETCGD_ERR_ARG);
    EXPECT_NE(std::string(detcgd_last_error()).find("with iters = 40; this run has iters = 60 (with this stepsize K sets D"),
              std::string::npos) << detcgd_last_error();
    r.term.max_iter = 40;
    EXPECT_EQ(run(p, r).status, DETCGD_OK) << detcgd_last_error();
  }
  detcgd_problem_destroy(&p);
}

// det-CGD1 (thm2), and det-CGD2 with sparse steps (q refreshed at checkpoints as a resumed run starts);
// checkpoints at 100 and 200 fall between trace rows.
TEST(Resume, SingleNodeResumedRunEqualsUninterruptedRun) {
  DetcgdProblem* p = make_quad("5,7", 0.1);
  for (int gkd : {DETCGD_GKD_EVERY, DETCGD_GKD_TRACE})
  for (int method : {DETCGD_METHOD_DET1, DETCGD_METHOD_DET2}) {
    SCOPED_TRACE(std::string(detcgd_gkd_points_name(gkd)) + " " + detcgd_method_name(method));
    DetcgdSettings s = quiet_settings();
    s.output.gkd_points = gkd;
    s.method = method;
    s.sketch.kind = DETCGD_SKETCH_RANDK;
    s.sketch.k = 2;
    s.stepsize.kind = method == DETCGD_METHOD_DET1 ? DETCGD_STEP_THM2 : DETCGD_STEP_DET2_OPT;
    s.term.max_iter = 300;
    s.output.trace_every = 9;
    Resumed o = run_and_resume(p, s, "s", 100, 250);
    ASSERT_EQ(o.b.status, DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(trace_without_time(o.full), trace_without_time(o.part));
    EXPECT_EQ(o.a.r.g_kd, o.b.r.g_kd);
  }
  detcgd_problem_destroy(&p);
}
