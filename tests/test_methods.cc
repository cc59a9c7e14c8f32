// Methods as types: the registry, a method's needs against its compressor's class, the distributed form,
// and every backend's op table (no required op missing).  Each method's traces are kept by the golden
// traces (tests/golden/cases.txt), its maths by test_solver.cc and test_dist.cc.
#include <cmath>
#include "dense_oracle.h"
#include "test_util.h"
extern "C" {
#include "backend.h"
#include "method.h"
#include "minibatch.h"
#include "solver.h"
}

namespace {

TEST(Methods, RegistryRoundTripsEveryMethod) {
  char list[256];
  dc_method_list(list, sizeof list);
  EXPECT_STREQ(list, "gd, det-cgd1, det-cgd2, sign-gd, scaled-sign-gd, ef21, ef21-norm, ef14, sign-mv, signum, ef21-sgdm, ef21-sgdm-norm, ef21-hb, dcgd, diana, marina, dasha, sega, vr-diana, det-marina, det-dasha, dasha-page");
  for (int id = 0; dc_method_type(id); ++id) {
    const DcMethodType* m = dc_method_type(id);
    EXPECT_EQ(m->id, id);
    EXPECT_EQ(dc_method_find(m->name), m);
    EXPECT_STREQ(detcgd_method_name(id), m->name);
    EXPECT_TRUE(m->client && m->absorb && m->server) << m->name << ": every round calls all three";
    if (m->step_flags & DC_STEP_NO_MATRIX) EXPECT_EQ(m->condition, 0) << m->name << ": no matrix, no condition";
    else EXPECT_TRUE(m->condition == 7 || m->condition == 8) << m->name;
    EXPECT_EQ(m->state_size > 0, m->create != nullptr) << m->name << ": state is made by create";
    DetcgdSettings s = quiet_settings();
    EXPECT_EQ(detcgd_settings_set(&s, "method", m->name), DETCGD_OK);
    EXPECT_EQ(s.method, id);
  }
  EXPECT_EQ(dc_method_type(-1), nullptr);
  EXPECT_EQ(dc_method_find("sgd"), nullptr);
  DetcgdSettings s = quiet_settings();
  EXPECT_EQ(detcgd_settings_set(&s, "method", "sgd"), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("one of: gd, det-cgd1, det-cgd2, sign-gd, scaled-sign-gd, ef21, ef21-norm, ef14, sign-mv, signum, ef21-sgdm, ef21-sgdm-norm, ef21-hb"), std::string::npos) << detcgd_last_error();
}

// det-CGD needs a linear, unbiased sketch: the compressors of the values are refused, naming both; EF21 needs a
// contractive compressor (or the identity): the unbiased scaled rand-k is refused with what to use instead.
TEST(Methods, NeedsAreCheckedAgainstTheCompressorClass) {
  DcCompressorType contractive_sketch = dc_compressor_randk;
  contractive_sketch.name = "rand-k-like";
  contractive_sketch.cls = DC_CC_CONTRACTIVE;
  EXPECT_EQ(dc_method_check_compressor(&dc_method_det_cgd1, &contractive_sketch), DETCGD_ERR_ARG);
  EXPECT_STREQ(detcgd_last_error(), "sketch: det-cgd1 needs an unbiased compressor (E[C(x)] = x); rand-k-like is contractive");
  EXPECT_EQ(dc_method_check_compressor(&dc_method_det_cgd2, &dc_compressor_topk), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("det-cgd2 needs a linear sketch"), std::string::npos);
  EXPECT_NE(std::string(detcgd_last_error()).find("top-k is not linear"), std::string::npos);
  EXPECT_EQ(dc_method_check_compressor(&dc_method_det_cgd1, &dc_compressor_qsgd), DETCGD_ERR_ARG); /* unbiased, not linear */
  EXPECT_EQ(dc_method_check_compressor(&dc_method_ef21, &dc_compressor_randk), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("use rand-k-c (unscaled) or top-k"), std::string::npos);
  EXPECT_EQ(dc_method_check_compressor(&dc_method_ef21_norm, &dc_compressor_sign), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("sign is biased"), std::string::npos);
  for (int kind = 0; dc_compressor_type(kind); ++kind)
    for (int id = 0; dc_method_type(id); ++id) {
      const DcMethodType* m = dc_method_type(id);
      const DcCompressorType* t = dc_compressor_type(kind);
      bool ok = (!(m->needs & DC_NEEDS_LINEAR) || (t->flags & DC_CF_LINEAR)) &&
                (!(m->needs & DC_NEEDS_UNBIASED) || t->cls == DC_CC_UNBIASED) &&
                (!(m->needs & DC_NEEDS_CONTRACTIVE) || t->cls == DC_CC_CONTRACTIVE || t->kind == DC_SK_IDENTITY);
      EXPECT_EQ(dc_method_check_compressor(m, t), ok ? DETCGD_OK : DETCGD_ERR_ARG) << m->name << " " << t->name;
    }
}

TEST(Methods, AMethodWithoutADistributedFormIsRefusedWithClients) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  ps.samples = 60;
  ps.features = 8;
  ps.clients = 2;
  snprintf(ps.layers, sizeof ps.layers, "2x4");
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_GD;
  s.stepsize.kind = DETCGD_STEP_COR1;
  DetcgdSolver* solver = nullptr;
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_ERR_ARG);
  EXPECT_STREQ(detcgd_last_error(), "method: gd has no distributed form (clients > 0)");
  EXPECT_EQ(solver, nullptr);
  detcgd_problem_destroy(&p);
}

class BackendTable : public testing::TestWithParam<int> {};

