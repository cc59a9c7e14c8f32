// The method test table (the optax way): every row of tests/method_table.txt -- a method, a compressor and
// their options -- through the same checks.  A new method or compressor adds rows there, not a test file.
//
//   Converges                 single node: f(x^K) <= 5% of f(x^0) on a quadratic whose minimum 0 is planted;
//                             with clients: f and ||grad f||^2 below their starting values
//   ReducesToGdWithIdentity   the row with the identity compressor runs GD with the row's D (single node:
//                             the same bits as method gd with that stepsize)
//   SameSeedSameTrace         the same seed gives the same trace; another seed another one (random sketches)
//   ReplayEqualsOpByOp        the iterations between trace rows as recorded launches = op by op
//   ResumedEqualsUninterrupted  a run stopped after a checkpoint and resumed = the uninterrupted run
//   ExactBits                 the uplink bits are the kept coordinates' values and indices and the layer flags,
//                             and a fixed-size compressor keeps its stated number every iteration (sign: one bit
//                             per coordinate, up and, with majority vote, down)
//   CudaEqualsCpu             the CUDA backend (on the emulation) follows the CPU's trace to rounding
// Simulation = MPI for the rows with clients: tests/mpi_check.sh reads the same table.
#include <algorithm>
#include <cmath>
#include "test_util.h"
extern "C" {
#include "compressor.h"
#include "method.h"
}

namespace {

struct Row : CaseLine {
  std::string get(const std::string& key, const std::string& dflt = "") const {
    std::string v = dflt;
    for (const auto& kv : options)
      if (kv.first == key) v = kv.second;
    return v;
  }
  bool distributed() const { return !get("clients").empty(); }
  bool stochastic() const { return !get("batch").empty(); }
  bool logistic() const { return distributed() || stochastic(); }  // minibatches need logreg-nc's rows
  const DcMethodType* method() const { return dc_method_find(get("method").c_str()); }
  bool compresses() const { return !(method()->step_flags & DC_STEP_NO_SKETCH); }
  bool matrix_step() const { return !(method()->step_flags & DC_STEP_NO_MATRIX); }
  // the compressor its messages use: the method's fixed one, or the row's sketch
  std::string compressor() const {
    return method()->fixed_compressor ? method()->fixed_compressor->name : get("sketch", "rand-1");
  }
};

void PrintTo(const Row& r, std::ostream* os) { *os << r.name; }

std::vector<Row> read_rows() {
  std::vector<Row> rows;
  for (const CaseLine& c : read_case_lines(DETCGD_METHOD_TABLE)) rows.push_back(Row{c});
  return rows;
}

struct RowRun {
  int status = DETCGD_ERR_INTERNAL;
  DetcgdResult r{};
  std::string trace;                  // without the time column
  std::vector<std::vector<double>> numbers;
};

// The row's problem and settings (with the table's defaults), then `extra`, run on `backend`.
RowRun run_row(const Row& row, int backend, const std::vector<std::pair<std::string, std::string>>& extra = {},
            const std::string& tag = "") {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  DetcgdSettings s = quiet_settings(backend);
  s.f_inf = NAN;
  std::vector<std::pair<std::string, std::string>> opts = {{"iters", "300"}, {"trace-every", "7"}, {"seed", "5"},
                                                           {"f-inf-iters", "50"}};
  if (row.logistic())
    opts.insert(opts.end(), {{"samples", "240"}, {"features", "24"}, {"layers", "3x8"}, {"lambda", "0.1"}});
  else
    opts.insert(opts.end(), {{"problem", "quad-nc"}, {"layers", "4x8"}, {"lambda", "0"}, {"spec-min", "0.2"}});
  opts.insert(opts.end(), row.options.begin(), row.options.end());
  opts.insert(opts.end(), extra.begin(), extra.end());
  RowRun out;
  for (const auto& kv : opts)
    if (detcgd_set(&ps, &s, kv.first.c_str(), kv.second.c_str()) != DETCGD_OK) {
      ADD_FAILURE() << row.name << ": " << kv.first << " = " << kv.second << ": " << detcgd_last_error();
      return out;
    }
  const std::string path = temp_path("table_" + row.name + tag + (backend == DETCGD_BACKEND_CUDA ? ".cuda" : "") + ".csv");
  if (s.output.resume_path[0] == '\0') std::remove(path.c_str());
  snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", path.c_str());
  DetcgdProblem* p = nullptr;
  if ((out.status = detcgd_problem_create(&p, &ps)) != DETCGD_OK) return out;
  DetcgdSolver* solver = nullptr;
  out.status = detcgd_create(&solver, p, &s);
  if (out.status == DETCGD_OK) out.status = detcgd_run(solver);
  if (solver) detcgd_get_result(solver, &out.r);
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&p);
  out.trace = trace_without_time(path);
  out.numbers = trace_numbers(path);
  return out;
}

