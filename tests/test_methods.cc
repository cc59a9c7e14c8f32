// Methods as types: the registry, a method's needs against its compressor's class, the distributed form,
// and every backend's op table (no required op missing).  Each method's traces are kept by the golden
// traces (tests/golden/cases.txt), its maths by test_solver.cc and test_dist.cc.
#include "test_util.h"
extern "C" {
#include "backend.h"
#include "method.h"
}

namespace {

TEST(Methods, RegistryRoundTripsEveryMethod) {
  char list[256];
  dc_method_list(list, sizeof list);
  EXPECT_STREQ(list, "gd, det-cgd1, det-cgd2");
  for (int id = 0; dc_method_type(id); ++id) {
    const DcMethodType* m = dc_method_type(id);
    EXPECT_EQ(m->id, id);
    EXPECT_EQ(dc_method_find(m->name), m);
    EXPECT_STREQ(detcgd_method_name(id), m->name);
    EXPECT_TRUE(m->client && m->absorb && m->server) << m->name << ": every round calls all three";
    EXPECT_TRUE(m->condition == 7 || m->condition == 8) << m->name;
    DetcgdSettings s = quiet_settings();
    EXPECT_EQ(detcgd_settings_set(&s, "method", m->name), DETCGD_OK);
    EXPECT_EQ(s.method, id);
  }
  EXPECT_EQ(dc_method_type(-1), nullptr);
  EXPECT_EQ(dc_method_find("sgd"), nullptr);
  DetcgdSettings s = quiet_settings();
  EXPECT_EQ(detcgd_settings_set(&s, "method", "sgd"), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("one of: gd, det-cgd1, det-cgd2"), std::string::npos) << detcgd_last_error();
}

// A compressor that is neither linear nor unbiased (what top-k will be) is refused by det-CGD, naming both.
TEST(Methods, NeedsAreCheckedAgainstTheCompressorClass) {
  DcCompressorType topk_like = dc_compressor_randk;
  topk_like.name = "top-k";
  topk_like.cls = DC_CC_CONTRACTIVE;
  EXPECT_EQ(dc_method_check_compressor(&dc_method_det_cgd1, &topk_like), DETCGD_ERR_ARG);
  EXPECT_STREQ(detcgd_last_error(), "sketch: det-cgd1 needs an unbiased compressor (E[C(x)] = x); top-k is contractive");
  topk_like.flags &= ~DC_CF_LINEAR;
  EXPECT_EQ(dc_method_check_compressor(&dc_method_det_cgd2, &topk_like), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("det-cgd2 needs a linear sketch"), std::string::npos);
  EXPECT_NE(std::string(detcgd_last_error()).find("top-k is not linear"), std::string::npos);
  for (int kind = 0; dc_compressor_type(kind); ++kind)
    for (int id = 0; dc_method_type(id); ++id)
      EXPECT_EQ(dc_method_check_compressor(dc_method_type(id), dc_compressor_type(kind)), DETCGD_OK);
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
      (void*)o->message_row_len, (void*)o->problem_create, (void*)o->problem_destroy, (void*)o->problem_grad, (void*)o->quad_residual,
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