// Every op a run needs exists in every backend; stepsize_setup and device_bytes_peak are optional.
TEST_P(BackendTable, NoRequiredOpIsMissing) {
  SKIP_WITHOUT_DEVICE(GetParam());
  DcBackend be{};
  ASSERT_EQ(dc_backend_open(&be, GetParam()), DETCGD_OK) << detcgd_last_error();
  const DcBackendOps* o = be.ops;
  ASSERT_NE(o->name, nullptr);
  const void* required[] = {
      (void*)o->open, (void*)o->close, (void*)o->vec_create, (void*)o->vec_destroy, (void*)o->vec_upload,
      (void*)o->vec_download, (void*)o->vec_copy, (void*)o->axpy, (void*)o->dot, (void*)o->metric_set,
      (void*)o->vec_fill, (void*)o->rows_sum, (void*)o->axpby, (void*)o->vec_map,
      (void*)o->blocks_create, (void*)o->blocks_destroy, (void*)o->bd_apply,
      (void*)o->bd_quadform, (void*)o->sketch_create,
      (void*)o->sketch_destroy, (void*)o->sketch_sample, (void*)o->sketch_read, (void*)o->sketch_load,
      (void*)o->sketch_tally, (void*)o->sketch_set_tally, (void*)o->sketch_compress, (void*)o->sketch_accumulate,
      (void*)o->sketch_sample_rows, (void*)o->sketch_compress_rows, (void*)o->sketch_accumulate_rows,
      (void*)o->message_row_len, (void*)o->compress_values_rows, (void*)o->problem_create, (void*)o->problem_destroy, (void*)o->problem_grad, (void*)o->quad_residual,
      (void*)o->quad_step, (void*)o->clients_create, (void*)o->clients_destroy, (void*)o->clients_chunk,
      (void*)o->clients_grad,
      (void*)o->ring_create, (void*)o->ring_destroy, (void*)o->ring_put, (void*)o->ring_get,
      (void*)o->replay_create, (void*)o->replay_destroy, (void*)o->replay_run, (void*)o->sync, (void*)o->range,
      (void*)o->mc_moments};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; ++i)
    EXPECT_NE(required[i], nullptr) << o->name << ": required op #" << i << " is NULL";
  dc_backend_close(&be);
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendTable, testing::ValuesIn(available_backends()), backend_name);

}  // namespace