// The row with the identity compressor (its own compressor options dropped).
Row with_identity(const Row& row) {
  Row r = row;
  r.options.clear();
  const DcCompressorType* t = dc_compressor_find(row.get("sketch", "rand-1").c_str());
  for (const auto& kv : row.options) {
    bool own = false;
    for (const DcOption* o = t && t->options ? t->options : nullptr; o && o->key; ++o) own |= kv.first == o->key;
    if (!own && kv.first != "sketch") r.options.push_back(kv);
  }
  r.options.emplace_back("sketch", "identity");
  return r;
}

bool random_compressor(const Row& row) {
  return row.compresses() && (dc_compressor_find(row.compressor().c_str())->flags & DC_CF_RANDOM);
}

class MethodTable : public testing::TestWithParam<Row> {};

TEST_P(MethodTable, Converges) {
  const Row& row = GetParam();
  RowRun a = run_row(row, DETCGD_BACKEND_CPU);
  ASSERT_EQ(a.status, DETCGD_OK) << detcgd_last_error();
  ASSERT_GE(a.numbers.size(), 2u);
  if (!row.logistic()) {
    EXPECT_LE(a.r.f_final, 0.05 * a.r.f_initial) << "f(x^0) = " << a.r.f_initial;
  } else {
    EXPECT_LT(a.r.f_final, a.r.f_initial);
    EXPECT_LT(a.r.grad_norm2_final, a.numbers.front()[1]);
  }
  EXPECT_TRUE(std::isfinite(a.r.g_kd));
}

