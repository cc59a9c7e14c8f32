// Synthetic logistic rows (src/host/synthetic.c): the planted model's
// statistics within standard errors, determinism, settings errors, and
// logreg-nc at a d beyond what dense smoothness matrices allowed; data-precision fp32.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include "test_util.h"
extern "C" {
#include "libsvm.h"
#include "problem.h"
}
#ifdef DETCGD_TEST_OPENMP
#include <omp.h>
#endif

namespace {

DetcgdProblemSpec synthetic_spec(int64_t N, int d, double rho) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  ps.samples = N;
  ps.features = d;
  ps.density = rho;
  ps.lambda = 0.1;
  return ps;
}

bool same_data(const DcLibsvm& a, const DcLibsvm& b) {
  if (a.nrows != b.nrows || a.nnz != b.nnz) return false;
  for (int64_t j = 0; j <= a.nrows; ++j) if (a.rowptr[j] != b.rowptr[j]) return false;
  for (int64_t j = 0; j < a.nrows; ++j) if (a.label[j] != b.label[j]) return false;
  for (int64_t p = 0; p < a.nnz; ++p) if (a.colidx[p] != b.colidx[p] || a.val[p] != b.val[p]) return false;
  return true;
}

}  // namespace

TEST(Synthetic, RowsFollowThePlantedLogisticModel) {
  const int64_t N = 20000, d = 50;
  const double rho = 0.3;
  DcLibsvm D;
  ASSERT_EQ(dc_synthetic_logistic(N, d, rho, 5, &D), DETCGD_OK);
  // entries kept with probability rho: nnz ~ Binomial(N d, rho)
  const double cells = double(N) * d;
  EXPECT_NEAR(double(D.nnz), rho * cells, 4 * std::sqrt(cells * rho * (1 - rho)));
  int64_t first_col0 = 0;
  double s1 = 0, s2 = 0;
  for (int64_t j = 0; j < N; ++j) {
    first_col0 += D.rowptr[j + 1] > D.rowptr[j] && D.colidx[D.rowptr[j]] == 0;
    for (int64_t p = D.rowptr[j]; p < D.rowptr[j + 1]; ++p) {
      ASSERT_GE(D.colidx[p], 0);
      ASSERT_LT(D.colidx[p], d);
      if (p > D.rowptr[j]) ASSERT_GT(D.colidx[p], D.colidx[p - 1]);  // increasing along a row
      s1 += D.val[p];
      s2 += D.val[p] * D.val[p];
    }
  }
  EXPECT_NEAR(double(first_col0) / N, rho, 4 * std::sqrt(rho * (1 - rho) / N));  // column 0 kept w.p. rho
  const double n = double(D.nnz);
  EXPECT_NEAR(s1 / n, 0.0, 4 / std::sqrt(n));           // values N(0, 1)
  EXPECT_NEAR(s2 / n, 1.0, 4 * std::sqrt(2.0 / n));
  // labels: P(b = +1 | a) = sigma(a^T x*): residuals 1[b = +1] - sigma have mean 0 and are
  // uncorrelated with the margin (standard errors from the Bernoulli variances)
  std::vector<double> xs(d);
  for (int64_t k = 0; k < d; ++k) xs[k] = dc_synthetic_plant(5, d, rho, k);
  double r0 = 0, r1 = 0, v0 = 0, v1 = 0, m2 = 0;
  for (int64_t j = 0; j < N; ++j) {
    double m = 0;
    for (int64_t p = D.rowptr[j]; p < D.rowptr[j + 1]; ++p) m += D.val[p] * xs[D.colidx[p]];
    const double sg = 1 / (1 + std::exp(-m)), r = (D.label[j] > 0) - sg;
    r0 += r;
    r1 += r * m;
    v0 += sg * (1 - sg);
    v1 += sg * (1 - sg) * m * m;
    m2 += m * m;
  }
  EXPECT_NEAR(r0, 0.0, 4 * std::sqrt(v0));
  EXPECT_NEAR(r1, 0.0, 4 * std::sqrt(v1));
  EXPECT_NEAR(m2 / N, 1.0, 0.1);  // unit-variance margins: labels far from coin flips
  EXPECT_EQ(D.raw_label[0], -1.0);
  EXPECT_EQ(D.raw_label[1], 1.0);
  dc_libsvm_free(&D);
}