namespace {

// The host's own run of a sign method from x^0 = 1/sqrt(d): f and g at each iterate, and the iterates' ||g||_1.
struct SignReference { std::vector<double> f, l1; };

SignReference sign_reference(DetcgdProblem* p, bool scaled, double step, int K) {
  DetcgdProblemInfo info;
  detcgd_problem_info(p, &info);
  const int64_t d = info.dim;
  std::vector<double> x(d, 1.0 / std::sqrt((double)d)), g(d);
  SignReference r;
  for (int k = 0; k <= K; ++k) {
    double f = 0, l1 = 0;
    EXPECT_EQ(detcgd_problem_eval(p, x.data(), &f, g.data()), DETCGD_OK);
    for (double v : g) l1 += std::fabs(v);
    r.f.push_back(f);
    r.l1.push_back(l1);
    for (int64_t j = 0; j < d; ++j) x[j] -= (scaled ? l1 * step : step) * (g[j] > 0 ? 1.0 : g[j] < 0 ? -1.0 : 0.0);
  }
  return r;
}

std::vector<double> trace_f(const std::string& path) {
  std::vector<double> f;
  for (const auto& row : trace_numbers(path)) f.push_back(row[1]);
  return f;
}

// The trace's grad_norm1 column (the ninth).
std::vector<double> trace_l1(const std::string& path) {
  std::stringstream ss(read_file(path));
  std::string line;
  std::vector<double> out;
  std::getline(ss, line);
  EXPECT_NE(line.find(",grad_norm1,samples,grad_density,sign_advantage,time_s"), std::string::npos) << line;
  while (std::getline(ss, line)) {
    std::stringstream ls(line);
    std::string cell;
    for (int c = 0; c <= 8 && std::getline(ls, cell, ','); ++c)
      if (c == 8) out.push_back(std::atof(cell.c_str()));
  }
  return out;
}

DetcgdResult run_sign(DetcgdProblem* p, const char* method, int K, const std::string& trace, double sign_step = 0) {
  DetcgdSettings s = quiet_settings();
  EXPECT_EQ(detcgd_settings_set(&s, "method", method), DETCGD_OK);
  s.term.max_iter = K;
  s.output.trace_every = 1;
  s.f_inf = 0.0;  // quad-nc: f >= 0
  s.sign_step = sign_step;
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", trace.c_str());
  DetcgdSolver* solver = nullptr;
  DetcgdResult r{};
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(detcgd_run(solver), DETCGD_OK) << detcgd_last_error();
  detcgd_get_result(solver, &r);
  detcgd_destroy(&solver);
  return r;
}

// x after `iters` iterations of opts on p (quiet settings underneath), and the run's result.
std::vector<double> x_after(DetcgdProblem* p, const std::vector<std::pair<const char*, const char*>>& opts,
                            int64_t iters, DetcgdResult* result = nullptr) {
  DetcgdSettings s = quiet_settings();
  for (const auto& kv : opts) EXPECT_EQ(detcgd_settings_set(&s, kv.first, kv.second), DETCGD_OK) << kv.first;
  s.term.max_iter = iters;
  DetcgdSolver* solver = nullptr;
  std::vector<double> x(p->layout.dim);
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(detcgd_run(solver), DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(detcgd_get_x(solver, x.data()), DETCGD_OK);
  if (result) detcgd_get_result(solver, result);
  detcgd_destroy(&solver);
  return x;
}

}  // namespace

// Scaled sign GD, x - (||g||_1 / L_inf) sign(g), follows the host's own run, and decreases f by at least
// ||g||_1^2 / (2 L_inf) at every iterate -- with L_inf exact (layers of at most 20) and with its certified
// upper bound (wider layers).  Its bits are d sign bits and one value per iteration.
TEST(SignMethods, ScaledSignFollowsTheHostAndDecreasesByTheL1Bound) {
  for (const char* layers : {"6,9,12", "30,25"}) {
    DetcgdProblem* p = make_quad(layers, 0.1, 0.3);
    DetcgdGeometry g{};
    ASSERT_EQ(detcgd_geometry(p, -1, &g), DETCGD_OK);
    const int K = 60;
    const std::string path = temp_path(std::string("scaled_sign_") + layers + ".csv");
    DetcgdResult r = run_sign(p, "scaled-sign-gd", K, path);
    SignReference ref = sign_reference(p, true, 1.0 / g.linf_hi, K);
    std::vector<double> f = trace_f(path), l1 = trace_l1(path);
    ASSERT_EQ(f.size(), (size_t)K);
    ASSERT_EQ(l1.size(), (size_t)K);
    double least = INFINITY;
    for (int k = 0; k < K; ++k) {
      EXPECT_NEAR(f[k], ref.f[k], 1e-10 * ref.f[0]) << layers << ", iterate " << k;
      EXPECT_NEAR(l1[k], ref.l1[k], 1e-9 * ref.l1[0]) << layers << ", ||g||_1 at iterate " << k;
      least = std::min(least, l1[k]);
      EXPECT_LE(ref.f[k + 1], ref.f[k] - ref.l1[k] * ref.l1[k] / (2 * g.linf_hi) + 1e-13 * ref.f[0])
          << layers << ", iterate " << k;
    }
    EXPECT_LT(ref.f[K], 0.5 * ref.f[0]);
    EXPECT_EQ(r.grad_norm1_min, least);
    EXPECT_NEAR(r.grad_norm1_final, ref.l1[K], 1e-9 * ref.l1[0]);
    EXPECT_EQ(r.bits_up, (int64_t)K * (g.dim + 32));
    EXPECT_TRUE(std::isnan(r.certificate)) << "no matrix stepsize, no condition";
    EXPECT_TRUE(std::isnan(r.theorem1_bound));
    detcgd_problem_destroy(&p);
  }
}

// Block-wise scaled sign GD (sign-per-layer): x_i - (||g_i||_1 / L_inf,i) sign(g_i) moves each layer as the host
// computes it and lowers f by at least sum_i ||g_i||_1^2 / (2 L_inf,i) at every iterate, which is at least the
// whole-problem step's guarantee ||g||_1^2 / (2 L_inf); its bits are d signs and one scale per layer.
TEST(SignMethods, BlockwiseScaledSignDecreasesByThePerLayerBound) {
  DetcgdProblem* p = make_quad("6,9,12", 0.1, 0.3);
  const DcLayout& lay = p->layout;
  DetcgdGeometry whole{};
  ASSERT_EQ(detcgd_geometry(p, -1, &whole), DETCGD_OK);
  std::vector<double> linf(lay.nblocks);
  for (int i = 0; i < lay.nblocks; ++i) {
    DetcgdGeometry g{};
    ASSERT_EQ(detcgd_geometry(p, i, &g), DETCGD_OK);
    linf[i] = g.linf_hi;
  }
  std::vector<double> x(lay.dim, 1 / std::sqrt((double)lay.dim)), g(lay.dim);
  for (int k = 1; k <= 12; ++k) {  // x^k of a run of k iterations, against the host's step from x^{k-1}
    DetcgdResult r{};
    std::vector<double> next =
        x_after(p, {{"method", "scaled-sign-gd"}, {"sign-per-layer", "1"}, {"value-bits", "64"}}, k, &r);
    EXPECT_EQ(r.bits_up, (int64_t)k * (lay.dim + lay.nblocks * 64));
    double f = dc_host_problem_grad(&p->host, x.data(), g.data()), l1_all = 0, bound = 0;
    for (int i = 0; i < lay.nblocks; ++i) {
      double l1 = 0;
      for (int64_t j = lay.voff[i]; j < lay.voff[i + 1]; ++j) l1 += std::fabs(g[j]);
      for (int64_t j = lay.voff[i]; j < lay.voff[i + 1]; ++j)
        EXPECT_NEAR(next[j], x[j] - (l1 / linf[i]) * (g[j] < 0 ? -1 : 1), 1e-14) << "iterate " << k << ", " << j;
      bound += l1 * l1 / (2 * linf[i]);
      l1_all += l1;
    }
    std::vector<double> unused(lay.dim);
    double f_next = dc_host_problem_grad(&p->host, next.data(), unused.data());
    EXPECT_LE(f_next, f - bound + 1e-13) << "iterate " << k;
    EXPECT_GE(bound, l1_all * l1_all / (2 * whole.linf_hi) - 1e-15);
    x = next;
  }
  detcgd_problem_destroy(&p);
}

// Sign GD at its theory step eta = sqrt(2 f(x^0) / (L_inf K)) (f^inf = 0) meets (1/K) sum_k ||g_k||_1 <=
// sqrt(2 L_inf f(x^0) / K); a given sign-step is used as it is.  d bits per iteration.
TEST(SignMethods, SignGdMeetsItsRateAtTheTheoryStep) {
  DetcgdProblem* p = make_quad("6,9,12", 0.1, 0.3);
  DetcgdGeometry g{};
  ASSERT_EQ(detcgd_geometry(p, -1, &g), DETCGD_OK);
  const int K = 200;
  const std::string path = temp_path("sign_gd.csv");
  DetcgdResult r = run_sign(p, "sign-gd", K, path);
  double f0 = sign_reference(p, false, 0, 0).f[0], eta = std::sqrt(2 * f0 / (g.linf_hi * K));
  SignReference ref = sign_reference(p, false, eta, K);
  std::vector<double> f = trace_f(path);
  double mean = 0;
  for (int k = 0; k < K; ++k) {
    EXPECT_NEAR(f[k], ref.f[k], 1e-10 * ref.f[0]) << "iterate " << k;
    mean += ref.l1[k] / K;
  }
  EXPECT_LE(mean, std::sqrt(2 * g.linf_hi * f0 / K));
  EXPECT_NEAR(r.grad_norm1_mean, mean, 1e-10 * mean);  // trace-every 1: the summary's mean is over every k < K
  EXPECT_LE(r.grad_norm1_mean, std::sqrt(2 * g.linf_hi * f0 / K));
  EXPECT_EQ(r.bits_up, (int64_t)K * g.dim);
  DetcgdResult given = run_sign(p, "sign-gd", 20, temp_path("sign_gd_given.csv"), 0.01);
  SignReference ref_given = sign_reference(p, false, 0.01, 20);
  EXPECT_NEAR(given.f_final, ref_given.f[20], 1e-10 * ref_given.f[0]);
  detcgd_problem_destroy(&p);
}

// GD at D = I / L_2 (stepsize gd) lowers f by at least ||g||_2^2 / (2 L_2) at every iterate: the guarantee the
// sign-geometry experiment sets scaled sign GD's ||g||_1^2 / (2 L_inf) against.
TEST(SignMethods, GdDecreasesByTheL2Bound) {
  DetcgdProblem* p = make_quad("30,25", 0.1, 0.3);
  DetcgdGeometry g{};
  ASSERT_EQ(detcgd_geometry(p, -1, &g), DETCGD_OK);
  DetcgdSettings s = quiet_settings();
  ASSERT_EQ(detcgd_settings_set(&s, "method", "gd"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "stepsize", "gd"), DETCGD_OK);
  s.term.max_iter = 60;
  s.output.trace_every = 1;
  const std::string path = temp_path("gd_l2_bound.csv");
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", path.c_str());
  DetcgdSolver* solver = nullptr;
  ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(detcgd_run(solver), DETCGD_OK);
  detcgd_destroy(&solver);
  std::vector<std::vector<double>> rows = trace_numbers(path);
  ASSERT_EQ(rows.size(), 60u);
  for (size_t k = 0; k + 1 < rows.size(); ++k)
    EXPECT_LE(rows[k + 1][1], rows[k][1] - rows[k][2] / (2 * g.l2) + 1e-13 * rows[0][1]) << "iterate " << k;
  detcgd_problem_destroy(&p);
}

// ---- error feedback (ef21.c) ----

namespace {

DetcgdProblem* logistic_clients(int clients) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  ps.samples = 240;
  ps.features = 24;
  ps.clients = clients;
  ps.lambda = 0.1;
  snprintf(ps.layers, sizeof ps.layers, "3x8");
  DetcgdProblem* p = nullptr;
  EXPECT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  return p;
}

std::vector<double> download(DetcgdSolver* s, const DcVec* v, int64_t n) {
  std::vector<double> h(n);
  EXPECT_EQ(s->be.ops->vec_download(&s->be, v, h.data()), DETCGD_OK);
  return h;
}

double fact(DetcgdSolver* s, const char* key) {
  DcMethodFact f[DC_SUMMARY_FACTS];
  int n = s->method->facts(&s->round, f, DC_SUMMARY_FACTS);
  for (int i = 0; i < n; ++i)
    if (!strcmp(f[i].key, key)) return f[i].value;
  ADD_FAILURE() << "no fact " << key;
  return NAN;
}

}  // namespace

