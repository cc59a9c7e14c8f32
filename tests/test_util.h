// test_util.h -- helpers shared by the test sources: backends available,
// small problems, temporary files.
#ifndef DETCGD_TEST_UTIL_H
#define DETCGD_TEST_UTIL_H

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>
extern "C" {
#include "detcgd.h"
extern "C" {
#include "problem.h"
}
}

// n uniform values in [-1, 1) from seed (the same on every machine: mt19937_64).
inline std::vector<double> random_vec(int64_t n, unsigned seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(n);
  for (auto& x : v) x = u(g);
  return v;
}

// Backends of the parameterised tests: CPU, and CUDA (its cases skip without a device).
inline std::vector<int> available_backends() { return {DETCGD_BACKEND_CPU, DETCGD_BACKEND_CUDA}; }

// Skips the current test when `backend` is CUDA and no device is present.
#define SKIP_WITHOUT_DEVICE(backend)                                                  \
  do {                                                                               \
    if ((backend) == DETCGD_BACKEND_CUDA && detcgd_cuda_device_count() <= 0)          \
      GTEST_SKIP() << "no CUDA device";                                               \
  } while (0)

inline std::string backend_name(const testing::TestParamInfo<int>& i) {
  return i.param == DETCGD_BACKEND_CPU ? "cpu" : "cuda";
}

// Quiet settings for tests.
inline DetcgdSettings quiet_settings(int backend = DETCGD_BACKEND_CPU) {
  DetcgdSettings s;
  detcgd_settings_default(&s);
  s.output.verbose = 0;
  s.output.progress = 0;
  s.backend = backend;
  s.f_inf = 0.0;
  return s;
}

// quad-nc with the given layers.
inline DetcgdProblem* make_quad(const char* layers, double lambda = 0.1, double diag_dominance = 0.5,
                                uint64_t seed = 7, int data_precision = DETCGD_PREC_FP64) {
  DetcgdProblemSpec p;
  detcgd_problem_spec_default(&p);
  p.kind = DETCGD_PROBLEM_QUAD_NC;
  snprintf(p.layers, sizeof p.layers, "%s", layers);
  p.lambda = lambda;
  p.diag_dominance = diag_dominance;
  p.seed = seed;
  p.data_precision = data_precision;
  DetcgdProblem* prob = nullptr;
  EXPECT_EQ(detcgd_problem_create(&prob, &p), DETCGD_OK) << detcgd_last_error();
  return prob;
}

// det-CGD2 with det2-opt (rand-2) on quad-nc 4x8 whose A_2 is negated: E[T L_2 T] is not positive definite.
inline DetcgdProblem* quad_with_indefinite_block(DetcgdSettings* s) {
  DetcgdProblem* p = make_quad("4x8", 0.1, 0.3);
  *s = quiet_settings();
  s->method = DETCGD_METHOD_DET2;
  s->sketch.kind = DETCGD_SKETCH_RANDK;
  s->sketch.k = 2;
  s->stepsize.kind = DETCGD_STEP_DET2_OPT;
  for (int64_t e = p->layout.moff[2]; e < p->layout.moff[3]; ++e) p->A[e] = -p->A[e];
  return p;
}

// Temporary files live in a directory of their own per test process, removed when it exits: two test
// processes running at once (ctest -j, two build trees) never share a file.  A forked child (a death test)
// that exits leaves the directory to its parent.  Plain storage: the exit handler runs after static
// destructors registered later.
inline char test_temp_dir_name[4096];
inline pid_t test_temp_dir_owner;

inline void remove_test_temp_dir() {
  if (getpid() != test_temp_dir_owner) return;
  if (DIR* d = opendir(test_temp_dir_name)) {
    while (struct dirent* e = readdir(d))
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
        unlink((std::string(test_temp_dir_name) + "/" + e->d_name).c_str());
    closedir(d);
  }
  rmdir(test_temp_dir_name);
}

inline std::string test_temp_dir() {
  if (!test_temp_dir_name[0]) {
    snprintf(test_temp_dir_name, sizeof test_temp_dir_name, "%sdetcgd_test_XXXXXX", testing::TempDir().c_str());
    if (!mkdtemp(test_temp_dir_name)) {
      perror(test_temp_dir_name);
      abort();
    }
    test_temp_dir_owner = getpid();
    atexit(remove_test_temp_dir);
  }
  return std::string(test_temp_dir_name) + "/";
}

inline std::string temp_path(const std::string& name) { return test_temp_dir() + name; }

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A trace CSV without its last (time) column: what must repeat bit for bit.
inline std::string trace_without_time(const std::string& path) {
  std::stringstream ss(read_file(path));
  std::string line, out;
  while (std::getline(ss, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

// The numbers of a trace CSV's rows, without the time column (the last): iter, f, grad_norm2, grad_norm2_D, G_KD,
// coords_sent, bits_up, bits_down, grad_norm1, samples, grad_density, sign_advantage.
inline std::vector<std::vector<double>> trace_numbers(const std::string& path) {
  std::vector<std::vector<double>> rows;
  std::stringstream ss(read_file(path));
  std::string line;
  std::getline(ss, line);
  while (std::getline(ss, line)) {
    std::vector<double> r;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) r.push_back(std::strtod(cell.c_str(), nullptr));
    if (!r.empty()) r.pop_back();
    rows.push_back(r);
  }
  return rows;
}

// The "NAME: key=value ..." lines of a case file (golden traces, the method table); '#' lines and blank lines
// are skipped.
struct CaseLine {
  std::string name;
  std::vector<std::pair<std::string, std::string>> options;
};
inline std::vector<CaseLine> read_case_lines(const std::string& path) {
  std::vector<CaseLine> cases;
  std::stringstream file(read_file(path));
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    CaseLine c;
    c.name = line.substr(0, colon);
    std::stringstream words(line.substr(colon + 1));
    std::string w;
    while (words >> w) c.options.emplace_back(w.substr(0, w.find('=')), w.substr(w.find('=') + 1));
    cases.push_back(c);
  }
  return cases;
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

#endif