TEST(Synthetic, SameSeedSameRowsForAnyThreadCountOtherSeedOtherRows) {
  DcLibsvm a, b, c, dense;
#ifdef DETCGD_TEST_OPENMP
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
#endif
  ASSERT_EQ(dc_synthetic_logistic(3001, 77, 0.05, 9, &a), DETCGD_OK);
#ifdef DETCGD_TEST_OPENMP
  omp_set_num_threads(std::max(threads, 3));
#endif
  ASSERT_EQ(dc_synthetic_logistic(3001, 77, 0.05, 9, &b), DETCGD_OK);
#ifdef DETCGD_TEST_OPENMP
  omp_set_num_threads(threads);
#endif
  ASSERT_EQ(dc_synthetic_logistic(3001, 77, 0.05, 10, &c), DETCGD_OK);
  EXPECT_TRUE(same_data(a, b));
  EXPECT_FALSE(same_data(a, c));
  ASSERT_EQ(dc_synthetic_logistic(40, 33, 1.0, 9, &dense), DETCGD_OK);  // density 1: every column
  EXPECT_EQ(dense.nnz, 40 * 33);
  EXPECT_EQ(dense.max_index, 33);
  for (int64_t p = 0; p < dense.nnz; ++p) ASSERT_EQ(dense.colidx[p], p % 33);
  for (DcLibsvm* x : {&a, &b, &c, &dense}) dc_libsvm_free(x);
}

TEST(Synthetic, SettingsErrorsNameTheOption) {
  struct Bad { const char* key; const char* value; const char* says; };
  // out of range: the setter refuses, naming the option; set in the struct directly, create does
  for (double density : {0.0, 1.5}) {
    DetcgdProblemSpec ps = synthetic_spec(100, 10, 0.5);
    EXPECT_EQ(detcgd_problem_spec_set(&ps, "density", density == 0 ? "0" : "1.5"), DETCGD_ERR_ARG);
    EXPECT_NE(std::string(detcgd_last_error()).find("density: "), std::string::npos) << detcgd_last_error();
    ps.density = density;
    DetcgdProblem* p = nullptr;
    EXPECT_EQ(detcgd_problem_create(&p, &ps), DETCGD_ERR_ARG);
    EXPECT_NE(std::string(detcgd_last_error()).find("density: "), std::string::npos) << detcgd_last_error();
  }
  // in range, but not with the other options
  const Bad bad[] = {{"features", "0", "features"}, {"data", "x.svm", "not both"}};
  for (const Bad& b : bad) {
    DetcgdProblemSpec ps = synthetic_spec(100, 10, 0.5);
    ASSERT_EQ(detcgd_problem_spec_set(&ps, b.key, b.value), DETCGD_OK);
    DetcgdProblem* p = nullptr;
    EXPECT_EQ(detcgd_problem_create(&p, &ps), DETCGD_ERR_ARG) << b.key;
    EXPECT_NE(std::string(detcgd_last_error()).find(b.says), std::string::npos) << detcgd_last_error();
  }
  DetcgdProblemSpec quad = synthetic_spec(100, 0, 1.0);  // quad-nc has no rows
  ASSERT_EQ(detcgd_problem_spec_set(&quad, "problem", "quad-nc"), DETCGD_OK);
  ASSERT_EQ(detcgd_problem_spec_set(&quad, "layers", "4"), DETCGD_OK);
  DetcgdProblem* q = nullptr;
  EXPECT_EQ(detcgd_problem_create(&q, &quad), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("samples: only for logreg-nc"), std::string::npos);
  DetcgdProblemSpec ps = synthetic_spec(0, 10, 0.5);
  EXPECT_EQ(detcgd_problem_spec_set(&ps, "samples", "-3"), DETCGD_ERR_ARG);
  DetcgdProblem* p = nullptr;
  EXPECT_EQ(detcgd_problem_create(&p, &ps), DETCGD_ERR_ARG);  // neither a file nor samples
  EXPECT_NE(std::string(detcgd_last_error()).find("samples = N"), std::string::npos);
}

