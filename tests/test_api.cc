// The public API: defaults, the validator, setters, problem specs, and the
// clear errors that bad input must produce.
#include <cmath>
#include <cstring>
#include "test_util.h"

TEST(Settings, DefaultsValidateAndEveryFieldIsSet) {
  DetcgdSettings s;
  memset(&s, 0xAB, sizeof s);
  detcgd_settings_default(&s);
  EXPECT_EQ(detcgd_settings_validate(&s), DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(s.term.max_iter, 1000);
  EXPECT_EQ(s.comm.value_bits, 32);
  EXPECT_TRUE(std::isnan(s.f_inf));
}

static std::string set_error(const char* key, const char* value) {
  DetcgdSettings s;
  detcgd_settings_default(&s);
  EXPECT_EQ(detcgd_settings_set(&s, key, value), DETCGD_ERR_ARG) << key << "=" << value;
  return detcgd_last_error();
}

TEST(Settings, BadValuesNameTheOption) {
  EXPECT_NE(set_error("method", "sgd").find("method: unknown value \"sgd\""), std::string::npos);
  EXPECT_NE(set_error("k", "two").find("k:"), std::string::npos);
  EXPECT_NE(set_error("iters", "-5").find("iters:"), std::string::npos);
  EXPECT_NE(set_error("seed", "-1").find("seed:"), std::string::npos);
  EXPECT_NE(set_error("force", "maybe").find("force:"), std::string::npos);
  EXPECT_NE(set_error("stepsize-precision", "fp16").find("stepsize-precision: unknown value \"fp16\""), std::string::npos);
  EXPECT_NE(set_error("stepsize-setup", "gpu").find("stepsize-setup: unknown value \"gpu\""), std::string::npos);
  EXPECT_NE(set_error("sketchy", "1").find("unknown option \"sketchy\""), std::string::npos);
}

static std::string validate_error(void (*edit)(DetcgdSettings*)) {
  DetcgdSettings s;
  detcgd_settings_default(&s);
  edit(&s);
  EXPECT_EQ(detcgd_settings_validate(&s), DETCGD_ERR_ARG);
  return detcgd_last_error();
}

TEST(Settings, ValidatorRejectsInvalidSettings) {
  EXPECT_NE(validate_error([](DetcgdSettings* s) { s->sketch.kind = DETCGD_SKETCH_RANDK; s->sketch.k = 0; }).find("k:"), std::string::npos);
  EXPECT_NE(validate_error([](DetcgdSettings* s) { s->sketch.kind = DETCGD_SKETCH_BERNQ; s->sketch.q = 1.5; }).find("q:"), std::string::npos);
  EXPECT_NE(validate_error([](DetcgdSettings* s) { s->sketch.kind = DETCGD_SKETCH_BERNQ; s->sketch.q = 0.0; }).find("q:"), std::string::npos);
  EXPECT_NE(validate_error([](DetcgdSettings* s) { s->sketch.kind = DETCGD_SKETCH_BERNOULLI; s->sketch.p = -0.1; }).find("p:"), std::string::npos);
  EXPECT_NE(validate_error([](DetcgdSettings* s) { s->comm.value_bits = 16; }).find("value-bits"), std::string::npos);
  EXPECT_NE(validate_error([](DetcgdSettings* s) { s->stepsize.kind = DETCGD_STEP_USER; }).find("stepsize-file"), std::string::npos);
  EXPECT_NE(validate_error([](DetcgdSettings* s) { s->output.trace_every = 0; }).find("trace-every"), std::string::npos);
  EXPECT_NE(validate_error([](DetcgdSettings* s) { s->stepsize.scale = 0; }).find("stepsize-scale"), std::string::npos);
}

static int create_with(const char* layers, void (*edit)(DetcgdSettings*)) {
  DetcgdProblem* p = make_quad(layers);
  DetcgdSettings s = quiet_settings();
  edit(&s);
  DetcgdSolver* solver = nullptr;
  int st = detcgd_create(&solver, p, &s);
  detcgd_destroy(&solver);
  detcgd_problem_destroy(&p);
  return st;
}

TEST(Create, SketchParametersAreCheckedAgainstLayers) {
  EXPECT_EQ(create_with("4,6", [](DetcgdSettings* s) { s->sketch.kind = DETCGD_SKETCH_RANDK; s->sketch.k = 5; }), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("layer 0 has width 4"), std::string::npos) << detcgd_last_error();
  EXPECT_EQ(create_with("4,6", [](DetcgdSettings* s) { s->sketch.kind = DETCGD_SKETCH_RANDK; snprintf(s->sketch.k_list, 64, "1,2,3"); }), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("k-list: 3 entries for 2 layers"), std::string::npos);
  EXPECT_EQ(create_with("4,6", [](DetcgdSettings* s) { s->sketch.kind = DETCGD_SKETCH_BERNQ; snprintf(s->sketch.q_list, 64, "0.5,0"); }), DETCGD_ERR_ARG);
  EXPECT_EQ(create_with("4,6", [](DetcgdSettings* s) { s->backend = DETCGD_BACKEND_CUDA; }),
            detcgd_cuda_device_count() > 0 ? DETCGD_OK : DETCGD_ERR_NO_DEVICE);
  EXPECT_EQ(create_with("4,6", [](DetcgdSettings* s) { s->sketch.kind = DETCGD_SKETCH_RANDK; s->sketch.k = 4; }), DETCGD_OK);
}

static int problem_error(void (*edit)(DetcgdProblemSpec*)) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  snprintf(ps.data_path, sizeof ps.data_path, "%s", DETCGD_TEST_DATA "/quirks.svm");
  edit(&ps);
  DetcgdProblem* p = nullptr;
  int st = detcgd_problem_create(&p, &ps);
  EXPECT_EQ(p == nullptr, st != DETCGD_OK);
  detcgd_problem_destroy(&p);
  return st;
}