TEST_P(MethodTable, ReducesToGdWithIdentity) {
  const Row& row = GetParam();
  const std::string method = row.get("method");
  const bool det = method == "det-marina" || method == "det-dasha";
  const bool differences = method == "dcgd" || method == "diana" || method == "marina" || method == "dasha" || det;
  const std::string step_key = method == "ef21" ? "ef-step" : method == "marina" || method == "dasha" || det ? "gd-step" : "vr-step";
  // det-marina and det-dasha with W = I step with D = gamma I: the scalar methods' reductions apply
  const std::vector<std::pair<std::string, std::string>> weight = {{"marina-weight", det ? "identity" : ""}};
  if ((method == "marina" || method == "det-marina") && row.stochastic())
    GTEST_SKIP() << row.name << ": VR-MARINA with the identity sends full gradients every round (p = 1), which no GD "
                                "with minibatches does; test_variance_reduction.cc checks it against x*";
  if (method == "dasha-page") GTEST_SKIP() << row.name << ": PAGE's estimator is not GD's; test_variance_reduction.cc checks it";
  if (method == "vr-diana") GTEST_SKIP() << row.name << ": its estimator is L-SVRG's, not GD's; test_variance_reduction.cc checks it against x*";
  if (method == "sega") GTEST_SKIP() << row.name << ": sega refuses the identity (it is GD); test_variance_reduction.cc checks it against x*";
  if (differences && !row.get("prox").empty())
    GTEST_SKIP() << row.name << ": a prox step is not GD (test_variance_reduction.cc checks the prox against x*)";
  const auto own_option = [](const std::pair<std::string, std::string>& kv) {
    return kv.first.rfind("vr-", 0) == 0 || kv.first.rfind("marina-", 0) == 0 || kv.first.rfind("dasha-", 0) == 0 ||
           kv.first.rfind("ef-", 0) == 0 || kv.first == "gd-step";
  };
  if ((differences || method == "ef21") && !row.distributed()) {
    // EF21 with the identity is GD with gamma = 1 / L (g^k = g^{k-1} + (grad f - g^{k-1}) is grad f rounded), DCGD
    // too, and so are DIANA with omega = 0 and alpha = 1 / (omega + 1) = 1 (g = h + (grad f - h)), MARINA with p =
    // bits(C) / (d value-bits) = 1 (every round a sync round) and DASHA with a = 1 / (2 omega + 1) = 1 (g_c = grad
    // f_c); without momentum or a given p, to rounding.  They run at GD's step 1 / lambda_max of the block bound
    // (logreg-nc: not lambda_max(L) itself, det(D)^(-1/d) = lambda_max for D = I / lambda_max); a minibatch row is SGD
    // with the same samples
    Row id = with_identity(row), gd = id;
    id.options.erase(std::remove_if(id.options.begin(), id.options.end(),
                                    [](const std::pair<std::string, std::string>& kv) {
                                      return kv.first == "vr-momentum" || kv.first == "marina-p";
                                    }),
                     id.options.end());
    for (auto& kv : gd.options)
      if (kv.first == "method") kv.second = "gd";
    gd.options.erase(std::remove_if(gd.options.begin(), gd.options.end(),
                                    [&](const std::pair<std::string, std::string>& kv) {
                                      return kv.first == "sketch" || own_option(kv);
                                    }),
                     gd.options.end());
    gd.options.emplace_back("stepsize", "gd");
    RowRun b = run_row(gd, DETCGD_BACKEND_CPU, {{"value-bits", "64"}}, "_gd");
    ASSERT_EQ(b.status, DETCGD_OK) << detcgd_last_error();
    char step[32];
    snprintf(step, sizeof step, "%.17g", 1.0 / b.r.det_factor);
    if (!row.get("vr-step").empty()) {  // GD at the row's step: D = (vr-step det_factor) I / det_factor
      char scale[32];
      snprintf(scale, sizeof scale, "%.17g", std::stod(row.get("vr-step")) * b.r.det_factor);
      snprintf(step, sizeof step, "%s", row.get("vr-step").c_str());
      b = run_row(gd, DETCGD_BACKEND_CPU, {{"value-bits", "64"}, {"stepsize-scale", scale}}, "_gd");
      ASSERT_EQ(b.status, DETCGD_OK) << detcgd_last_error();
    }
    if (det) id.options.push_back(weight[0]);
    RowRun a = run_row(id, DETCGD_BACKEND_CPU, {{"value-bits", "64"}, {step_key, step}, {"force", "1"}}, "_id");
    ASSERT_EQ(a.status, DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(a.numbers.size(), b.numbers.size());
    for (size_t i = 0; i < a.numbers.size(); ++i)
      for (int c : {1, 2, 3})
        EXPECT_NEAR(a.numbers[i][c], b.numbers[i][c], 1e-12 * std::fabs(b.numbers[0][c])) << "row " << i << ", column " << c;
    return;
  }
  if (differences) {
    // over clients: DIANA, MARINA and DASHA with the identity follow DCGD with the identity, x - gamma (1/n) sum_c grad f_c
    Row id = with_identity(row), dcgd = id;
    id.options.erase(std::remove_if(id.options.begin(), id.options.end(),
                                    [](const std::pair<std::string, std::string>& kv) { return kv.first == "marina-p"; }),
                     id.options.end());
    for (auto& kv : dcgd.options)
      if (kv.first == "method") kv.second = "dcgd";
    dcgd.options.erase(std::remove_if(dcgd.options.begin(), dcgd.options.end(), own_option), dcgd.options.end());
    if (det) id.options.push_back(weight[0]);
    RowRun a = run_row(id, DETCGD_BACKEND_CPU, {{"value-bits", "64"}, {step_key, "0.5"}, {"force", "1"}}, "_id");
    RowRun b = run_row(dcgd, DETCGD_BACKEND_CPU, {{"value-bits", "64"}, {"vr-step", "0.5"}, {"force", "1"}}, "_dcgd");
    ASSERT_EQ(a.status, DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(b.status, DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(a.numbers.size(), b.numbers.size());
    for (size_t i = 0; i < a.numbers.size(); ++i)
      for (int c : {1, 2})
        EXPECT_NEAR(a.numbers[i][c], b.numbers[i][c], 1e-12 * std::fabs(b.numbers[0][c])) << "row " << i << ", column " << c;
    return;
  }
  if (!row.matrix_step()) GTEST_SKIP() << row.name << ": no GD with a compressor (sign methods: their own reference "
                                          "run and decrease bounds; ef21-norm normalises; test_methods.cc)";
  Row id = with_identity(row);
  if (row.distributed()) {
    // Algorithms 1 and 2 are GD with D, x - D (1/n) sum_c grad f_c(x) and x - (1/n) sum_c D grad f_c(x):
    // with D = gamma I of scalar DCGD (the same gamma for both; Corollary 1's gamma differs between them)
    // and 64-bit messages they agree to rounding
    const std::vector<std::pair<std::string, std::string>> gd = {{"stepsize", "dcgd-kr"}, {"value-bits", "64"}};
    id.options.erase(std::remove_if(id.options.begin(), id.options.end(),
                                    [](const std::pair<std::string, std::string>& kv) { return kv.first == "weight"; }),
                     id.options.end());
    RowRun a = run_row(id, DETCGD_BACKEND_CPU, gd, "_id");
    ASSERT_EQ(a.status, DETCGD_OK) << detcgd_last_error();
    Row other = id;
    for (auto& kv : other.options)
      if (kv.first == "method") kv.second = kv.second == "det-cgd1" ? "det-cgd2" : "det-cgd1";
    RowRun b = run_row(other, DETCGD_BACKEND_CPU, gd, "_id2");
    ASSERT_EQ(b.status, DETCGD_OK) << detcgd_last_error();
    ASSERT_EQ(a.numbers.size(), b.numbers.size());
    for (size_t i = 0; i < a.numbers.size(); ++i)
      for (int c : {1, 2, 4})  // to rounding, on the scale of the first row (the gradient goes to 0)
        EXPECT_NEAR(a.numbers[i][c], b.numbers[i][c], 1e-12 * std::fabs(b.numbers[0][c])) << "row " << i << ", column " << c;
    return;
  }
  RowRun a = run_row(id, DETCGD_BACKEND_CPU, {}, "_id");
  ASSERT_EQ(a.status, DETCGD_OK) << detcgd_last_error();
  Row gd = id;  // GD with the same D (its own certificate condition may sit at 1: forced)
  for (auto& kv : gd.options)
    if (kv.first == "method") kv.second = "gd";
  gd.options.erase(std::remove_if(gd.options.begin(), gd.options.end(),
                                  [](const std::pair<std::string, std::string>& kv) {
                                    return kv.first == "sketch" || kv.first == "sparse-steps";
                                  }),
                   gd.options.end());
  gd.options.emplace_back("force", "1");
  RowRun b = run_row(gd, DETCGD_BACKEND_CPU, {}, "_gd");
  ASSERT_EQ(b.status, DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(a.r.f_final, b.r.f_final);
}

TEST_P(MethodTable, SameSeedSameTrace) {
  const Row& row = GetParam();
  RowRun a = run_row(row, DETCGD_BACKEND_CPU), b = run_row(row, DETCGD_BACKEND_CPU, {}, "_again");
  ASSERT_EQ(a.status, DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(b.status, DETCGD_OK);
  EXPECT_EQ(a.trace, b.trace);
  if (!random_compressor(row)) return;
  RowRun c = run_row(row, DETCGD_BACKEND_CPU, {{"seed", "6"}}, "_seed6");
  ASSERT_EQ(c.status, DETCGD_OK);
  EXPECT_NE(a.trace, c.trace);
}

TEST_P(MethodTable, ReplayEqualsOpByOp) {
  const Row& row = GetParam();
  RowRun a = run_row(row, DETCGD_BACKEND_CPU, {{"graphs", "1"}}), b = run_row(row, DETCGD_BACKEND_CPU, {{"graphs", "0"}}, "_op");
  ASSERT_EQ(a.status, DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(b.status, DETCGD_OK);
  if (row.method()->op_by_op) EXPECT_EQ(a.r.replay_launches, 0) << "its round branches on the host: op by op";
  else EXPECT_GT(a.r.replay_launches, 0);
  EXPECT_EQ(b.r.replay_launches, 0);
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(a.r.bits_up, b.r.bits_up);
}

TEST_P(MethodTable, ResumedEqualsUninterrupted) {
  const Row& row = GetParam();
  const std::string ck = temp_path("table_" + row.name + ".ck");
  RowRun full = run_row(row, DETCGD_BACKEND_CPU);
  ASSERT_EQ(full.status, DETCGD_OK) << detcgd_last_error();
  RowRun died = run_row(row, DETCGD_BACKEND_CPU, {{"checkpoint", ck}, {"checkpoint-every", "100"}, {"fault", "0:230:die"}},
                     "_part");
  ASSERT_EQ(died.status, DETCGD_ERR_INTERNAL) << "the injected fault at iteration 230";
  RowRun resumed = run_row(row, DETCGD_BACKEND_CPU, {{"resume", ck}}, "_part");
  ASSERT_EQ(resumed.status, DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(full.trace, resumed.trace);
  EXPECT_EQ(full.r.g_kd, resumed.r.g_kd);
  EXPECT_EQ(full.r.bits_up, resumed.r.bits_up);
}

bool is_marina(const Row& row) { return row.get("method") == "marina" || row.get("method") == "det-marina"; }

// MARINA's sync rounds among K (0 for another method): its coin drawn here from the shared stream, with the row's
// marina-p or else p_default
int64_t marina_sync_rounds(const Row& row, int64_t K, double p_default) {
  int64_t sync = 0;
  if (!is_marina(row)) return 0;
  const double p = row.get("marina-p").empty() ? p_default : std::stod(row.get("marina-p"));
  for (int64_t k = 0; k < K; ++k) sync += dc_marina_coin(5, (uint32_t)k, p);
  EXPECT_GT(sync, 1);
  EXPECT_LT(sync, K);
  return sync;
}

TEST_P(MethodTable, ExactBits) {
  const Row& row = GetParam();
  RowRun a = run_row(row, DETCGD_BACKEND_CPU);
  ASSERT_EQ(a.status, DETCGD_OK) << detcgd_last_error();
  const int64_t K = a.r.iterations, senders = row.distributed() ? std::stoi(row.get("clients")) : 1, layers = 4 - row.logistic();
  if (row.stochastic()) EXPECT_EQ(a.r.samples, K * senders * std::stoi(row.get("batch")));  // the oracle's samples
  const int64_t value_bits = 32, index_bits = 3;  // every table layer has 8 coordinates
  if (row.method()->message_bits) {  // a method's own message: d sign bits (+ one value, ||g||_1, when scaled)
    const int64_t d = 8 * layers, scales = row.get("sign-per-layer") == "1" ? layers : 1,
                  per = row.get("method") == "scaled-sign-gd" ? d + scales * value_bits : d;
    EXPECT_EQ(a.r.bits_up, K * per);
    EXPECT_EQ(a.r.coords_sent, K * d);
    return;
  }
  if (row.get("sega-sketch") == "gaussian") {  // s_i^T grad f: one 32-bit value per layer, no index
    EXPECT_EQ(a.r.coords_sent, K * layers);
    EXPECT_EQ(a.r.bits_up, K * layers * value_bits);
    return;
  }
  const std::string name = row.compresses() ? row.compressor() : "identity";
  const DcCompressorType* t = dc_compressor_find(name.c_str());
  ASSERT_NE(t, nullptr);
  if (name == "sign" || name == "scaled-sign") {  // one bit per coordinate (+ each layer's scale) up; the vote down
    const int64_t d = 8 * layers, per = d + (name == "scaled-sign" ? layers * value_bits : 0);
    EXPECT_EQ(a.r.bits_up, K * senders * per);
    EXPECT_EQ(a.r.coords_sent, K * senders * d);
    if (row.distributed() && row.get("method") == "sign-mv") EXPECT_EQ(a.r.bits_down, K * senders * d);
    return;
  }
  if (name == "natural" || name == "qsgd") {  // every coordinate quantised: natural 9 bits (sign, exponent); QSGD per
    // layer of m its norm and m (sign + ceil(log2(s + 1)) level bits)
    const int64_t m = 8, s = std::stoi(row.get("levels", "1")), d = m * layers;
    int level_bits = 0;
    while ((int64_t(1) << level_bits) < s + 1) ++level_bits;
    const int64_t per = name == "natural" ? 9 * m * layers : layers * (value_bits + m * (1 + level_bits));
    const int64_t start = row.get("dasha-init") == "gradient" ? senders * d : 0;  // g_c^0 sent in full first
    const int64_t sync = marina_sync_rounds(row, K, (double)per / (double)(d * value_bits));
    EXPECT_EQ(a.r.bits_up, (K - sync) * senders * per + sync * senders * d * value_bits + start * value_bits);
    EXPECT_EQ(a.r.coords_sent, K * senders * d + start);
    return;
  }
  const bool indices = (t->flags & DC_CF_INDICES) && row.get("shared-seed", "0") == "0";
  const bool full_start = row.get("ef-init") == "gradient";  // every client's d values before round 0, no indices
  ASSERT_TRUE(!is_marina(row) || !row.get("marina-p").empty()) << "a MARINA row with a sketch sets marina-p";
  const int64_t sync = is_marina(row) ? marina_sync_rounds(row, K, 0.0) : 0;  // each client's d values, no indices
  const int64_t start = (full_start ? senders * 8 * layers : 0) + sync * senders * 8 * layers;
  EXPECT_EQ(a.r.bits_up, (a.r.coords_sent - start) * (value_bits + (indices ? index_bits : 0)) + start * value_bits +
                             (K - sync) * senders * layers * t->layer_flag_bits);
  if (full_start || sync) {
    EXPECT_EQ((double)(a.r.coords_sent - start), (double)(K - sync) * a.r.coords_per_iter);
    return;
  }
  if (name == "identity" || name == "rand-k" || name == "rand-1" || name == "importance-1" || name == "top-k" ||
      name == "rand-k-c")  // a fixed number kept
    EXPECT_EQ((double)a.r.coords_sent, (double)K * a.r.coords_per_iter);
}

TEST_P(MethodTable, CudaEqualsCpu) {
  SKIP_WITHOUT_DEVICE(DETCGD_BACKEND_CUDA);
  const Row& row = GetParam();
  RowRun c = run_row(row, DETCGD_BACKEND_CPU), g = run_row(row, DETCGD_BACKEND_CUDA);
  ASSERT_EQ(c.status, DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(g.status, DETCGD_OK) << detcgd_last_error();
  ASSERT_EQ(c.numbers.size(), g.numbers.size());
  for (size_t i = 0; i < c.numbers.size(); ++i) {
    for (int col : {1, 2, 3, 4})  // to rounding, on the scale of the first row
      EXPECT_NEAR(g.numbers[i][col], c.numbers[i][col], 1e-10 * std::fabs(c.numbers[0][col])) << "row " << i << ", column " << col;
    EXPECT_EQ(g.numbers[i][5], c.numbers[i][5]) << "coordinates, row " << i;
    EXPECT_EQ(g.numbers[i][6], c.numbers[i][6]) << "bits, row " << i;
  }
}

std::string row_name(const testing::TestParamInfo<Row>& info) {
  std::string n = info.param.name;
  for (char& ch : n)
    if (ch == '-') ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Rows, MethodTable, testing::ValuesIn(read_rows()), row_name);

}  // namespace
