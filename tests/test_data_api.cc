// test_data_api.cc -- problems from the caller's arrays (CSR and dense rows), the trace without files (rows in
// memory, the per-row callback), the library's version.
#include <cmath>
#include "test_util.h"
extern "C" {
#include "libsvm.h"
}

namespace {

// The rows of a LIBSVM file as arrays (labels mapped back to the file's, then shifted: any two values will do).
struct Arrays {
  std::vector<int64_t> indptr;
  std::vector<int32_t> indices;
  std::vector<double> values, labels;
  int64_t ncols = 0;
  DetcgdData data() const {
    DetcgdData d = {(int64_t)labels.size(), ncols, indptr.data(), indices.data(), values.data(), labels.data()};
    return d;
  }
};

bool read_arrays(const char* path, Arrays* a) {
  DcLibsvm f;
  if (dc_libsvm_read(path, &f) != DETCGD_OK) return false;
  a->indptr.assign(f.rowptr, f.rowptr + f.nrows + 1);
  a->indices.assign(f.colidx, f.colidx + f.nnz);
  a->values.assign(f.val, f.val + f.nnz);
  for (int64_t r = 0; r < f.nrows; ++r) a->labels.push_back(f.label[r] > 0 ? 7.0 : 3.0);
  a->ncols = f.max_index;
  dc_libsvm_free(&f);
  return true;
}

DetcgdProblemSpec a1a_spec(int clients) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  ps.nlayers = 4;
  ps.clients = clients;
  ps.split = clients ? DETCGD_SPLIT_SHUFFLED : DETCGD_SPLIT_CONTIGUOUS;
  return ps;
}

DetcgdSettings rand_k_run(int clients) {
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_DET1;
  s.sketch.kind = DETCGD_SKETCH_RANDK;
  s.sketch.k = 3;
  s.stepsize.kind = clients ? DETCGD_STEP_COR1 : DETCGD_STEP_THM2;
  s.stepsize.weight = DETCGD_W_DIAG_INV;
  s.term.max_iter = 200;
  s.output.trace_every = 7;
  s.seed = 11;
  return s;
}

struct Rows {
  std::vector<std::vector<double>> rows;
  std::vector<std::string> names;
  int stop_after = -1;
};

void collect(void* user, int ncols, const char* const* names, const double* row) {
  Rows* r = static_cast<Rows*>(user);
  if (r->names.empty()) r->names.assign(names, names + ncols);
  r->rows.emplace_back(row, row + ncols);
  if ((int)r->rows.size() == r->stop_after) detcgd_request_stop();
}

}  // namespace

