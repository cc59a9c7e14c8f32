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

const DcMethodType dc_method_det_cgd1 = {"det-cgd1", DETCGD_METHOD_DET1, DC_NEEDS_LINEAR | DC_NEEDS_UNBIASED, 0, 7,
                                         "1 (D-det-CGD1 / DCGD)", sketch_of_gradient, sum_messages, step_through_d,
                                         NULL};
const DcMethodType dc_method_det_cgd2 = {"det-cgd2", DETCGD_METHOD_DET2, DC_NEEDS_LINEAR | DC_NEEDS_UNBIASED,
                                         DC_STEP_KEPT_ROWS, 8, "2 (D-det-CGD2)", sketch_of_step, sum_messages,
                                         step_by_messages, NULL};