TEST(Problem, BadSpecsGiveClearErrors) {
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { snprintf(p->layers, 64, "2,1"); }), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("widths sum to 3 but the problem has d = 4"), std::string::npos)
      << detcgd_last_error();
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { snprintf(p->layers, 64, "2,x"); }), DETCGD_ERR_ARG);
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { p->features = 2; }), DETCGD_ERR_ARG);
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { p->nlayers = 9; }), DETCGD_ERR_ARG);
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { p->lambda = -1; }), DETCGD_ERR_ARG);
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { p->data_path[0] = 0; }), DETCGD_ERR_ARG);
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { snprintf(p->data_path, 64, "/nonexistent.svm"); }), DETCGD_ERR_IO);
  // feature 6 never occurs and lambda = 0: L is singular, a problem GD runs on; the stepsizes that invert L
  // refuse it (LambdaZero.StepsizesThatDoNotInvertLRunTheOthersSaySo)
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { p->features = 6; p->lambda = 0; }), DETCGD_OK);
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { p->kind = DETCGD_PROBLEM_QUAD_NC; p->layers[0] = 0; }), DETCGD_ERR_ARG);
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { p->kind = DETCGD_PROBLEM_QUAD_NC; snprintf(p->layers, 64, "4"); p->spec_min = 0; }), DETCGD_ERR_ARG);
  EXPECT_EQ(problem_error([](DetcgdProblemSpec* p) { p->kind = DETCGD_PROBLEM_QUAD_NC; snprintf(p->layers, 64, "4"); p->diag_dominance = 2; }), DETCGD_ERR_ARG);
}

TEST(Problem, LayerSpecsAndSetters) {
  DetcgdProblemSpec ps;
  detcgd_problem_spec_default(&ps);
  EXPECT_EQ(detcgd_problem_spec_set(&ps, "problem", "quad-nc"), DETCGD_OK);
  EXPECT_EQ(detcgd_problem_spec_set(&ps, "layers", "2x3,5"), DETCGD_OK);
  EXPECT_EQ(detcgd_problem_spec_set(&ps, "lambda", "abc"), DETCGD_ERR_ARG);
  EXPECT_TRUE(detcgd_is_problem_key("layers"));
  EXPECT_FALSE(detcgd_is_problem_key("k"));
  DetcgdProblem* p = nullptr;
  ASSERT_EQ(detcgd_problem_create(&p, &ps), DETCGD_OK) << detcgd_last_error();
  DetcgdProblemInfo info;
  detcgd_problem_info(p, &info);
  EXPECT_EQ(info.nlayers, 3);
  EXPECT_EQ(info.dim, 11);
  EXPECT_EQ(detcgd_problem_layer_size(p, 2), 5);
  detcgd_problem_destroy(&p);
  detcgd_problem_destroy(&p);  // NULL-safe
}

TEST(Status, StringsExistForEveryCode) {
  for (int st = DETCGD_OK; st <= DETCGD_ERR_INTERNAL; ++st) EXPECT_STRNE(detcgd_status_str(st), "unknown status");
  EXPECT_STREQ(detcgd_termination_str(DETCGD_TERM_NONFINITE), "nonfinite");
}