// The server's g is the mean of the clients' g_c after every round (both are state, checkpointed), and EF21's
// step is 1 / (L + L~ sqrt(beta / theta)) from top-k's alpha = k / m, with L <= L~ (L of the mean <= the mean L_c).
TEST(Ef21, ServerEstimateIsTheClientsMeanAndTheStepIsThePapers) {
  DetcgdProblem* p = logistic_clients(4);
  DetcgdSettings s = quiet_settings();
  ASSERT_EQ(detcgd_settings_set(&s, "method", "ef21"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "sketch", "top-k"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "k", "2"), DETCGD_OK);
  s.term.max_iter = 40;
  DetcgdSolver* solver = nullptr;
  ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(detcgd_run(solver), DETCGD_OK) << detcgd_last_error();
  DcStateVec v[4];
  ASSERT_EQ(solver->method->state(&solver->round, v, 4), 2);
  const int64_t d = 24;
  auto gc = download(solver, v[0].v, 4 * d), g = download(solver, v[1].v, d);
  for (int64_t j = 0; j < d; ++j) {
    double mean = 0, scale = 0;
    for (int c = 0; c < 4; ++c) { mean += gc[c * d + j] / 4; scale += std::fabs(gc[c * d + j]); }
    EXPECT_NEAR(g[j], mean, 1e-14 * (1 + scale)) << j;
  }
  double alpha = 2.0 / 8, theta = 1 - std::sqrt(1 - alpha), beta = (1 - alpha) / theta;
  EXPECT_DOUBLE_EQ(fact(solver, "alpha"), alpha);
  EXPECT_LE(fact(solver, "L"), fact(solver, "L_tilde"));
  EXPECT_DOUBLE_EQ(fact(solver, "step"), 1 / (fact(solver, "L") + fact(solver, "L_tilde") * std::sqrt(beta / theta)));
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&p);
}

// EF21's theory step from an independent computation: every client's dense (1/(4 N_c)) A_c^T A_c + 2 lam I
// entry by entry, lambda_max by power iteration, L of their mean, L~ = sqrt(mean L_c^2), alpha = k / m of top-k.
TEST(Ef21, TheoryStepEqualsAnIndependentComputation) {
  const int n = 3, d = 24;
  DetcgdProblem* p = logistic_clients(n);
  auto lambda_max = [&](const std::vector<double>& M) {  // Rayleigh quotient of the power iteration's unit v
    std::vector<double> v(d, 1.0 / std::sqrt((double)d)), w(d);
    double lm = 0;
    for (int it = 0; it < 20000; ++it) {
      double nrm = 0;
      lm = 0;
      for (int r = 0; r < d; ++r) {
        w[r] = 0;
        for (int c = 0; c < d; ++c) w[r] += M[r + c * d] * v[c];
        nrm += w[r] * w[r];
        lm += v[r] * w[r];
      }
      for (int r = 0; r < d; ++r) v[r] = w[r] / std::sqrt(nrm);
    }
    return lm;
  };
  std::vector<double> mean(d * d, 0.0);
  double sq = 0;
  for (int c = 0; c < n; ++c) {
    const std::vector<double> Lc = dense_smoothness(p->client_host[c], d);
    const double lc = lambda_max(Lc);
    sq += lc * lc / n;
    for (int e = 0; e < d * d; ++e) mean[e] += Lc[e] / n;
  }
  const double L = lambda_max(mean), L_tilde = std::sqrt(sq);
  const double alpha = 1.0 / 8, theta = 1 - std::sqrt(1 - alpha), beta = (1 - alpha) / theta;
  const double gamma = 1 / (L + L_tilde * std::sqrt(beta / theta));
  DetcgdSettings s = quiet_settings();
  ASSERT_EQ(detcgd_settings_set(&s, "method", "ef21"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "sketch", "top-k"), DETCGD_OK);
  s.term.max_iter = 1;
  DetcgdSolver* solver = nullptr;
  ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  EXPECT_NEAR(fact(solver, "L"), L, 1e-9 * L);
  EXPECT_NEAR(fact(solver, "L_tilde"), L_tilde, 1e-9 * L_tilde);
  EXPECT_NEAR(fact(solver, "step"), gamma, 1e-9 * gamma);
  EXPECT_LT(L, L_tilde) << "heterogeneous clients: the mean's L is below the clients' quadratic mean";
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&p);
}

// ||EF21||: every step moves x by gamma_0 / sqrt(K + 1) exactly (the normalised g); with g = 0 it does not move.
TEST(Ef21, NormalizedStepsHaveLengthGammaK) {
  DetcgdProblem* p = make_quad("4x8", 0.1, 0.3);
  for (int iters : {1, 2}) {
    std::vector<double> x = x_after(p, {{"method", "ef21-norm"}, {"sketch", "top-k"}, {"ef-gamma0", "0.3"}}, iters);
    double dist = 0;
    for (double v : x) dist += std::pow(v - 1 / std::sqrt(32.0), 2);
    if (iters == 1) EXPECT_NEAR(std::sqrt(dist), 0.3 / std::sqrt(2.0), 1e-14);
    else EXPECT_LE(std::sqrt(dist), 2 * 0.3 / std::sqrt(3.0) + 1e-14);  // two steps of 0.3 / sqrt(3)
  }
  detcgd_problem_destroy(&p);
  // g = 0: y = a g / ||g|| + y leaves y as it is (the scalar of a negative power of 0 is 0)
  DcBackend be{};
  ASSERT_EQ(dc_backend_open(&be, DETCGD_BACKEND_CPU), DETCGD_OK);
  DcVec *zero = nullptr, *m = nullptr, *y = nullptr;
  ASSERT_EQ(be.ops->vec_create(&be, 3, &zero), DETCGD_OK);
  ASSERT_EQ(be.ops->vec_create(&be, 1, &m), DETCGD_OK);
  ASSERT_EQ(be.ops->vec_create(&be, 3, &y), DETCGD_OK);
  ASSERT_EQ(be.ops->vec_fill(&be, y, 2.0), DETCGD_OK);
  DcScalar a = {-0.5, m, 0, -0.5}, one = {1.0, nullptr, 0, 1.0};
  ASSERT_EQ(be.ops->axpby(&be, a, zero, one, y), DETCGD_OK);
  std::vector<double> h(3);
  ASSERT_EQ(be.ops->vec_download(&be, y, h.data()), DETCGD_OK);
  EXPECT_EQ(h, std::vector<double>({2.0, 2.0, 2.0}));
  be.ops->vec_destroy(&be, &zero);
  be.ops->vec_destroy(&be, &m);
  be.ops->vec_destroy(&be, &y);
  dc_backend_close(&be);
}

