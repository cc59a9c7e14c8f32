/*
 * det_cgd.c -- det-CGD1 and det-CGD2 (Li, Karagulyan, Richtarik, ICLR 2024), single node and over n clients.
 *
 *   det-CGD1  x+ = x - D S^k grad f(x)      condition (7): E[S D L D S] <= D     (kept columns of D)
 *   det-CGD2  x+ = x - T^k D grad f(x)      condition (8): D E[T L T] D <= D     (kept rows of D)
 * n clients (Algorithms 1 and 2): client c sends m_c = S_c grad f_c(x) (Alg. 1) or T_c D grad f_c(x)
 * (Alg. 2); the server steps x+ = x - D (1/n) sum_c m_c (Alg. 1) or x - (1/n) sum_c m_c (Alg. 2).
 * With S = I both are GD with D.
 */
#include "method.h"

static int det1_step(const DcMethodIterate* it) {
  const DcBackendOps* o = it->be->ops;
  return o->bd_apply(it->be, it->D, it->S ? DC_SEL_COLS : DC_SEL_FULL, it->S, it->g, -1.0, it->x);
}

static int det2_step(const DcMethodIterate* it) {
  const DcBackendOps* o = it->be->ops;
  return o->bd_apply(it->be, it->D, it->S ? DC_SEL_ROWS : DC_SEL_FULL, it->S, it->g, -1.0, it->x);
}

static const DcBlocks* sketch_only(const DcMethodIterate* it) { (void)it; return NULL; }
static const DcBlocks* through_d(const DcMethodIterate* it) { return it->D; }

/* x+ = x - D agg / n */
static int det1_server(const DcMethodIterate* it) {
  double inv_n = 1.0 / it->nclients;
  return it->be->ops->bd_apply(it->be, it->D, DC_SEL_FULL, NULL, it->agg, -inv_n, it->x);
}

/* x+ = x - agg / n (the messages already went through D) */
static int det2_server(const DcMethodIterate* it) {
  double inv_n = 1.0 / it->nclients;
  return it->be->ops->axpy(it->be, -inv_n, it->agg, it->x);
}

const DcMethodType dc_method_det_cgd1 = {"det-cgd1", DETCGD_METHOD_DET1, DC_NEEDS_LINEAR | DC_NEEDS_UNBIASED, 0, 7,
                                         "1 (D-det-CGD1 / DCGD)", det1_step, sketch_only, det1_server, NULL};
const DcMethodType dc_method_det_cgd2 = {"det-cgd2", DETCGD_METHOD_DET2, DC_NEEDS_LINEAR | DC_NEEDS_UNBIASED,
                                         DC_STEP_KEPT_ROWS, 8, "2 (D-det-CGD2)", det2_step, through_d, det2_server, NULL};
