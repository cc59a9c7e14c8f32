// test_run_many.cc -- runs together (detcgd_run_many): the R-run gradient op against R single ones, and whole runs
// together against the same runs alone, bit for bit.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include "test_util.h"
#ifdef DETCGD_TEST_OPENMP
#include <omp.h>
#endif
extern "C" {
#include "backend.h"
#include "problem.h"
}

namespace {

DetcgdProblem* a1a_problem() {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  ps.nlayers = 4;
  snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_SHARED_DATA "/a1a");
  DetcgdProblem* p = nullptr;
  if (detcgd_problem_create(&p, &ps) != DETCGD_OK) return nullptr;
  return p;
}

// logreg-nc rows: a1a's (CSR; the GPU's CSR + CSC), or synthetic ones of density 1 with data-precision fp32 (the
// GPU's dense float rows)
DetcgdProblem* rows_problem(bool dense) {
  if (!dense) return a1a_problem();
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  ps.samples = 600;  // three row pieces on the GPU
  ps.features = 40;
  ps.nlayers = 3;
  ps.data_precision = DETCGD_PREC_FP32;
  DetcgdProblem* p = nullptr;
  return detcgd_problem_create(&p, &ps) == DETCGD_OK ? p : nullptr;
}

class RunsTogetherOps : public testing::TestWithParam<int> {
 protected:
  void SetUp() override { SKIP_WITHOUT_DEVICE(GetParam()); }
};

// problem_grad_many equals problem_grad run by run: the same bits of every gradient and of f where a slot asks for
// it (every other run), with the regularisers on (each run its own lambda and mu), on CSR and dense rows.  The runs
// live on two backends, as runs together do (each solver its own; the GPU's streams ordered by events).  R = 1, 3,
// 5, 7, 19, and on the CPU 64 and 67: passes of 16, 4, 2 and 1 runs among them; on the CPU on the cores' threads
// and on 5 (up to 19 runs then go pass after pass by rows and columns, the passes of 16 among them).
TEST_P(RunsTogetherOps, GradientOfManyEqualsEachAlone) {
  const bool cpu = GetParam() == DETCGD_BACKEND_CPU;
  std::vector<int> thread_counts = {0};  // 0: as the process has them
#ifdef DETCGD_TEST_OPENMP
  const int threads = omp_get_max_threads();
  if (cpu) thread_counts.push_back(5);
#endif
  for (int nthreads : thread_counts)
  for (bool dense : {false, true}) {
    SCOPED_TRACE(nthreads ? "5 threads" : "the process's threads");
#ifdef DETCGD_TEST_OPENMP
    omp_set_num_threads(nthreads ? nthreads : threads);
#endif
    SCOPED_TRACE(dense ? "dense rows" : "a1a");
    DetcgdProblem* p = rows_problem(dense);
    if (!p) GTEST_SKIP() << "../shared/data/libsvm/a1a not present";
    DcBackend be2[2]{};
    for (DcBackend& b : be2) ASSERT_EQ(dc_backend_open(&b, GetParam()), DETCGD_OK) << detcgd_last_error();
    const DcBackendOps* o = be2[0].ops;
    ASSERT_NE(o->problem_grad_many, nullptr);
    const int64_t d = p->layout.dim;
    std::vector<int> counts = {1, 3, 5, 7, 19};
    if (cpu) counts.insert(counts.end(), {64, 67});
    for (int R : counts) {
      std::vector<DcHostProblem> h(R, p->host);
      std::vector<DcBackend*> be(R);
      std::vector<DcProbData*> P(R);
      std::vector<DcVec *> x(R), g(R), m(R), g1(R), m1(R);
      std::vector<int> fslot(R);
      for (int r = 0; r < R; ++r) {
        be[r] = &be2[r % 2];
        h[r].lambda = 0.1 * (1 + r % 3);
        h[r].l2 = r % 4 == 3 ? 0.0 : 0.01;
        ASSERT_EQ(o->problem_create(be[r], &h[r], &P[r]), DETCGD_OK) << detcgd_last_error();
        std::vector<double> xr = random_vec(d, 100 + r);
        for (double& v : xr) v *= 3.0;  // margins well past +-1: weights near 0 and near 1/N
        ASSERT_EQ(o->vec_create(be[r], d, &x[r]), DETCGD_OK);
        ASSERT_EQ(o->vec_upload(be[r], x[r], xr.data()), DETCGD_OK);
        for (DcVec** v : {&g[r], &g1[r]}) ASSERT_EQ(o->vec_create(be[r], d, v), DETCGD_OK);
        for (DcVec** v : {&m[r], &m1[r]}) {
          ASSERT_EQ(o->vec_create(be[r], 4, v), DETCGD_OK);
          ASSERT_EQ(o->vec_fill(be[r], *v, -7.0), DETCGD_OK);
        }
        fslot[r] = r % 2 ? -1 : 2;
        ASSERT_EQ(o->problem_grad(be[r], P[r], x[r], g1[r], m1[r], fslot[r]), DETCGD_OK) << detcgd_last_error();
      }
      ASSERT_EQ(o->problem_grad_many(be.data(), P.data(), x.data(), g.data(), m.data(), fslot.data(), R), DETCGD_OK)
          << detcgd_last_error();
      auto get = [&](int r, DcVec* v, int64_t n) {
        std::vector<double> out(n);
        EXPECT_EQ(o->vec_download(be[r], v, out.data()), DETCGD_OK);
        return out;
      };
      for (int r = 0; r < R; ++r) {
        std::vector<double> gm = get(r, g[r], d), ga = get(r, g1[r], d), mm = get(r, m[r], 4), ma = get(r, m1[r], 4);
        EXPECT_EQ(std::memcmp(gm.data(), ga.data(), d * sizeof(double)), 0) << "R = " << R << ", run " << r;
        for (int j = 0; j < 4; ++j) EXPECT_EQ(mm[j], ma[j]) << "R = " << R << ", run " << r << ", slot " << j;
        if (fslot[r] >= 0) EXPECT_GT(mm[fslot[r]], 0.0);
        for (DcVec** v : {&x[r], &g[r], &m[r], &g1[r], &m1[r]}) o->vec_destroy(be[r], v);
        o->problem_destroy(be[r], &P[r]);
      }
    }
    for (DcBackend& b : be2) dc_backend_close(&b);
    detcgd_problem_destroy(&p);
  }
#ifdef DETCGD_TEST_OPENMP
  omp_set_num_threads(threads);
#endif
}