// The start: with ef-init gradient the clients' d values are counted before round 0, and the iterates are
// those of the official code (x^1 = x^0 - gamma grad f(x^0)); compressed starts from C(grad f(x^0)).
TEST(Ef21, GradientStartIsCountedAndStepsWithTheFullGradient) {
  DetcgdProblem* p = logistic_clients(3);
  std::vector<double> x1[2];
  int64_t bits[2];
  for (int init = 0; init < 2; ++init) {
    DetcgdResult r{};
    x1[init] = x_after(p, {{"method", "ef21"}, {"sketch", "top-k"}, {"ef-init", init ? "gradient" : "compressed"},
                           {"ef-step", "0.5"}, {"force", "1"}}, 1, &r);
    bits[init] = r.bits_up;
  }
  EXPECT_EQ(bits[0], 3 * 3 * (32 + 3));                 // round 0: top-1 of each of 3 layers, 3 clients
  EXPECT_EQ(bits[1], 3 * 24 * 32 + 3 * 3 * (32 + 3));   // the full start, then round 0's C(0)
  // x^1 = x^0 - 0.5 grad f(x^0) with the gradient start: GD's first step
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET1;
  s.sketch.kind = DETCGD_SKETCH_IDENTITY;
  s.stepsize.kind = DETCGD_STEP_DCGD_KR;
  DetcgdSolver* gd = nullptr;
  ASSERT_EQ(detcgd_create(&gd, p, &s), DETCGD_OK) << detcgd_last_error();
  DcVec* g = gd->g;
  ASSERT_EQ(dc_round_gradient(&gd->round, -1), DETCGD_OK);  // at x^0 (create leaves x at x^0)
  auto grad = download(gd, g, 24);
  for (int j = 0; j < 24; ++j) EXPECT_NEAR(x1[1][j], 1 / std::sqrt(24.0) - 0.5 * grad[j], 1e-15) << j;
  detcgd_destroy(&gd);
  detcgd_problem_destroy(&p);
}


// ---- momentum (ef21.c's EF21-SGDM and ||EF21-SGDM||, sign.c's Signum) ----

namespace {

// Client c's minibatch gradient at x, iteration k: the rows dc_minibatch_row draws, the logistic gradient of each
// from its closed form, and the regulariser's term (computed here, not by the backend's loop).
std::vector<double> minibatch_gradient(const DcHostProblem& h, const std::vector<double>& x, uint64_t seed,
                                       uint32_t k, uint32_t c, int batch) {
  std::vector<double> g(x.size(), 0.0);
  for (int t = 0; t < batch; ++t) {
    const int64_t j = dc_minibatch_row(seed, k, c, t, h.nrows);
    double z = 0;
    for (int64_t q = h.rowptr[j]; q < h.rowptr[j + 1]; ++q) z += h.val[q] * x[h.colidx[q]];
    const double w = -h.label[j] / (batch * (1.0 + std::exp(h.label[j] * z)));
    for (int64_t q = h.rowptr[j]; q < h.rowptr[j + 1]; ++q) g[h.colidx[q]] += w * h.val[q];
  }
  for (size_t i = 0; i < x.size(); ++i) g[i] += 2 * h.lambda * x[i] / std::pow(1 + x[i] * x[i], 2);
  return g;
}

}  // namespace

// EF21-SGDM with the identity compressor and 64-bit messages is SGD with momentum over the clients, and
// ||EF21-SGDM|| its normalised form: v_c = (1 - eta) v_c + eta g_c(x^k; xi) (v_c^0 = g_c(x^0; xi^0)), g_c = v_c,
// x - gamma mean_c v_c (/ its norm, gamma = gamma_0 / (K + 1)^(3/4)) -- against the iterates computed here from the
// drawn minibatches; eta = 1 gives EF21-SGD's bits exactly, and the paper's eta and gamma_0 are its formulas.
TEST(Ef21, MomentumVariantsFollowSgdWithMomentum) {
  DetcgdProblem* p = logistic_clients(3);
  const int64_t d = p->layout.dim;
  const int K = 4, batch = 2;
  const double eta = 0.3, step = 0.5, gamma0 = 0.4;
  for (int normalized = 0; normalized < 2; ++normalized) {
    std::vector<double> x(d, 1 / std::sqrt((double)d));
    std::vector<std::vector<double>> v(3);
    const double gamma = normalized ? gamma0 / std::pow(K + 1.0, 0.75) : step;
    for (int k = 0; k < K; ++k) {
      std::vector<double> mean(d, 0.0);
      for (int c = 0; c < 3; ++c) {
        auto g = minibatch_gradient(p->client_host[c], x, 42, k, c, batch);
        if (k == 0) v[c] = g;
        else for (int64_t i = 0; i < d; ++i) v[c][i] = (1 - eta) * v[c][i] + eta * g[i];
        for (int64_t i = 0; i < d; ++i) mean[i] += v[c][i] / 3;
      }
      double norm = 0;
      for (double m : mean) norm += m * m;
      norm = std::sqrt(norm);
      for (int64_t i = 0; i < d; ++i) x[i] -= gamma * mean[i] / (normalized ? norm : 1.0);
    }
    const std::vector<double> got =
        normalized ? x_after(p, {{"method", "ef21-sgdm-norm"}, {"sketch", "identity"}, {"value-bits", "64"},
                                 {"batch", "2"}, {"ef-momentum", "0.3"}, {"ef-sgdm-gamma0", "0.4"}, {"force", "1"}}, K)
                   : x_after(p, {{"method", "ef21-sgdm"}, {"sketch", "identity"}, {"value-bits", "64"}, {"batch", "2"},
                                 {"ef-momentum", "0.3"}, {"ef-step", "0.5"}}, K);
    for (int64_t i = 0; i < d; ++i) EXPECT_NEAR(got[i], x[i], 1e-13) << (normalized ? "normalized, " : "") << i;
  }
  // eta = 1: EF21-SGD, bit for bit (top-k messages of v_c - g_c = g_c(x; xi) - g_c)
  const std::vector<std::pair<const char*, const char*>> common = {{"sketch", "top-k"}, {"batch", "3"}, {"ef-step", "0.2"}, {"force", "1"}};
  auto with = [&](const char* method, bool unit_eta) {
    auto o = common;
    o.emplace_back("method", method);
    if (unit_eta) o.emplace_back("ef-momentum", "1");
    return x_after(p, o, 30);
  };
  EXPECT_EQ(with("ef21-sgdm", true), with("ef21", false));
  // the paper's eta = 1 / sqrt(K + 1) and gamma_0 = min{sqrt(K + 1) (1 - sqrt(1 - alpha)), 1} / (16 L_1)
  DetcgdSettings s = quiet_settings();
  ASSERT_EQ(detcgd_settings_set(&s, "method", "ef21-sgdm-norm"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "sketch", "top-k"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "batch", "2"), DETCGD_OK);
  s.term.max_iter = 99;
  DetcgdSolver* solver = nullptr;
  ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  double amax = 0;
  for (int64_t j = 0; j < p->host.nrows; ++j) {
    double n2 = 0;
    for (int64_t q = p->host.rowptr[j]; q < p->host.rowptr[j + 1]; ++q) n2 += p->host.val[q] * p->host.val[q];
    amax = std::max(amax, n2);
  }
  const double L1 = std::sqrt(amax), alpha = 1.0 / 8;
  EXPECT_DOUBLE_EQ(fact(solver, "L1"), L1);
  EXPECT_DOUBLE_EQ(fact(solver, "L0"), 2 * 0.1 + 0.1 * std::sqrt(24.0) * L1);
  EXPECT_DOUBLE_EQ(fact(solver, "momentum_eta"), 1 / std::sqrt(100.0));
  EXPECT_DOUBLE_EQ(fact(solver, "step"), std::min(10 * (1 - std::sqrt(1 - alpha)), 1.0) / (16 * L1) / std::pow(100.0, 0.75));
  detcgd_destroy(&solver);
  // quad-nc is L-smooth (L_1 = 0): the theory step does not exist, and the error says what to set
  DetcgdProblem* q = make_quad("4x8", 0.1, 0.3);
  DetcgdSettings sq = quiet_settings();
  ASSERT_EQ(detcgd_settings_set(&sq, "method", "ef21-sgdm-norm"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&sq, "sketch", "top-k"), DETCGD_OK);
  EXPECT_NE(detcgd_create(&solver, q, &sq), DETCGD_OK);
  EXPECT_NE(std::string(detcgd_last_error()).find("ef-sgdm-gamma0"), std::string::npos) << detcgd_last_error();
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&q);
  detcgd_problem_destroy(&p);
}