TEST(Synthetic, LogregBeyondTheDenseLimitRunsSingleNodeAndDistributed) {
  // d = 30000 in 300 layers: the dense d x d smoothness matrix (7.2 GB) is never formed
  DetcgdProblemSpec ps = synthetic_spec(600, 30000, 0.002);
  ps.nlayers = 300;
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  DetcgdProblemInfo info;
  ASSERT_EQ(detcgd_problem_info(p, &info), DETCGD_OK);
  EXPECT_EQ(info.dim, 30000);
  EXPECT_GE(info.block_bound_c, 1.0);
  EXPECT_LE(info.block_bound_c, 300.0);
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET2;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 30;
  s.stepsize.kind = DETCGD_STEP_DET2_OPT;
  s.term.max_iter = 20;
  DetcgdSolver* solver = nullptr;
  ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(detcgd_run(solver), DETCGD_OK) << detcgd_last_error();
  DetcgdResult r;
  detcgd_get_result(solver, &r);
  EXPECT_LT(r.f_final, r.f_initial);
  EXPECT_LE(r.certificate, 1.0 + 1e-12);
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&p);

  ps.clients = 10;  // Algorithm 1 with Corollary 1's stepsize over 10 clients
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  s.method = DETCGD_METHOD_DET1;
  s.stepsize.kind = DETCGD_STEP_COR1;
  s.stepsize.weight = DETCGD_W_DIAG_INV;
  s.f_inf = NAN;
  s.f_inf_iters = 50;
  ASSERT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(detcgd_run(solver), DETCGD_OK) << detcgd_last_error();
  detcgd_get_result(solver, &r);
  EXPECT_LE(r.certificate, 1.0 + 1e-9);
  EXPECT_LE(r.lambda_d, 10.0 / 20);  // lambda_D <= n / K
  EXPECT_LT(r.f_final, r.f_initial);
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&p);

  ps.clients = 0;
  ps.nlayers = 1;  // one layer of 30000: refused, naming the way out
  EXPECT_EQ(detcgd_problem_create(&p, &ps), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("nlayers = 2"), std::string::npos) << detcgd_last_error();
}