INSTANTIATE_TEST_SUITE_P(Backends, RunsTogetherOps, testing::ValuesIn(available_backends()), backend_name);

struct RunCase {
  const char* options;  // key=value pairs, space separated
};

DetcgdSettings run_settings(const char* options, const std::string& csv, int backend, int iters) {
  DetcgdSettings s = quiet_settings(backend);
  s.term.max_iter = iters;
  s.output.trace_every = 10;
  std::string all = options;
  size_t at = 0;
  while (at < all.size()) {
    size_t end = all.find(' ', at);
    std::string kv = all.substr(at, end == std::string::npos ? std::string::npos : end - at);
    size_t eq = kv.find('=');
    EXPECT_EQ(detcgd_settings_set(&s, kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str()), DETCGD_OK)
        << kv << ": " << detcgd_last_error();
    at = end == std::string::npos ? all.size() : end + 1;
  }
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", csv.c_str());
  return s;
}

struct Outcome {
  std::string trace;  // the CSV without its time column
  DetcgdResult result{};
  std::vector<double> x;
};

Outcome outcome(DetcgdSolver* v, const std::string& csv, int64_t d) {
  Outcome o;
  o.trace = trace_without_time(csv);
  EXPECT_EQ(detcgd_get_result(v, &o.result), DETCGD_OK);
  o.x.resize(d);
  EXPECT_EQ(detcgd_get_x(v, o.x.data()), DETCGD_OK);
  return o;
}

