/*
 * det_cgd.c -- det-CGD1 and det-CGD2 (Li, Karagulyan, Richtarik, ICLR 2024), single node and over n clients.
 *
 *   det-CGD1  x+ = x - D S^k grad f(x)      condition (7): E[S D L D S] <= D     (kept columns of D)
 *   det-CGD2  x+ = x - T^k D grad f(x)      condition (8): D E[T L T] D <= D     (kept rows of D)
 * n clients (Algorithms 1 and 2): client c sends m_c = S_c grad f_c(x) (Alg. 1) or T_c D grad f_c(x)
 * (Alg. 2); the server steps x+ = x - D (1/n) sum_c m_c (Alg. 1) or x - (1/n) sum_c m_c (Alg. 2).
 * One client is the single node; with S = I both are GD with D.
 */
#include "method.h"

static int sketch_of_gradient(DcRound* r) { return dc_round_compress(r, NULL); }          /* m_c = S_c g_c */
static int sketch_of_step(DcRound* r) { return dc_round_compress(r, r->D); }              /* m_c = T_c D g_c */
static int sum_messages(DcRound* r) { return dc_round_absorb(r); }
static int step_through_d(DcRound* r) { return dc_round_step(r, r->D, -1.0); }           /* x - D mean m */
static int step_by_messages(DcRound* r) { return dc_round_step(r, NULL, -1.0); }         /* x - mean m */

const DcMethodType dc_method_det_cgd1 = {.name = "det-cgd1", .id = DETCGD_METHOD_DET1,
                                         .needs = DC_NEEDS_LINEAR | DC_NEEDS_UNBIASED, .condition = 7,
                                         .algorithm = "1 (D-det-CGD1 / DCGD)", .client = sketch_of_gradient,
                                         .absorb = sum_messages, .server = step_through_d};
const DcMethodType dc_method_det_cgd2 = {.name = "det-cgd2", .id = DETCGD_METHOD_DET2,
                                         .needs = DC_NEEDS_LINEAR | DC_NEEDS_UNBIASED, .step_flags = DC_STEP_KEPT_ROWS,
                                         .condition = 8, .algorithm = "2 (D-det-CGD2)", .client = sketch_of_step,
                                         .absorb = sum_messages, .server = step_by_messages};