// Signum: m = beta m + (1 - beta) g (m^{-1} = 0), x - eta sign(m) -- against the iterates computed here from the
// drawn minibatches (one client, the whole problem); beta = 0 is signSGD bit for bit.
TEST(SignMethods, SignumFollowsItsMomentumAndWithoutItIsSignSgd) {
  DetcgdProblem* p = logistic_clients(0);
  const int64_t d = p->layout.dim;
  const int K = 6;
  std::vector<double> x(d, 1 / std::sqrt((double)d)), m(d, 0.0);
  for (int k = 0; k < K; ++k) {
    auto g = minibatch_gradient(p->host, x, 42, k, 0, 5);
    for (int64_t i = 0; i < d; ++i) {
      m[i] = 0.8 * m[i] + 0.2 * g[i];
      x[i] -= 0.01 * (m[i] > 0 ? 1.0 : m[i] < 0 ? -1.0 : 0.0);
    }
  }
  const auto got = x_after(p, {{"method", "signum"}, {"batch", "5"}, {"sign-momentum", "0.8"}, {"sign-step", "0.01"}}, K);
  for (int64_t i = 0; i < d; ++i) EXPECT_NEAR(got[i], x[i], 1e-15) << i;
  EXPECT_EQ(x_after(p, {{"method", "signum"}, {"batch", "5"}, {"sign-momentum", "0"}, {"sign-step", "0.01"}}, 40),
            x_after(p, {{"method", "sign-gd"}, {"batch", "5"}, {"sign-step", "0.01"}}, 40));
  detcgd_problem_destroy(&p);
}

// The trace's geometry columns: grad_density = phi(g) = ||g||_1^2 / (d ||g||_2^2) of its own columns, in [1/d, 1],
// and sign_advantage = phi(g) d L_2 / L_inf with the problem's geometry (L_inf's upper end); NaN without geometry
// (geometry off, and a method that needs none).
TEST(SignMethods, TraceCarriesGradientDensityAndThePredictedSignAdvantage) {
  DetcgdProblem* p = make_quad("3x8", 0.1, 0.3);
  DetcgdGeometry g;
  ASSERT_EQ(detcgd_geometry(p, -1, &g), DETCGD_OK);
  for (const char* geometry : {"auto", "off"}) {
    DetcgdSettings s = quiet_settings();
    ASSERT_EQ(detcgd_settings_set(&s, "method", "gd"), DETCGD_OK);  // a sign method takes the geometry for its L_inf
    ASSERT_EQ(detcgd_settings_set(&s, "stepsize", "gd"), DETCGD_OK);
    ASSERT_EQ(detcgd_settings_set(&s, "geometry", geometry), DETCGD_OK);
    s.term.max_iter = 20;
    s.output.trace_every = 1;
    const std::string path = temp_path(std::string("geometry_columns_") + geometry + ".csv");
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", path.c_str());
    DetcgdSolver* solver = nullptr;
    ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(detcgd_run(solver), DETCGD_OK);
    detcgd_destroy(&solver);
    const auto rows = trace_numbers(path);
    ASSERT_EQ(rows.size(), 20u);
    for (const auto& r : rows) {  // columns: 2 ||g||^2, 8 ||g||_1, 10 phi, 11 advantage
      const double phi = r[8] * r[8] / (24 * r[2]);
      EXPECT_NEAR(r[10], phi, 1e-14);
      EXPECT_GE(r[10], 1.0 / 24 - 1e-15);
      EXPECT_LE(r[10], 1.0 + 1e-15);
      if (std::string(geometry) == "off") EXPECT_TRUE(std::isnan(r[11]));
      else EXPECT_NEAR(r[11], phi * 24 * g.l2 / g.linf_hi, 1e-12);
    }
  }
  detcgd_problem_destroy(&p);
}