namespace {

std::string run_trace(DetcgdProblem* p, DetcgdSettings s, const std::string& name) {
  std::string path = temp_path(name);
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", path.c_str());
  DetcgdSolver* solver = nullptr;
  EXPECT_EQ(detcgd_create(&solver, p, &s), DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(detcgd_run(solver), DETCGD_OK) << detcgd_last_error();
  detcgd_destroy(&solver);
  return trace_without_time(path);
}

}  // namespace

TEST(DataPrecision, Fp32IsTheProblemOfTheRoundedValues) {
  // synthetic rows with data-precision fp32 == the same rows, rounded, read back from a file at fp64
  DetcgdProblemSpec ps = synthetic_spec(300, 40, 0.7);
  ps.nlayers = 2;
  ps.clients = 3;
  ps.data_precision = DETCGD_PREC_FP32;
  DetcgdProblem *p32 = nullptr, *p64 = nullptr, *pf = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p32, &ps), DETCGD_OK) << detcgd_last_error();
  ps.data_precision = DETCGD_PREC_FP64;
  ASSERT_EQ(detcgd_problem_create(&p64, &ps), DETCGD_OK);
  const std::string file = temp_path("rounded.svm");
  {
    FILE* f = fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    const DcLibsvm& D = p32->data;
    for (int64_t j = 0; j < D.nrows; ++j) {
      fprintf(f, "%+d", (int)D.label[j]);
      for (int64_t q = D.rowptr[j]; q < D.rowptr[j + 1]; ++q) {
        ASSERT_EQ(D.val[q], (double)(float)D.val[q]);
        fprintf(f, " %d:%.17g", D.colidx[q] + 1, D.val[q]);
      }
      fprintf(f, "\n");
    }
    fclose(f);
  }
  DetcgdProblemSpec pf_spec;
  detcgd_problem_spec_default(&pf_spec);
  snprintf(pf_spec.data_path, sizeof pf_spec.data_path, "%s", file.c_str());
  pf_spec.features = 40;
  pf_spec.nlayers = 2;
  pf_spec.clients = 3;
  pf_spec.lambda = ps.lambda;
  ASSERT_EQ(detcgd_problem_create(&pf, &pf_spec), DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(p32->block_c, pf->block_c);
  EXPECT_NE(p32->block_c, p64->block_c);
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET1;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 4;
  s.stepsize.kind = DETCGD_STEP_COR1;
  s.f_inf = NAN;
  s.f_inf_iters = 30;
  s.term.max_iter = 60;
  s.output.trace_every = 5;
  const std::string t32 = run_trace(p32, s, "p32.csv"), tf = run_trace(pf, s, "pf.csv");
  EXPECT_EQ(t32, tf);
  EXPECT_NE(t32, run_trace(p64, s, "p64.csv"));
  for (DetcgdProblem** q : {&p32, &p64, &pf}) detcgd_problem_destroy(q);
}

TEST(DataPrecision, Fp32QuadNcIsTheProblemOfTheRoundedBlocks) {
  // quad-nc with data-precision fp32: A_i are the nearest floats of the fp64 blocks, and a run on them is
  // the run on the fp64 problem whose A was rounded in place (L_i = A_i + 2 lambda I follows A)
  DetcgdProblem *p32 = make_quad("6x16,9", 0.1, 0.5, 7, DETCGD_PREC_FP32), *p64 = make_quad("6x16,9", 0.1, 0.5, 7);
  ASSERT_NE(p32, nullptr);
  ASSERT_NE(p64, nullptr);
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET2;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 3;
  s.stepsize.kind = DETCGD_STEP_DET2_OPT;
  s.term.max_iter = 80;
  s.output.trace_every = 5;
  const std::string t64 = run_trace(p64, s, "q64.csv");
  int64_t changed = 0;
  for (int64_t e = 0; e < p64->layout.moff[p64->layout.nblocks]; ++e) {
    const double nearest = (double)(float)p64->A[e];
    ASSERT_EQ(p32->A[e], nearest) << "entry " << e;
    changed += nearest != p64->A[e];
    p64->A[e] = nearest;
  }
  EXPECT_GT(changed, 0);
  const std::string t32 = run_trace(p32, s, "q32.csv");
  EXPECT_NE(t32, t64);
  EXPECT_EQ(t32, run_trace(p64, s, "q64r.csv"));
  for (DetcgdProblem** q : {&p32, &p64}) detcgd_problem_destroy(q);
}

TEST(DataPrecision, ValuesBeyondFloatAreRefusedWithTheirRow) {
  const std::string file = temp_path("huge.svm");
  {
    std::ofstream f(file);
    f << "+1 1:0.5 2:1\n-1 1:1e300\n";
  }
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", file.c_str());
  ASSERT_EQ(detcgd_problem_spec_set(&ps, "data-precision", "fp32"), DETCGD_OK);
  DetcgdProblem* p = nullptr;
  EXPECT_EQ(detcgd_problem_create(&p, &ps), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("data-precision: fp32 cannot hold the value 1e+300 of row 2"),
            std::string::npos) << detcgd_last_error();
  EXPECT_EQ(detcgd_problem_spec_set(&ps, "data-precision", "fp16"), DETCGD_ERR_ARG);
}
