// Solver runs: det-CGD reduces to GD, Theorem 1 holds on planted problems,
// traces are deterministic, and the stopping rules work.  Parameterised over
// the backends present.
#include <algorithm>
#include <cmath>
#include "test_util.h"

namespace {

struct RunOutcome {
  DetcgdResult r{};
  std::vector<double> x;
  int status = DETCGD_OK;
};

RunOutcome run_solver(DetcgdProblem* p, DetcgdSettings s) {
  RunOutcome out;
  DetcgdSolver* solver = nullptr;
  out.status = detcgd_create(&solver, p, &s);
  if (out.status == DETCGD_OK) out.status = detcgd_run(solver);
  if (out.status == DETCGD_OK) {
    detcgd_get_result(solver, &out.r);
    DetcgdProblemInfo info;
    detcgd_problem_info(p, &info);
    out.x.resize(info.dim);
    detcgd_get_x(solver, out.x.data());
  }
  detcgd_destroy(&solver);
  return out;
}

int count_lines(const std::string& path) {
  std::string t = read_file(path);
  return (int)std::count(t.begin(), t.end(), '\n');
}

}  // namespace

class Solver : public testing::TestWithParam<int> {
 protected:
  void SetUp() override { SKIP_WITHOUT_DEVICE(GetParam()); }
  DetcgdSettings settings() { return quiet_settings(GetParam()); }
};