// A method's own trace column (DcMethodType.trace_columns): EF21's ef_error2 = ||grad f(x^k) - g^{k-1}||^2.  Row 0 is
// ||grad f(x^0)||^2 from the compressed start (g^{-1} = 0) and 0 from the gradient start; row k equals the
// distance computed after a run of k iterations from its server estimate and the gradient at its last x.
TEST(Ef21, TraceColumnIsTheEstimatesDistanceToTheGradient) {
  DetcgdProblem* p = logistic_clients(4);
  const int K = 12;
  auto run = [&](const char* init, int iters, const std::string& trace, double* distance) {
    DetcgdSettings s = quiet_settings();
    EXPECT_EQ(detcgd_settings_set(&s, "method", "ef21"), DETCGD_OK);
    EXPECT_EQ(detcgd_settings_set(&s, "sketch", "top-k"), DETCGD_OK);
    EXPECT_EQ(detcgd_settings_set(&s, "ef-init", init), DETCGD_OK);
    s.term.max_iter = iters;
    s.output.trace_every = 1;
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", trace.c_str());
    DetcgdSolver* solver = nullptr;
    ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(detcgd_run(solver), DETCGD_OK) << detcgd_last_error();
    if (distance) {  // the run's end: solver->g = grad f(x^iters), the method's g = g^{iters-1}
      DcStateVec v[4];
      ASSERT_EQ(solver->method->state(&solver->round, v, 4), 2);
      auto g = download(solver, solver->g, 24), est = download(solver, v[1].v, 24);
      *distance = 0;
      for (int j = 0; j < 24; ++j) *distance += (g[j] - est[j]) * (g[j] - est[j]);
    }
    detcgd_destroy(&solver);
  };
  const std::string trace = temp_path("ef_error2.csv");
  run("compressed", K, trace, nullptr);
  EXPECT_NE(read_file(trace).find(",sign_advantage,ef_error2,time_s\n"), std::string::npos);
  const auto rows = trace_numbers(trace);
  ASSERT_EQ(rows.size(), (size_t)K);
  EXPECT_EQ(rows[0][12], rows[0][2]);  // g^{-1} = 0
  double d = NAN;
  run("compressed", 7, temp_path("ef_error2_7.csv"), &d);
  EXPECT_NEAR(rows[7][12], d, 1e-13 * (1 + d));
  run("gradient", K, trace, nullptr);
  EXPECT_EQ(trace_numbers(trace)[0][12], 0.0);
  detcgd_problem_destroy(&p);
}

// Block-wise sign GD (sign-gd, sign-per-layer): x_i - (c / L_inf,i) sign(g_i), each step lowering f by at least
// sum_i (c / L_inf,i) (||g_i||_1 - c / 2); at the derived c = sqrt(2 f(x^0) / (K S)), S = sum_i 1 / L_inf,i (f^inf
// = 0), (1/K) sum_k sum_i ||g_i^k||_1 / L_inf,i <= sqrt(2 f(x^0) S / K), the bound the summary reports.
TEST(SignMethods, BlockwiseSignGdStepsByLayerAndMeetsItsWeightedBound) {
  DetcgdProblem* p = make_quad("6,9,12", 0.1, 0.3);
  const DcLayout& lay = p->layout;
  const int K = 12;
  std::vector<double> linf(lay.nblocks), x(lay.dim, 1 / std::sqrt((double)lay.dim)), g(lay.dim);
  double S = 0;
  for (int i = 0; i < lay.nblocks; ++i) {
    DetcgdGeometry geo{};
    ASSERT_EQ(detcgd_geometry(p, i, &geo), DETCGD_OK);
    linf[i] = geo.linf_hi;
    S += 1 / linf[i];
  }
  const double f0 = dc_host_problem_grad(&p->host, x.data(), g.data()), c = std::sqrt(2 * f0 / (K * S));
  DetcgdSettings s = quiet_settings();
  ASSERT_EQ(detcgd_settings_set(&s, "method", "sign-gd"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "sign-per-layer", "1"), DETCGD_OK);
  s.term.max_iter = K;
  DetcgdSolver* solver = nullptr;
  ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  EXPECT_NEAR(fact(solver, "step"), c, 1e-15 * c);
  EXPECT_NEAR(fact(solver, "mean_weighted_l1_bound"), std::sqrt(2 * f0 * S / K), 1e-14);
  detcgd_destroy(&solver);
  char step[32];
  snprintf(step, sizeof step, "%.17g", c);
  double weighted = 0;
  for (int k = 1; k <= K; ++k) {  // x^k with the step c given, against the host's step from x^{k-1}
    std::vector<double> next = x_after(p, {{"method", "sign-gd"}, {"sign-per-layer", "1"}, {"sign-step", step}}, k);
    double f = dc_host_problem_grad(&p->host, x.data(), g.data()), decrease = 0;
    for (int i = 0; i < lay.nblocks; ++i) {
      double l1 = 0;
      for (int64_t j = lay.voff[i]; j < lay.voff[i + 1]; ++j) l1 += std::fabs(g[j]);
      for (int64_t j = lay.voff[i]; j < lay.voff[i + 1]; ++j)
        EXPECT_NEAR(next[j], x[j] - (c / linf[i]) * (g[j] > 0 ? 1 : g[j] < 0 ? -1 : 0), 1e-15) << k << ", " << j;
      decrease += (c / linf[i]) * (l1 - c / 2);
      weighted += l1 / linf[i] / K;
    }
    std::vector<double> unused(lay.dim);
    EXPECT_LE(dc_host_problem_grad(&p->host, next.data(), unused.data()), f - decrease + 1e-13) << "iterate " << k;
    x = next;
  }
  EXPECT_LE(weighted, std::sqrt(2 * f0 * S / K));
  detcgd_problem_destroy(&p);
}

