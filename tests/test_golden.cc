// Golden traces: every case of tests/golden/cases.txt (single node and distributed, every sketch and
// stepsize) run and compared, byte for byte, with the trace (without its time column) and the final numbers
// recorded in tests/golden/.  Refactors must keep them: a difference is a change of results.
//
// The CPU backend has its files NAME.csv; the CUDA backend on the CPU emulation NAME.cuda.csv (on a real
// device the math library's exp and log differ from the host's, so there the case skips and CudaVsCpu
// compares the backends to rounding).  DETCGD_RECORD_GOLDEN=1 rewrites the files instead of comparing.
#include <cmath>
#include <cstdio>
#include "test_util.h"

namespace {

// The cases with the defaults every case gets unless it sets them.
std::vector<CaseLine> read_cases() {
  std::vector<CaseLine> cases = read_case_lines(DETCGD_GOLDEN_DIR "/cases.txt");
  for (CaseLine& c : cases)
    c.options.insert(c.options.begin(), {{"iters", "40"}, {"trace-every", "3"}, {"seed", "11"}, {"f-inf-iters", "30"}});
  return cases;
}

std::string number(double v) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The trace without times, then the final numbers of the result.
std::string golden_text(const std::string& trace, const DetcgdResult& r) {
  return trace_without_time(trace) + "result iterations=" + std::to_string(r.iterations) + " f_final=" +
         number(r.f_final) + " grad_norm2_final=" + number(r.grad_norm2_final) + " g_kd=" + number(r.g_kd) +
         " certificate=" + number(r.certificate) + " log_det=" + number(r.log_det) + " f_inf=" + number(r.f_inf) +
         " coords_sent=" + std::to_string(r.coords_sent) + " bits_up=" + std::to_string(r.bits_up) +
         " bits_down=" + std::to_string(r.bits_down) + " termination=" + std::to_string(r.termination) + "\n";
}

class Golden : public testing::TestWithParam<int> {};

TEST_P(Golden, TracesMatchTheRecordedOnes) {
  const int backend = GetParam();
  SKIP_WITHOUT_DEVICE(backend);
#ifndef DETCGD_TEST_ON_EMULATION
  if (backend == DETCGD_BACKEND_CUDA) GTEST_SKIP() << "CUDA goldens are the emulation's (the device's exp/log differ)";
#endif
  const bool record = getenv("DETCGD_RECORD_GOLDEN") != nullptr;
  const std::string suffix = backend == DETCGD_BACKEND_CUDA ? ".cuda.csv" : ".csv";
  std::vector<CaseLine> cases = read_cases();
  ASSERT_GE(cases.size(), 10u);
  for (const CaseLine& c : cases) {
    SCOPED_TRACE(c.name);
    DetcgdProblemSpec ps;
    DetcgdSettings s = quiet_settings(backend);
    detcgd_problem_spec_default(&ps);
    s.f_inf = NAN;
    for (const auto& kv : c.options) {
      int st = detcgd_is_problem_key(kv.first.c_str()) ? detcgd_problem_spec_set(&ps, kv.first.c_str(), kv.second.c_str())
                                                       : detcgd_settings_set(&s, kv.first.c_str(), kv.second.c_str());
      ASSERT_EQ(st, DETCGD_OK) << kv.first << "=" << kv.second << ": " << detcgd_last_error();
    }
    const std::string trace = temp_path("golden_" + c.name + suffix);
    snprintf(s.output.trace_path, sizeof s.output.trace_path, "%s", trace.c_str());
    DetcgdProblem* p = nullptr;
    ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
    DetcgdSolver* solver = nullptr;
    DetcgdResult r{};
    int st = detcgd_create(&solver, p, &s);
    if (st == DETCGD_OK) st = detcgd_run(solver);
    if (st == DETCGD_OK) st = detcgd_get_result(solver, &r);
    detcgd_destroy(&solver);
    detcgd_problem_destroy(&p);
    ASSERT_EQ(st, DETCGD_OK) << detcgd_last_error();
    const std::string got = golden_text(trace, r), path = DETCGD_GOLDEN_DIR "/" + c.name + suffix;
    if (record) write_file(path, got);
    else EXPECT_EQ(got, read_file(path)) << "differs from " << path;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Golden, testing::ValuesIn(available_backends()), backend_name);

}  // namespace