// Seeds and a run list on a1a -- det-CGD1/2 with several sketches and stepsizes, GD, EF21, DIANA, a minibatch run
// and runs that end early or trace on their own schedule -- run together equal the same runs alone: trace, result
// and x^K, bit for bit (300 iterations a run, 30 on the GPU: the emulation is slow).
TEST_P(RunsTogetherOps, EachRunEqualsItselfAlone) {
  DetcgdProblem* p = a1a_problem();
  if (!p) GTEST_SKIP() << "../shared/data/libsvm/a1a not present";
  const bool cpu = GetParam() == DETCGD_BACKEND_CPU;
  const char* runs[] = {
      "method=det-cgd2 sketch=rand-1 stepsize=det2-opt seed=1",
      "method=det-cgd2 sketch=rand-1 stepsize=det2-opt seed=2",
      "method=det-cgd2 sketch=rand-1 stepsize=det2-opt seed=3 iters=120",
      "method=det-cgd1 sketch=rand-k k=3 stepsize=thm2 weight=diag-inv seed=4 trace-every=7",
      "method=gd seed=5",
      "method=ef21 sketch=top-k k=5 seed=6",
      "method=diana sketch=rand-k k=4 seed=7",
      "method=ef21 sketch=top-k k=2 batch=16 seed=8",
      "method=det-cgd2 sketch=rand-1 stepsize=det2-opt seed=9 gkd=trace iters=1",
  };
  const int n = sizeof runs / sizeof runs[0];
  const int64_t d = p->layout.dim;
  std::vector<Outcome> alone(n), together(n);
  std::vector<DetcgdSolver*> v(n, nullptr);
  for (int i = 0; i < n; ++i) {
    std::string csv = temp_path("alone" + std::to_string(i) + ".csv");
    DetcgdSettings s = run_settings(runs[i], csv, GetParam(), cpu ? 300 : 30);
    ASSERT_EQ(detcgd_create(&v[i], p, &s), DETCGD_OK) << runs[i] << ": " << detcgd_last_error();
    ASSERT_EQ(detcgd_run(v[i]), DETCGD_OK) << runs[i] << ": " << detcgd_last_error();
    alone[i] = outcome(v[i], csv, d);
    detcgd_destroy(&v[i]);
  }
  for (int i = 0; i < n; ++i) {
    DetcgdSettings s =
        run_settings(runs[i], temp_path("together" + std::to_string(i) + ".csv"), GetParam(), cpu ? 300 : 30);
    ASSERT_EQ(detcgd_create(&v[i], p, &s), DETCGD_OK) << runs[i] << ": " << detcgd_last_error();
  }
  ASSERT_EQ(detcgd_run_many(v.data(), n), DETCGD_OK) << detcgd_last_error();
  for (int i = 0; i < n; ++i) {
    together[i] = outcome(v[i], temp_path("together" + std::to_string(i) + ".csv"), d);
    const Outcome &a = alone[i], &t = together[i];
    EXPECT_EQ(t.trace, a.trace) << runs[i];
    EXPECT_GT(std::count(a.trace.begin(), a.trace.end(), '\n'), 1) << runs[i];
    EXPECT_EQ(std::memcmp(t.x.data(), a.x.data(), d * sizeof(double)), 0) << runs[i];
    EXPECT_EQ(t.result.iterations, a.result.iterations) << runs[i];
    EXPECT_EQ(t.result.g_kd, a.result.g_kd) << runs[i];
    EXPECT_EQ(t.result.f_final, a.result.f_final) << runs[i];
    EXPECT_EQ(t.result.grad_norm2_final, a.result.grad_norm2_final) << runs[i];
    EXPECT_EQ(t.result.bits_up, a.result.bits_up) << runs[i];
    EXPECT_EQ(t.result.termination, a.result.termination) << runs[i];
    detcgd_destroy(&v[i]);
  }
  detcgd_problem_destroy(&p);
}

// Bad calls name what is wrong.
TEST(RunsTogether, BadCallsAreRefused) {
  DetcgdProblem* p = make_quad("4,4");
  ASSERT_NE(p, nullptr);
  DetcgdSettings s = quiet_settings();
  s.term.max_iter = 5;
  DetcgdSolver* v = nullptr;
  ASSERT_EQ(detcgd_create(&v, p, &s), DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(detcgd_run_many(nullptr, 1), DETCGD_ERR_ARG);
  EXPECT_EQ(detcgd_run_many(&v, 0), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("n = 0"), std::string::npos) << detcgd_last_error();
  DetcgdSolver* twice[] = {v, v};
  EXPECT_EQ(detcgd_run_many(twice, 2), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("runs 0 and 1 are one solver"), std::string::npos)
      << detcgd_last_error();
  DetcgdSolver* with_null[] = {v, nullptr};
  EXPECT_EQ(detcgd_run_many(with_null, 2), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("run 1 is NULL"), std::string::npos) << detcgd_last_error();
  EXPECT_TRUE(std::isfinite(detcgd_f_inf(v)));  // the f^inf runs on the problem can share
  EXPECT_TRUE(std::isnan(detcgd_f_inf(nullptr)));
  EXPECT_EQ(detcgd_run_many(&v, 1), DETCGD_OK) << detcgd_last_error();  // one run together is a run
  DetcgdResult r;
  ASSERT_EQ(detcgd_get_result(v, &r), DETCGD_OK);
  EXPECT_EQ(r.iterations, 5);
  detcgd_destroy(&v);
  detcgd_problem_destroy(&p);
}

}  // namespace