// ||EF21|| with the identity compressor and 64-bit messages is normalized GD, x - gamma_k grad f / ||grad f||
// (against the iterates computed here); on one client its constant step 1 / (2 c_1) is the paper's formula from
// alpha and L_1, and more clients or L_1 = 0 (quad-nc) are refused naming what to use.
TEST(Ef21, NormalizedWithIdentityIsNormalizedGdAndItsSingleNodeStep) {
  DetcgdProblem* p = logistic_clients(0);
  const int64_t d = p->layout.dim;
  const int K = 9;
  std::vector<double> x(d, 1 / std::sqrt((double)d)), g(d);
  const double gamma = 0.7 / std::sqrt(K + 1.0);
  for (int k = 0; k < K; ++k) {
    dc_host_problem_grad(&p->host, x.data(), g.data());
    double n2 = 0;
    for (double v : g) n2 += v * v;
    for (int64_t i = 0; i < d; ++i) x[i] -= gamma * g[i] / std::sqrt(n2);
  }
  const auto got = x_after(p, {{"method", "ef21-norm"}, {"sketch", "identity"}, {"value-bits", "64"}, {"ef-gamma0", "0.7"}}, K);
  for (int64_t i = 0; i < d; ++i) EXPECT_NEAR(got[i], x[i], 1e-14) << i;
  DetcgdSettings s = quiet_settings();
  ASSERT_EQ(detcgd_settings_set(&s, "method", "ef21-norm"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "sketch", "top-k"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "k", "2"), DETCGD_OK);
  ASSERT_EQ(detcgd_settings_set(&s, "ef-norm-rule", "single-node"), DETCGD_OK);
  s.term.max_iter = 20;
  DetcgdSolver* solver = nullptr;
  ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  const double L1 = fact(solver, "L1"), r = std::sqrt(1 - 2.0 / 8), c1 = L1 / 2 + 2 * r * L1 / (1 - r);
  EXPECT_GT(L1, 0);
  EXPECT_DOUBLE_EQ(fact(solver, "c1"), c1);
  EXPECT_DOUBLE_EQ(fact(solver, "step"), 1 / (2 * c1));
  detcgd_destroy(&solver);
  DetcgdProblem* many = logistic_clients(3);
  EXPECT_NE(detcgd_create(&solver, many, &s), DETCGD_OK);
  EXPECT_NE(std::string(detcgd_last_error()).find("use horizon"), std::string::npos) << detcgd_last_error();
  DetcgdProblem* q = make_quad("4x8", 0.1, 0.3);
  EXPECT_NE(detcgd_create(&solver, q, &s), DETCGD_OK);
  EXPECT_NE(std::string(detcgd_last_error()).find("L_1 = 0"), std::string::npos) << detcgd_last_error();
  detcgd_problem_destroy(&q);
  detcgd_problem_destroy(&many);
  detcgd_problem_destroy(&p);
}

// EF21-HB: with the identity compressor (64-bit messages) the server's heavy ball on the gradient,
// v = beta v + grad f, x - gamma (1 - beta) v, against the iterates computed here; beta = 0 is EF21 bit for bit.
TEST(Ef21, HeavyBallOnTheServersEstimate) {
  DetcgdProblem* p = logistic_clients(3);
  const int64_t d = p->layout.dim;
  const int K = 8;
  std::vector<double> x(d, 1 / std::sqrt((double)d)), v(d, 0.0);
  for (int k = 0; k < K; ++k) {
    std::vector<double> g(d, 0.0), gc(d);
    for (int c = 0; c < 3; ++c) {
      dc_host_problem_grad(&p->client_host[c], x.data(), gc.data());
      for (int64_t i = 0; i < d; ++i) g[i] += gc[i] / 3;
    }
    for (int64_t i = 0; i < d; ++i) {
      v[i] = 0.6 * v[i] + g[i];
      x[i] -= 0.5 * 0.4 * v[i];
    }
  }
  const auto got = x_after(p, {{"method", "ef21-hb"}, {"sketch", "identity"}, {"value-bits", "64"}, {"ef-step", "0.5"},
                               {"ef-hb-beta", "0.6"}}, K);
  for (int64_t i = 0; i < d; ++i) EXPECT_NEAR(got[i], x[i], 1e-14) << i;
  const std::vector<std::pair<const char*, const char*>> topk = {{"sketch", "top-k"}, {"ef-step", "0.3"}, {"force", "1"}};
  auto with = [&](const char* method, const char* beta) {
    auto o = topk;
    o.emplace_back("method", method);
    if (beta) o.emplace_back("ef-hb-beta", beta);
    return x_after(p, o, 25);
  };
  EXPECT_EQ(with("ef21-hb", "0"), with("ef21", nullptr));
  detcgd_problem_destroy(&p);
}

// The step options refuse what the theory forbids unless forced: EF21 past 1 / (L + L~ sqrt(beta / theta)) (by
// ef-step or ef-step-scale), ||EF21-SGDM|| past gamma_0 <= min{sqrt(K + 1) (1 - sqrt(1 - alpha)), 1} / (16 L_1);
// at or below them, and with force = 1, they run and say where the step came from.
TEST(Ef21, StepOptionsRefuseWhatTheTheoryForbidsUnlessForced) {
  DetcgdProblem* p = logistic_clients(3);
  auto create = [&](std::vector<std::pair<const char*, const char*>> o, std::string* source) {
    DetcgdSettings s = quiet_settings();
    o.emplace_back("sketch", "top-k");
    for (auto& kv : o) EXPECT_EQ(detcgd_settings_set(&s, kv.first, kv.second), DETCGD_OK) << kv.first;
    s.term.max_iter = 99;
    DetcgdSolver* solver = nullptr;
    const int st = detcgd_create(&solver, p, &s);
    const std::string err = st == DETCGD_OK ? "" : detcgd_last_error();
    if (st == DETCGD_OK && source) {
      DcMethodFact f[16];
      const int n = solver->method->facts(&solver->round, f, 16);
      for (int i = 0; i < n; ++i)
        if (!strcmp(f[i].key, "step_source")) *source = f[i].text;
    }
    detcgd_destroy(&solver);
    return err;
  };
  std::string src;
  EXPECT_EQ(create({{"method", "ef21"}}, &src), "");
  EXPECT_EQ(src, "1 / (L + L~ sqrt(beta / theta)) (paper)");
  EXPECT_EQ(create({{"method", "ef21"}, {"ef-step-scale", "0.5"}}, nullptr), "");
  std::string err = create({{"method", "ef21"}, {"ef-step-scale", "2"}}, nullptr);
  EXPECT_NE(err.find("ef-step-scale"), std::string::npos) << err;
  EXPECT_NE(err.find("force = 1"), std::string::npos) << err;
  err = create({{"method", "ef21"}, {"ef-step", "10"}}, nullptr);
  EXPECT_NE(err.find("ef-step: gamma = 10 exceeds EF21's theory step"), std::string::npos) << err;
  EXPECT_EQ(create({{"method", "ef21"}, {"ef-step", "10"}, {"force", "1"}}, &src), "");
  EXPECT_EQ(src, "given (ef-step), past the theory step (forced)");
  EXPECT_EQ(create({{"method", "ef21-sgdm-norm"}, {"batch", "1"}}, nullptr), "");
  err = create({{"method", "ef21-sgdm-norm"}, {"batch", "1"}, {"ef-sgdm-gamma0", "1"}}, nullptr);
  EXPECT_NE(err.find("ef-sgdm-gamma0: 1 exceeds the paper's bound"), std::string::npos) << err;
  EXPECT_EQ(create({{"method", "ef21-sgdm-norm"}, {"batch", "1"}, {"ef-sgdm-gamma0", "1"}, {"force", "1"}}, &src), "");
  EXPECT_NE(src.find("past the paper's bound (forced)"), std::string::npos) << src;
  // the heavy ball and the unnormalized momentum have no theory to exceed
  EXPECT_EQ(create({{"method", "ef21-hb"}, {"ef-step", "10"}}, nullptr), "");
  detcgd_problem_destroy(&p);
}
