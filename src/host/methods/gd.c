/*
 * gd.c -- gradient descent with a matrix stepsize:  x+ = x - D grad f(x).
 *
 * No compression (S = I whatever the compressor setting); D = I / lambda_max(L) with stepsize gd, or any
 * D satisfying condition (7) with S = I, i.e. D L D <= D.  Single node only.
 */
#include "method.h"

static int gd_step(const DcMethodIterate* it) { return it->be->ops->bd_apply(it->be, it->D, DC_SEL_FULL, NULL, it->g, -1.0, it->x); }

const DcMethodType dc_method_gd = {"gd", DETCGD_METHOD_GD, 0, DC_STEP_NO_SKETCH, 7, NULL, gd_step, NULL, NULL, NULL};