// a1a from arrays equals a1a from its file: the same trace bit for bit (single node and 5 shuffled clients), the
// rows in memory equal the CSV's, and the callback sees each of them.
TEST(InMemory, CsrRowsRunLikeTheFile) {
  Arrays a;
  if (!read_arrays(DETCGD_SHARED_DATA "/a1a", &a)) GTEST_SKIP() << "../shared/data/libsvm/a1a not present";
  for (int clients : {0, 5}) {
    DetcgdProblemSpec from_file = a1a_spec(clients), from_arrays = a1a_spec(clients);
    snprintf(from_file.data_path, sizeof from_file.data_path, "%s", DETCGD_SHARED_DATA "/a1a");
    DetcgdProblem *pf = nullptr, *pa = nullptr;
    DetcgdData d = a.data();
    ASSERT_EQ(detcgd_problem_create(&pf, &from_file), DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(detcgd_problem_from_data(&pa, &from_arrays, &d), DETCGD_OK) << detcgd_last_error();
    DetcgdSettings sf = rand_k_run(clients), sa = rand_k_run(clients);
    std::string csv = temp_path("file" + std::to_string(clients) + ".csv");
    snprintf(sf.output.trace_path, sizeof sf.output.trace_path, "%s", csv.c_str());
    DetcgdSolver *vf = nullptr, *va = nullptr;
    ASSERT_EQ(detcgd_create(&vf, pf, &sf), DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(detcgd_create(&va, pa, &sa), DETCGD_OK) << detcgd_last_error();
    Rows seen;
    ASSERT_EQ(detcgd_set_trace_callback(va, collect, &seen), DETCGD_OK);
    ASSERT_EQ(detcgd_run(vf), DETCGD_OK);
    ASSERT_EQ(detcgd_run(va), DETCGD_OK);
    const char* const* names;
    int ncols = detcgd_trace_columns(va, &names);
    int64_t nrows = 0;
    const double* mem = detcgd_trace_rows(va, &nrows);
    auto file_rows = trace_numbers(csv);
    ASSERT_EQ(nrows, (int64_t)file_rows.size());
    ASSERT_EQ(nrows, 200 / 7 + 2);  // k = 0, 7, ..., 196 and the last, 199
    ASSERT_EQ(ncols, (int)file_rows[0].size() + 1);
    EXPECT_STREQ(names[0], "iter");
    EXPECT_STREQ(names[ncols - 1], "time_s");
    std::string header = read_file(csv).substr(0, read_file(csv).find('\n'));
    std::string joined;
    for (int j = 0; j < ncols; ++j) joined += (j ? "," : "") + std::string(names[j]);
    EXPECT_EQ(joined, header);
    for (int64_t r = 0; r < nrows; ++r)
      for (int j = 0; j + 1 < ncols; ++j)  // %.17g round-trips: equal bits
        EXPECT_EQ(mem[r * ncols + j], file_rows[r][j]) << "row " << r << " column " << names[j];
    ASSERT_EQ((int64_t)seen.rows.size(), nrows);
    EXPECT_EQ((int)seen.names.size(), ncols);
    for (int64_t r = 0; r < nrows; ++r)
      for (int j = 0; j < ncols; ++j) EXPECT_EQ(seen.rows[r][j], mem[r * ncols + j]);
    detcgd_destroy(&vf);
    detcgd_destroy(&va);
    detcgd_problem_destroy(&pf);
    detcgd_problem_destroy(&pa);
  }
}

// Dense rows (zeros included) and the CSR of their nonzeros make the same problem: the same f, gradient and run.
TEST(InMemory, DenseRowsEqualTheirCsr) {
  const int64_t N = 40, d = 12;
  std::vector<double> dense(N * d, 0.0), labels(N), values;
  std::vector<int64_t> indptr = {0};
  std::vector<int32_t> indices;
  auto u = random_vec(N * d, 5);
  for (int64_t r = 0; r < N; ++r) {
    labels[r] = r % 3 ? 1.0 : 0.0;
    for (int64_t j = 0; j < d; ++j)
      if (u[r * d + j] > 0.2) {
        dense[r * d + j] = u[r * d + j];
        indices.push_back((int32_t)j);
        values.push_back(u[r * d + j]);
      }
    indptr.push_back((int64_t)indices.size());
  }
  DetcgdData as_dense = {N, d, nullptr, nullptr, dense.data(), labels.data()};
  DetcgdData as_csr = {N, d, indptr.data(), indices.data(), values.data(), labels.data()};
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.layers, sizeof ps.layers, "5,7");
  DetcgdProblem *pd = nullptr, *pc = nullptr;
  ASSERT_EQ(detcgd_problem_from_data(&pd, &ps, &as_dense), DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(detcgd_problem_from_data(&pc, &ps, &as_csr), DETCGD_OK) << detcgd_last_error();
  DetcgdProblemInfo id, ic;
  detcgd_problem_info(pd, &id);
  detcgd_problem_info(pc, &ic);
  EXPECT_EQ(id.nnz, (int64_t)values.size());
  EXPECT_EQ(id.nsamples, N);
  EXPECT_EQ(id.dim, d);
  EXPECT_EQ(id.lmax, ic.lmax);
  auto x = random_vec(d, 9);
  std::vector<double> gd(d), gc(d);
  double fd, fc;
  detcgd_problem_eval(pd, x.data(), &fd, gd.data());
  detcgd_problem_eval(pc, x.data(), &fc, gc.data());
  EXPECT_EQ(fd, fc);
  EXPECT_EQ(gd, gc);
  // f by hand: labels 1 -> +1, 0 -> -1; lambda sum x^2 / (1 + x^2)
  double f = 0.0;
  for (int64_t r = 0; r < N; ++r) {
    double t = 0.0;
    for (int64_t j = 0; j < d; ++j) t += dense[r * d + j] * x[j];
    f += std::log1p(std::exp(-(labels[r] > 0 ? 1.0 : -1.0) * t)) / N;
  }
  for (int64_t j = 0; j < d; ++j) f += ps.lambda * x[j] * x[j] / (1 + x[j] * x[j]);
  EXPECT_NEAR(fd, f, 1e-14);
  detcgd_problem_destroy(&pd);
  detcgd_problem_destroy(&pc);
}

// Bad arrays end with DETCGD_ERR_ARG and a message naming the row, the column or the option.
TEST(InMemory, BadArraysNameWhatIsWrong) {
  std::vector<int64_t> indptr = {0, 2, 3};
  std::vector<int32_t> indices = {0, 2, 1};
  std::vector<double> values = {1.0, 2.0, 3.0}, labels = {1.0, -1.0};
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  auto expect = [&](DetcgdData d, const DetcgdProblemSpec& spec, const char* words) {
    DetcgdProblem* p = nullptr;
    EXPECT_EQ(detcgd_problem_from_data(&p, &spec, &d), DETCGD_ERR_ARG) << words;
    EXPECT_NE(std::string(detcgd_last_error()).find(words), std::string::npos) << detcgd_last_error();
    EXPECT_EQ(p, nullptr);
  };
  DetcgdData good = {2, 3, indptr.data(), indices.data(), values.data(), labels.data()};
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_from_data(&p, &ps, &good), DETCGD_OK) << detcgd_last_error();
  detcgd_problem_destroy(&p);
  DetcgdData d = good;
  d.ncols = 2;
  expect(d, ps, "row 0: column index 2 outside [0, 2)");
  std::vector<int32_t> backwards = {2, 0, 1};
  d = good;
  d.indices = backwards.data();
  expect(d, ps, "row 0: column 0 after 2");
  std::vector<double> nan_values = {1.0, NAN, 3.0};
  d = good;
  d.values = nan_values.data();
  expect(d, ps, "row 0, column 2: value nan is not finite");
  std::vector<double> three = {1.0, 2.0};
  std::vector<int64_t> ip3 = {0, 1, 2, 3};
  std::vector<double> labels3 = {1.0, 2.0, 5.0};
  d = good;
  d.nrows = 3;
  d.indptr = ip3.data();
  d.labels = labels3.data();
  expect(d, ps, "a third label 5");
  std::vector<int64_t> shifted = {1, 2, 3};
  d = good;
  d.indptr = shifted.data();
  expect(d, ps, "indptr[0] = 1");
  d = good;
  d.labels = nullptr;
  expect(d, ps, "labels is NULL");
  d = good;
  d.nrows = 0;
  expect(d, ps, "0 rows");
  DetcgdProblemSpec wrong = ps;
  wrong.features = 4;
  expect(good, wrong, "features: 4, but the data has 3 columns");
  wrong = ps;
  snprintf(wrong.data_path, sizeof wrong.data_path, "a1a");
  expect(good, wrong, "data: the rows come from the caller's arrays");
  wrong = ps;
  wrong.kind = DETCGD_PROBLEM_QUAD_NC;
  expect(good, wrong, "not quad-nc");
  wrong = ps;
  wrong.lambda = -1;
  expect(good, wrong, "lambda");
}

// The callback can stop a run (detcgd_request_stop): the run ends interrupted with the rows seen so far kept.
TEST(InMemory, CallbackStopsTheRun) {
  DetcgdProblem* p = make_quad("4,4");
  DetcgdSettings s = quiet_settings();
  s.method = DETCGD_METHOD_GD;
  s.stepsize.kind = DETCGD_STEP_GD;
  s.term.max_iter = 10000;
  s.output.trace_every = 1;
  DetcgdSolver* v = nullptr;
  ASSERT_EQ(detcgd_create(&v, p, &s), DETCGD_OK) << detcgd_last_error();
  Rows seen;
  seen.stop_after = 5;
  detcgd_set_trace_callback(v, collect, &seen);
  detcgd_clear_stop();
  ASSERT_EQ(detcgd_run(v), DETCGD_OK);
  detcgd_clear_stop();
  DetcgdResult r;
  detcgd_get_result(v, &r);
  EXPECT_EQ(r.termination, DETCGD_TERM_INTERRUPTED);
  int64_t nrows = 0;
  detcgd_trace_rows(v, &nrows);
  EXPECT_GE(nrows, 5);
  EXPECT_LT(nrows, 100);
  EXPECT_EQ((int64_t)seen.rows.size(), nrows);
  detcgd_destroy(&v);
  detcgd_problem_destroy(&p);
}

TEST(Version, HeaderLibraryAndBuild) {
  EXPECT_STREQ(detcgd_version(), DETCGD_VERSION);
  EXPECT_EQ(std::string(detcgd_build_info()).rfind("commit ", 0), 0u) << detcgd_build_info();
}