TEST_P(Solver, DetCgdWithIdentityCompressionAndScalarStepIsExactlyGd) {
  DetcgdProblem* p = make_quad("4,7,5", 0.1);
  DetcgdSettings s = settings();
  s.term.max_iter = 200;
  s.method = DETCGD_METHOD_GD;
  s.stepsize.kind = DETCGD_STEP_GD;
  RunOutcome gd = run_solver(p, s);
  ASSERT_EQ(gd.status, DETCGD_OK) << detcgd_last_error();
  // rand-k with k = d_i keeps every coordinate with scale 1: S = I on the kept-columns / kept-rows paths
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k_ratio = 1.0;
  for (int m : {DETCGD_METHOD_DET1, DETCGD_METHOD_DET2}) {
    s.method = m;
    RunOutcome det = run_solver(p, s);
    ASSERT_EQ(det.status, DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(det.x, gd.x) << detcgd_method_name(m);
    EXPECT_EQ(det.r.g_kd, gd.r.g_kd);
    EXPECT_EQ(det.r.f_final, gd.r.f_final);
  }
  detcgd_problem_destroy(&p);
}

TEST_P(Solver, TheoremOneHoldsOnAverageOverSeeds) {
  // f >= 0 for quad-nc, so f^inf = 0 is a certified lower bound and the bound is rigorous.
  DetcgdProblem* p = make_quad("6,10,4", 0.2, 0.3, 3);
  struct Case { int method, sketch, stepsize, weight, k; double q; };
  const Case cases[] = {
      {DETCGD_METHOD_DET1, DETCGD_SKETCH_RAND1, DETCGD_STEP_THM2, DETCGD_W_DIAG_INV, 1, 0},
      {DETCGD_METHOD_DET1, DETCGD_SKETCH_RANDK, DETCGD_STEP_THM2, DETCGD_W_INV_SQRT, 3, 0},
      {DETCGD_METHOD_DET2, DETCGD_SKETCH_RANDK, DETCGD_STEP_DET2_OPT, 0, 2, 0},
      {DETCGD_METHOD_DET2, DETCGD_SKETCH_BERNQ, DETCGD_STEP_DET2_OPT, 0, 1, 0.4},
      {DETCGD_METHOD_DET1, DETCGD_SKETCH_IMPORTANCE1, DETCGD_STEP_CGD_MAT, 0, 1, 0},
  };
  for (const Case& c : cases) {
    DetcgdSettings s = settings();
    s.method = c.method;
    s.sketch.kind = c.sketch;
    s.sketch.k = c.k;
    s.sketch.q = c.q > 0 ? c.q : 0.5;
    s.stepsize.kind = c.stepsize;
    s.stepsize.weight = c.weight;
    s.term.max_iter = 300;
    s.x0 = 20.0;
    double mean_g = 0, bound = 0;
    const int seeds = 8;
    for (int seed = 0; seed < seeds; ++seed) {
      s.seed = 1000 + seed;
      RunOutcome r = run_solver(p, s);
      ASSERT_EQ(r.status, DETCGD_OK) << detcgd_last_error();
      EXPECT_LE(r.r.certificate, 1 + 1e-9);
      mean_g += r.r.g_kd / seeds;
      bound = r.r.theorem1_bound;
      EXPECT_LT(r.r.f_final, r.r.f_initial);
    }
    EXPECT_LE(mean_g, bound) << detcgd_method_name(c.method) << " " << detcgd_sketch_name(c.sketch);
    EXPECT_GT(mean_g, 0.0);
  }
  detcgd_problem_destroy(&p);
}

TEST_P(Solver, GdConvergesToAStationaryPoint) {
  DetcgdProblem* p = make_quad("8,8", 0.05, 0.5);
  DetcgdSettings s = settings();
  s.method = DETCGD_METHOD_GD;
  s.stepsize.kind = DETCGD_STEP_GD;
  s.term.max_iter = 20000;
  RunOutcome r = run_solver(p, s);
  ASSERT_EQ(r.status, DETCGD_OK);
  EXPECT_LT(r.r.grad_norm2_final, 1e-12);
  detcgd_problem_destroy(&p);
}

TEST_P(Solver, SameSeedSameTraceOtherSeedOtherTrace) {
  DetcgdProblem* p = make_quad("5,9", 0.1);
  DetcgdSettings s = settings();
  s.method = DETCGD_METHOD_DET1;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 2;
  s.stepsize.kind = DETCGD_STEP_THM2;
  s.term.max_iter = 300;
  s.output.trace_every = 7;
  std::string a = temp_path("a.csv"), b = temp_path("b.csv"), c = temp_path("c.csv");
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", a.c_str());
  ASSERT_EQ(run_solver(p, s).status, DETCGD_OK);
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", b.c_str());
  ASSERT_EQ(run_solver(p, s).status, DETCGD_OK);
  s.seed += 1;
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", c.c_str());
  ASSERT_EQ(run_solver(p, s).status, DETCGD_OK);
  EXPECT_EQ(trace_without_time(a), trace_without_time(b));
  EXPECT_NE(trace_without_time(a), trace_without_time(c));
  EXPECT_EQ(count_lines(a), 1 + 43 + 1);  // header, k = 0, 7, ..., 294, and k = 299
  detcgd_problem_destroy(&p);
}

TEST_P(Solver, DivergenceStopsWithNonFiniteAndKeepsTheTrace) {
  DetcgdProblem* p = make_quad("4,4", 0.1);
  DetcgdSettings s = settings();
  s.method = DETCGD_METHOD_GD;
  s.stepsize.kind = DETCGD_STEP_GD;
  s.stepsize.scale = 40.0;
  s.stepsize.force = 1;
  s.term.max_iter = 100000;
  s.output.trace_every = 5;
  std::string path = temp_path("nan.csv");
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", path.c_str());
  RunOutcome r = run_solver(p, s);
  ASSERT_EQ(r.status, DETCGD_OK);
  EXPECT_EQ(r.r.termination, DETCGD_TERM_NONFINITE);
  EXPECT_LT(r.r.iterations, 100000);
  EXPECT_GT(count_lines(path), 3);
  std::string text = read_file(path);
  EXPECT_TRUE(text.find("nan") != std::string::npos || text.find("inf") != std::string::npos);
  detcgd_problem_destroy(&p);
}

TEST_P(Solver, TargetAndTimeLimitStopTheRun) {
  DetcgdProblem* p = make_quad("6", 0.1);
  DetcgdSettings s = settings();
  s.term.max_iter = 1000000;
  s.term.target_g = 1e9;  // met at the first trace point
  RunOutcome r = run_solver(p, s);
  ASSERT_EQ(r.status, DETCGD_OK);
  EXPECT_EQ(r.r.termination, DETCGD_TERM_TARGET_G);
  EXPECT_EQ(r.r.iterations, 1);
  s.term.target_g = 0;
  s.term.time_limit = 0.05;
  r = run_solver(p, s);
  ASSERT_EQ(r.status, DETCGD_OK);
  EXPECT_EQ(r.r.termination, DETCGD_TERM_TIME);
  EXPECT_GT(r.r.iterations, 0);
  EXPECT_LT(r.r.iterations, 1000000);
  detcgd_problem_destroy(&p);
}

TEST_P(Solver, SummaryJsonCarriesTheoryAndResult) {
  DetcgdProblem* p = make_quad("3,3", 0.1);
  DetcgdSettings s = settings();
  s.term.max_iter = 50;
  s.f_inf = NAN;  // estimate by GD
  s.f_inf_iters = 500;
  std::string path = temp_path("summary.json");
  snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", path.c_str());
  RunOutcome r = run_solver(p, s);
  ASSERT_EQ(r.status, DETCGD_OK);
  std::string j = read_file(path);
  for (const char* key : {"\"git_commit\"", "\"certificate\"", "\"det_factor\"", "\"theorem1_bound\"", "\"G_KD\"",
                          "\"f_inf_source\": \"GD estimate\"", "\"seed\": 42", "\"backend\"", "\"iterate\"",
                          "\"device_bytes_peak\"", "\"host_bytes_peak\"", "\"final_iterate\": "})
    EXPECT_NE(j.find(key), std::string::npos) << key;
  EXPECT_GT(r.r.f_initial, r.r.f_inf);
  EXPECT_GE(r.r.f_final, r.r.f_inf - 1e-9);  // GD from the same x0 found f^inf
  detcgd_problem_destroy(&p);
}

// The peaks cover what the run must hold: A and the dense D (8 bytes an entry each) on the device for CUDA,
// on the host (the process's peak) for the CPU, which holds no device memory.
TEST_P(Solver, ReportsItsMemoryPeaks) {
  DetcgdProblem* p = make_quad("1000x64", 0.1);
  DetcgdSettings s = settings();
  s.method = DETCGD_METHOD_DET2;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 8;
  s.stepsize.kind = DETCGD_STEP_DET2_OPT;
  s.term.max_iter = 5;
  RunOutcome r = run_solver(p, s);
  ASSERT_EQ(r.status, DETCGD_OK) << detcgd_last_error();
  const int64_t a_bytes = 1000LL * 64 * 64 * 8;
  EXPECT_GE(r.r.host_bytes_peak, a_bytes);
  if (GetParam() == DETCGD_BACKEND_CPU) EXPECT_EQ(r.r.device_bytes_peak, 0);
  else EXPECT_GE(r.r.device_bytes_peak, 2 * a_bytes);
  detcgd_problem_destroy(&p);
}

TEST_P(Solver, ProfileTimesEveryPhaseWithinTheLoop) {
  DetcgdProblem* p = make_quad("64,64,64", 0.1);
  DetcgdSettings s = settings();
  s.method = DETCGD_METHOD_DET2;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 8;
  s.term.max_iter = 200;
  RunOutcome plain = run_solver(p, s);
  ASSERT_EQ(plain.status, DETCGD_OK);
  EXPECT_EQ(plain.r.time_grad, 0.0);  // no timing without profile
  s.output.profile = 1;
  RunOutcome r = run_solver(p, s);
  ASSERT_EQ(r.status, DETCGD_OK);
  EXPECT_GT(r.r.time_grad, 0.0);
  EXPECT_GT(r.r.time_metrics, 0.0);
  EXPECT_GT(r.r.time_sketch, 0.0);
  EXPECT_GT(r.r.time_apply, 0.0);
  EXPECT_EQ(r.r.time_comm, 0.0);
  double phases = r.r.time_grad + r.r.time_metrics + r.r.time_sketch + r.r.time_apply + r.r.time_trace;
  EXPECT_LE(phases, r.r.time_iterate);
  EXPECT_EQ(r.x, plain.x);  // profiling does not change the run
  detcgd_problem_destroy(&p);
}

// fp32 stepsize storage: the run follows the double run to float rounding and says so in the summary.
TEST_P(Solver, Fp32StepsizeRunTracksTheFp64Run) {
  DetcgdProblem* p = make_quad("16,64,64", 0.1, 0.3);
  DetcgdSettings s = settings();
  s.method = DETCGD_METHOD_DET2;
  s.sketch.kind = DETCGD_SKETCH_BERNQ;
  s.sketch.q = 0.5;
  s.term.max_iter = 300;
  RunOutcome r64 = run_solver(p, s);
  s.stepsize.precision = DETCGD_PREC_FP32;
  std::string path = temp_path("summary32.json");
  snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", path.c_str());
  RunOutcome r32 = run_solver(p, s);
  ASSERT_EQ(r64.status, DETCGD_OK);
  ASSERT_EQ(r32.status, DETCGD_OK) << detcgd_last_error();
  EXPECT_NE(r32.x, r64.x);
  for (size_t j = 0; j < r64.x.size(); ++j) ASSERT_NEAR(r32.x[j], r64.x[j], 1e-5 * (1 + std::fabs(r64.x[j]))) << j;
  EXPECT_NEAR(r32.r.g_kd, r64.r.g_kd, 1e-5 * r64.r.g_kd);
  EXPECT_LE(r32.r.certificate, 1.0);
  EXPECT_NE(read_file(path).find("\"stepsize-precision\": \"fp32\""), std::string::npos);
  detcgd_problem_destroy(&p);
}

// gkd = trace: G_KD at each row is the mean of grad_norm2_D over the rows so far (the last row off the
// grid included), every other column is that of the gkd = every run, and the summary says which.
TEST_P(Solver, GkdOverTracePointsAveragesTheRowsAndLeavesTheIteratesAlone) {
  DetcgdProblem* p = make_quad("6x16,9", 0.1, 0.3);
  DetcgdSettings s = settings();
  s.method = DETCGD_METHOD_DET2;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 3;
  s.term.max_iter = 52;
  s.output.trace_every = 7;
  const std::string every = temp_path("gkd_every.csv"), trace = temp_path("gkd_trace.csv"), js = temp_path("gkd.json");
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", every.c_str());
  RunOutcome a = run_solver(p, s);
  s.output.gkd_points = DETCGD_GKD_TRACE;
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", trace.c_str());
  snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", js.c_str());
  RunOutcome b = run_solver(p, s);
  ASSERT_EQ(a.status, DETCGD_OK);
  ASSERT_EQ(b.status, DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(a.x, b.x);
  auto ra = trace_numbers(every), rb = trace_numbers(trace);
  ASSERT_EQ(rb.size(), 9u);  // 0, 7, ..., 49 and 51
  ASSERT_EQ(ra.size(), rb.size());
  double sum = 0;
  for (size_t i = 0; i < rb.size(); ++i) {
    for (int c : {0, 1, 2, 3, 5, 6, 7}) EXPECT_EQ(ra[i][c], rb[i][c]) << "row " << i << " column " << c;
    sum += rb[i][3];
    EXPECT_NEAR(rb[i][4], sum / (double)(i + 1), 1e-12 * sum) << "row " << i;
  }
  EXPECT_NE(ra.back()[4], rb.back()[4]);
  EXPECT_NEAR(b.r.g_kd, rb.back()[4], 1e-12 * b.r.g_kd);
  EXPECT_NE(read_file(js).find("\"gkd\": \"trace\""), std::string::npos);
  detcgd_problem_destroy(&p);
}

// det-CGD2 on quad-nc with sparse steps (the gradient from q += A Delta x) follows the full-gradient run to
// rounding for rand-k and Bern-q, the summary says which ran, and a sketch keeping more than half the
// coordinates takes the full gradient (bit-equal to sparse-steps 0).
TEST_P(Solver, SparseStepsFollowTheFullGradientRun) {
  DetcgdProblem* p = make_quad("6x16,9", 0.1, 0.3);
  for (int sketch : {DETCGD_SKETCH_RANDK, DETCGD_SKETCH_BERNQ}) {
    DetcgdSettings s = settings();
    s.method = DETCGD_METHOD_DET2;
    s.sketch.kind = sketch;
    s.sketch.k = 3;
    s.sketch.q = 0.3;
    s.term.max_iter = 400;
    s.output.trace_every = 50;
    const std::string full = temp_path("full_grad.csv"), sparse = temp_path("sparse_grad.csv"), js = temp_path("sp.json");
    s.sparse_steps = 0;
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", full.c_str());
    RunOutcome a = run_solver(p, s);
    s.sparse_steps = 1;
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", sparse.c_str());
    snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", js.c_str());
    RunOutcome b = run_solver(p, s);
    ASSERT_EQ(a.status, DETCGD_OK);
    ASSERT_EQ(b.status, DETCGD_OK) << detcgd_last_error();
    EXPECT_NE(read_file(js).find("\"sparse_steps\": 1"), std::string::npos);
    EXPECT_NE(a.x, b.x);  // other rounding
    for (size_t j = 0; j < a.x.size(); ++j) ASSERT_NEAR(b.x[j], a.x[j], 1e-12 * (1 + std::fabs(a.x[j]))) << j;
    auto ra = trace_numbers(full), rb = trace_numbers(sparse);
    ASSERT_EQ(ra.size(), rb.size());
    for (int c : {1, 2, 3, 4}) {  // relative, or against the column's first value near convergence
      const double scale = std::fabs(ra[0][c]);
      for (size_t i = 0; i < ra.size(); ++i)
        EXPECT_NEAR(rb[i][c], ra[i][c], 1e-10 * std::fabs(ra[i][c]) + 1e-14 * scale) << i << " " << c;
    }
    EXPECT_EQ(b.r.bits_up, a.r.bits_up);
  }
  DetcgdSettings s = settings();  // k = 9 of 16: more than half, full gradients
  s.method = DETCGD_METHOD_DET2;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k_ratio = 0.56;
  s.term.max_iter = 100;
  const std::string js = temp_path("sp0.json");
  snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", js.c_str());
  RunOutcome on = run_solver(p, s);
  s.sparse_steps = 0;
  RunOutcome off = run_solver(p, s);
  ASSERT_EQ(on.status, DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(on.x, off.x);
  EXPECT_NE(read_file(js).find("\"sparse_steps\": 0"), std::string::npos);
  detcgd_problem_destroy(&p);
}

// The iterations between trace rows, launched as recorded runs of 32 and of 1 (CUDA graphs on the GPU), give the
// bits of the ops called one by one; the runs are cut at trace rows, checkpoints and the last iteration.
TEST_P(Solver, RecordedIterationsGiveTheBitsOfOpByOpRuns) {
  DetcgdProblem* p = make_quad("5,40,64", 0.1, 0.3);
  for (int method : {DETCGD_METHOD_DET1, DETCGD_METHOD_DET2}) {
    DetcgdSettings s = settings();
    s.method = method;
    s.sketch.kind = method == DETCGD_METHOD_DET1 ? DETCGD_SKETCH_RANDK : DETCGD_SKETCH_BERNQ;
    s.sketch.k = 3;
    s.stepsize.kind = method == DETCGD_METHOD_DET1 ? DETCGD_STEP_THM2 : DETCGD_STEP_DET2_OPT;
    s.term.max_iter = 200;
    s.output.trace_every = 50;
    s.output.checkpoint_every = 64;
    std::string a = temp_path("replayed.csv"), b = temp_path("direct.csv"), ck = temp_path("replay-ck.bin");
    snprintf(s.output.checkpoint_path, sizeof s.output.checkpoint_path, "%s", ck.c_str());
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", a.c_str());
    RunOutcome replayed = run_solver(p, s);
    s.graphs = 0;
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", b.c_str());
    RunOutcome direct = run_solver(p, s);
    ASSERT_EQ(replayed.status, DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(direct.status, DETCGD_OK) << detcgd_last_error();
    // runs 1-49, 51-63, 64-99, 101-127, 128-149, 151-191, 192-198: 18 + 13 + 5 + 27 + 22 + 10 + 7 launches
    EXPECT_EQ(replayed.r.replay_launches, 102);
    EXPECT_EQ(direct.r.replay_launches, 0);
    EXPECT_EQ(trace_without_time(a), trace_without_time(b));
    EXPECT_EQ(count_lines(a), 1 + 5);  // header, k = 0, 50, 100, 150, 199
    EXPECT_EQ(replayed.x, direct.x);
    EXPECT_EQ(replayed.r.bits_up, direct.r.bits_up);
  }
  detcgd_problem_destroy(&p);
}

INSTANTIATE_TEST_SUITE_P(Backends, Solver, testing::ValuesIn(available_backends()), backend_name);

TEST(LogregNc, GradientMatchesFiniteDifferencesAndSmoothnessBoundHolds) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_TEST_DATA "/quirks.svm");
  ps.nlayers = 2;
  ps.lambda = 0.3;
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  DetcgdProblemInfo info;
  detcgd_problem_info(p, &info);
  EXPECT_EQ(info.dim, 4);
  EXPECT_EQ(info.nsamples, 5);
  EXPECT_GE(info.block_bound_c, 1.0);
  EXPECT_LE(info.block_bound_c, 2.0 + 1e-12);  // c <= l
  std::vector<double> x = {0.3, -0.2, 0.5, 1.1}, g(4), xp = x;
  double f, fp, fm;
  detcgd_problem_eval(p, x.data(), &f, g.data());
  for (int j = 0; j < 4; ++j) {
    const double h = 1e-6;
    xp = x; xp[j] += h; detcgd_problem_eval(p, xp.data(), &fp, nullptr);
    xp = x; xp[j] -= h; detcgd_problem_eval(p, xp.data(), &fm, nullptr);
    EXPECT_NEAR(g[j], (fp - fm) / (2 * h), 1e-8);
  }
  detcgd_problem_destroy(&p);
}

// No output overwrites an input or another output: the message names both.
TEST(Outputs, AnOutputOverAnInputOrAnotherOutputIsRefused) {
  const std::string data = temp_path("outputs_rows.svm"), link = temp_path("outputs_link.svm");
  write_file(data, "1 1:0.5 2:1\n-1 1:1 2:-0.5\n1 2:0.25\n");
  std::remove(link.c_str());
  ASSERT_EQ(symlink(data.c_str(), link.c_str()), 0);
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", data.c_str());
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  struct Case { const char *trace, *summary, *says; };
  const std::string t = temp_path("outputs_t.csv");
  const Case cases[] = {{data.c_str(), "", "trace: "}, {link.c_str(), "", "is the data file"},
                        {t.c_str(), t.c_str(), "summary: " }, {"", data.c_str(), "summary: "}};
  for (const Case& c : cases) {
    DetcgdSettings s = quiet_settings();
    s.term.max_iter = 3;
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", c.trace);
    snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", c.summary);
    DetcgdSolver* solver = nullptr;
    EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_ERR_ARG) << c.trace << " " << c.summary;
    EXPECT_NE(std::string(detcgd_last_error()).find(c.says), std::string::npos) << detcgd_last_error();
    detcgd_destroy(&solver);
  }
  EXPECT_EQ(read_file(data), "1 1:0.5 2:1\n-1 1:1 2:-0.5\n1 2:0.25\n");  // untouched
  detcgd_problem_destroy(&p);
}

// A stop request (what the CLI's SIGINT / SIGTERM handler makes) ends a run after its current iteration with
// termination "interrupted" and stays until cleared.
TEST(Interrupt, AStopRequestEndsTheRunAfterAnIteration) {
  DetcgdProblem* p = make_quad("4,4", 0.1);
  DetcgdSettings s = quiet_settings();
  s.term.max_iter = 1000;
  detcgd_request_stop();
  for (int run = 0; run < 2; ++run) {  // the request stays: the next run stops at once too
    DetcgdSolver* solver = nullptr;
    ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(detcgd_run(solver), DETCGD_OK) << detcgd_last_error();
    DetcgdResult r;
    detcgd_get_result(solver, &r);
    EXPECT_EQ(r.termination, DETCGD_TERM_INTERRUPTED);
    EXPECT_EQ(r.iterations, 1);
    EXPECT_STREQ(detcgd_termination_str(r.termination), "interrupted");
    detcgd_destroy(&solver);
  }
  detcgd_clear_stop();
  EXPECT_FALSE(detcgd_stop_requested());
  DetcgdSolver* solver = nullptr;
  ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK);
  ASSERT_EQ(detcgd_run(solver), DETCGD_OK);
  DetcgdResult r;
  detcgd_get_result(solver, &r);
  EXPECT_EQ(r.termination, DETCGD_TERM_MAX_ITER);
  EXPECT_EQ(r.iterations, 1000);
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&p);
}

// The summary's config repeats the run: read back (detcgd_summary_config) it sets every option to the same
// bits, and the run it describes gives the same trace; its output files and a fault are not replayed.
TEST(Replay, TheSummaryConfigRepeatsTheRunBitForBit) {
  DetcgdProblemSpec ps;
  DetcgdSettings s = quiet_settings();
  detcgd_problem_spec_default(&ps);
  const std::string t1 = temp_path("replay1.csv"), t2 = temp_path("replay2.csv"), js = temp_path("replay1.json");
  const std::vector<std::pair<const char*, const char*>> opts = {
      {"problem", "quad-nc"}, {"layers", "3x8,5"}, {"lambda", "0.30000000000000004"}, {"spec-min", "0.05"},
      {"method", "det-cgd1"}, {"sketch", "bernoulli"}, {"p", "0.35"}, {"stepsize", "thm2"}, {"weight", "inv-sqrt"},
      {"seed", "18446744073709551615"}, {"iters", "200"}, {"trace-every", "9"}, {"label", "a \"quoted\" label\\"},
      {"f-inf", "nan"}, {"f-inf-iters", "40"}, {"value-bits", "64"}};
  for (const auto& kv : opts) ASSERT_EQ(detcgd_set(&ps, &s, kv.first, kv.second), DETCGD_OK) << kv.first;
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", t1.c_str());
  snprintf(s.output.summary_path, sizeof s.output.summary_path, "%s", js.c_str());
  auto run_it = [](const DetcgdProblemSpec& p_spec, const DetcgdSettings& set) {
    DetcgdProblem* p = nullptr;
    EXPECT_EQ(detcgd_problem_create(&p, &p_spec), DETCGD_OK) << detcgd_last_error();
    DetcgdSolver* solver = nullptr;
    EXPECT_EQ(detcgd_create(&solver, p, &set), DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(detcgd_run(solver), DETCGD_OK) << detcgd_last_error();
    detcgd_destroy(&solver);
    detcgd_problem_destroy(&p);
  };
  run_it(ps, s);
  struct Back { DetcgdProblemSpec p; DetcgdSettings s; std::vector<std::string> keys; } back;
  detcgd_problem_spec_default(&back.p);
  detcgd_settings_default(&back.s);
  auto each = [](void* ctx, const char* key, const char* value) {
    Back* b = (Back*)ctx;
    b->keys.push_back(key);
    return detcgd_set(&b->p, &b->s, key, value);
  };
  ASSERT_EQ(detcgd_summary_config(js.c_str(), each, &back), DETCGD_OK) << detcgd_last_error();
  for (const std::string& k : back.keys) EXPECT_TRUE(k != "trace" && k != "summary" && k != "fault") << k;
  EXPECT_EQ(std::string(back.s.output.trace_path), "");
  snprintf(back.s.output.trace_path, sizeof back.s.output.trace_path, "%s", t2.c_str());
  char a[16384], b[16384];
  DetcgdSettings s_no_outputs = s;
  s_no_outputs.output.summary_path[0] = '\0';
  snprintf(s_no_outputs.output.trace_path, sizeof s_no_outputs.output.trace_path, "%s", t2.c_str());
  detcgd_config_format(&ps, &s_no_outputs, 0, a, sizeof a);
  detcgd_config_format(&back.p, &back.s, 0, b, sizeof b);
  EXPECT_STREQ(a, b);
  run_it(back.p, back.s);
  EXPECT_EQ(trace_without_time(t1), trace_without_time(t2));
  // a damaged summary is named with the byte
  write_file(js, "{\"config\": {\"lambda\": 0.1,}");
  EXPECT_EQ(detcgd_summary_config(js.c_str(), each, &back), DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("not a detcgd summary at byte"), std::string::npos) << detcgd_last_error();
  write_file(js, "{\"a\": " + std::string(100, '[') + std::string(100, ']') + ", \"config\": {}}");
  EXPECT_EQ(detcgd_summary_config(js.c_str(), each, &back), DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("nesting too deep"), std::string::npos) << detcgd_last_error();
  write_file(js, "{\"config\": {\"label\": \"\\u12");  // ends inside an escape
  EXPECT_EQ(detcgd_summary_config(js.c_str(), each, &back), DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("the document does not end"), std::string::npos) << detcgd_last_error();
  write_file(js, "{\"config\": {\"label\": \"\xff\"}}");  // not UTF-8
  EXPECT_EQ(detcgd_summary_config(js.c_str(), each, &back), DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("at byte 22: invalid utf-8"), std::string::npos) << detcgd_last_error();
  write_file(js, "{\"config\": {\"lambda\": 0.1}} x");
  EXPECT_EQ(detcgd_summary_config(js.c_str(), each, &back), DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("at byte 28: unexpected character"), std::string::npos) << detcgd_last_error();
  write_file(js, "{\"config\": {\"lambda\": [0.1]}}");
  EXPECT_EQ(detcgd_summary_config(js.c_str(), each, &back), DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("\"lambda\" holds no single value"), std::string::npos) << detcgd_last_error();
  write_file(js, "{\"config\": {\"lambda\": 0.1, \"no-such\": 1}}");
  EXPECT_EQ(detcgd_summary_config(js.c_str(), each, &back), DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("\"no-such\" is no option"), std::string::npos) << detcgd_last_error();
}

// lambda = 0 with a feature that never occurs: L is singular. The methods and stepsizes that do not invert it
// run; the ones that do are refused with a sentence naming the block and what to use instead.
TEST(LambdaZero, StepsizesThatDoNotInvertLRunTheOthersSaySo) {
  const std::string data = temp_path("lambda0.svm");
  write_file(data, "1 1:1 3:1\n-1 1:0.5 3:-1\n1 1:-1 3:0.25\n");
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", data.c_str());
  ps.features = 3;  // feature 2 never occurs
  ps.lambda = 0;
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  struct Case { const char* options; const char* says; };
  const Case cases[] = {{"method=gd stepsize=gd", nullptr},
                        {"method=det-cgd1 sketch=rand-1 stepsize=cgd-mat", nullptr},
                        {"method=det-cgd1 sketch=rand-1 stepsize=thm2 weight=identity", nullptr},
                        {"method=det-cgd2 sketch=rand-1 stepsize=det2-opt", "det2-opt inverts L_0, which is singular"},
                        {"method=det-cgd1 sketch=rand-1 stepsize=thm2 weight=inv", "thm2 inverts L_0"},
                        {"method=det-cgd1 sketch=rand-1 stepsize=thm2 weight=diag-inv", "whose entry 1 is 0"}};
  for (const Case& c : cases) {
    DetcgdSettings s = quiet_settings();
    s.term.max_iter = 20;
    std::stringstream words(c.options);
    std::string w;
    while (words >> w) ASSERT_EQ(detcgd_settings_set(&s, w.substr(0, w.find('=')).c_str(), w.substr(w.find('=') + 1).c_str()), DETCGD_OK);
    DetcgdSolver* solver = nullptr;
    int st = detcgd_create(&solver, p, &s);
    if (!c.says) {
      ASSERT_EQ(st, DETCGD_OK) << c.options << ": " << detcgd_last_error();
      ASSERT_EQ(detcgd_run(solver), DETCGD_OK);
      DetcgdResult r;
      detcgd_get_result(solver, &r);
      EXPECT_LT(r.f_final, r.f_initial) << c.options;
    } else {
      EXPECT_EQ(st, DETCGD_ERR_NUMERIC) << c.options;
      EXPECT_NE(std::string(detcgd_last_error()).find(c.says), std::string::npos) << detcgd_last_error();
    }
    detcgd_destroy(&solver);
  }
  detcgd_problem_destroy(&p);
}
